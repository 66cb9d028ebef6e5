"""`after` on a view query with no view host running: a sequence the log holds is waited for (504 when the view
does not reach it in time), one past the log's last event is refused at once (nothing could ever answer it)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import GatewayFactory

pytestmark = pytest.mark.kafka

OCTETS = {"content-type": "application/octet-stream"}
COUNTER = {"initial": 0, "apply": "state + 1"}


async def test_a_held_sequence_is_awaited_and_a_later_one_refused(make_gateway: GatewayFactory) -> None:
    client = await make_gateway(read_after_write_wait_ms=300)
    created = await client.post(f"/logs/after-{uuid.uuid4().hex[:8]}")
    assert created.status_code == 200, created.text
    log = f"/logs/{created.json()['log_id']}"
    assert (await client.post(f"{log}/views/counter", json=COUNTER)).status_code == 200
    appended = await client.post(f"{log}/append", content=b"one", headers=OCTETS)
    assert appended.json()["sequence"] == 1

    waited = await client.post(f"{log}/views/counter/query?after=1", content=b"")
    assert waited.status_code == 504, waited.text
    assert waited.json()["error"]["code"] == "timeout"
    assert "processed sequence 0" in waited.json()["error"]["message"]

    past = await client.post(f"{log}/views/counter/query?after=2", content=b"")
    assert past.status_code == 400, past.text
    assert past.json()["error"]["code"] == "invalid_request"
    assert "beyond the log's last event (sequence 1)" in past.json()["error"]["message"]

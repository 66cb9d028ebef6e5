"""`after` on a processor's state that names a position the source does not hold is refused at once (400), not
waited for: no produce answered it, so the wait could only end in a 504. No worker runs here."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.kafka

API = "/api/v1"


async def test_a_position_past_the_source_is_refused(gateway: httpx.AsyncClient) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = f"state-after-{suffix}"
    assert (await gateway.post(f"{API}/streams", json={"name": source, "partitions": 2})).status_code == 201
    produced = await gateway.post(f"{API}/streams/{source}/events", json={"key": "k", "value": 1, "partition": 0})
    assert produced.status_code == 201, produced.text
    spec = {
        "name": f"state-after-{suffix}",
        "source": source,
        "operations": [
            {"type": "window", "windowType": "tumbling", "duration": 60_000},
            {"type": "aggregate", "aggregation": "count", "groupBy": "key"},
        ],
        "sink": f"{source}.out",
    }
    created = await gateway.post(f"{API}/processors", json=spec)
    assert created.status_code == 201, created.text
    state = f"{API}/processors/{created.json()['processorId']}/state"
    try:
        for after, said in (
            ("0:1", "past the source's last event there (offset 0)"),
            ("1:0", "offset -1"),
            ("2:0", "the source has 2"),
        ):
            refused = await gateway.get(state, params={"key": "k", "after": after})
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"] == "INVALID_OFFSET"
            assert said in refused.json()["detail"]
        assert (await gateway.get(state, params={"key": "k"})).status_code == 200
    finally:
        await gateway.delete(f"{API}/processors/{created.json()['processorId']}")

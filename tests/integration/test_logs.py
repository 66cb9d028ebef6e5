"""Event logs with views (seed 002) end to end: a real broker, a real supervisor running the view host, and a
plain Kafka consumer as the oracle for what was stored and what the views must hold."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from processors.supervisor import Supervisor
from schemas.logs import log_topic
from tests.integration.conftest import read_all
from tests.integration.principals import as_token, new_key, new_tenant

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

COUNTER = {"initial": {"count": 0}, "apply": "{'count': state.count + 1}"}
OCTETS = {"content-type": "application/octet-stream"}


@pytest.fixture
async def views(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Supervisor]:
    """A supervisor that keeps a view host running, as `kafkagate worker` does."""
    running = Supervisor(kafka_bootstrap, tmp_path / "processors", views=True)
    task = asyncio.create_task(running.run())
    yield running
    running.request_stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)


async def tenant_client(root: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of a fresh tenant, authenticated with the JWT its API key exchanges for."""
    tenant = await new_tenant(root)
    key = await new_key(root, tenant=tenant["slug"])
    exchanged = await as_token(root, None).post("/auth/token", json={"api_key": key["token"]})
    assert exchanged.status_code == 200, exchanged.text
    return as_token(root, exchanged.json()["access_token"])


async def create_log(client: httpx.AsyncClient, name: str | None = None) -> str:
    created = await client.post(f"/logs/{name or 'log-' + uuid.uuid4().hex[:8]}")
    assert created.status_code == 200, created.text
    assert created.json()["success"] is True
    log_id: str = created.json()["log_id"]
    return log_id


async def wait_ready(client: httpx.AsyncClient, log_id: str, view: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        stats = (await client.get(f"/logs/{log_id}/views/{view}/stats")).json()
        if stats["leader_status"] == "ready":
            return dict(stats)
        assert asyncio.get_running_loop().time() < deadline, f"view {view} never became ready: {stats}"
        await asyncio.sleep(0.3)


async def test_append_deploy_and_query_after(gateway: httpx.AsyncClient, views: Supervisor) -> None:
    client = await tenant_client(gateway)
    log_id = await create_log(client)
    for n in range(1, 4):
        appended = await client.post(f"/logs/{log_id}/append", content=orjson.dumps({"n": n}), headers=OCTETS)
        assert appended.json() == {"success": True, "sequence": n}, appended.text
    deployed = await client.post(f"/logs/{log_id}/views/counter", json=COUNTER)
    assert deployed.json() == {"success": True}, deployed.text
    await wait_ready(client, log_id, "counter")
    answer = await client.post(f"/logs/{log_id}/views/counter/query?after=3", content=b"", headers=OCTETS)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 3}
    stored = await read_all(gateway_bootstrap(views), log_topic(log_id), 3)
    assert [orjson.loads(r.value)["n"] for r in stored] == [1, 2, 3]


def gateway_bootstrap(views: Supervisor) -> str:
    return views.bootstrap

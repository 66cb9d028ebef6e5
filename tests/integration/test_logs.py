"""Event logs with views (seed 002) end to end: a real broker, a real supervisor running the view host, and a
plain Kafka consumer as the oracle for what was stored and what the views must hold."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from processors.supervisor import Supervisor
from schemas.logs import log_topic
from tests.integration.conftest import GatewayFactory, read_all
from tests.integration.principals import as_token, new_key, new_tenant

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

COUNTER = {"initial": {"count": 0}, "apply": "{'count': state.count + 1}"}
OCTETS = {"content-type": "application/octet-stream"}


@pytest.fixture(scope="module")
async def views(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Supervisor]:
    """A supervisor that keeps a view host running, as `kafkagate worker` does; one per module, as a host's
    start costs seconds. Its host exits once at a fault point named in the file `fault_file` returns."""
    folder = tmp_path_factory.mktemp("views")
    previous = os.environ.get(FAULT_ENV)
    os.environ[FAULT_ENV] = str(folder / "fault")
    running = Supervisor(kafka_bootstrap, folder / "processors", views=True)
    task = asyncio.create_task(running.run())
    yield running
    running.request_stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    if previous is None:
        os.environ.pop(FAULT_ENV, None)
    else:
        os.environ[FAULT_ENV] = previous


@pytest.fixture
def fault_file(views: Supervisor) -> Path:
    return Path(os.environ[FAULT_ENV])


FAULT_ENV = "KAFKAGATE_FAULT_FILE"


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The root client of a gateway; every log made in a test is deleted after it, so view hosts of later tests
    (on a reused broker) do not fold them again."""
    root = await make_gateway()
    yield root
    answer = await root.get("/logs")  # not an API: only to make sure the gateway still answers
    assert answer.status_code in {404, 405}
    for log_id in CREATED:
        await root.delete(f"/logs/{log_id}")
    CREATED.clear()


CREATED: list[str] = []


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
    CREATED.append(log_id)
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
    stored = await read_all(views.bootstrap, log_topic(log_id), 3)
    assert [orjson.loads(r.value)["n"] for r in stored] == [1, 2, 3]
    # The same definition again keeps the view; another one replaces it and folds the log from the start.
    assert (await client.post(f"/logs/{log_id}/views/counter", json=COUNTER)).status_code == 200
    again = await client.post(f"/logs/{log_id}/views/counter/query", content=b"")
    assert again.json() == {"count": 3}
    summed = {"initial": {"sum": 0}, "apply": "{'sum': state.sum + event.n}"}
    assert (await client.post(f"/logs/{log_id}/views/counter", json=summed)).status_code == 200
    replaced = await query_until(client, f"/logs/{log_id}/views/counter/query?after=3", 60)
    assert replaced.json() == {"sum": 6}


async def test_read_after_write_from_eight_concurrent_clients(gateway: httpx.AsyncClient, views: Supervisor) -> None:
    client = await tenant_client(gateway)
    log_id = await create_log(client)
    assert (await client.post(f"/logs/{log_id}/views/counter", json=COUNTER)).status_code == 200
    await wait_ready(client, log_id, "counter")
    appends, writers = 1000, 8
    sequences: list[int] = []
    short: list[tuple[int, int]] = []

    async def writer(index: int) -> None:
        for n in range(index, appends, writers):
            appended = await client.post(f"/logs/{log_id}/append", content=b"event %d" % n, headers=OCTETS)
            assert appended.status_code == 200, appended.text
            sequence = appended.json()["sequence"]
            sequences.append(sequence)
            answer = await client.post(f"/logs/{log_id}/views/counter/query?after={sequence}", content=b"")
            assert answer.status_code == 200, answer.text
            if answer.json()["count"] < sequence:
                short.append((sequence, answer.json()["count"]))

    await asyncio.gather(*(writer(index) for index in range(writers)))
    assert short == [], f"answers that missed their own write: {short[:10]}"
    assert sorted(sequences) == list(range(1, appends + 1))  # strictly increasing, none reused, none skipped
    final = await client.post(f"/logs/{log_id}/views/counter/query?after={appends}", content=b"")
    assert final.json() == {"count": appends}
    assert final.headers["x-view-sequence"] == str(appends)
    stored = await read_all(views.bootstrap, log_topic(log_id), appends)
    assert len(stored) == appends  # each event stored once


# Exact only if every event is folded once and in order: a replayed or skipped event breaks `count`, `sum` or `ok`.
FOLD = {
    "initial": {"count": 0, "sum": 0, "last": None, "ok": True},
    "apply": "{'count': state.count + 1, 'sum': state.sum + event.n, 'last': event.n,"
    " 'ok': state.ok && sequence == state.count + 1}",
}


def fold(values: list[bytes]) -> dict[str, Any]:
    """The FOLD view computed here, from what a plain consumer read."""
    numbers = [orjson.loads(raw)["n"] for raw in values]
    return {"count": len(numbers), "sum": sum(numbers), "last": numbers[-1] if numbers else None, "ok": True}


async def query_until(client: httpx.AsyncClient, path: str, timeout_s: float) -> httpx.Response:
    """Query with `after` until it answers 200: a 504 means the view is still catching up (or being taken over)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        answer = await client.post(path, content=b"")
        if answer.status_code == 200:
            return answer
        assert answer.status_code == 504, answer.text
        assert answer.json()["error"]["code"] == "timeout"
        assert asyncio.get_running_loop().time() < deadline, answer.text


@pytest.mark.chaos
async def test_view_state_is_exact_after_its_host_is_killed(
    gateway: httpx.AsyncClient, views: Supervisor, fault_file: Path
) -> None:
    """SIGKILL of the host that leads the view while events arrive, then a second crash exactly between folding
    a batch and publishing it (those events are folded again from the last published state)."""
    client = await tenant_client(gateway)
    log_id = await create_log(client)
    assert (await client.post(f"/logs/{log_id}/views/fold", json=FOLD)).status_code == 200
    leader = await wait_ready(client, log_id, "fold")
    assert views.views is not None
    assert views.views.process is not None
    first_host = views.views.process.pid
    assert leader["leader_node_id"]
    total, kill_at, crash_at = 300, 100, 200
    killed, armed = asyncio.Event(), asyncio.Event()

    async def appender(index: int) -> None:
        for n in range(index, total, 4):
            appended = await client.post(f"/logs/{log_id}/append", content=orjson.dumps({"n": n}), headers=OCTETS)
            assert appended.status_code == 200, appended.text
            if appended.json()["sequence"] >= kill_at and not killed.is_set():
                killed.set()
                os.kill(first_host, signal.SIGKILL)
            if appended.json()["sequence"] >= crash_at and not armed.is_set():
                armed.set()
                await asyncio.to_thread(fault_file.write_text, "view-before-publish")
            await asyncio.sleep(0)

    await asyncio.gather(*(appender(index) for index in range(4)))
    assert killed.is_set()
    answer = await query_until(client, f"/logs/{log_id}/views/fold/query?after={total}", 90)
    assert views.views.process is not None
    assert views.views.process.pid != first_host
    assert not await asyncio.to_thread(fault_file.exists)  # the second crash happened too
    assert views.views.restarts >= 2
    stored = await read_all(views.bootstrap, log_topic(log_id), total)
    assert len(stored) == total
    expected = fold([record.value for record in stored])
    assert answer.json() == expected
    assert expected["sum"] == sum(range(total))


async def test_logs_and_views_are_isolated_between_tenants(gateway: httpx.AsyncClient, views: Supervisor) -> None:
    alice, bob = await tenant_client(gateway), await tenant_client(gateway)
    name = f"shared-{uuid.uuid4().hex[:6]}"
    mine, theirs = await create_log(alice, name), await create_log(bob, name)  # one name, two tenants
    assert mine != theirs
    again = await alice.post(f"/logs/{name}")
    assert again.status_code == 409
    assert again.json()["success"] is False
    assert again.json()["error"]["code"] == "conflict"
    assert (await alice.post(f"/logs/{mine}/views/counter", json=COUNTER)).status_code == 200
    assert (await alice.post(f"/logs/{mine}/append", content=b"a", headers=OCTETS)).json()["sequence"] == 1
    view = f"/logs/{mine}/views/counter"
    refused = [
        await bob.post(f"/logs/{mine}/append", content=b"b", headers=OCTETS),
        await bob.post(f"/logs/{mine}/views/other", json=COUNTER),
        await bob.get(f"{view}/stats"),
        await bob.post(f"{view}/query?after=1", content=b""),
        await bob.delete(view),
        await bob.delete(f"/logs/{mine}"),
    ]
    unknown = await bob.get(f"/logs/{uuid.uuid4()}/views/counter/stats")
    for answer in refused:
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == unknown.json()["error"]  # indistinguishable from a log that does not exist
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert (await alice.post(f"{view}/query?after=1", content=b"")).json() == {"count": 1}
    stored = await read_all(views.bootstrap, log_topic(mine), 1)
    assert [record.value for record in stored] == [b"a"]  # bob's append never landed
    assert (await bob.post(f"/logs/{theirs}/append", content=b"b", headers=OCTETS)).json()["sequence"] == 1


async def test_an_idempotency_key_replays_the_same_sequence(gateway: httpx.AsyncClient, kafka_bootstrap: str) -> None:
    client = await tenant_client(gateway)
    log_id = await create_log(client)
    headers = {**OCTETS, "idempotency-key": f"k-{uuid.uuid4()}"}
    first = await client.post(f"/logs/{log_id}/append", content=b"once", headers=headers)
    other = await client.post(f"/logs/{log_id}/append", content=b"other", headers=OCTETS)
    again = await client.post(f"/logs/{log_id}/append", content=b"once", headers=headers)
    assert first.json() == again.json() == {"success": True, "sequence": 1}, (first.text, again.text)
    assert again.headers["idempotent-replayed"] == "true"
    assert other.json()["sequence"] == 2
    reused = await client.post(f"/logs/{log_id}/append", content=b"changed", headers=headers)
    assert reused.status_code == 422
    stored = await read_all(kafka_bootstrap, log_topic(log_id), 2)
    assert [record.value for record in stored] == [b"once", b"other"]


async def test_refusals_say_what_to_send(make_gateway: GatewayFactory, views: Supervisor) -> None:
    root = await make_gateway(read_after_write_wait_ms=300)
    client = await tenant_client(root)
    log_id = await create_log(client)
    view = f"/logs/{log_id}/views/counter"
    wasm = await client.post(view, content=b"\0asm\x01\0\0\0", headers={"content-type": "application/wasm"})
    assert wasm.status_code == 415
    assert wasm.json()["error"]["code"] == "unsupported_media_type"
    assert "application/json" in wasm.json()["error"]["message"]
    sniffed = await client.post(view, content=b"\0asm\x01\0\0\0", headers={"content-type": "application/json"})
    assert sniffed.status_code == 415
    broken = await client.post(view, json={"initial": {}, "apply": "state.count +"})
    assert broken.status_code == 422
    assert broken.json()["error"]["errors"][0]["field"] == "apply"
    unknown = await client.post(view, json={"initial": {}, "apply": "now"})
    assert unknown.status_code == 422
    assert "state, event, raw, sequence" in unknown.json()["error"]["message"]
    json_append = await client.post(f"/logs/{log_id}/append", json={"a": 1})
    assert json_append.status_code == 415
    assert (await client.post(view, json=COUNTER)).status_code == 200
    await wait_ready(client, log_id, "counter")
    past = await client.post(f"{view}/query?after=5", content=b"")  # the log has no event: nothing to wait for
    assert past.status_code == 400
    assert past.json()["error"]["code"] == "invalid_request"
    assert "beyond the log's last event (sequence 0)" in past.json()["error"]["message"]
    bad_after = await client.post(f"{view}/query?after=-1", content=b"")
    assert bad_after.status_code == 400
    assert (await client.get(f"/logs/{log_id}/views/nope/stats")).status_code == 404

"""The same workloads through the gateway's HTTP API, over keep-alive connections."""

from __future__ import annotations

import time
from collections.abc import Mapping

import orjson

from bench import payload
from bench.clients import GatewayClient
from bench.cpu import CpuProbe
from bench.errors import BenchError
from bench.measurement import Measurement, Window, run_concurrently


def side(http: GatewayClient, variant: str = "") -> str:
    """`gateway`, `gateway+bearer`, `echo`...; the client is named only when it is not the default aiohttp."""
    name = f"{variant or 'gateway'}"
    return name if http.name == "aiohttp" else f"{name} ({http.name})"


def _headers(token: str | None, idempotency_key: str | None) -> dict[str, str] | None:
    headers = {}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if idempotency_key is not None:
        headers["idempotency-key"] = idempotency_key
    return headers or None


async def _call(
    http: GatewayClient,
    method: str,
    path: str,
    expected: int,
    *,
    body: bytes | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    reply = await http.request(method, path, body=body, params=params, headers=headers)
    if reply.status != expected:
        detail = reply.content[:500].decode(errors="replace")
        raise BenchError(f"{method} {path} answered {reply.status}, expected {expected}: {detail}")
    return reply.content


async def produce_single(
    http: GatewayClient,
    stream: str,
    scenario: str,
    *,
    count: int,
    concurrency: int,
    first_index: int = 0,
    probe: CpuProbe | None = None,
    token: str | None = None,
    idempotency_keys: str | None = None,
    variant: str = "",
) -> Measurement:
    """`count` single-event POSTs from `concurrency` tasks; bodies are encoded before the clock starts.

    `token` is sent as a bearer token; with `idempotency_keys` (a prefix), every request carries its own
    `Idempotency-Key`."""
    path = f"/api/v1/streams/{stream}/events"
    bodies = [payload.event_body(first_index + i) for i in range(count)]
    headers = [
        _headers(token, None if idempotency_keys is None else f"{idempotency_keys}-{first_index + i}")
        for i in range(count)
    ]

    async def post(index: int) -> None:
        await _call(http, "POST", path, 201, body=bodies[index], headers=headers[index])

    window, latencies = await run_concurrently(count, concurrency, post, probe)
    return Measurement(scenario, side(http, variant), count, window.seconds, latencies, window.cpu)


async def produce_batches(
    http: GatewayClient,
    stream: str,
    scenario: str,
    *,
    batches: int,
    size: int,
    in_flight: int,
    first_index: int = 0,
    probe: CpuProbe | None = None,
    token: str | None = None,
    idempotency_keys: str | None = None,
    variant: str = "",
) -> Measurement:
    """`batches` batch POSTs of `size` events, `in_flight` at a time."""
    path = f"/api/v1/streams/{stream}/events/batch"
    bodies = [payload.batch_body(first_index + b * size, size) for b in range(batches)]
    headers = [
        _headers(token, None if idempotency_keys is None else f"{idempotency_keys}-{first_index + b}")
        for b in range(batches)
    ]

    async def post(batch: int) -> None:
        await _call(http, "POST", path, 200, body=bodies[batch], headers=headers[batch])

    window, latencies = await run_concurrently(batches, in_flight, post, probe)
    return Measurement(scenario, side(http, variant), batches * size, window.seconds, latencies, window.cpu)


async def _poll(http: GatewayClient, path: str, params: Mapping[str, str]) -> int:
    content = await _call(http, "GET", path, 200, params=params)
    return len(orjson.loads(content)["events"])


async def consume(
    http: GatewayClient,
    stream: str,
    group: str,
    scenario: str,
    *,
    count: int,
    limit: int,
    probe: CpuProbe | None = None,
) -> Measurement:
    """Poll `stream` as a member of `group` until `count` events arrived, then close the member.

    A warm-up poll creates the gateway's member and waits for its assignment. The first measured poll passes
    `offset=earliest`, which on an existing member is an explicit seek to the beginning; later polls pass no
    offset, because repeating it would seek back on every poll and read the first `limit` events forever.
    """
    path = f"/api/v1/streams/{stream}/events"
    base = {"consumerGroup": group, "limit": str(limit), "timeout": "1000"}
    warmup = {**base, "offset": "earliest", "limit": "1"}
    deadline = time.monotonic() + 30
    while not await _poll(http, path, warmup):
        if time.monotonic() > deadline:
            raise BenchError(f"the gateway returned no events from {stream!r} within 30s")
    latencies: list[float] = []
    read = 0
    params = {**base, "offset": "earliest"}
    with Window(probe) as window:
        while read < count:
            poll_started = time.perf_counter()
            read += await _poll(http, path, params)
            latencies.append(time.perf_counter() - poll_started)
            params = base
    await _call(http, "DELETE", f"/api/v1/consumers/{group}/sessions", 200)
    return Measurement(scenario, side(http), read, window.seconds, latencies, window.cpu)


async def create_key(http: GatewayClient, admin_token: str) -> str:
    """An API key allowed to produce to every stream, created with the root credential; returns its token."""
    body = orjson.dumps({"name": "bench", "scopes": ["produce"]})
    headers = {"authorization": f"Bearer {admin_token}"}
    content = await _call(http, "POST", "/api/v1/keys", 201, body=body, headers=headers)
    token: str = orjson.loads(content)["token"]
    return token

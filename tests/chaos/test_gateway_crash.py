"""A gateway process is killed (kill -9) while clients send idempotent produces; they retry the same requests,
with the same Idempotency-Key, on a second gateway process: every logical request lands exactly once, also those
the killed gateway had produced but not yet recorded (the second gateway takes their keys over and finds their
records instead of writing them again)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.chaos.faults import sigkill
from tests.chaos.figures import Figures
from tests.chaos.load import Outcomes, event_body, landed, produce, read_topic
from tests.integration.serving import served_gateway, wait_ready
from tests.integration.test_metrics import scrape

pytestmark = [pytest.mark.kafka, pytest.mark.chaos, pytest.mark.slow]

EVENTS = 3_000
CLIENTS = 32
KILL_AFTER_ACKS = 1_000
# Short waits on Kafka make a short idempotency lease (2 x the longest wait): a key the killed gateway held
# can be taken over 6 s after its last renewal.
ENV = {"KAFKAGATE_PRODUCE_TIMEOUT_MS": "3000", "KAFKAGATE_ADMIN_REQUEST_TIMEOUT_MS": "3000"}


@pytest.mark.timeout(240)
async def test_retries_on_a_second_gateway_after_the_first_is_killed_write_each_event_once(
    kafka_bootstrap: str, new_stream: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    topic = await new_stream(partitions=3)
    figures = Figures("gateway_crash")
    run_id = uuid.uuid4().hex[:8]
    with (
        served_gateway(kafka_bootstrap, tmp_path / "first.log", ENV) as (first, first_url),
        served_gateway(kafka_bootstrap, tmp_path / "second.log", ENV) as (second, second_url),
    ):
        await wait_ready(first, first_url, tmp_path / "first.log")
        await wait_ready(second, second_url, tmp_path / "second.log")
        limits = httpx.Limits(max_connections=CLIENTS)
        async with (
            httpx.AsyncClient(base_url=first_url, timeout=30, limits=limits) as to_first,
            httpx.AsyncClient(base_url=second_url, timeout=30, limits=limits) as to_second,
        ):
            killed = asyncio.Event()
            busy = asyncio.Event()
            on_first: set[int] = set()  # requests the first gateway is working on
            caught: set[int] = set()  # ... when it was killed

            async def post(event_id: int, attempt: int) -> httpx.Response | None:
                client = to_second if killed.is_set() else to_first
                if client is to_first:
                    on_first.add(event_id)
                try:
                    return await client.post(
                        f"/api/v1/streams/{topic}/events",
                        json=event_body(event_id),
                        headers={"idempotency-key": f"{run_id}-{event_id}"},
                    )
                except httpx.TransportError:
                    return None
                finally:
                    on_first.discard(event_id)

            def progress(outcomes: Outcomes) -> None:
                if len(outcomes.acked) >= KILL_AFTER_ACKS:
                    busy.set()

            async def crash() -> None:
                await busy.wait()
                figures.note("kill -9 the first gateway")
                caught.update(on_first)
                await sigkill(first.pid)
                killed.set()

            outcomes, _ = await asyncio.gather(
                produce(post, EVENTS, CLIENTS, figures, until_2xx=True, deadline_s=150, progress=progress), crash()
            )
            takeovers = (await scrape(to_second)).get("kafkagate_idempotency_takeovers_total", {})
    result = landed(await read_topic(kafka_bootstrap, topic), outcomes)
    doubled = sorted(i for i, n in Counter(result.ids).items() if n > 1)
    figures.extra.update(
        landed=len(result.ids),
        duplicates=result.duplicates,
        lost=len(result.lost),
        in_flight_at_kill=len(caught),
        doubled_in_flight_at_kill=len(set(doubled) & caught),
        takeovers_found_records=takeovers.get((("records", "found"),), 0),
        takeovers_found_none=takeovers.get((("records", "none"),), 0),
    )
    figures.report()
    assert caught, "the kill met no request in flight"
    assert len(outcomes.acked) == EVENTS, f"{EVENTS - len(outcomes.acked)} requests never got a 2xx"
    assert sorted(set(result.ids)) == list(range(EVENTS)), f"{len(result.lost)} lost"
    assert not doubled, f"doubled: {doubled[:10]} ({len(set(doubled) & caught)} of them in flight at the kill)"
    assert not result.misplaced, f"acknowledged at another offset: {result.misplaced[:10]}"

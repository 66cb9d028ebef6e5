"""The broker dies (kill -9) and comes back while 32 clients produce 10,000 events: nothing acknowledged is
lost or doubled, `/readyz` says 503 while it is down and 200 soon after it returns, and clients that retry with
their Idempotency-Key until they get a 2xx end up with every event in the topic exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.chaos.faults import GATEWAY_UNDER_FAULTS, Readiness, restart, sigkill
from tests.chaos.figures import Figures
from tests.chaos.load import Outcomes, event_body, landed, produce, read_topic
from tests.conftest import Broker
from tests.integration.conftest import GatewayFactory

pytestmark = [pytest.mark.kafka, pytest.mark.chaos, pytest.mark.slow]

EVENTS = 10_000
CLIENTS = 32
KILL_AFTER_ACKS = 2_000
DOWN_S = 5
READY_WITHIN_S = 30
# The gateway notices a dead broker within a ping timeout (3 s) plus a poll; /readyz must say 503 after that.
NOTICE_S = 4


async def crash_and_return(broker: Broker, busy: asyncio.Event, readiness: Readiness, figures: Figures) -> None:
    """Kill the broker once `busy` (KILL_AFTER_ACKS events acknowledged); start it again DOWN_S later."""
    assert broker.pid is not None
    await busy.wait()
    await sigkill(broker.pid)
    killed = readiness.clock()
    await asyncio.sleep(DOWN_S)
    restarting = readiness.clock()
    await restart(broker)
    returned = readiness.clock()
    ready_after = await readiness.wait_ready_after(returned, READY_WITHIN_S + 5)
    down = readiness.statuses(killed + NOTICE_S, restarting)
    figures.extra.update(
        broker_down_s=round(returned - killed, 1),
        readyz_while_down=sorted(set(down)),
        readyz_polls_while_down=len(down),
        ready_after_return_s=round(ready_after, 1),
    )


async def run(
    make_gateway: GatewayFactory, kafka_broker: Broker, topic: str, figures: Figures, *, idempotent: bool
) -> Outcomes:
    gateway: httpx.AsyncClient = await make_gateway(**GATEWAY_UNDER_FAULTS)
    run_id = uuid.uuid4().hex[:8]

    async def post(event_id: int, attempt: int) -> httpx.Response:
        headers = {"idempotency-key": f"{run_id}-{event_id}"} if idempotent else {}
        return await gateway.post(f"/api/v1/streams/{topic}/events", json=event_body(event_id), headers=headers)

    readiness = Readiness(lambda: gateway.get("/readyz"))
    readiness.start()
    busy = asyncio.Event()

    def progress(outcomes: Outcomes) -> None:
        if len(outcomes.acked) >= KILL_AFTER_ACKS:
            busy.set()

    try:
        outcomes, _ = await asyncio.gather(
            produce(post, EVENTS, CLIENTS, figures, until_2xx=idempotent, deadline_s=150, progress=progress),
            crash_and_return(kafka_broker, busy, readiness, figures),
        )
    finally:
        await readiness.stop()
    assert figures.extra["readyz_polls_while_down"] > 0
    assert figures.extra["readyz_while_down"] == [503], figures.extra
    assert 0 <= figures.extra["ready_after_return_s"] <= READY_WITHIN_S, figures.extra
    assert (await gateway.get("/readyz")).status_code == 200
    return outcomes


@pytest.mark.timeout(240)
async def test_acknowledged_events_survive_a_broker_crash(
    make_gateway: GatewayFactory, new_stream: Callable[..., Awaitable[str]], kafka_broker: Broker
) -> None:
    if kafka_broker.pid is None:
        pytest.skip("needs the test session's own broker to kill it")
    figures = Figures("broker_crash")
    topic = await new_stream(partitions=3)
    outcomes = await run(make_gateway, kafka_broker, topic, figures, idempotent=False)
    result = landed(await read_topic(kafka_broker.bootstrap, topic), outcomes)
    figures.extra.update(landed=len(result.ids), duplicates=result.duplicates, lost=len(result.lost))
    figures.report()
    assert len(outcomes.acked) >= KILL_AFTER_ACKS
    # While Kafka is away: 503 (not reachable, nothing written) or 504 (outcome unknown), nothing else.
    assert {answer.split()[0] for answer in figures.non_2xx} <= {"503", "504"}, figures.non_2xx
    assert not result.lost, f"acknowledged events lost: {result.lost[:10]}"
    assert result.duplicates == 0, "an event was written twice"
    assert not result.misplaced, f"acknowledged at another offset: {result.misplaced[:10]}"
    assert not result.unexplained, f"events nobody sent: {result.unexplained[:10]}"


@pytest.mark.timeout(240)
async def test_retries_with_the_same_idempotency_key_write_every_event_exactly_once(
    make_gateway: GatewayFactory, new_stream: Callable[..., Awaitable[str]], kafka_broker: Broker
) -> None:
    if kafka_broker.pid is None:
        pytest.skip("needs the test session's own broker to kill it")
    figures = Figures("broker_crash_idempotent_retries")
    topic = await new_stream(partitions=3)
    outcomes = await run(make_gateway, kafka_broker, topic, figures, idempotent=True)
    result = landed(await read_topic(kafka_broker.bootstrap, topic), outcomes)
    figures.extra.update(landed=len(result.ids), duplicates=result.duplicates, lost=len(result.lost))
    figures.report()
    assert len(outcomes.acked) == EVENTS, f"{EVENTS - len(outcomes.acked)} requests never got a 2xx"
    assert sorted(result.ids) == list(range(EVENTS)), f"{result.duplicates} duplicates, {len(result.lost)} lost"
    assert not result.misplaced, f"acknowledged at another offset: {result.misplaced[:10]}"

"""Three brokers, streams with three replicas and min.insync.replicas=2. The leader of the busiest partition
is killed during 10,000 produces, then a second broker: with one broker of three left, produce answers 503
(never 2xx); once both are back, every acknowledged event is in the topic exactly once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.chaos.cluster import cluster_view
from tests.chaos.faults import GATEWAY_UNDER_FAULTS, restart, sigkill
from tests.chaos.figures import Figures
from tests.chaos.load import Outcomes, event_body, landed, produce, read_topic
from tests.conftest import Broker
from tests.integration.conftest import GatewayFactory

pytestmark = [pytest.mark.kafka, pytest.mark.chaos, pytest.mark.slow]

EVENTS = 10_000
CLIENTS = 32
FIRST_KILL_AFTER_ACKS = 2_000
SECOND_KILL_AFTER_ACKS = 3_500
ONE_UP_HOLD_S = 12
# Events from these ids on wait for a phase, so every phase sees load however fast this machine produces:
# the window with one broker of three up, and the brokers' return.
DURING_ONE_UP_FROM_ID = 6_000
AFTER_RESTART_FROM_ID = 8_000


async def create_replicated_stream(gateway: httpx.AsyncClient) -> str:
    name = f"replicated-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "partitions": 3, "replicationFactor": 3, "config": {"minInsyncReplicas": 2}}
    created = await gateway.post("/api/v1/streams", json=body)
    assert created.status_code == 201, created.text
    described = (await gateway.get(f"/api/v1/streams/{name}")).json()
    assert described["replicationFactor"] == 3, described
    assert described["config"]["minInsyncReplicas"] == 2, described
    return name


@pytest.mark.timeout(420)
async def test_losing_two_of_three_brokers_refuses_produce_and_loses_nothing_acknowledged(
    make_gateway: GatewayFactory, kafka_cluster: Broker
) -> None:
    gateway = await make_gateway(bootstrap_servers=kafka_cluster.bootstrap, **GATEWAY_UNDER_FAULTS)
    topic = await create_replicated_stream(gateway)
    figures = Figures("cluster_two_brokers_lost")
    first_kill, second_kill = asyncio.Event(), asyncio.Event()
    one_up, brokers_back = asyncio.Event(), asyncio.Event()

    def progress(outcomes: Outcomes) -> None:
        if len(outcomes.acked) >= FIRST_KILL_AFTER_ACKS:
            first_kill.set()
        if len(outcomes.acked) >= SECOND_KILL_AFTER_ACKS:
            second_kill.set()

    async def gate(event_id: int) -> None:
        if event_id >= AFTER_RESTART_FROM_ID:
            await brokers_back.wait()
        elif event_id >= DURING_ONE_UP_FROM_ID:
            await one_up.wait()

    async def post(event_id: int, attempt: int) -> httpx.Response:
        return await gateway.post(f"/api/v1/streams/{topic}/events", json=event_body(event_id))

    window: dict[str, float] = {}

    async def chaos() -> None:
        loop = asyncio.get_running_loop()
        async with cluster_view(kafka_cluster.bootstrap) as view:
            await first_kill.wait()
            first = await view.busiest_leader(topic)
            figures.note(f"kill -9 broker {first}, leader of the busiest partition")
            await sigkill(kafka_cluster.node_pid(first))
            figures.extra["isr_shrank_to_2_s"] = round(await view.wait_isr(topic, 2, 30), 1)
            figures.note("ISRs shrank to 2")
            await second_kill.wait()
            second = await view.busiest_leader(topic)
            assert second != first
            figures.note(f"kill -9 broker {second}")
            await sigkill(kafka_cluster.node_pid(second))
            figures.extra["isr_shrank_to_1_s"] = round(await view.wait_isr(topic, 1, 30), 1)
            figures.note("ISRs shrank to 1: one broker of three up")
            window["start"] = loop.time()
            one_up.set()
            await asyncio.sleep(ONE_UP_HOLD_S)
            window["end"] = loop.time()
            figures.note(f"restarting brokers {first} and {second}")
            await restart(kafka_cluster)
            figures.extra["restart_s"] = round(loop.time() - window["end"], 1)
            figures.note("brokers back")
            brokers_back.set()
            figures.extra["isr_back_to_3_s"] = round(await view.wait_isr(topic, 3, 60), 1)
            figures.extra["killed"] = [first, second]

    outcomes, _ = await asyncio.gather(
        produce(post, EVENTS, CLIENTS, figures, progress=progress, deadline_s=200, gate=gate), chaos()
    )
    figures.note(f"load done: {len(outcomes.acked)} acknowledged; reading the topic back")
    one_up = outcomes.statuses_sent_between(window["start"], window["end"])
    figures.extra["one_of_three_up"] = {str(s): one_up.count(s) for s in sorted(set(one_up))}
    result = landed(await read_topic(kafka_cluster.bootstrap, topic), outcomes)
    figures.extra.update(landed=len(result.ids), duplicates=result.duplicates, lost=len(result.lost))
    figures.report()
    assert one_up, "no request was answered while only one broker was up"
    assert not [s for s in one_up if 200 <= s < 300], f"2xx with one broker of three: {figures.extra}"
    assert 503 in one_up, figures.extra
    assert {answer.split()[0] for answer in figures.non_2xx} <= {"503", "504"}, figures.non_2xx
    assert not result.lost, f"acknowledged events lost: {result.lost[:10]}"
    assert result.duplicates == 0, "an event was written twice"
    assert not result.misplaced, f"acknowledged at another offset: {result.misplaced[:10]}"
    assert not result.unexplained, f"events nobody sent: {result.unexplained[:10]}"

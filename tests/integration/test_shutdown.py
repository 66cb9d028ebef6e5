"""SIGTERM against a real `kafkagate serve` under load: it stops accepting, answers what is in flight (long
polls included), flushes, leaves its consumer groups and exits 0 within the grace; no 2xx is ever lost."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import read_all
from tests.integration.consuming import group_in_kafka, new_group
from tests.integration.serving import served_gateway, tail, wait_exit, wait_ready

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

NewStream = Callable[..., Awaitable[str]]
GRACE_S = 15
PRODUCERS = 8


async def test_sigterm_drains_in_flight_requests_and_exits_zero(
    new_stream: NewStream, kafka_bootstrap: str, admin: AIOKafkaAdminClient, tmp_path: Path
) -> None:
    stream = await new_stream(partitions=3)
    quiet = await new_stream(partitions=1)  # stays empty: a poll on it waits out its whole timeout
    group = new_group()
    log_path = tmp_path / "gateway.log"
    env = {"KAFKAGATE_SHUTDOWN_GRACE_S": str(GRACE_S)}
    with served_gateway(kafka_bootstrap, log_path, env) as (process, base_url):
        await wait_ready(process, base_url, log_path)
        async with httpx.AsyncClient(base_url=base_url, timeout=GRACE_S * 3) as client:
            poll_url = f"/api/v1/streams/{quiet}/events"
            joined = await client.get(poll_url, params={"consumerGroup": group, "timeout": 1000})
            assert joined.status_code == 200, joined.text  # the member exists and holds its partition
            # Far longer than the grace: cut at shutdown, it would be cancelled instead of answered.
            long_poll = asyncio.create_task(client.get(poll_url, params={"consumerGroup": group, "timeout": 30000}))

            acked: set[str] = set()
            after_signal: list[str] = []  # what each request sent after SIGTERM came to
            signalled, stop = asyncio.Event(), asyncio.Event()

            async def produce(producer: int) -> None:
                seq = 0
                while not stop.is_set():
                    event_id = f"{producer}-{seq}"
                    seq += 1
                    sent_after_signal = signalled.is_set()
                    try:
                        response = await client.post(
                            f"/api/v1/streams/{stream}/events", json={"key": event_id, "value": {"id": event_id}}
                        )
                    except httpx.TransportError as exc:
                        if not signalled.is_set():
                            raise  # the gateway failed before it was told to stop
                        after_signal.append(type(exc).__name__)
                        await asyncio.sleep(0.05)
                        continue
                    if response.is_success:
                        acked.add(event_id)
                    else:
                        assert signalled.is_set(), response.text
                    if sent_after_signal:
                        after_signal.append(str(response.status_code))

            producers = [asyncio.create_task(produce(i)) for i in range(PRODUCERS)]
            while len(acked) < 200:
                assert process.poll() is None, tail(log_path)
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            signalled.set()
            code = await wait_exit(process, GRACE_S + 5)
            stop.set()
            await asyncio.gather(*producers)

            assert code == 0, f"exit code {code}\n{tail(log_path)}"
            polled = await long_poll
            assert polled.status_code == 200, polled.text
            assert polled.json()["events"] == []
            with pytest.raises(httpx.ConnectError):
                await client.post(f"/api/v1/streams/{stream}/events", json={"value": {"id": "late"}})

    assert "exceeded" not in log_path.read_text(), tail(log_path)  # nothing was cancelled at the grace
    # Refused or cut off after the signal, never answered with an error by a half-closed gateway.
    assert set(after_signal) <= {"201", "ConnectError", "RemoteProtocolError", "ReadError"}, after_signal
    records = await read_all(kafka_bootstrap, stream, expected=len(acked))
    in_kafka = {orjson.loads(record.value)["id"] for record in records}
    missing = acked - in_kafka
    assert not missing, f"{len(missing)} acknowledged events are not in Kafka: {sorted(missing)[:10]}"
    state, members = await group_in_kafka(admin, group)
    assert (state, members) == ("Empty", []), "the member did not leave its group on shutdown"

"""`kafkagate.client` against a real `kafkagate serve` on the real broker; what landed is read back with a plain
aiokafka consumer, not through the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from kafkagate.client import (
    AsyncClient,
    Client,
    Conflict,
    NotFound,
    RetryPolicy,
    Unauthorized,
    ValidationFailed,
)
from kafkagate.client.models import Failed, Published
from tests.integration.client_gateway import ROOT_TOKEN, Recording, gateway_url, unique
from tests.integration.conftest import read_all

pytestmark = pytest.mark.kafka
__all__ = ["gateway_url"]  # the fixture, imported for pytest


def values(records: list[Any]) -> list[Any]:
    return [orjson.loads(r.value) for r in records]


async def test_streams_events_and_schemas_through_the_sync_client(gateway_url: str, kafka_bootstrap: str) -> None:
    with Client(gateway_url, ROOT_TOKEN) as client:
        name = unique("client")
        created = client.streams.create(name, partitions=2, config={"retentionMs": 3_600_000})
        assert (created.name, created.partitions, created.config["retentionMs"]) == (name, 2, 3_600_000)
        assert name in {s.name for s in client.streams.iterate(page_size=2)}
        assert client.streams.update(name, partitions=3).partitions == 3

        one = client.events.publish(name, {"n": 0}, key="k", headers={"origin": "test"})
        assert one.status == "published"
        batch = client.events.publish_batch(name, [{"value": {"n": i}, "partition": 1} for i in range(1, 4)])
        assert (batch.total_events, batch.success_count, batch.failure_count) == (3, 3, 0)
        got = client.events.get(name, one.event_id)
        assert (got.value, got.key, got.headers["origin"]) == ({"n": 0}, "k", "test")
        replay = client.events.read_partition(name, 1, offset="earliest", limit=10)
        assert [e.value["n"] for e in replay.events] == [1, 2, 3]
        assert replay.next_offset == 3
        at = client.events.offsets_at(name, 0)
        assert {o.partition for o in at.offsets} == {0, 1, 2}
        assert sorted(v["n"] for v in values(await read_all(kafka_bootstrap, name, 4))) == [0, 1, 2, 3]

        client.streams.set_schema(name, {"type": "object", "required": ["n"]}, on_invalid="reject")
        assert client.streams.get_schema(name).version == 1
        with pytest.raises(ValidationFailed) as refused:
            client.events.publish(name, {"m": 1})
        assert (refused.value.code, refused.value.error) == (1032, "SCHEMA_VIOLATION")
        assert str(refused.value.request_id).startswith("req_")
        assert refused.value.errors
        client.streams.delete_schema(name)
        with pytest.raises(NotFound) as missing:
            client.streams.get_schema(name)
        assert missing.value.error == "SCHEMA_NOT_FOUND"

        with pytest.raises(Conflict) as taken:
            client.streams.create(name)
        assert taken.value.error == "STREAM_ALREADY_EXISTS"
        assert client.streams.delete(name).stream_name == name
        with pytest.raises(NotFound) as gone:
            client.streams.get(name)
        assert (gone.value.status_code, gone.value.code, gone.value.error) == (404, 1001, "STREAM_NOT_FOUND")


async def test_errors_carry_the_problem_document(gateway_url: str) -> None:
    with Client(gateway_url, "kg_not_a_key_" + "x" * 40) as stranger, pytest.raises(Unauthorized) as refused:
        stranger.streams.list()
    assert refused.value.code == 1018
    with Client(gateway_url, ROOT_TOKEN) as client, pytest.raises(ValidationFailed) as invalid:
        client.streams.create("bad", partitions=0)
    assert invalid.value.problem["status"] == 422
    assert any("partitions" in str(e.get("field", "")) for e in invalid.value.errors)


async def test_groups_poll_commit_and_reset_through_the_async_client(gateway_url: str) -> None:
    async with AsyncClient(gateway_url, ROOT_TOKEN) as client:
        name, group = unique("client"), unique("group")
        await client.streams.create(name, partitions=1)
        await client.events.publish_batch(name, [{"value": i} for i in range(5)])
        polled = await client.events.poll(name, group, offset="earliest", limit=10, timeout_ms=5000)
        assert [e.value for e in polled.events] == [0, 1, 2, 3, 4]
        assert polled.metadata.consumer_group == group
        committed = await client.groups.commit(group, [(name, 0, 5)])
        assert committed.committed_offsets[0].offset == 5
        described = await client.groups.get(group)
        assert [(o.committed_offset, o.lag) for o in described.offsets] == [(5, 0)]
        assert group in {g.group_id for g in (await client.groups.list()).consumer_groups}
        assert (await client.groups.close_sessions(group)).closed_sessions == 1
        reset = await client.groups.reset(group, name, "earliest")
        assert [o.offset for o in reset.offsets] == [0]
        assert (await client.groups.delete(group)).group_id == group
        await client.streams.delete(name)


async def test_the_producer_batches_by_count_and_by_time(gateway_url: str, kafka_bootstrap: str) -> None:
    with Client(gateway_url, ROOT_TOKEN) as client:
        name = unique("client")
        client.streams.create(name, partitions=3)
        with client.producer(name, max_events=100, linger_ms=20) as producer:
            futures = [producer.send({"n": i}, partition_key=str(i % 7)) for i in range(250)]
        assert producer.stats.published == 250
        assert producer.stats.batches >= 3
        assert all(isinstance(f.result(), Published) for f in futures)
        # Below max_events, only the linger flushes: the futures resolve without close() or flush().
        lingering = client.producer(name, max_events=1000, linger_ms=50)
        late = [lingering.send({"n": 250 + i}) for i in range(3)]
        assert [f.result(timeout=20).status for f in late] == ["published"] * 3
        lingering.close()
    landed = sorted(v["n"] for v in values(await read_all(kafka_bootstrap, name, 253)))
    assert landed == list(range(253)), "every event exactly once"


async def test_the_async_producer_reports_failed_events_and_keeps_going(gateway_url: str) -> None:
    async with AsyncClient(gateway_url, ROOT_TOKEN) as client:
        name = unique("client")
        await client.streams.create(name, partitions=1)
        async with client.producer(name, max_events=10, linger_ms=10) as producer:
            good = [await producer.send(i) for i in range(15)]
            bad = await producer.send(1, partition=5)  # the stream has one partition
        assert [(await f).status for f in good] == ["published"] * 15
        failure = await bad
        assert isinstance(failure, Failed)
        assert failure.error == "VALIDATION_ERROR"
        assert (producer.stats.published, dict(producer.stats.failed)) == (15, {"VALIDATION_ERROR": 1})


async def test_a_lost_answer_is_retried_under_the_same_key_and_written_once(
    gateway_url: str, kafka_bootstrap: str
) -> None:
    lost: list[bytes] = []

    def lose_first_batch(request: Any) -> bool:
        if request.url.path.endswith("/events/batch") and not lost:
            lost.append(request.headers["idempotency-key"].encode())
            return True
        return False

    transport = Recording(lose_first_batch)
    with Client(gateway_url, ROOT_TOKEN, transport=transport) as client:
        name = unique("client")
        client.streams.create(name, partitions=2)
        # Only the 50th send cuts the batch (a linger flush could split it under load).
        with client.producer(name, max_events=50, linger_ms=600_000) as producer:
            for i in range(50):
                producer.send({"n": i})
        assert producer.stats.published == 50
    batches = [(req, resp) for req, resp in transport.exchanges if req.url.path.endswith("/events/batch")]
    assert len(batches) == 2, "the batch went out twice: once lost, once retried"
    (first, first_answer), (second, second_answer) = batches
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content
    assert first_answer.status_code == second_answer.status_code == 200
    assert second_answer.headers.get("idempotent-replayed") == "true"
    landed = sorted(v["n"] for v in values(await read_all(kafka_bootstrap, name, 50)))
    assert landed == list(range(50)), "written once although sent twice"


async def test_the_producer_waits_out_429s(gateway_url: str, kafka_bootstrap: str) -> None:
    with Client(gateway_url, ROOT_TOKEN) as root:
        name = unique("client")
        root.streams.create(name, partitions=1)
        key = root.keys.create(unique("slow"), ["produce"], requests_per_second=2)
    transport = Recording()
    with Client(gateway_url, key.token, transport=transport, retry=RetryPolicy(attempts=20)) as client:
        with client.producer(name, max_events=1, linger_ms=0) as producer:
            for i in range(6):
                producer.send(i).result(timeout=60)
        statuses = [resp.status_code for _, resp in transport.exchanges]
    assert 429 in statuses, "the key's quota pushed back"
    assert all(resp.headers.get("retry-after") for _, resp in transport.exchanges if resp.status_code == 429)
    assert producer.stats.published == 6
    assert sorted(values(await read_all(kafka_bootstrap, name, 6))) == list(range(6))


async def test_the_consumer_commits_after_the_body_and_redelivers_what_failed(gateway_url: str) -> None:
    with Client(gateway_url, ROOT_TOKEN) as client:
        name, group = unique("client"), unique("group")
        client.streams.create(name, partitions=1)
        client.events.publish_batch(name, [{"value": i} for i in range(10)])
        handled: list[int] = []

        def consume_until_the_body_fails() -> None:
            with client.consumer(name, group, start="earliest", limit=100, timeout_ms=2000) as consumer:
                for event in consumer:
                    if event.value == 4:
                        raise RuntimeError("the body failed on 4")
                    handled.append(event.value)

        with pytest.raises(RuntimeError):
            consume_until_the_body_fails()
        assert handled == [0, 1, 2, 3]
        assert [o.committed_offset for o in client.groups.get(group).offsets] == [4]

        again: list[int] = []
        with client.consumer(name, group, limit=3, timeout_ms=1000, until_idle=True) as consumer:
            again.extend(event.value for event in consumer)
        assert again == [4, 5, 6, 7, 8, 9], "the failed event came again, and nothing was skipped"
        assert [o.committed_offset for o in client.groups.get(group).offsets] == [10]


async def test_processors_keys_tenants_and_access_tokens(gateway_url: str) -> None:
    async with AsyncClient(gateway_url, ROOT_TOKEN) as client:
        source = unique("client")
        await client.streams.create(source, partitions=1)
        spec = {
            "name": unique("proc"),
            "source": source,
            "operations": [{"type": "filter", "predicate": "value.amount > 10"}],
            "sink": unique("sink"),
        }
        created, was_new = await client.processors.apply(spec)
        assert (was_new, created.version) == (True, 1)
        same, was_new = await client.processors.apply(spec)
        assert (was_new, same.processor_id, same.version) == (False, created.processor_id, 1)
        changed = {**spec, "operations": [{"type": "filter", "predicate": "value.amount > 20"}]}
        assert (await client.processors.replace(created.processor_id, changed)).version == 2
        assert created.processor_id in {p.processor_id for p in (await client.processors.list()).processors}
        assert (await client.processors.get(created.processor_id)).spec["source"] == source
        metrics = await client.processors.metrics(created.processor_id)
        assert (metrics.processor_id, metrics.version) == (created.processor_id, 2)
        assert (await client.processors.pause(created.processor_id)).desired == "paused"
        assert (await client.processors.resume(created.processor_id)).desired == "running"
        assert (await client.processors.delete(created.processor_id)).processor_id == created.processor_id

        slug = unique("t").lower()
        tenant = await client.tenants.create(slug, "Client tests", metadata={"team": "qa"})
        assert (await client.tenants.get(slug)).id == tenant.id
        assert tenant.id in {t.id for t in (await client.tenants.list()).tenants}
        key = await client.keys.create("reader", ["consume", "admin"], tenant=slug, streams=["orders.*"])
        assert key.token.startswith("kg_")
        assert key.tenant == tenant.id
        assert (await client.keys.get(key.key_id)).streams == ["orders.*"]
        assert key.key_id in {k.key_id for k in (await client.keys.list()).keys}
        access = await client.access_token(key.token)
        assert access.token_type == "Bearer"
        async with AsyncClient(gateway_url, access.access_token) as tenant_client:
            assert (await tenant_client.streams.list()).streams == []  # a new tenant sees nothing of the others
        assert (await client.keys.revoke(key.key_id)).key_id == key.key_id
        await asyncio.sleep(0)
        async with AsyncClient(gateway_url, key.token) as revoked:
            with pytest.raises(Unauthorized):
                await revoked.streams.list()

"""Topic ids over Metadata v10/v12 against an in-memory broker that decodes the encoded requests and answers
with encoded responses: the wire shapes, the name/id cache, and resolution within a namespace."""

from __future__ import annotations

import uuid
from io import BytesIO
from typing import Any

import pytest

from gateway import errors as ge
from gateway.kafka.metadata import (
    MetadataRequest_v10,
    MetadataRequest_v12,
    MetadataResponse_v12,
    TopicIdMetadataRequest,
    UnsupportedLookup,
)
from gateway.kafka.topic_ids import TopicIds
from gateway.stream_ids import as_stream_id, resolve_for_write
from gateway.tenancy import Namespace


class FakeBroker:
    """Answers Metadata v12 from `topics` (name -> id), counting the requests it was sent."""

    def __init__(self, topics: dict[str, uuid.UUID], max_version: int = 12):
        self.topics = topics
        self.max_version = max_version
        self.requests = 0

    def get_random_node(self) -> int:
        return 1

    async def send(self, node: int, request: TopicIdMetadataRequest) -> Any:
        self.requests += 1
        struct = request.prepare({3: (0, self.max_version)})
        assert isinstance(struct, MetadataRequest_v12)
        assert struct.build_request_header(1, "test").encode()[-1:] == b"\x00"  # v2 header: empty tagged fields
        (asked, auto_create, _, _) = struct.SCHEMA.decode(BytesIO(struct.encode()))
        assert auto_create is False
        by_id = {topic_id.bytes: name for name, topic_id in self.topics.items()}
        answers = []
        for raw_id, name, _ in asked:
            if name is not None:
                found = self.topics.get(name)
                answers.append((0 if found else 3, name, (found or uuid.UUID(int=0)).bytes))
            else:
                known = by_id.get(raw_id)
                answers.append((0 if known else 100, known, raw_id))
        topics = [(code, name, raw, False, [], -2147483648, {}) for code, name, raw in answers]
        encoded = MetadataResponse_v12(0, [(1, "localhost", 9092, None, {})], "cluster", 1, topics, {}).encode()
        return MetadataResponse_v12.decode(BytesIO(encoded))


ORDERS = uuid.uuid4()
ACME_ORDERS = uuid.uuid4()
INTERNAL = uuid.uuid4()


def ids(broker: FakeBroker) -> TopicIds:
    return TopicIds(lambda: broker)


def broker() -> FakeBroker:
    return FakeBroker({"orders": ORDERS, "_t.acme.orders": ACME_ORDERS, "__consumer_offsets": INTERNAL})


async def test_ids_by_name_and_names_by_id_are_cached() -> None:
    fake = broker()
    topic_ids = ids(fake)
    assert await topic_ids.ids_of(["orders", "missing"]) == {"orders": ORDERS}
    assert await topic_ids.id_of("orders") == ORDERS
    assert await topic_ids.topic_of(ORDERS) == "orders"
    assert fake.requests == 1
    assert await topic_ids.topic_of(uuid.uuid4()) is None
    with pytest.raises(ge.StreamNotFound):
        await topic_ids.id_of("missing")


async def test_a_recreated_topic_is_seen_with_its_new_id_once_forgotten() -> None:
    fake = broker()
    topic_ids = ids(fake)
    assert await topic_ids.id_of("orders") == ORDERS
    fake.topics["orders"] = renewed = uuid.uuid4()
    topic_ids.forget("orders")
    assert await topic_ids.id_of("orders") == renewed
    assert await topic_ids.topic_of(renewed) == "orders"


def test_v10_asks_by_name_only() -> None:
    assert isinstance(TopicIdMetadataRequest(names=["a"]).prepare({3: (0, 11)}), MetadataRequest_v10)
    with pytest.raises(UnsupportedLookup):
        TopicIdMetadataRequest(ids=[ORDERS.bytes]).prepare({3: (0, 11)})


async def test_a_v10_broker_resolves_no_ids() -> None:
    class OldBroker(FakeBroker):
        async def send(self, node: int, request: TopicIdMetadataRequest) -> Any:
            request.prepare({3: (0, 10)})
            raise AssertionError("unreachable")

    assert await ids(OldBroker({})).topic_of(ORDERS) is None


def test_only_canonical_uuids_are_ids() -> None:
    assert as_stream_id(str(ORDERS)) == ORDERS
    assert as_stream_id(str(ORDERS).upper()) == ORDERS
    assert as_stream_id(ORDERS.hex) is None
    assert as_stream_id("orders") is None


async def test_ids_resolve_within_the_callers_namespace_only() -> None:
    topic_ids = ids(broker())
    plain, acme, root = Namespace(), Namespace("_t.acme."), Namespace(root=True)
    assert (await resolve_for_write(topic_ids, plain, str(ORDERS))).topic == "orders"
    target = await resolve_for_write(topic_ids, acme, str(ACME_ORDERS))
    assert (target.name, target.topic, target.stream_id) == ("orders", "_t.acme.orders", ACME_ORDERS)
    assert (await resolve_for_write(topic_ids, acme, "orders")).stream_id == ACME_ORDERS
    assert (await resolve_for_write(topic_ids, plain, "orders")).stream_id == ORDERS
    refused = [
        (acme, str(ORDERS)),  # an untenanted stream, from a tenant
        (plain, str(ACME_ORDERS)),  # a tenant's stream, from outside it
        (root, str(ACME_ORDERS)),  # root sees it only as an internal topic, and never writes there
        (root, str(INTERNAL)),
        (plain, "__consumer_offsets"),
        (acme, "_t.acme.orders"),
        (plain, str(uuid.uuid4())),
        (plain, "not a name!"),
    ]
    for space, reference in refused:
        with pytest.raises(ge.StreamNotFound):
            await resolve_for_write(topic_ids, space, reference)


async def test_a_stream_named_like_a_uuid_is_found_by_its_name() -> None:
    named = str(uuid.uuid4())
    fake = FakeBroker({named: (real := uuid.uuid4())})
    target = await resolve_for_write(ids(fake), Namespace(), named)
    assert (target.name, target.stream_id) == (named, real)

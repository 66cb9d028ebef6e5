"""Metadata v10 and v12 (API key 3), which aiokafka does not ship: the versions that carry topic ids.

aiokafka 0.14 speaks Metadata up to v5, which predates topic ids (KIP-516, Kafka 2.8). v10 returns each topic's
id; v12 (Kafka 3.1+) also looks topics up by id. Both are flexible versions: compact arrays and strings, tagged
fields, and the v2 request header (`FLEXIBLE_VERSION`). aiokafka negotiates the highest version both sides
support for each connection, so a broker older than 3.1 gets v10 and can only be asked by name.
"""

from __future__ import annotations

import uuid
from io import BytesIO
from typing import TypeAlias

from aiokafka.protocol.abstract import AbstractType
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Boolean, CompactArray, CompactString, Int16, Int32, Schema, TaggedFields

ZERO_UUID = bytes(16)


class Uuid(AbstractType[bytes]):
    """Kafka's UUID wire type: 16 raw bytes (all zero means none)."""

    @classmethod
    def encode(cls, value: bytes) -> bytes:
        if len(value) != 16:
            raise ValueError(f"a UUID is 16 bytes, got {len(value)}")
        return value

    @classmethod
    def decode(cls, data: BytesIO) -> bytes:
        value = data.read(16)
        if len(value) != 16:
            raise ValueError("buffer underrun decoding a UUID")
        return value


_BROKERS = CompactArray(
    ("node_id", Int32),
    ("host", CompactString("utf-8")),
    ("port", Int32),
    ("rack", CompactString("utf-8")),
    ("tags", TaggedFields),
)
_TOPICS = CompactArray(
    ("error_code", Int16),
    ("name", CompactString("utf-8")),
    ("topic_id", Uuid),
    ("is_internal", Boolean),
    (
        "partitions",
        CompactArray(
            ("error_code", Int16),
            ("partition_index", Int32),
            ("leader_id", Int32),
            ("leader_epoch", Int32),
            ("replica_nodes", CompactArray(Int32)),
            ("isr_nodes", CompactArray(Int32)),
            ("offline_replicas", CompactArray(Int32)),
            ("tags", TaggedFields),
        ),
    ),
    ("topic_authorized_operations", Int32),
    ("tags", TaggedFields),
)
_REQUESTED = CompactArray(("topic_id", Uuid), ("name", CompactString("utf-8")), ("tags", TaggedFields))


class MetadataResponse_v10(Response):
    API_KEY = 3
    API_VERSION = 10
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("brokers", _BROKERS),
        ("cluster_id", CompactString("utf-8")),
        ("controller_id", Int32),
        ("topics", _TOPICS),
        ("cluster_authorized_operations", Int32),
        ("tags", TaggedFields),
    )


class MetadataResponse_v12(Response):
    API_KEY = 3
    API_VERSION = 12
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("brokers", _BROKERS),
        ("cluster_id", CompactString("utf-8")),
        ("controller_id", Int32),
        ("topics", _TOPICS),
        ("tags", TaggedFields),
    )


class MetadataRequest_v10(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 10
    RESPONSE_TYPE = MetadataResponse_v10
    SCHEMA = Schema(
        ("topics", _REQUESTED),
        ("allow_auto_topic_creation", Boolean),
        ("include_cluster_authorized_operations", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


class MetadataRequest_v12(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 12
    RESPONSE_TYPE = MetadataResponse_v12
    SCHEMA = Schema(
        ("topics", _REQUESTED),
        ("allow_auto_topic_creation", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


TopicIdMetadataStruct: TypeAlias = MetadataRequest_v10 | MetadataRequest_v12


class UnsupportedLookup(Exception):
    """The broker negotiated v10, which cannot look a topic up by id."""


class TopicIdMetadataRequest(Request[TopicIdMetadataStruct]):
    """Metadata for topics named by `names` or by `ids` (UUID bytes; v12 only), never creating one."""

    API_KEY = 3

    def __init__(self, *, names: list[str] | None = None, ids: list[bytes] | None = None):
        self._topics: list[tuple[bytes, str | None, dict[int, bytes]]] = [
            (ZERO_UUID, name, {}) for name in names or ()
        ] + [(i, None, {}) for i in ids or ()]
        self._by_id = bool(ids)

    def build(self, request_struct_class: type[TopicIdMetadataStruct]) -> TopicIdMetadataStruct:
        if request_struct_class is MetadataRequest_v10:
            if self._by_id:
                raise UnsupportedLookup("the broker's Metadata API cannot look topics up by id (needs v12)")
            return MetadataRequest_v10(self._topics, False, False, False, {})
        return MetadataRequest_v12(self._topics, False, False, {})


def topic_ids(response: MetadataResponse_v10 | MetadataResponse_v12) -> list[tuple[int, str | None, uuid.UUID]]:
    """(error code, name, id) of each topic in a response."""
    return [
        (topic["error_code"], topic["name"], uuid.UUID(bytes=topic["topic_id"]))
        for topic in response.to_object()["topics"]
    ]

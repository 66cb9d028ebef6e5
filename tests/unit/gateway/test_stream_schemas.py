"""The pure parts of stream schemas: compiling (what is refused and why), violations as JSON pointers, the
per-version cache, and the dead-letter record built from a violation. No broker."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway import errors as ge
from gateway.dead_letters import diagnosis, letter
from gateway.kafka.producer import OutgoingRecord
from gateway.stream_schemas import CompiledSchema, StreamSchemas, Violation, compile_schema, pointer
from schemas import dead_letters as dl
from schemas.stream_schemas import StreamSchemaPut, StreamSchemaRecord, decode_stream_schema

ORDER = {
    "type": "object",
    "required": ["amount"],
    "properties": {"amount": {"type": "number", "minimum": 0}, "tags": {"type": "array", "items": {"type": "string"}}},
}


def compiled(schema: Any, version: int = 1) -> CompiledSchema:
    return CompiledSchema(version, "reject", compile_schema(schema))


def test_pointers_follow_rfc_6901() -> None:
    assert pointer([]) == ""
    assert pointer(["items", 3, "name"]) == "/items/3/name"
    assert pointer(["a/b", "m~n"]) == "/a~1b/m~0n"


def test_violations_name_each_offending_part_by_pointer_and_keyword() -> None:
    schema = compiled(ORDER)
    assert schema.violations({"amount": 1, "tags": ["x"]}) == []
    found = sorted(schema.violations({"amount": -1, "tags": ["x", 2]}), key=lambda v: v.pointer)
    assert [(v.pointer, v.keyword) for v in found] == [("/amount", "minimum"), ("/tags/1", "type")]
    (missing,) = schema.violations({})
    assert (missing.pointer, missing.keyword) == ("", "required")
    assert missing.field() == {"field": "", "keyword": "required", "message": missing.message, "type": "schema"}


def test_violations_are_capped() -> None:
    schema = compiled({"type": "array", "items": {"type": "string"}})
    assert len(schema.violations(list(range(500)))) == dl.MAX_VIOLATIONS


def test_a_schema_without_dialect_is_2020_12() -> None:
    # `prefixItems` exists in 2020-12 only; under an older draft the second item would not be checked.
    schema = compiled({"prefixItems": [{"type": "string"}, {"type": "integer"}]})
    assert [v.pointer for v in schema.violations(["a", "b"])] == ["/1"]
    assert compiled(True).violations({"anything": 1}) == []
    assert [v.pointer for v in compiled(False).violations(1)] == [""]


@pytest.mark.parametrize(
    ("schema", "field", "kind"),
    [
        ({"type": "wat"}, "schema/type", "meta-schema"),
        ({"properties": {"a": {"minLength": -1}}}, "schema/properties/a/minLength", "meta-schema"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "schema/$schema", "dialect"),
        ({"$ref": "http://169.254.169.254/latest/meta-data"}, "schema", "compile"),  # never fetched
        ({"$ref": "#/$defs/missing"}, "schema", "compile"),
        ({"properties": {"a": {"pattern": "(a)\\1"}}}, "schema/properties/a/pattern", "compile"),
    ],
)
def test_what_is_refused_and_why(schema: dict[str, Any], field: str, kind: str) -> None:
    with pytest.raises(ge.ValidationFailed) as refused:
        compile_schema(schema)
    assert [(e["field"], e["type"]) for e in refused.value.errors] == [(field, kind)]
    assert refused.value.status == 422


def test_a_schema_violation_is_a_validation_error_with_its_own_code() -> None:
    error = ge.SchemaViolation("breaks", [{"field": "/a", "message": "m", "type": "schema"}])
    assert isinstance(error, ge.ValidationFailed)
    assert (error.status, error.code, error.error) == (422, 1032, "SCHEMA_VIOLATION")
    assert error.extra == {"errors": [{"field": "/a", "message": "m", "type": "schema"}]}


def test_the_put_body_and_the_stored_record() -> None:
    body = StreamSchemaPut.model_validate_json(b'{"schema": {"type": "object"}, "onInvalid": "deadLetter"}')
    assert (body.document, body.onInvalid) == ({"type": "object"}, "deadLetter")
    assert StreamSchemaPut.model_validate({"schema": True}).onInvalid == "reject"
    record = StreamSchemaRecord(topic="t", document=ORDER, onInvalid="reject", version=2, updatedAt="now")
    assert decode_stream_schema(record.to_json()) == record
    with pytest.raises(ValueError, match="validation error"):
        decode_stream_schema(b'{"topic": "t"}')


class FakeTable:
    """The part of `ReplicatedTable` the service reads, held in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, StreamSchemaRecord] = {}
        self.syncs = 0

    async def sync(self) -> None:
        self.syncs += 1

    def get(self, key: str) -> StreamSchemaRecord | None:
        return self.rows.get(key)

    async def put(self, key: str, value: bytes) -> int:
        self.rows[key] = decode_stream_schema(value)
        return 0


async def test_each_version_is_compiled_once_and_the_tail_is_waited_for_once() -> None:
    table = FakeTable()
    schemas = StreamSchemas(table)  # type: ignore[arg-type]
    assert await schemas.for_topic("orders") is None
    await schemas.put("orders", ORDER, "reject")
    first = await schemas.for_topic("orders")
    assert first is not None
    assert first.version == 1
    assert await schemas.for_topic("orders") is first  # cached
    await schemas.put("orders", {"type": "string"}, "deadLetter")
    second = await schemas.for_topic("orders")
    assert second is not None
    assert (second.version, second.on_invalid) == (2, "deadLetter")
    cleared = await schemas.delete("orders")
    assert (cleared.document, cleared.version) == (None, 3)
    assert await schemas.for_topic("orders") is None
    with pytest.raises(ge.StreamSchemaNotFound):
        await schemas.get("orders")
    assert (await schemas.put("orders", ORDER, "reject")).version == 4
    produce_syncs = table.syncs
    await schemas.for_topic("orders")
    assert table.syncs == produce_syncs  # the produce path reads memory after its first catch-up


async def test_an_invalid_schema_changes_nothing() -> None:
    table = FakeTable()
    schemas = StreamSchemas(table)  # type: ignore[arg-type]
    with pytest.raises(ge.ValidationFailed):
        await schemas.put("orders", {"type": 5}, "reject")
    assert table.rows == {}


def test_a_dead_letter_keeps_the_event_and_adds_the_documented_headers() -> None:
    schema = compiled(ORDER, version=7)
    violations = schema.violations({"amount": -1, "tags": [1]})
    record = OutgoingRecord(b"k", b'{"amount":-1,"tags":[1]}', [("own", b"1")], 1_000, partition=2)
    dead = letter("_t.acme.orders", record, schema, violations, now=5_000)
    assert (dead.record.key, dead.record.value, dead.record.partition) == (record.key, record.value, 2)
    assert dead.record.timestamp_ms == 5_000
    assert dead.record.headers[0] == ("own", b"1")
    headers = dict(dead.record.headers)
    assert headers[dl.REASON] == b"schema"
    assert headers[dl.SOURCE_TOPIC] == b"_t.acme.orders"
    assert headers[dl.SOURCE_TIMESTAMP] == b"1000"
    assert headers[dl.SCHEMA_VERSION] == b"7"
    assert sorted(orjson.loads(headers[dl.SCHEMA_POINTERS])) == ["/amount", "/tags/0"]
    landed = dead.landed("_t.acme.orders.dlq", ack=object())  # type: ignore[arg-type]
    assert (landed.topic, landed.reason, landed.schema_version) == ("_t.acme.orders.dlq", "schema", 7)


def test_the_diagnosis_is_short() -> None:
    many = [Violation(f"/{i}", "type", "wrong") for i in range(5)]
    assert diagnosis(many[:1]) == "/0: wrong"
    assert diagnosis([Violation("", "required", "gone")]) == "(value): gone"
    assert diagnosis(many).endswith("; and 2 more")


def test_the_dead_letter_stream_name_is_shared() -> None:
    from processors.compiler import dlq_topic

    assert dl.dlq_topic("_t.acme.orders") == "_t.acme.orders.dlq" == dlq_topic("_t.acme.orders")

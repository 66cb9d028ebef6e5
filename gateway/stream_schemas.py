"""Stream schemas: a JSON Schema Draft 2020-12 document per stream, checked against every event produced to it.

Schemas live in a replicated table (`_kafkagate_schemas`, keyed by Kafka topic), so every gateway enforces a
change within its tail's poll (about a second). Each schema is compiled once per version, by `jsonschema-rs`,
and the compiled validator is cached until the version changes; the produce path then costs one dict lookup
and one validation per event, with no Kafka round trip.

Compiling refuses what a shared gateway must not run: a `$schema` other than Draft 2020-12, a document its
meta-schema rejects, and anything that would fetch a remote `$ref` (the validator runs offline: a schema names
no URL the gateway would call). Regular expressions (`pattern`, `patternProperties`) use a linear-time engine,
so no event can make one backtrack for long; a pattern that needs look-around or back-references is refused
when the schema is set, saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from gateway import errors as ge
from gateway.kafka.table import ReplicatedTable
from gateway.timefmt import now_iso
from schemas.dead_letters import MAX_VIOLATIONS
from schemas.stream_schemas import DRAFT_2020_12, OnInvalid, StreamSchemaRecord

log = logging.getLogger(__name__)

_ACCEPTED_DIALECTS = {DRAFT_2020_12, DRAFT_2020_12 + "#"}


def pointer(path: Iterable[str | int]) -> str:
    """The RFC 6901 JSON pointer of a path (`""` is the whole document)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a value breaks a schema: where (a JSON pointer into the value), which keyword, and why."""

    pointer: str
    keyword: str
    message: str

    def field(self) -> dict[str, Any]:
        """The violation as an entry of an error's `errors` list."""
        return {"field": self.pointer, "keyword": self.keyword, "message": self.message, "type": "schema"}


def _violation(error: jsonschema_rs.ValidationError) -> Violation:
    keywords = [part for part in error.schema_path if isinstance(part, str)]
    return Violation(pointer(error.instance_path), keywords[-1] if keywords else "", error.message)


def compile_schema(document: dict[str, Any] | bool) -> jsonschema_rs.Validator:
    """The validator of a Draft 2020-12 `document`, or ValidationFailed listing why it is not one.

    Fields are `schema` followed by the JSON pointer of the offending part of the document."""
    if isinstance(document, dict):
        dialect = document.get("$schema", DRAFT_2020_12)
        if dialect not in _ACCEPTED_DIALECTS:
            raise ge.ValidationFailed(
                "only JSON Schema Draft 2020-12 is supported",
                [{"field": "schema/$schema", "message": f"must be {DRAFT_2020_12!r}", "type": "dialect"}],
            )
        # The meta-schema check follows `$schema`; pinning it makes a document without one a 2020-12 document.
        checked: dict[str, Any] | bool = {**document, "$schema": DRAFT_2020_12}
    else:
        checked = document
    try:
        jsonschema_rs.meta.validate(checked)
    except jsonschema_rs.ValidationError as exc:
        where = "schema" + pointer(exc.instance_path)
        raise ge.ValidationFailed(
            f"not a valid JSON Schema Draft 2020-12 document: {exc.message}",
            [{"field": where, "message": exc.message, "type": "meta-schema"}],
        ) from exc
    try:
        return jsonschema_rs.Draft202012Validator(checked, offline=True, pattern_options=jsonschema_rs.RegexOptions())
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        # Unresolvable `$ref`s and regular expressions the linear-time engine cannot run end up here.
        message = getattr(exc, "message", None) or str(exc).split("\n", 1)[0]
        where = "schema" + pointer(getattr(exc, "instance_path", ()))
        raise ge.ValidationFailed(
            f"the schema cannot be compiled: {message}",
            [{"field": where, "message": message, "type": "compile"}],
        ) from exc


@dataclass(frozen=True, slots=True)
class CompiledSchema:
    """One version of a stream's schema, ready to check values."""

    version: int
    on_invalid: OnInvalid
    validator: jsonschema_rs.Validator

    def violations(self, value: Any) -> list[Violation]:
        """How `value` breaks the schema (at most `MAX_VIOLATIONS`); empty when it conforms."""
        if self.validator.is_valid(value):  # the common case: no error objects built
            return []
        found: list[Violation] = []
        for error in self.validator.iter_errors(value):
            found.append(_violation(error))
            if len(found) == MAX_VIOLATIONS:
                break
        return found


class StreamSchemas:
    """The schemas of every stream, by Kafka topic (tenancy already applied by the caller)."""

    def __init__(self, table: ReplicatedTable[StreamSchemaRecord]):
        self.table = table
        self._compiled: dict[str, CompiledSchema] = {}
        self._caught_up = False

    # --- the produce path ---------------------------------------------------------------------------------

    async def for_topic(self, topic: str) -> CompiledSchema | None:
        """The schema to check `topic`'s events against, or None. The first call on a gateway waits for the
        tail to catch up, so a fresh gateway never lets events through unchecked; later calls read memory."""
        if not self._caught_up:
            await self.table.sync()
            self._caught_up = True
        record = self.table.get(topic)
        if record is None or record.document is None:
            return None
        compiled = self._compiled.get(topic)
        if compiled is None or compiled.version != record.version:
            compiled = self._compile(record)
            self._compiled[topic] = compiled
        return compiled

    @staticmethod
    def _compile(record: StreamSchemaRecord) -> CompiledSchema:
        assert record.document is not None  # noqa: S101 - callers pass only live schemas
        try:
            validator = compile_schema(record.document)
        except ge.ValidationFailed as exc:
            # Accepted when it was set, so only a different validator version can get here: fail closed.
            log.error("schema v%d of %s does not compile here: %s", record.version, record.topic, exc.detail)
            raise ge.GatewayError(
                f"the stream's schema (version {record.version}) does not compile on this gateway"
            ) from exc
        return CompiledSchema(record.version, record.onInvalid, validator)

    # --- administration -----------------------------------------------------------------------------------

    async def get(self, topic: str) -> StreamSchemaRecord:
        """The current schema of `topic` as of this request (StreamSchemaNotFound when it has none)."""
        await self.table.sync()
        record = self.table.get(topic)
        if record is None or record.document is None:
            raise ge.StreamSchemaNotFound("the stream has no schema")
        return record

    async def put(self, topic: str, document: dict[str, Any] | bool, on_invalid: OnInvalid) -> StreamSchemaRecord:
        """Set `topic`'s schema (compiled first: an invalid one is a 422 and changes nothing), one version up."""
        compile_schema(document)
        await self.table.sync()
        record = StreamSchemaRecord(
            topic=topic, document=document, onInvalid=on_invalid, version=self._next_version(topic), updatedAt=now_iso()
        )
        await self.table.put(topic, record.to_json())
        return record

    async def delete(self, topic: str) -> StreamSchemaRecord:
        """Remove `topic`'s schema: events are no longer checked. Returns the record now in force (no schema,
        one version up), so versions keep growing if a schema is set again."""
        removed = await self.get(topic)
        cleared = removed.model_copy(update={"document": None, "version": removed.version + 1, "updatedAt": now_iso()})
        await self.table.put(topic, cleared.to_json())
        return cleared

    async def forget(self, topic: str) -> None:
        """The stream is gone: a stream created later under its name starts without a schema."""
        await self.table.sync()
        current = self.table.get(topic)
        if current is not None and current.document is not None:
            cleared = current.model_copy(
                update={"document": None, "version": current.version + 1, "updatedAt": now_iso()}
            )
            await self.table.put(topic, cleared.to_json())

    def _next_version(self, topic: str) -> int:
        current = self.table.get(topic)
        return 1 if current is None else current.version + 1

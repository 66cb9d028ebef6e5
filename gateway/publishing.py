"""The publishing service: everything between "a client sent events" and "Kafka acknowledged them".

Every API that writes events (the native produce routes and the seed ingestion APIs) builds `Submission`s and
hands them to `Publisher`, which checks each against the stream (size, timestamp bounds, then the stream's
schema when it has one), sends it with `acks=all` and reports one outcome per submission. Route modules only
translate their own wire format to submissions and outcomes back to their own responses.

An outcome is an `Ack` (written to the stream), a `DeadLettered` (the value broke a `deadLetter` schema: written
to the stream's dead-letter stream instead, a success for the caller) or a `GatewayError` (refused or failed;
a value that broke a `reject` schema is a `SchemaViolation`). Tombstones (no value) are never checked against
the schema: they delete a key rather than carry an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway import errors as ge
from gateway.dead_letters import DeadLettered, DeadLetters, DeadLetterTimeout, Letter, letter
from gateway.kafka.clients import KafkaClients
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.metrics import GatewayMetrics
from gateway.settings import Compression, Settings
from gateway.stream_schemas import CompiledSchema, StreamSchemas

__all__ = ["UNPARSED", "DeadLettered", "Outcome", "Publisher", "StreamLimits", "Submission", "record_size"]

# Kafka's per-record overhead in a v2 batch is at most ~21 bytes plus varints; round up generously.
_RECORD_OVERHEAD_BYTES = 64


# A submission's `value` when the record's bytes are the JSON the client sent (`gateway.raw_events`): decoded only
# when a check needs it, which most streams (those without a schema) never do.
UNPARSED: Any = object()


@dataclass(slots=True)
class Submission:
    """One event to publish: the record as it will be written, and the JSON `value` it was built from
    (`None` for a tombstone, `UNPARSED` when only the record holds it), so checks on the value never re-parse
    the record's bytes when the value is at hand."""

    record: OutgoingRecord
    value: Any = None
    # Its size as Kafka counts it against `max.message.bytes`, computed once: the size check and the metrics
    # both need it, per event, on the hot path.
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = record_size(self.record)


Outcome = Ack | DeadLettered | ge.GatewayError


@dataclass(frozen=True, slots=True)
class StreamLimits:
    partitions: int
    max_message_bytes: int


def record_size(record: OutgoingRecord) -> int:
    size = _RECORD_OVERHEAD_BYTES + len(record.key or b"") + len(record.value or b"")
    for name, value in record.headers:
        size += len(name) + len(value) + 2
    return size


class Publisher:
    """Publishes submissions to Kafka topics; `topic` is always the Kafka name (tenancy already applied).
    `schemas` are the stream schemas to check values against (by default those of `kafka`'s schema table);
    `metrics` counts the events Kafka acknowledged per stream (dead letters count on their dead-letter stream)."""

    def __init__(
        self,
        settings: Settings,
        kafka: KafkaClients,
        schemas: StreamSchemas | None = None,
        metrics: GatewayMetrics | None = None,
    ):
        self._settings = settings
        self._kafka = kafka
        self.schemas = schemas or StreamSchemas(kafka.schemas)
        self._dead_letters = DeadLetters(settings, kafka)
        self._metrics = metrics or GatewayMetrics()

    async def limits(self, topic: str) -> StreamLimits:
        """The stream's partition count and record size bound (404 for an unknown stream; cached briefly)."""
        self._kafka.require_ready()
        partitions, max_message_bytes, _ = await self._kafka.admin.produce_limits(topic)
        return StreamLimits(partitions, max_message_bytes)

    async def checks(self, topic: str) -> Callable[[Submission, int], ge.GatewayError | Letter | None]:
        """A check of submissions against what `topic` accepts (size, timestamp, schema): None to send it as it
        is, the refusal, or the dead letter to send instead."""
        _, max_message_bytes, accepted = await self._kafka.admin.produce_limits(topic)
        schema = await self.schemas.for_topic(topic)

        def verdict(submission: Submission, now_ms: int) -> ge.GatewayError | Letter | None:
            if submission.size > max_message_bytes:
                return ge.PayloadTooLarge(f"event is larger than the stream accepts ({max_message_bytes} bytes)")
            problem = accepted.problem(submission.record.timestamp_ms, now_ms)
            if problem is not None:
                return ge.InvalidTimestamp(f"the stream refuses this event: {problem}")
            if schema is None or submission.record.value is None:
                return None
            return _schema_verdict(topic, submission, schema, now_ms)

        return verdict

    async def publish(self, topic: str, submission: Submission, now_ms: int) -> Ack | DeadLettered:
        """Publish one event and return Kafka's acknowledgement, or where its dead letter landed. Raises the
        refusal, or `AckTimeout`/`DeadLetterTimeout` (504) whose `outcome()` still learns what became of it."""
        self._kafka.require_ready()
        verdict = (await self.checks(topic))(submission, now_ms)
        if isinstance(verdict, ge.GatewayError):
            raise verdict
        if verdict is not None:
            lettered = await self._dead_letters.publish(topic, verdict)
            self._count([verdict], [lettered])
            return lettered
        ack = await self._kafka.producer.publish(
            topic,
            submission.record,
            self._settings.produce_timeout_ms,
            min_insync=await self._kafka.admin.min_insync_replicas(topic),
        )
        self._metrics.produced(topic, 1, submission.size)
        return ack

    async def publish_batch(
        self,
        topic: str,
        submissions: Sequence[Submission],
        now_ms: int,
        *,
        compression: Compression | None = None,
        timeout_ms: int | None = None,
    ) -> list[Outcome]:
        """Publish many events, in order per partition; one outcome per submission, refusals included. An
        outcome that is an `AckTimeout` or a `DeadLetterTimeout` can be settled later with `settle`."""
        self._kafka.require_ready()
        limits = await self.limits(topic)
        check = await self.checks(topic)
        outcomes: list[Outcome | None] = [None] * len(submissions)
        sendable: list[int] = []
        dead: list[tuple[int, Letter]] = []
        for i, submission in enumerate(submissions):
            verdict = check(submission, now_ms)
            if verdict is None:
                sendable.append(i)
            elif isinstance(verdict, Letter):
                dead.append((i, verdict))
            else:
                outcomes[i] = verdict
        wait_ms = min(
            self._settings.produce_timeout_ms if timeout_ms is None else timeout_ms, self._settings.produce_timeout_ms
        )
        sent, lettered = await asyncio.gather(
            self._kafka.producer.publish_batch(
                topic,
                [submissions[i].record for i in sendable],
                limits.partitions,
                compression=compression,
                timeout_ms=wait_ms,
                min_insync=await self._kafka.admin.min_insync_replicas(topic),
            ),
            self._dead_letters.publish_batch(topic, [d for _, d in dead], compression=compression, timeout_ms=wait_ms),
        )
        events, size = 0, 0
        for i, outcome in zip(sendable, sent, strict=True):
            outcomes[i] = outcome
            if isinstance(outcome, Ack):
                events += 1
                size += submissions[i].size
        if events:
            self._metrics.produced(topic, events, size)
        for (i, _), result in zip(dead, lettered, strict=True):
            outcomes[i] = result
        self._count([d for _, d in dead], lettered)
        return [outcome for outcome in outcomes if outcome is not None]

    def _count(self, letters: Sequence[Letter], results: Sequence[Outcome]) -> None:
        """Count the dead letters Kafka acknowledged, on their dead-letter streams."""
        for sent, result in zip(letters, results, strict=True):
            if isinstance(result, DeadLettered):
                self._metrics.produced(result.topic, 1, record_size(sent.record))

    async def settle(self, outcomes: list[Outcome]) -> list[Outcome]:
        """`outcomes` with every timed-out acknowledgement replaced by what Kafka finally answered. (Events first
        answered with a timeout are not counted in the produced metrics: their fate was unknown when answered.)"""
        return [await o.outcome() if isinstance(o, AckTimeout | DeadLetterTimeout) else o for o in outcomes]


def _schema_verdict(
    topic: str, submission: Submission, schema: CompiledSchema, now_ms: int
) -> ge.GatewayError | Letter | None:
    value = submission.value
    if value is UNPARSED and submission.record.value is not None:
        value = orjson.loads(submission.record.value)
    violations = schema.violations(value)
    if not violations:
        return None
    if schema.on_invalid == "deadLetter":
        return letter(topic, submission.record, schema, violations, now_ms)
    return ge.SchemaViolation(
        f"the event breaks the stream's schema (version {schema.version}): {len(violations)} violation(s)",
        [v.field() for v in violations],
    )

"""Dead letters of the produce path: events whose value broke a `deadLetter` stream schema are written to the
stream's dead-letter stream (`<topic>.dlq`, created on first use with the stream's partitions and replication)
instead of the stream, in the record format `schemas/dead_letters.py` describes for gateway and processors.

The dead letter keeps the event's key, value and headers, and its partition when the dead-letter stream has it
(it is created with as many partitions as the stream, so keyed events land by the same hash).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson

from gateway import errors as ge
from gateway.kafka.clients import KafkaClients
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.settings import Compression, Settings
from gateway.stream_schemas import CompiledSchema, Violation
from schemas import dead_letters as dl

# Copied from the stream so that any event the stream would have taken fits its dead-letter stream too.
_INHERITED_CONFIGS = ("max.message.bytes",)


@dataclass(frozen=True, slots=True)
class DeadLettered:
    """An event written to the dead-letter stream `topic` (a Kafka name) instead of its stream; `ack` says
    where it landed there, `reason` why (`schema`), with the schema version and the violations."""

    ack: Ack
    topic: str
    reason: str
    schema_version: int
    violations: tuple[Violation, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter about to be written: the record and what its outcome will report."""

    record: OutgoingRecord
    schema_version: int
    violations: tuple[Violation, ...]

    def landed(self, topic: str, ack: Ack) -> DeadLettered:
        return DeadLettered(ack, topic, dl.REASON_SCHEMA, self.schema_version, self.violations)


class DeadLetterTimeout(ge.OperationTimeout):
    """Kafka did not acknowledge a dead letter in time; `outcome()` waits for what it finally answered."""

    def __init__(self, timeout: AckTimeout, topic: str, letter: Letter):
        super().__init__(timeout.detail, retry_after_s=timeout.retry_after_s)
        self._timeout, self._topic, self._letter = timeout, topic, letter

    async def outcome(self) -> DeadLettered | ge.GatewayError:
        late = await self._timeout.outcome()
        return late if isinstance(late, ge.GatewayError) else self._letter.landed(self._topic, late)


def diagnosis(violations: Sequence[Violation], shown: int = 3) -> str:
    """A one-line summary of `violations` for people (the pointers header has all of them for tools)."""
    text = "; ".join(f"{v.pointer or '(value)'}: {v.message}" for v in violations[:shown])
    return text if len(violations) <= shown else f"{text}; and {len(violations) - shown} more"


def letter(topic: str, record: OutgoingRecord, schema: CompiledSchema, violations: list[Violation], now: int) -> Letter:
    """The dead letter of `record`, headed for `topic`, which broke `schema` as `violations` say."""
    headers = [
        *record.headers,
        (dl.REASON, dl.REASON_SCHEMA.encode()),
        (dl.ERROR, diagnosis(violations).encode()),
        (dl.SOURCE_TOPIC, topic.encode()),
        (dl.SOURCE_TIMESTAMP, str(record.timestamp_ms).encode()),
        (dl.SCHEMA_VERSION, str(schema.version).encode()),
        (dl.SCHEMA_POINTERS, orjson.dumps([v.pointer for v in violations])),
    ]
    # Stamped with the time of dead-lettering (the event's own is a header), as the processors do: an old
    # event must not fall to the dead-letter stream's time-based retention at once.
    dead = OutgoingRecord(record.key, record.value, headers, now, record.partition)
    return Letter(dead, schema.version, tuple(violations))


class DeadLetters:
    """Writes dead letters with the same `acks=all` producer as the events themselves."""

    def __init__(self, settings: Settings, kafka: KafkaClients):
        self._settings = settings
        self._kafka = kafka

    async def _partitions(self, topic: str, dlq: str) -> int:
        """The dead-letter stream's partition count, creating it first when it does not exist yet."""
        admin = self._kafka.admin
        with contextlib.suppress(ge.StreamNotFound):
            partitions, _, _ = await admin.produce_limits(dlq)
            return partitions
        info = await admin.describe(topic)
        overrides = await admin.configs(topic, only_overrides=True)
        configs = {name: overrides[name] for name in _INHERITED_CONFIGS if name in overrides}
        # Two gateways may dead-letter a stream's first event at once; the second finds it created.
        with contextlib.suppress(ge.StreamAlreadyExists):
            await admin.create(dlq, len(info.partitions), info.replication_factor, configs)
        partitions, _, _ = await admin.produce_limits(dlq)
        return partitions

    @staticmethod
    def _placed(record: OutgoingRecord, partitions: int) -> OutgoingRecord:
        # A stream grown after its dead-letter stream was created may name a partition the latter lacks.
        if record.partition is not None and record.partition >= partitions:
            return replace(record, partition=None)
        return record

    async def publish(self, topic: str, dead: Letter) -> DeadLettered:
        """Write one dead letter of an event headed for `topic`; raises `DeadLetterTimeout` like `AckTimeout`."""
        dlq = dl.dlq_topic(topic)
        record = self._placed(dead.record, await self._partitions(topic, dlq))
        try:
            ack = await self._kafka.producer.publish(dlq, record, self._settings.produce_timeout_ms)
        except AckTimeout as exc:
            raise DeadLetterTimeout(exc, dlq, dead) from exc
        return dead.landed(dlq, ack)

    async def publish_batch(
        self, topic: str, letters: Sequence[Letter], *, compression: Compression | None, timeout_ms: int
    ) -> list[DeadLettered | ge.GatewayError]:
        """Write dead letters of events headed for `topic`; one outcome per letter, in order."""
        if not letters:
            return []
        dlq = dl.dlq_topic(topic)
        try:
            partitions = await self._partitions(topic, dlq)
        except ge.GatewayError as exc:
            return [exc] * len(letters)
        records = [self._placed(dead.record, partitions) for dead in letters]
        sent = await self._kafka.producer.publish_batch(
            dlq, records, partitions, compression=compression, timeout_ms=timeout_ms
        )
        outcomes: list[DeadLettered | ge.GatewayError] = []
        for dead, outcome in zip(letters, sent, strict=True):
            if isinstance(outcome, AckTimeout):
                outcomes.append(DeadLetterTimeout(outcome, dlq, dead))
            elif isinstance(outcome, ge.GatewayError):
                outcomes.append(outcome)
            else:
                outcomes.append(dead.landed(dlq, outcome))
        return outcomes

"""The publishing service: everything between "a client sent events" and "Kafka acknowledged them".

Every API that writes events (the native produce routes and the seed ingestion APIs) builds `Submission`s and
hands them to `Publisher`, which checks each against the stream (size, timestamp bounds), sends it with
`acks=all` and reports one outcome per submission. Route modules only translate their own wire format to
submissions and outcomes back to their own responses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway import errors as ge
from gateway.kafka.clients import KafkaClients
from gateway.kafka.producer import Ack, OutgoingRecord
from gateway.settings import Compression, Settings

# Kafka's per-record overhead in a v2 batch is at most ~21 bytes plus varints; round up generously.
_RECORD_OVERHEAD_BYTES = 64


@dataclass(slots=True)
class Submission:
    """One event to publish: the record as it will be written, and the JSON `value` it was built from
    (`None` for a tombstone), so checks on the value never re-parse the record's bytes."""

    record: OutgoingRecord
    value: Any = None


Outcome = Ack | ge.GatewayError


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
    """Publishes submissions to Kafka topics; `topic` is always the Kafka name (tenancy already applied)."""

    def __init__(self, settings: Settings, kafka: KafkaClients):
        self._settings = settings
        self._kafka = kafka

    async def limits(self, topic: str) -> StreamLimits:
        """The stream's partition count and record size bound (404 for an unknown stream; cached briefly)."""
        self._kafka.require_ready()
        partitions, max_message_bytes, _ = await self._kafka.admin.produce_limits(topic)
        return StreamLimits(partitions, max_message_bytes)

    async def _checks(self, topic: str) -> Callable[[Submission, int], ge.GatewayError | None]:
        """A check of submissions against what `topic` accepts (size, timestamp), returning the refusal."""
        _, max_message_bytes, accepted = await self._kafka.admin.produce_limits(topic)

        def refusal(submission: Submission, now_ms: int) -> ge.GatewayError | None:
            if record_size(submission.record) > max_message_bytes:
                return ge.PayloadTooLarge(f"event is larger than the stream accepts ({max_message_bytes} bytes)")
            problem = accepted.problem(submission.record.timestamp_ms, now_ms)
            if problem is not None:
                return ge.InvalidTimestamp(f"the stream refuses this event: {problem}")
            return None

        return refusal

    async def publish(self, topic: str, submission: Submission, now_ms: int) -> Ack:
        """Publish one event and return Kafka's acknowledgement. Raises the refusal, or `AckTimeout` (504)
        whose `outcome()` still learns what became of the record."""
        self._kafka.require_ready()
        refusal = (await self._checks(topic))(submission, now_ms)
        if refusal is not None:
            raise refusal
        return await self._kafka.producer.publish(topic, submission.record, self._settings.produce_timeout_ms)

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
        outcome that is an `AckTimeout` can be settled later with `settle`."""
        self._kafka.require_ready()
        limits = await self.limits(topic)
        check = await self._checks(topic)
        outcomes: list[Outcome | None] = [None] * len(submissions)
        sendable: list[int] = []
        for i, submission in enumerate(submissions):
            refusal = check(submission, now_ms)
            if refusal is None:
                sendable.append(i)
            else:
                outcomes[i] = refusal
        wait_ms = self._settings.produce_timeout_ms if timeout_ms is None else timeout_ms
        sent = await self._kafka.producer.publish_batch(
            topic,
            [submissions[i].record for i in sendable],
            limits.partitions,
            compression=compression,
            timeout_ms=min(wait_ms, self._settings.produce_timeout_ms),
        )
        for i, outcome in zip(sendable, sent, strict=True):
            outcomes[i] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    async def settle(self, outcomes: list[Outcome]) -> list[Outcome]:
        """`outcomes` with every timed-out acknowledgement replaced by what Kafka finally answered."""
        return await self._kafka.producer.settle(outcomes)

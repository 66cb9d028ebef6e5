"""Records Kafka would refuse for too few in-sync replicas are refused here, before they are sent.

With `acks=all`, a partition leader answers NOT_ENOUGH_REPLICAS while the partition has fewer in-sync replicas
than the stream's `min.insync.replicas`. aiokafka's idempotent producer retries such a batch for ever (it never
expires batches), so the client would only learn of it as a 504 when the gateway stops waiting, with the record
still queued and written whenever the replicas return. Checking the producer's own metadata first turns that
into an immediate 503 for a record that was never sent: retrying it cannot write it twice.

The check reads aiokafka's cluster metadata, which is only as fresh as its last refresh: every refusal, and
every send the gateway stopped waiting for, asks for a refresh (at most one every `_REFRESH_INTERVAL_S`), so
refusals start within a produce timeout of the ISR shrinking and stop within a metadata round trip of the
replicas catching up. A record sent on metadata that is still stale meets the broker's own check and ends as a
504 whose outcome the idempotency layer learns later.
"""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer

from gateway import errors as ge

_REFRESH_INTERVAL_S = 0.25
_NO_LEADER = -1


class InsyncReplicas:
    """Tells which partitions of a topic can take an `acks=all` write, from a producer's metadata."""

    def __init__(self, retry_after_s: int):
        self._retry_after_s = retry_after_s
        self._refreshed_at = 0.0

    def refusal(
        self, producer: AIOKafkaProducer, topic: str, partition: int, required: int
    ) -> ge.BrokerUnavailable | None:
        """The 503 for a record to `partition` of `topic`, or None when it may be sent. `required` is the
        stream's `min.insync.replicas`; 1 needs only a leader, which aiokafka waits for on its own."""
        if required <= 1:
            return None
        # aiokafka keeps each partition's ISR but exposes no accessor for it.
        known = producer.client.cluster._partitions.get(topic, {}).get(partition)
        if known is None or (known.leader != _NO_LEADER and len(known.isr) >= required):
            return None
        self._refresh(producer)
        if known.leader == _NO_LEADER:
            detail = f"partition {partition} of stream {topic!r} has no leader; nothing was written"
        else:
            detail = (
                f"partition {partition} of stream {topic!r} has {len(known.isr)} in-sync replicas, fewer than its "
                f"min.insync.replicas ({required}); nothing was written"
            )
        return ge.BrokerUnavailable(detail, retry_after_s=self._retry_after_s)

    def writable(self, producer: AIOKafkaProducer, topic: str, partitions: int, required: int) -> list[int]:
        """The partitions of `topic` a record without a key may go to (all of them when none can)."""
        found = [p for p in range(partitions) if self.refusal(producer, topic, p, required) is None]
        return found or list(range(partitions))

    def unanswered(self, producer: AIOKafkaProducer) -> None:
        """A send went unacknowledged for the gateway's whole wait: perhaps the broker refuses it for too few
        in-sync replicas while aiokafka retries, which changes no metadata aiokafka would refresh on its own."""
        self._refresh(producer)

    def _refresh(self, producer: AIOKafkaProducer) -> None:
        now = time.monotonic()
        if now - self._refreshed_at >= _REFRESH_INTERVAL_S:
            self._refreshed_at = now
            producer.client.force_metadata_update()

"""The idempotency log: claims and results of idempotency keys in a Kafka topic, tailed into an in-memory ledger.

Every gateway writes its claims to `_kafkagate_idempotency` and reads the whole topic back into a `Ledger`
(`gateway.idempotency_ledger`). A key's records all go to one partition (Kafka's murmur2 of the key's scope),
so offset order decides races: a claim is written with `acks=all`, then the gateway waits until its own tail has
read that partition up to and including the claim, and asks the ledger who owns the key. Every gateway folds
the same records in the same order, so two gateways racing on one key agree on the single winner.

Topic settings, and why:

- `cleanup.policy=compact,delete`: compaction keeps the latest record per record key (a key's latest claim and
  its result, which have different record keys), and deletion drops whole segments once they are older than
  `retention.ms` = TTL + a day. Results therefore expire without anyone writing tombstones: the ledger honours
  each result's own expiry, and Kafka reclaims the space a day later.
- `min.compaction.lag.ms` = 1 h, longer than any lease: a claim is never compacted away while it can still
  decide a race (compaction could otherwise leave a losing claim as the first one a new reader sees).
- `message.timestamp.type=LogAppendTime`: leases and expiries are judged against the partition leader's clock,
  stamped on the record, so gateways with skewed clocks still reach the same verdicts.
- `segment.ms` = 1 h, so old segments become eligible for deletion (the default rolls weekly).
- `max.message.bytes` = 8 MiB: stored responses of large batches are bigger than Kafka's 1 MiB default.

The topic is created on first use (12 partitions, `StreamAdmin.create_internal`'s replication) with the first gateway's
TTL; raising `KAFKAGATE_IDEMPOTENCY_TTL_S` later needs `retention.ms` raised on the topic by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gateway import errors as ge
from gateway.idempotency_ledger import (
    Ledger,
    StoredResponse,
    StoredResult,
    Verdict,
    claim_key,
    claim_value,
    release_value,
    result_key,
    result_value,
)
from gateway.kafka import connect
from gateway.kafka.admin import StreamAdmin
from gateway.kafka.translate import translate
from gateway.partitioner import partition_for_key
from gateway.settings import Settings
from gateway.timefmt import now_ms

log = logging.getLogger(__name__)

TOPIC = "_kafkagate_idempotency"
PARTITIONS = 12
_HOUR_MS = 3600 * 1000
# A stored response can be larger than the request (a 10,000-event batch answers with ~1-2 MB of results);
# records are lz4-compressed, and this bounds a compressed record batch.
_MAX_RECORD_BYTES = 8 * 1024 * 1024
# Keys are forgotten this long after their lease or result ran out (by record time), so a record still in
# flight from a gateway whose clock lags the broker's is folded against the same state everywhere.
_SWEEP_MARGIN_MS = 10 * 60 * 1000
# `close` waits this long for records still owed (stored responses, releases) before it cancels their writes.
_DRAIN_S = 5.0


def topic_configs(ttl_s: int) -> dict[str, str]:
    return {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(ttl_s * 1000 + 24 * _HOUR_MS),
        "min.compaction.lag.ms": str(_HOUR_MS),
        "segment.ms": str(_HOUR_MS),
        "message.timestamp.type": "LogAppendTime",
        "max.message.bytes": str(_MAX_RECORD_BYTES),
    }


class IdempotencyLog:
    """Claims, renewals, releases and results of idempotency keys, as this gateway has read them from Kafka.

    Starts lazily: the first `claim` creates the topic when missing, starts a producer of its own (no linger:
    every claim is on a request's critical path) and the tail. `spawn` runs work that still owes the log a record
    after the response went out (a stored response, a result learned late); `close` waits a little for it, then
    cancels it.
    """

    def __init__(self, settings: Settings, admin: StreamAdmin):
        self.ledger = Ledger()
        self._settings = settings
        self._admin = admin
        self._partitions = PARTITIONS
        self._positions: dict[int, int] = {}
        self._advanced = asyncio.Condition()
        self._start_lock = asyncio.Lock()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._timeout_s = settings.admin_request_timeout_ms / 1000

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the topic if needed and start the producer and the tail. Safe to call repeatedly."""
        if self._tail is not None:
            return
        async with self._start_lock:
            if self._tail is not None:
                return
            await self._ensure_topic()
            producer = AIOKafkaProducer(
                **connect.client_args(self._settings, "idempotency"),
                acks="all",
                enable_idempotence=True,
                compression_type="lz4",
                max_request_size=_MAX_RECORD_BYTES,
            )
            consumer = connect.consumer(self._settings, "idempotency", group_id=None, auto_offset_reset="earliest")
            try:
                await producer.start()
                await consumer.start()
                tps = [TopicPartition(TOPIC, p) for p in range(self._partitions)]
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
            except BaseException as exc:
                await consumer.stop()
                await producer.stop()
                raise self._fail(exc) from exc
            self._producer, self._consumer = producer, consumer
            self._tail = asyncio.create_task(self._run(consumer), name="kafkagate-idempotency-tail")

    async def _ensure_topic(self) -> None:
        with contextlib.suppress(ge.StreamAlreadyExists):  # another gateway came first, which is the goal
            await self._admin.create_internal(TOPIC, PARTITIONS, topic_configs(self._settings.idempotency_ttl_s))
        self._partitions, _ = await self._admin.limits(TOPIC)

    async def close(self) -> None:
        # Background work owes the log records (responses already sent, late outcomes): give it a moment to land.
        if self._background:
            await asyncio.wait(self._background, timeout=_DRAIN_S)
        tasks = list(self._background)
        self._background = set()
        if self._tail is not None:
            tasks.append(self._tail)
        consumer, producer = self._consumer, self._producer
        self._tail = self._consumer = self._producer = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if consumer is not None:
            await consumer.stop()
        if producer is not None:
            await producer.stop()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _fail(self, exc: BaseException) -> ge.GatewayError:
        return translate(exc, retry_after_s=self._settings.retry_after_s)

    # --- the tail -----------------------------------------------------------------------------------------

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        newest_ms = 0
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the tail must outlive broker hiccups; claims time out meanwhile
                log.warning("idempotency log tail failed, retrying: %r", exc)
                await asyncio.sleep(self._settings.connect_retry_backoff_ms / 1000)
                continue
            if not batches:
                continue
            positions: dict[int, int] = {}
            for tp, records in batches.items():
                for record in records:
                    self.ledger.apply(record.key, record.value, record.timestamp)
                    newest_ms = max(newest_ms, record.timestamp)
                positions[tp.partition] = records[-1].offset + 1
            self.ledger.sweep(newest_ms - _SWEEP_MARGIN_MS)
            async with self._advanced:
                self._positions.update(positions)
                self._advanced.notify_all()

    async def _read_back(self, partition: int, offset: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s), self._advanced:
                await self._advanced.wait_for(lambda: self._positions.get(partition, 0) > offset)
        except TimeoutError as exc:
            raise ge.OperationTimeout(
                f"the idempotency log did not read its own claim back within {self._timeout_s:g} s",
                retry_after_s=self._settings.retry_after_s,
            ) from exc

    # --- writes -------------------------------------------------------------------------------------------

    def partition(self, scope: str) -> int:
        return partition_for_key(scope.encode(), self._partitions)

    async def _write(self, scope: str, key: bytes, value: bytes) -> int:
        await self.start()
        producer = self._producer
        if producer is None:
            raise ge.BrokerUnavailable("the idempotency log is closed", retry_after_s=self._settings.retry_after_s)
        try:
            future = await producer.send(TOPIC, value, key=key, partition=self.partition(scope))
            meta = await asyncio.wait_for(asyncio.shield(future), self._timeout_s)
        except Exception as exc:
            raise self._fail(exc) from exc
        offset: int = meta.offset
        return offset

    async def claim(self, scope: str, claim_id: str, fingerprint: str, lease_ms: int, request_id: str = "") -> Verdict:
        """Claim `scope` for request `request_id` and return the verdict once this gateway has read every record up
        to the claim. Should the claim lapse, later claims learn of it for as long as a result would be kept."""
        keep_ms = self._settings.idempotency_ttl_s * 1000
        value = claim_value(claim_id, fingerprint, lease_ms, request_id, keep_ms)
        offset = await self._write(scope, claim_key(scope), value)
        try:
            await self._read_back(self.partition(scope), offset)
        except ge.GatewayError:
            # The claim may have won with nobody left to run it: give it back rather than hold the key a lease.
            self.spawn(self._release_quietly(scope, claim_id))
            raise
        return self.ledger.verdict(scope, claim_id, fingerprint)

    async def _release_quietly(self, scope: str, claim_id: str) -> None:
        try:
            await self.release(scope, claim_id)
        except ge.GatewayError as exc:
            log.warning("could not release an idempotency claim; it lapses with its lease: %s", exc.detail)

    async def renew(self, scope: str, claim_id: str, fingerprint: str, lease_ms: int) -> None:
        """Extend the lease of a claim that owns `scope` (the owner is still working)."""
        await self._write(scope, claim_key(scope), claim_value(claim_id, fingerprint, lease_ms))

    async def release(self, scope: str, claim_id: str) -> None:
        """Give `scope` up: the request failed before any side effect, so a retry may run it."""
        await self._write(scope, claim_key(scope), release_value(claim_id))

    async def complete(self, scope: str, claim_id: str, fingerprint: str, response: StoredResponse) -> None:
        """Store the response of `scope`'s request; once acknowledged, any later claim anywhere replays it."""
        ttl_ms = self._settings.idempotency_ttl_s * 1000
        await self._write(scope, result_key(scope), result_value(claim_id, fingerprint, ttl_ms, response))

    def stored(self, scope: str) -> StoredResult | None:
        """The unexpired result this gateway has already read for `scope`, without asking Kafka."""
        return self.ledger.stored(scope, now_ms())

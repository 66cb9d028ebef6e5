"""One view on a view host: owns the view while its consumer group gives it the log's partition, folds the log
into the state and publishes the state after every batch (and as a heartbeat while idle).

The published state is also the checkpoint: a state and the sequence it reflects travel in one record, so a
host that takes over (after a crash, a rebalance, a restart) restores exactly what was published and reads the
log on from the next sequence. Events folded but not yet published when a host dies are folded again from the
same state, which gives the same result: views are deterministic (`processors.views.language`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from processors.faults import fault_point
from processors.views.checkpoints import Checkpoints
from processors.views.language import compile_view
from schemas.logs import HEARTBEAT_INTERVAL_MS, VIEW_STATE_TOPIC, ViewRecord, ViewState, log_topic

log = logging.getLogger(__name__)

#: Kafka's smallest session timeout by default: a host that died loses its views after this long.
SESSION_TIMEOUT_MS = 6_000
_BATCH_RECORDS = 1_000


def view_group(deployment: str) -> str:
    return f"_kafkagate.view.{deployment}"


class _Ownership(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka's base class is untyped
    def __init__(self, runner: ViewRunner):
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.runner.owned = False

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self.runner.tp in assigned:
            await self.runner.take_over()


class ViewRunner:
    def __init__(
        self, record: ViewRecord, bootstrap: str, producer: AIOKafkaProducer, checkpoints: Checkpoints, node: str
    ):
        self.record = record
        self.deployment = record.deployment
        definition = record.definition
        self.view = compile_view(definition.initial, definition.apply, definition.query)
        self.bootstrap = bootstrap
        self.producer = producer
        self.checkpoints = checkpoints
        self.node = node
        self.tp = TopicPartition(log_topic(record.log_id), 0)
        self.owned = False
        self.state: Any = self.view.initial
        self.sequence = 0
        self.errors = 0
        self.last_error: str | None = None
        self._published_at = 0.0
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"kafkagate-view-{self.deployment}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - start over from the last published state
                log.warning("view %s (%s) stopped: %r; restarting", self.record.view, self.deployment, exc)
                self.owned = False
                await asyncio.sleep(1)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=view_group(self.deployment),
            enable_auto_commit=False,  # the published state is the position; offsets are never committed
            auto_offset_reset="earliest",
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=SESSION_TIMEOUT_MS // 3,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            consumer.subscribe([self.tp.topic], listener=_Ownership(self))
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=_BATCH_RECORDS)
                if not self.owned:
                    continue
                records = batch.get(self.tp, [])
                for record in records:
                    self._fold(record.offset + 1, record.value or b"")
                if records:
                    fault_point("view-before-publish")
                due = time.monotonic() - self._published_at >= HEARTBEAT_INTERVAL_MS / 1000
                if records or due:
                    await self.publish()
        finally:
            self.owned = False
            self._consumer = None
            await consumer.stop()

    def _fold(self, sequence: int, raw: bytes) -> None:
        if sequence <= self.sequence:
            return  # already in the restored state
        step = self.view.step(self.state, raw, sequence)
        if step.error is not None:
            self.errors += 1
            self.last_error = step.error
        self.state = step.state
        self.sequence = sequence

    async def take_over(self) -> None:
        """This host now owns the view: restore the newest published state and read on after it."""
        checkpoint = await self.checkpoints.latest(self.deployment)
        if checkpoint is None:
            self.state, self.sequence, self.errors, self.last_error = self.view.initial, 0, 0, None
        else:
            self.state, self.sequence = checkpoint.state, checkpoint.sequence
            self.errors, self.last_error = checkpoint.errors, checkpoint.last_error
        assert self._consumer is not None  # noqa: S101 - called by the consumer's own rebalance
        self._consumer.seek(self.tp, self.sequence)
        log.info("view %s (%s) taken over at sequence %d", self.record.view, self.deployment, self.sequence)
        self.owned = True
        await self.publish()

    async def publish(self) -> None:
        published = ViewState(
            deployment=self.deployment,
            sequence=self.sequence,
            state=self.state,
            errors=self.errors,
            last_error=self.last_error,
            leader=self.node,
            published_at_ms=int(time.time() * 1000),
        )
        value = published.model_dump_json().encode()
        await self.producer.send_and_wait(VIEW_STATE_TOPIC, value, key=self.deployment.encode(), partition=0)
        self._published_at = time.monotonic()

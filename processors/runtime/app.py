"""The processor runtime's core: the Faust app, its two stages and the aggregate between them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import faust
import orjson
from aiokafka.errors import KafkaError

from processors.aggregate_store import Result, Update, WindowedAggregate
from processors.events import Event
from processors.executor import Executor, Failed, Grouped, Passed
from processors.faults import fault_point
from processors.housekeeping import Housekeeper
from processors.lookups import LookupTables
from processors.metrics import WorkerMetrics
from processors.plan import Plan
from processors.runtime.codec import CODEC
from processors.runtime.faults import STALLED_EXIT_CODE, ProcessorFailed
from processors.runtime.finals import FinalDelivery
from processors.runtime.outputs import Outputs
from processors.runtime.positions import Positions
from processors.runtime.records import KafkaEvent, decode_bytes, encode_event, headers_of
from processors.runtime.refusals import Refusals
from processors.runtime.state import PUBLISH_INTERVAL_S, StatePublisher
from processors.table_store import PartitionStore
from processors.worker import FAILED_EXIT_CODE, PRODUCER_LINGER_S, worker_name
from schemas import dead_letters as dl
from schemas.processor_api import METRICS_INTERVAL_MS, METRICS_TOPIC, WorkerStatus, processor_group

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 10.0


class ProcessorRuntime:
    def __init__(self, record: dict[str, Any], plan: Plan, bootstrap: str, index: int, partitions: int):
        self.record = record
        self.plan = plan
        self.processor_id: str = record["processorId"]
        self.version: int = record["version"]
        self.worker = worker_name(index)
        self.partitions = partitions
        datadir = Path(os.environ.get("KAFKAGATE_DATA_DIR", Path.home() / ".cache" / "kafkagate" / "processors"))
        (datadir / self.processor_id / str(index)).mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            processor_group(self.processor_id),
            broker=f"kafka://{bootstrap}",
            store="memory://",
            datadir=str(datadir / self.processor_id / str(index)),
            web_enabled=False,
            topic_replication_factor=1,
            topic_partitions=partitions,
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=plan.config.commit_interval_ms / 1000,
            # A crashed worker's partitions move once the group coordinator gives up on it: 10 s instead of
            # Faust's 60 s, so a restarted or surviving worker takes over quickly.
            broker_session_timeout=10.0,
            broker_heartbeat_interval=3.0,
            producer_acks=-1,
            producer_linger=PRODUCER_LINGER_S,
            # Defaults for the table's changelog; every topic of ours states `raw` explicitly.
            key_serializer=CODEC,
            value_serializer=CODEC,
        )
        self.lookups = LookupTables(bootstrap, plan.lookups, topic_prefix=record.get("namespace", ""))
        self.housekeeper = Housekeeper(bootstrap, self.app.conf.id)
        self.outputs = Outputs(self.app, self._report_failed)
        self.executor = Executor(plan, self.lookups.tables)
        self.metrics = WorkerMetrics()
        self.failure: str | None = None
        self._aggregates: dict[int, WindowedAggregate] = {}
        self._last_event_wall: dict[int, int] = {}
        self.positions = Positions(
            self.app, self.housekeeper, {plan.topics.source, plan.topics.repartition}, self.lookups.ready.is_set
        )
        self.refusals = Refusals(plan, self.outputs, self.metrics)
        self.finals = FinalDelivery(self.app, self.outputs, self.housekeeper, self.metrics, self._output_of)
        # Table names carry the plan fingerprint: a changed spec starts from fresh state, same source offsets.
        self.table = self.app.Table(f"windows-{plan.fingerprint[:12]}", default=None, partitions=partitions)
        # Queryable state (GET /api/v1/processors/{id}/state): published for aggregating processors only.
        self.state: StatePublisher | None = None
        if plan.aggregate is not None:
            self.state = StatePublisher(plan, self.processor_id, self.table, bootstrap, partitions)
        self._wire()

    def _wire(self) -> None:
        plan, app = self.plan, self.app
        repartition = plan.topics.repartition

        @app.agent(self.outputs.topic(plan.topics.source), name="stage1")
        async def stage1(stream: Any) -> None:
            async for event in stream.events():
                await self._guard(self.on_source, event)

        if repartition is not None:

            @app.agent(self.outputs.topic(repartition), name="stage2")
            async def stage2(stream: Any) -> None:
                async for event in stream.events():
                    await self._guard(self.on_repartitioned, event)

        app.timer(METRICS_INTERVAL_MS / 1000)(self._report_tick)
        app.timer(1.0)(self._tick_idle_partitions)
        app.timer(5.0)(self.positions.watchdog)
        app.timer(PURGE_INTERVAL_S)(self._purge_repartition)
        if self.state is not None:
            app.timer(PUBLISH_INTERVAL_S)(self.state.flush)
        app.task(self._start_clients)
        app.on_partitions_revoked.connect(self._forget_partitions)
        app.on_before_shutdown.connect(self._stop_clients)

    async def _start_clients(self) -> None:
        # Faust's Monitor sensor keeps per-event, per-message and per-send statistics for its web views, which
        # workers do not serve (`WorkerMetrics` reports what the API shows): 232 to 212 µs of CPU per source event.
        with contextlib.suppress(KeyError):
            self.app.sensors.remove(self.app.monitor)
        self.outputs.guard_commits(before=None if self.state is None else self.state.write_marks)
        await self.housekeeper.start()
        await self.lookups.start()
        if self.state is not None:
            await self.state.start()
        await self.report(status="running")

    async def _stop_clients(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await self.lookups.stop()
        await self.housekeeper.stop()
        if self.state is not None:
            await self.state.stop()

    async def _purge_repartition(self) -> None:
        if self.plan.topics.repartition is not None:
            await self.housekeeper.purge_assigned(self.app.consumer.assignment(), self.plan.topics.repartition)

    async def _report_tick(self) -> None:
        await self.report()

    def _forget_partitions(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        # Revoked partitions' state moves to another worker; aggregates are rebuilt from the table on reassign,
        # and where this worker stopped reading says nothing once another worker has read on.
        self._aggregates.clear()
        revoked: set[Any] = args[0] if args else set()
        self.positions.forget(revoked)
        if self.state is not None:
            self.state.forget(
                [tp.partition for tp in revoked if tp.topic in self._aggregated_topics()],
                [tp.partition for tp in revoked if tp.topic == self.plan.topics.source],
            )

    async def _guard(self, handler: Any, event: KafkaEvent) -> None:
        message = event.message
        if self.outputs.failure is not None:
            await asyncio.Event().wait()  # the worker is stopping: handle nothing more
        if self.positions.unchecked(message.tp):
            await self.positions.check_first(message.tp, message.offset)
        try:
            await handler(event)
        except KafkaError as exc:
            # A write this handler awaited (a final result) failed.
            self.outputs.failed(f"handling {message.topic}[{message.partition}]@{message.offset}", exc)
            await asyncio.Event().wait()
        except ProcessorFailed as exc:
            self.failure = str(exc)
            await self.report(status="failed")
            log.error("processor %s failed: %s", self.processor_id, exc)
            # Stop here without committing past the event that failed; the supervisor keeps it stopped.
            await self.app.producer.flush()
            os._exit(FAILED_EXIT_CODE)
        except Exception:
            # A bug, or a table write Faust refused (PartitionsMismatch while a changelog topic is new). Faust
            # would restart the agent in place and read on past the event; exiting restarts the worker from its
            # committed offsets instead, so the event is handled again and nothing is skipped.
            log.exception(
                "handling %s[%s]@%s failed; restarting the worker", message.topic, message.partition, message.offset
            )
            os._exit(STALLED_EXIT_CODE)
        self.positions.mark_handled(message.topic, message.partition, message.offset)
        if message.topic == self.plan.topics.source:
            self.metrics.processed(int(message.timestamp * 1000))
            if self.state is not None:
                self.state.handled(message.partition, message.offset)

    def _aggregated_topics(self) -> set[str]:
        """The topic whose partitions are the aggregate's partitions."""
        return {self.plan.topics.repartition or self.plan.topics.source}

    # --- stage 1 -----------------------------------------------------------------------------------------

    async def on_source(self, kafka_event: KafkaEvent) -> None:
        if not self.lookups.ready.is_set():
            await self.lookups.ready.wait()
        message = kafka_event.message
        self.metrics.events_in += 1
        raw_value: bytes | None = message.value
        try:
            value = None if raw_value is None else orjson.loads(raw_value)
        except orjson.JSONDecodeError:
            await self.refusals.dead_letter(kafka_event, -1, "value is not valid JSON")
            return
        event = Event(
            value=value,
            key=decode_bytes(message.key),
            headers={name: decode_bytes(raw) for name, raw in headers_of(message)},
            timestamp=int(message.timestamp * 1000),
            partition=message.partition,
            offset=message.offset,
        )
        outcome = self.executor.before_aggregate(event)
        if not isinstance(outcome, Passed):
            await self.refusals.settle(kafka_event, outcome)
            return
        if self.plan.aggregate is None:
            await self.emit(outcome.event, outcome.sink)
            return
        grouped = self.executor.group(outcome.event)
        if not isinstance(grouped, Grouped):
            await self.refusals.settle(kafka_event, grouped)
            return
        if self.plan.topics.repartition is None:
            await self.aggregate(kafka_event, grouped, message.partition, message.offset)
            return
        body = {
            "groupKey": grouped.group_key,
            "time": grouped.event_time_ms,
            "measure": grouped.measure,
            "event": {
                "value": grouped.event.value,
                "key": grouped.event.key,
                "headers": dict(grouped.event.headers),
                "timestamp": grouped.event.timestamp,
                "partition": grouped.event.partition,
                "offset": grouped.event.offset,
            },
        }
        key = orjson.dumps(grouped.group_key)
        await self.outputs.write(
            self.plan.topics.repartition, key=key, value=orjson.dumps(body), timestamp=grouped.event_time_ms / 1000
        )
        if self.state is not None:
            self.state.forwarded(message.partition, key, message.offset)

    # --- stage 2 -----------------------------------------------------------------------------------------

    async def on_repartitioned(self, kafka_event: KafkaEvent) -> None:
        body = orjson.loads(kafka_event.message.value)
        if "tick" in body:
            await self.on_tick(kafka_event.message.partition, body["tick"])
            return
        event = Event(**body["event"])
        grouped = Grouped(event, body["groupKey"], body["time"], body["measure"])
        await self.aggregate(kafka_event, grouped, kafka_event.message.partition, kafka_event.message.offset)

    async def _aggregate_for(self, partition: int) -> WindowedAggregate:
        """The partition's aggregate; built from the table on first use, which also settles the final results a
        crash left unreleased (called inside a handler: table writes need an event in context)."""
        stage = self.plan.aggregate
        assert stage is not None  # noqa: S101 - only called for plans with an aggregate
        aggregate = self._aggregates.get(partition)
        if aggregate is None:
            store = PartitionStore(self.table, partition)
            aggregate = WindowedAggregate(stage, store, partition)
            # Source offsets an earlier release kept as `applied|<partition>|<source partition>` table entries.
            legacy = {source: self.table.get(f"applied|{partition}|{source}") for source in range(self.partitions)}
            aggregate.adopt_sources({source: offset for source, offset in legacy.items() if offset is not None})
            keys = store.keys_here()
            unreleased = aggregate.recover(keys)
            self._aggregates[partition] = aggregate
            if self.state is not None:
                self.state.restored(aggregate, partition, keys)
            await self.finals.resolve_unreleased(aggregate, unreleased)
        return aggregate

    async def on_tick(self, partition: int, wall_ms: int) -> None:
        """Idle close: stream time moves on by the wall-clock time since the partition's last event."""
        last = self._last_event_wall.get(partition)
        aggregate = await self._aggregate_for(partition)
        if last is None or aggregate.stream_time_ms is None or wall_ms <= last:
            return
        results = aggregate.advance_to(aggregate.stream_time_ms + (wall_ms - last))
        self._last_event_wall[partition] = wall_ms
        if self.state is not None:
            self.state.closed(partition, aggregate, results)
        await self.emit_results(aggregate, results)

    async def _tick_idle_partitions(self) -> None:
        stage, repartition = self.plan.aggregate, self.plan.topics.repartition
        if stage is None or stage.window is None or repartition is None:
            return
        idle_ms = stage.window.idle_close_after_ms
        if idle_ms is None:
            return
        now = int(time.time() * 1000)
        for tp in self.app.consumer.assignment():
            last = self._last_event_wall.get(tp.partition)
            if tp.topic == repartition and last is not None and now - last >= idle_ms:
                tick = orjson.dumps({"tick": now})
                await self.outputs.write(repartition, key=b"", value=tick, partition=tp.partition)

    async def aggregate(self, kafka_event: KafkaEvent, grouped: Grouped, partition: int, offset: int) -> None:
        stage = self.plan.aggregate
        assert stage is not None  # noqa: S101 - only called for plans with an aggregate
        aggregate = await self._aggregate_for(partition)
        fault_point("aggregate")
        self._last_event_wall[partition] = int(time.time() * 1000)
        # Stage 1 may re-send a repartitioned event after a crash (its source offset was not committed yet);
        # the copy has a new repartition offset but the same source position, which is what identifies it.
        source = grouped.event
        applied = aggregate.source_applied(source.partition)
        replayed = applied >= source.offset
        update: Update | None = (
            None if replayed else aggregate.apply(grouped, offset, (source.partition, source.offset))
        )
        if self.state is not None:
            # A replay publishes too: the state it finds may never have been published before a crash.
            closed = () if update is None else update.results
            mark = (source.partition, max(source.offset, applied))
            self.state.applied(partition, aggregate, (*aggregate.current(grouped), *closed), mark)
        if update is None or update.replayed:
            if stage.window is None or stage.window.emits_changes:
                await self.emit_results(aggregate, aggregate.current(grouped))
            return
        if update.failure is not None:
            await self.refusals.settle(kafka_event, update.failure)
        elif update.late:
            self.metrics.late_events += 1
            await self.refusals.dead_letter(
                kafka_event, stage.index, "event is late for a closed window", reason=dl.REASON_LATE
            )
        elif stage.window is not None:
            self.metrics.count_windows(list(stage.window.assign(grouped.event_time_ms)), update.stream_time_ms)
        await self.emit_results(aggregate, update.results)

    async def emit_results(self, aggregate: WindowedAggregate, results: tuple[Result, ...]) -> None:
        window = self.plan.aggregate.window if self.plan.aggregate else None
        if window is not None and window.emits_final:
            await self.finals.deliver(aggregate, results)
            return
        for result in results:
            output = self._output_of(result)
            if output is not None:
                await self._send(*output)

    def _output_of(self, result: Result) -> tuple[str, bytes | None, bytes, int] | None:
        """Run the after-aggregate steps: (sink, key, value, timestamp ms) to send, or None when filtered."""
        outcome = self.executor.after_aggregate(
            Event(value=result.value, key=result.group_key, timestamp=result.timestamp)
        )
        if isinstance(outcome, Failed):
            raise ProcessorFailed(f"operations[{outcome.index}]: {outcome.error}")
        target = (outcome.sink or self.plan.topics.sink) if isinstance(outcome, Passed) else None
        if not isinstance(outcome, Passed) or target is None:
            self.metrics.events_filtered += 1
            return None
        key, value = encode_event(outcome.event)
        return target, key, value, outcome.event.timestamp

    async def emit(self, event: Event, sink: str | None) -> None:
        target = sink or self.plan.topics.sink
        if target is None:
            self.metrics.events_filtered += 1
            return
        key, value = encode_event(event)
        await self._send(target, key, value, event.timestamp)

    async def _send(self, target: str, key: bytes | None, value: bytes, timestamp_ms: int) -> None:
        await self.outputs.write(target, key=key, value=value, timestamp=timestamp_ms / 1000)
        self.metrics.events_emitted += 1

    async def _report_failed(self, reason: str) -> None:
        self.failure = reason
        await self.report(status="failed")

    # --- metrics -----------------------------------------------------------------------------------------

    async def report(self, status: WorkerStatus | None = None) -> None:
        lag = self.positions.lag(self.plan.topics.source)
        snapshot = self.metrics.snapshot(
            processor_id=self.processor_id,
            version=self.version,
            worker=self.worker,
            status=status or ("failed" if self.failure else "running"),
            reason=self.failure,
            lag=lag,
        )
        await self.outputs.topic(METRICS_TOPIC).send(key=self.processor_id.encode(), value=snapshot.to_json())

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        worker = faust.Worker(self.app, loglevel="WARNING", loop=loop, override_logging=False)
        worker.execute_from_commandline()

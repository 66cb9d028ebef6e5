"""Run one compiled processor as a Faust app: the only module that imports faust.

One worker process = one Faust App (`_kafkagate.proc.<processorId>`, which is also its consumer group), so
`parallelism` workers split the source partitions. Topology:

    source ──stage1: decode, before-steps, group key──► <name>.repartition (keyed by group key)
                                   │ (no aggregate)                       │
                                   ▼                                       ▼
                                 sink(s)       stage2: WindowedAggregate over a Faust Table ──► after-steps ──► sink

When the aggregate groups by the untouched record key, stage1 aggregates directly (no repartition hop).
Failing events go to `<name>.dlq` with the value as received. Window maths and state transitions are pure code
(`processors.aggregate_store`); the Table only stores and changelogs them.
"""

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
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faust.serializers import codecs

from processors.aggregate_store import Result, Update, WindowedAggregate
from processors.events import Event
from processors.executor import DeadLetter, Dropped, Executor, Failed, Grouped, Passed, dead_letter_headers
from processors.housekeeping import Housekeeper
from processors.lookups import LookupTables
from processors.metrics import WorkerMetrics
from processors.plan import Plan
from processors.table_store import PartitionStore
from processors.worker import FAILED_EXIT_CODE, worker_name
from schemas import dead_letters as dl
from schemas.processor_api import METRICS_INTERVAL_MS, METRICS_TOPIC, WorkerStatus, processor_group

log = logging.getLogger(__name__)

KafkaEvent = Any  # faust's EventT: key, value and .message (topic, partition, offset, timestamp s, headers)


STALL_AFTER_S = 20.0
STALLED_EXIT_CODE = 75  # EX_TEMPFAIL: the supervisor restarts the worker
PURGE_INTERVAL_S = 10.0
_IN_FLIGHT_PRUNE_AT = 10_000
FAULT_EXIT_CODE = 137  # as a process killed by SIGKILL reports itself in a shell


class OrjsonCodec(codecs.Codec):
    """Table values are JSON written by orjson. Faust's pickle codec is never used (it executes code)."""

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


codecs.register("kafkagate-orjson", OrjsonCodec())


class ProcessorFailed(Exception):
    """An operation with `onError: fail` refused an event: stop and report failed."""


def _headers(message: Any) -> list[tuple[str, bytes]]:
    headers = message.headers or []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def _decode(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.hex()


def _encode(event: Event) -> tuple[bytes | None, bytes]:
    """An output record's key and value: a string key as is, any other key as JSON; the value as JSON."""
    if event.key is None:
        key = None
    else:
        key = (event.key if isinstance(event.key, str) else orjson.dumps(event.key).decode()).encode()
    return key, orjson.dumps(event.value)


def _write_error(future: Any) -> BaseException | None:
    """The error a finished write failed with; None while it is pending, or when it succeeded."""
    if not future.done() or future.cancelled():
        return None
    error: BaseException | None = future.exception()
    return error


def _fault_point(name: str) -> None:
    """Exit at once, like a kill -9, when the file named by ``KAFKAGATE_FAULT_FILE`` holds ``name``; the file
    is removed first, so the restarted worker runs on. Tests use it to crash at an exact point."""
    path = os.environ.get("KAFKAGATE_FAULT_FILE")
    if not path:
        return
    fault = Path(path)
    try:
        armed = fault.read_text().strip() == name
    except OSError:
        return
    if armed:
        fault.unlink()
        log.error("fault point %s reached: exiting", name)
        os._exit(FAULT_EXIT_CODE)


class ProcessorRuntime:
    def __init__(self, record: dict[str, Any], plan: Plan, bootstrap: str, index: int, partitions: int):
        self.record = record
        self.plan = plan
        self.processor_id: str = record["processorId"]
        self.version: int = record["version"]
        self.worker = worker_name(index)
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
            # Defaults for the table's changelog; every topic of ours states `raw` explicitly.
            key_serializer="kafkagate-orjson",
            value_serializer="kafkagate-orjson",
        )
        self.lookups = LookupTables(bootstrap, plan.lookups, topic_prefix=record.get("namespace", ""))
        self.housekeeper = Housekeeper(bootstrap, self.app.conf.id)
        self._log_start: dict[tuple[str, int], int] = {}
        self._expired_warned: set[tuple[str, int]] = set()
        self._sink_next: dict[tuple[str, int], int] = {}
        self._in_flight: list[tuple[str, Any]] = []
        self._output_failure: str | None = None
        self._stopping: asyncio.Future[None] | None = None
        self.executor = Executor(plan, self.lookups.tables)
        self.metrics = WorkerMetrics()
        self.failure: str | None = None
        self._aggregates: dict[int, WindowedAggregate] = {}
        self._last_event_wall: dict[int, int] = {}
        self._handled: dict[tuple[str, int], int] = {}
        self._progress_at = time.monotonic()
        self._topics: dict[str, Any] = {}
        # Table names carry the plan fingerprint: a changed spec starts from fresh state, same source offsets.
        self.table = self.app.Table(f"windows-{plan.fingerprint[:12]}", default=None, partitions=partitions)
        self._wire()

    def topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self.app.topic(name, key_serializer="raw", value_serializer="raw", internal=False)
        return self._topics[name]

    def _wire(self) -> None:
        plan, app = self.plan, self.app
        repartition = plan.topics.repartition

        @app.agent(self.topic(plan.topics.source), name="stage1")
        async def stage1(stream: Any) -> None:
            async for event in stream.events():
                await self._guard(self.on_source, event)

        if repartition is not None:

            @app.agent(self.topic(repartition), name="stage2")
            async def stage2(stream: Any) -> None:
                async for event in stream.events():
                    await self._guard(self.on_repartitioned, event)

        app.timer(METRICS_INTERVAL_MS / 1000)(self._report_tick)
        app.timer(1.0)(self._tick_idle_partitions)
        app.timer(5.0)(self._watchdog)
        app.timer(PURGE_INTERVAL_S)(self._purge_repartition)
        app.task(self._start_clients)
        app.on_partitions_revoked.connect(self._forget_partitions)
        app.on_before_shutdown.connect(self._stop_clients)

    async def _start_clients(self) -> None:
        self._guard_commits()
        await self.housekeeper.start()
        await self.lookups.start()
        await self.report(status="running")

    async def _stop_clients(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await self.lookups.stop()
        await self.housekeeper.stop()

    async def _purge_repartition(self) -> None:
        name = self.plan.topics.repartition
        if name is None:
            return
        mine = [TopicPartition(tp.topic, tp.partition) for tp in self.app.consumer.assignment() if tp.topic == name]
        try:
            await self.housekeeper.purge(mine)
        except Exception as exc:  # noqa: BLE001 - purging is housekeeping; the next interval tries again
            log.warning("could not purge %s: %r", name, exc)

    async def _report_tick(self) -> None:
        await self.report()

    def _forget_partitions(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        # Revoked partitions' state moves to another worker; aggregates are rebuilt from the table on reassign,
        # and where this worker stopped reading says nothing once another worker has read on.
        self._aggregates.clear()
        revoked: set[Any] = args[0] if args else set()
        for tp in revoked:
            self._handled.pop((tp.topic, tp.partition), None)

    async def _guard(self, handler: Any, event: KafkaEvent) -> None:
        message = event.message
        if self._output_failure is not None:
            await asyncio.Event().wait()  # the worker is stopping: handle nothing more
        try:
            await handler(event)
        except KafkaError as exc:
            # A write this handler awaited (a final result) failed.
            self._output_failed(f"handling {message.topic}[{message.partition}]@{message.offset}", exc)
            await asyncio.Event().wait()
        except ProcessorFailed as exc:
            self.failure = str(exc)
            await self.report(status="failed")
            log.error("processor %s failed: %s", self.processor_id, exc)
            # Stop here without committing past the event that failed; the supervisor keeps it stopped.
            await self.app.producer.flush()
            os._exit(FAILED_EXIT_CODE)
        self._handled[(message.topic, message.partition)] = message.offset
        self._progress_at = time.monotonic()
        if message.topic == self.plan.topics.source:
            self.metrics.processed(int(message.timestamp * 1000))

    async def _watchdog(self) -> None:
        """Exit when records wait on an assigned partition but nothing was handled for `STALL_AFTER_S`.

        Faust consumers can stop delivering to a stream without an error (faust-streaming #175, #640). The
        supervisor restarts the worker, which then resumes from the committed offsets. Records that the topic's
        retention deleted before they were read are not waiting: they are reported once and skipped.
        """
        consumer: Any = self.app.consumer
        watched = {self.plan.topics.source, self.plan.topics.repartition}
        assigned = [tp for tp in consumer.assignment() if tp.topic in watched]
        try:
            starts = await self.housekeeper.log_starts(TopicPartition(tp.topic, tp.partition) for tp in assigned)
        except Exception as exc:  # noqa: BLE001 - without fresh log starts the last known ones serve
            log.warning("could not read log start offsets: %r", exc)
            starts = {}
        self._log_start.update({(tp.topic, tp.partition): offset for tp, offset in starts.items()})
        stalled = time.monotonic() - self._progress_at >= STALL_AFTER_S
        for tp in assigned:
            key = (tp.topic, tp.partition)
            start, log_start = self._start_offset(tp), self._log_start.get(key, 0)
            # Only a real position (something handled or committed) can have records deleted from under it.
            if 0 < start < log_start and key not in self._expired_warned:
                self._expired_warned.add(key)
                log.warning(
                    "offsets %d..%d of %s were deleted by the topic's retention before this processor read them",
                    start,
                    log_start - 1,
                    tp,
                )
            highwater = consumer.highwater(tp)
            waiting = highwater is not None and highwater > self._next_offset(tp)
            if waiting and stalled and self.lookups.ready.is_set():
                log.error("no progress for %ss with records waiting on %s; restarting the worker", STALL_AFTER_S, tp)
                os._exit(STALLED_EXIT_CODE)

    def _start_offset(self, tp: Any) -> int:
        """The next offset to handle as far as this worker knows: after the last one it handled, else the
        group's committed offset (a partition this worker was given but has not read from yet)."""
        handled = self._handled.get((tp.topic, tp.partition))
        if handled is not None:
            return handled + 1
        consumer: Any = self.app.consumer
        committed: int | None = consumer._committed_offset.get(tp)
        return committed or 0

    def _next_offset(self, tp: Any) -> int:
        """The next offset that exists and still has to be handled."""
        return max(self._start_offset(tp), self._log_start.get((tp.topic, tp.partition), 0))

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
            await self.dead_letter(kafka_event, -1, "value is not valid JSON")
            return
        event = Event(
            value=value,
            key=_decode(message.key),
            headers={name: _decode(raw) for name, raw in _headers(message)},
            timestamp=int(message.timestamp * 1000),
            partition=message.partition,
            offset=message.offset,
        )
        outcome = self.executor.before_aggregate(event)
        if not isinstance(outcome, Passed):
            await self.settle(kafka_event, outcome)
            return
        if self.plan.aggregate is None:
            await self.emit(outcome.event, outcome.sink)
            return
        grouped = self.executor.group(outcome.event)
        if not isinstance(grouped, Grouped):
            await self.settle(kafka_event, grouped)
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
        await self._write(
            self.plan.topics.repartition,
            key=orjson.dumps(grouped.group_key),
            value=orjson.dumps(body),
            timestamp=grouped.event_time_ms / 1000,
        )

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
            unreleased = aggregate.recover(store.keys_here())
            self._aggregates[partition] = aggregate
            await self._resolve_unreleased(aggregate, unreleased)
        return aggregate

    async def on_tick(self, partition: int, wall_ms: int) -> None:
        """Idle close: stream time moves on by the wall-clock time since the partition's last event."""
        last = self._last_event_wall.get(partition)
        aggregate = await self._aggregate_for(partition)
        if last is None or aggregate.stream_time_ms is None or wall_ms <= last:
            return
        results = aggregate.advance_to(aggregate.stream_time_ms + (wall_ms - last))
        self._last_event_wall[partition] = wall_ms
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
                await self._write(repartition, key=b"", value=orjson.dumps({"tick": now}), partition=tp.partition)

    async def aggregate(self, kafka_event: KafkaEvent, grouped: Grouped, partition: int, offset: int) -> None:
        stage = self.plan.aggregate
        assert stage is not None  # noqa: S101 - only called for plans with an aggregate
        aggregate = await self._aggregate_for(partition)
        self._last_event_wall[partition] = int(time.time() * 1000)
        # Stage 1 may re-send a repartitioned event after a crash (its source offset was not committed yet);
        # the copy has a new repartition offset but the same source position, which is what identifies it.
        source = grouped.event
        applied_key = f"applied|{partition}|{source.partition}"
        replayed = self.table.get(applied_key, -1) >= source.offset
        update: Update | None = None if replayed else aggregate.apply(grouped, offset)
        if update is None or update.replayed:
            if stage.window is None or stage.window.emits_changes:
                await self.emit_results(aggregate, aggregate.current(grouped))
            return
        self.table[applied_key] = source.offset
        if update.failure is not None:
            await self.settle(kafka_event, update.failure)
        elif update.late:
            self.metrics.late_events += 1
            await self.dead_letter(kafka_event, stage.index, "event is late for a closed window", reason=dl.REASON_LATE)
        elif stage.window is not None:
            self.metrics.count_windows(list(stage.window.assign(grouped.event_time_ms)), update.stream_time_ms)
        await self.emit_results(aggregate, update.results)

    async def emit_results(self, aggregate: WindowedAggregate, results: tuple[Result, ...]) -> None:
        window = self.plan.aggregate.window if self.plan.aggregate else None
        if window is not None and window.emits_final:
            await self._deliver_finals(aggregate, results)
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
        key, value = _encode(outcome.event)
        return target, key, value, outcome.event.timestamp

    # --- emit: final, once ---------------------------------------------------------------------------------
    #
    # A closed window's entry holds its result until `release`. Before a result leaves, the entry notes where it
    # goes (sink, partition, the partition's end offset), and the note is flushed to the changelog; after the
    # sink acknowledged it, the entry is released. A restart that finds an unreleased result looks for it in the
    # sink from the noted offset on and sends it only if it is not there: once, whichever side of the sink write
    # the crash fell on.

    async def _deliver_finals(self, aggregate: WindowedAggregate, results: tuple[Result, ...]) -> None:
        outgoing = []
        for result in results:
            output = self._output_of(result)
            if output is None:
                aggregate.release(result)
                continue
            target, key, value, timestamp = output
            partition = await self.housekeeper.partition_for(target, key)
            after = self._sink_next.get((target, partition))
            if after is None:
                after = await self.housekeeper.end_offset(TopicPartition(target, partition))
            aggregate.note(
                result,
                sink=target,
                partition=partition,
                after=after,
                key=None if key is None else key.decode(),
                sent=value.decode(),
            )
            outgoing.append((result, target, partition, key, value, timestamp))
        if not outgoing:
            return
        await self.app.producer.flush()
        _fault_point("final-before-send")
        pending = [
            await self._write(target, key=key, value=value, partition=partition, timestamp=timestamp / 1000)
            for _, target, partition, key, value, timestamp in outgoing
        ]
        for (_, target, partition, *_), future in zip(outgoing, pending, strict=True):
            metadata = await future
            self._sink_next[(target, partition)] = metadata.offset + 1
            self.metrics.events_emitted += 1
        _fault_point("final-after-send")
        for result, *_ in outgoing:
            aggregate.release(result)

    async def _resolve_unreleased(self, aggregate: WindowedAggregate, unreleased: tuple[Result, ...]) -> None:
        again = []
        # Per sink partition: where to start reading, and which (key, value) records each result was sent as.
        searches: dict[TopicPartition, tuple[int, dict[tuple[bytes | None, bytes], list[Result]]]] = {}
        for result in unreleased:
            noted = aggregate.delivery(result)
            if not noted:
                again.append(result)  # noted nothing durable, so it was never sent
                continue
            tp = TopicPartition(noted["sink"], noted["partition"])
            record = (None if noted["key"] is None else str(noted["key"]).encode(), str(noted["sent"]).encode())
            start, sent = searches.get(tp, (noted["after"], {}))
            sent.setdefault(record, []).append(result)
            searches[tp] = (min(start, noted["after"]), sent)
        for tp, (start, sent) in searches.items():
            found = await self.housekeeper.find(tp, start, set(sent))
            for record, results in sent.items():
                if record not in found:
                    again.extend(results)
                    continue
                for result in results:
                    log.info("final result for %s window %s was sent before a restart", result.group_key, result.window)
                    aggregate.release(result)
        if again:
            await self._deliver_finals(aggregate, tuple(again))

    # --- outputs -----------------------------------------------------------------------------------------
    #
    # Faust only logs a record the broker refused (its future fails; the source offset is still committed), which
    # would lose the result. Every record this runtime writes goes through `_write`: a failed write stops the
    # worker before another offset is committed (`_guard_commits` checks every write since the last commit).
    # A refusal that retrying cannot fix (e.g. a timestamp the topic does not accept) reports the processor
    # failed with the reason; anything else exits for a restart from the committed offsets.

    async def _write(self, topic: str, **record: Any) -> Any:
        future = await self.topic(topic).send(**record)
        self._in_flight.append((topic, future))
        if len(self._in_flight) > _IN_FLIGHT_PRUNE_AT:
            # Writes without a commit to follow (idle-close ticks): keep only what is pending or failed.
            self._in_flight = [(t, f) for t, f in self._in_flight if _write_error(f) is not None or not f.done()]
        return future

    def _output_failed(self, what: str, exc: BaseException) -> None:
        """Start stopping the worker (once): nothing is committed past a lost output."""
        if self._output_failure is None:
            self._output_failure = f"{what} failed: {type(exc).__name__}: {exc}"
            retriable = bool(getattr(exc, "retriable", False)) or isinstance(exc, asyncio.TimeoutError)
            self._stopping = asyncio.ensure_future(self._stop_after_output_failure(retriable=retriable))

    async def _stop_after_output_failure(self, *, retriable: bool) -> None:
        log.error("%s; stopping without committing past it", self._output_failure)
        if retriable:
            os._exit(STALLED_EXIT_CODE)
        self.failure = self._output_failure
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.report(status="failed"), 5)
            await asyncio.wait_for(self.app.producer.flush(), 5)
        os._exit(FAILED_EXIT_CODE)

    def _guard_commits(self) -> None:
        consumer: Any = self.app.consumer
        commit = consumer._commit

        async def guarded_commit(offsets: Any) -> bool:
            written, self._in_flight = self._in_flight, []
            # Faust flushes the producer before committing, so every write here has its answer.
            for topic, future in written:
                error = _write_error(future)
                if error is not None:
                    self._output_failed(f"writing to {topic!r}", error)
            if self._output_failure is not None:
                return False
            return bool(await commit(offsets))

        consumer._commit = guarded_commit

    async def emit(self, event: Event, sink: str | None) -> None:
        target = sink or self.plan.topics.sink
        if target is None:
            self.metrics.events_filtered += 1
            return
        key, value = _encode(event)
        await self._send(target, key, value, event.timestamp)

    async def _send(self, target: str, key: bytes | None, value: bytes, timestamp_ms: int) -> None:
        await self._write(target, key=key, value=value, timestamp=timestamp_ms / 1000)
        self.metrics.events_emitted += 1

    async def settle(self, kafka_event: KafkaEvent, outcome: Dropped | DeadLetter | Failed) -> None:
        if isinstance(outcome, Dropped):
            self.metrics.events_filtered += 1
            if outcome.reason == "skipped":
                self.metrics.errors += 1
        elif isinstance(outcome, DeadLetter):
            self.metrics.errors += 1
            await self.dead_letter(kafka_event, outcome.index, outcome.error)
        else:
            self.metrics.errors += 1
            raise ProcessorFailed(f"operations[{outcome.index}]: {outcome.error}")

    async def dead_letter(
        self, kafka_event: KafkaEvent, index: int, error: str, *, reason: str = dl.REASON_ERROR
    ) -> None:
        message = kafka_event.message
        source = Event(
            value=None, timestamp=int(message.timestamp * 1000), partition=message.partition, offset=message.offset
        )
        if message.topic == self.plan.topics.repartition:
            body = orjson.loads(message.value)
            source = Event(**body["event"])
            value = orjson.dumps(body["event"]["value"])
        else:
            value = message.value
        headers = _headers(message) + dead_letter_headers(self.plan, source, index, error, reason=reason)
        # Stamped with the time of dead-lettering (the source's timestamp is a header): a replayed old event must
        # not fall to the DLQ's time-based retention at once.
        await self._write(self.plan.topics.dlq, key=message.key, value=value, headers=headers)
        self.metrics.dlq_events += 1

    # --- metrics -----------------------------------------------------------------------------------------

    async def report(self, status: WorkerStatus | None = None) -> None:
        lag = 0
        consumer = self.app.consumer
        for tp in consumer.assignment():
            if tp.topic != self.plan.topics.source:
                continue
            highwater = consumer.highwater(tp)
            if highwater is not None:
                lag += max(0, highwater - self._next_offset(tp))
        snapshot = self.metrics.snapshot(
            processor_id=self.processor_id,
            version=self.version,
            worker=self.worker,
            status=status or ("failed" if self.failure else "running"),
            reason=self.failure,
            lag=lag,
        )
        await self.topic(METRICS_TOPIC).send(key=self.processor_id.encode(), value=snapshot.to_json())

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        worker = faust.Worker(self.app, loglevel="WARNING", loop=loop, override_logging=False)
        worker.execute_from_commandline()

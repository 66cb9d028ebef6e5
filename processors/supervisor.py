"""The supervisor behind `kafkagate worker`: follows the spec topic and keeps worker processes in line with it.

For every processor whose newest spec record says `running`, it keeps `parallelism` worker processes of that
version alive (restarting crashed ones with backoff) and stops workers of paused, deleted or superseded
versions. A worker that exits with `FAILED_EXIT_CODE` stopped on an `onError: fail` operation: that version
stays stopped until the spec changes or the processor is resumed. Starting or stopping one processor never
touches the processes of another, so it never rebalances them.

Run one supervisor per machine; Faust's consumer group splits each processor's partitions among all its
workers on all machines. With a metrics port, the supervisor also serves the processors' metrics to Prometheus
(`processors.metrics_exporter`), from the metrics topic it then tails beside the spec topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry, start_http_server

from processors.kept_process import KeptProcess, stop_process
from processors.lake.service import lake_sink
from processors.metrics import WorkerMetrics
from processors.metrics_exporter import ProcessorExporter
from processors.views.keeper import view_host
from processors.worker import FAILED_EXIT_CODE, worker_name
from schemas.processor_api import METRICS_TOPIC, SPEC_TOPIC, ProcessorRecord

log = logging.getLogger(__name__)

_STOP_GRACE_S = 15.0
_MAX_BACKOFF_S = 30.0


@dataclass
class WorkerProcess:
    processor_id: str
    version: int
    index: int
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    record_stamp: str = ""  # `updatedAt` of the spec record the worker was started from
    next_start: float = 0.0
    failed: bool = False
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    """`exporter`, when given, is fed every record of the metrics topic (see `processors.metrics_exporter`).
    `services` are kept running beside the workers from the start, spec topic or not (the lake sink). With
    `views`, it also keeps a view host process alive (`processors.views.host`), which runs the log views."""

    def __init__(
        self,
        bootstrap: str,
        data_dir: Path,
        exporter: ProcessorExporter | None = None,
        services: Sequence[KeptProcess] = (),
        *,
        views: bool = False,
    ):
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.exporter = exporter
        self.views = view_host(bootstrap, data_dir / "views") if views else None
        self.services = [*services, *([self.views] if self.views is not None else [])]
        self.records: dict[str, ProcessorRecord] = {}
        self.workers: dict[tuple[str, int], WorkerProcess] = {}
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await self._producer.start()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            # With an exporter, the metrics topic may appear at any time; a refresh every 10 s finds it.
            metadata_max_age_ms=10_000 if self.exporter is not None else 300_000,
        )
        await consumer.start()
        try:
            tp = TopicPartition(SPEC_TOPIC, 0)
            while not consumer.partitions_for_topic(SPEC_TOPIC):
                if self._stopping.is_set():
                    return
                await self._keep_services()
                log.info("waiting for the spec topic %s (created by the gateway on first use)", SPEC_TOPIC)
                await consumer._client.force_metadata_update()
                await asyncio.sleep(2)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            metrics_tp = TopicPartition(METRICS_TOPIC, 0)
            tailing_metrics = False
            while not self._stopping.is_set():
                if self.exporter is not None and not tailing_metrics:
                    tailing_metrics = await self._tail_metrics(consumer, tp, metrics_tp)
                batch = await consumer.getmany(timeout_ms=1000)
                for record in batch.get(tp, []):
                    self._apply(record.key.decode(), record.value)
                if self.exporter is not None:
                    for record in batch.get(metrics_tp, []):
                        self.exporter.feed(record.value)
                await self.reconcile()
                await self._keep_services()
        finally:
            await consumer.stop()
            await self.stop_all()
            await asyncio.gather(*(service.stop() for service in self.services))
            await self._producer.stop()

    @staticmethod
    async def _tail_metrics(consumer: AIOKafkaConsumer, spec: TopicPartition, metrics: TopicPartition) -> bool:
        """Tail the metrics topic too, if it exists yet (the gateway creates it with the first processor). From
        its beginning (1 h of retention), so the exporter knows every worker's newest snapshot at once."""
        if not consumer.partitions_for_topic(METRICS_TOPIC):
            # `assign` tracks the metadata of assigned topics only: track this one too, so a refresh finds it.
            await consumer._client.add_topic(METRICS_TOPIC)
            return False
        read_to = await consumer.position(spec)
        consumer.assign([spec, metrics])  # a new assignment forgets positions: the spec tail goes on where it was
        consumer.seek(spec, read_to)
        await consumer.seek_to_beginning(metrics)
        return True

    async def _keep_services(self) -> None:
        for service in self.services:
            await service.keep()

    def _apply(self, processor_id: str, value: bytes | None) -> None:
        if value is None:
            self.records.pop(processor_id, None)
            if self.exporter is not None:
                self.exporter.forget(processor_id)
            return
        self.records[processor_id] = ProcessorRecord.model_validate_json(value)

    def wanted(self) -> dict[tuple[str, int], int]:
        """(processor id, worker index) -> version, for every worker that should run now."""
        wanted: dict[tuple[str, int], int] = {}
        for processor_id, record in self.records.items():
            if record.desired != "running":
                continue
            parallelism = int(record.spec.get("config", {}).get("parallelism", 1))
            for index in range(parallelism):
                wanted[(processor_id, index)] = record.version
        return wanted

    async def reconcile(self) -> None:
        wanted = self.wanted()
        for key, worker in list(self.workers.items()):
            if wanted.get(key) != worker.version:
                await self._stop(worker)
                del self.workers[key]
        now = time.monotonic()
        for key, version in wanted.items():
            worker = self.workers.setdefault(key, WorkerProcess(key[0], version, key[1]))
            if worker.process is not None and worker.process.returncode is not None:
                await self._exited(worker)
            if worker.failed and self.records[key[0]].updated_at != worker.record_stamp:
                # The record changed since this worker started (resume writes it even when running): the
                # operator asked for another try.
                worker.failed = False
                worker.restarts = 0
            if worker.process is None and not worker.failed and now >= worker.next_start:
                await self._start(worker)

    async def _start(self, worker: WorkerProcess) -> None:
        record = self.records[worker.processor_id]
        folder = self.data_dir / worker.processor_id
        folder.mkdir(parents=True, exist_ok=True)
        record_file = folder / f"v{record.version}.json"
        record_file.write_bytes(record.to_json())
        worker.record_stamp = record.updated_at
        log_file = (folder / f"worker-{worker.index}.log").open("ab")
        worker.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "processors.worker",
            "--record",
            str(record_file),
            "--bootstrap",
            self.bootstrap,
            "--index",
            str(worker.index),
            stdout=log_file,
            stderr=log_file,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "KAFKAGATE_DATA_DIR": str(self.data_dir)},
        )
        log_file.close()
        worker.started_at = time.monotonic()
        log.info(
            "started %s v%d worker %d (pid %d)", worker.processor_id, worker.version, worker.index, worker.process.pid
        )

    async def _exited(self, worker: WorkerProcess) -> None:
        assert worker.process is not None  # noqa: S101 - only called for started workers
        code = worker.process.returncode
        worker.process = None
        if code == FAILED_EXIT_CODE:
            worker.failed = True
            log.warning(
                "%s v%d failed (an onError: fail operation or a write Kafka refused); waiting for resume",
                worker.processor_id,
                worker.version,
            )
            return
        # A worker that ran for a while before dying starts over with a short backoff.
        if time.monotonic() - worker.started_at > 60:
            worker.restarts = 0
        worker.restarts += 1
        delay = min(_MAX_BACKOFF_S, 0.5 * 2**worker.restarts)
        worker.next_start = time.monotonic() + delay
        reason = f"worker {worker.index} exited with code {code}; restarting in {delay:.0f}s"
        log.warning("%s v%d: %s", worker.processor_id, worker.version, reason)
        await self._report_failure(worker, reason)

    async def _report_failure(self, worker: WorkerProcess, reason: str) -> None:
        if self._producer is None:
            return
        snapshot = WorkerMetrics().snapshot(
            processor_id=worker.processor_id,
            version=worker.version,
            worker=worker_name(worker.index),
            status="failed",
            reason=reason,
            lag=0,
        )
        with contextlib.suppress(Exception):
            await self._producer.send_and_wait(METRICS_TOPIC, snapshot.to_json(), key=worker.processor_id.encode())

    async def _stop(self, worker: WorkerProcess) -> None:
        if await stop_process(worker.process, _STOP_GRACE_S):
            log.info("stopped %s v%d worker %d", worker.processor_id, worker.version, worker.index)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self._stop(worker) for worker in self.workers.values()))

    def request_stop(self) -> None:
        self._stopping.set()


def run(
    bootstrap: str,
    data_dir: Path,
    *,
    metrics_host: str = "127.0.0.1",
    metrics_port: int = 0,
    lake: bool = True,
) -> None:
    """Supervise processors until SIGINT or SIGTERM. `metrics_port` > 0 serves the processors' metrics there
    (`GET /metrics`, Prometheus text format, on a thread of its own); 0 serves none. `lake` runs the lake sink
    (`processors.lake.sink`) too."""
    exporter = None
    if metrics_port:
        exporter = ProcessorExporter()
        registry = CollectorRegistry()
        registry.register(exporter)
        start_http_server(metrics_port, metrics_host, registry=registry)
        log.info("serving processor metrics on http://%s:%d/metrics", metrics_host, metrics_port)

    async def main() -> None:
        services = [lake_sink(bootstrap, data_dir)] if lake else []
        supervisor = Supervisor(bootstrap, data_dir, exporter, services, views=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, supervisor.request_stop)
        await supervisor.run()

    asyncio.run(main())

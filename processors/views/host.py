"""The view host: `python -m processors.views.host --bootstrap HOST:PORT`, kept alive by the supervisor.

It tails the log registry and runs a `ViewRunner` for every deployed view, each in a consumer group of its own
(`_kafkagate.view.<deployment>`), so hosts on several machines share the views: whichever host the group gives
a log's partition leads that view, and the others stand by. Deploying or removing one view never touches the
group of another.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from processors.views.checkpoints import Checkpoints
from processors.views.language import ViewError
from processors.views.runner import ViewRunner
from schemas.logs import LOGS_TOPIC, VIEW_STATE_TOPIC, LogRecord, Registered, ViewRecord, decode_registered

log = logging.getLogger(__name__)

#: As the gateway's replicated tables create them (`gateway.kafka.table.COMPACTED`); whoever comes first wins.
_COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}


def node_name() -> str:
    """What `leader_node_id` shows for views this host leads."""
    return f"{socket.gethostname()}:views"


class ViewHost:
    def __init__(self, bootstrap: str, node: str | None = None):
        self.bootstrap = bootstrap
        self.node = node or node_name()
        self.registered: dict[str, Registered] = {}
        self.runners: dict[str, ViewRunner] = {}
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        await self._ensure_topics()
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        checkpoints = Checkpoints(self.bootstrap)
        registry = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await producer.start()
        await checkpoints.start()
        await registry.start()
        tp = TopicPartition(LOGS_TOPIC, 0)
        try:
            registry.assign([tp])
            await registry.seek_to_beginning(tp)
            while not self._stopping.is_set():
                batch = await registry.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    self._apply(record.key, record.value)
                await self._reconcile(producer, checkpoints)
        finally:
            await asyncio.gather(*(runner.stop() for runner in self.runners.values()))
            await registry.stop()
            await checkpoints.stop()
            await producer.stop()

    async def _ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            for topic in (LOGS_TOPIC, VIEW_STATE_TOPIC):
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=_COMPACTED)])
        finally:
            await admin.close()

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        name = key.decode()
        if value is None:
            self.registered.pop(name, None)
            return
        try:
            self.registered[name] = decode_registered(value)
        except ValueError as exc:
            log.warning("skipping a malformed registry record %s: %s", name, exc)

    def wanted(self) -> dict[str, ViewRecord]:
        """Deployment id -> view, for every view whose log still exists."""
        logs = {entry.log_id for entry in self.registered.values() if isinstance(entry, LogRecord)}
        return {
            entry.deployment: entry
            for entry in self.registered.values()
            if isinstance(entry, ViewRecord) and entry.log_id in logs
        }

    async def _reconcile(self, producer: AIOKafkaProducer, checkpoints: Checkpoints) -> None:
        wanted = self.wanted()
        for deployment in [d for d in self.runners if d not in wanted]:
            await self.runners.pop(deployment).stop()
            log.info("stopped view deployment %s", deployment)
        for deployment, record in wanted.items():
            if deployment in self.runners:
                continue
            try:
                runner = ViewRunner(record, self.bootstrap, producer, checkpoints, self.node)
            except ViewError as exc:  # the gateway compiled it before storing it; a newer release may not
                log.error("view %s of log %s does not compile: %s", record.view, record.log_id, exc)
                continue
            runner.start()
            self.runners[deployment] = runner
            log.info("running view %s of log %s (deployment %s)", record.view, record.log_id, deployment)

    def request_stop(self) -> None:
        self._stopping.set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="processors.views.host")
    parser.add_argument("--bootstrap", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        host = ViewHost(args.bootstrap)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, host.request_stop)
        await host.run()

    asyncio.run(run())


if __name__ == "__main__":
    main()

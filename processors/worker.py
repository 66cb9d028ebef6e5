"""One processor worker process: `python -m processors.worker --record FILE --bootstrap HOST:PORT --index N`.

The supervisor starts these; each runs one Faust app for one version of one processor until it is stopped.
Exit code 3 means the processor failed on an `onError: fail` operation and must not be restarted as is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from processors import gc_tuning
from processors.compiler import compile_processor
from processors.functions import FunctionRegistry
from processors.plan import Topics
from schemas.processor_api import METRICS_RETENTION_MS, METRICS_TOPIC
from schemas.processor_state import STATE_TOPIC
from schemas.processors import ProcessorSpec

FAILED_EXIT_CODE = 3

#: Results, repartitioned events and changelog updates share produce requests for up to this long (Faust's
#: default of 0 sends each in a request of its own). Safe across a kill -9 because a commit waits until every
#: write it covers is acknowledged (`processors.runtime.outputs`), not only for Faust's inexact flush.
PRODUCER_LINGER_S = 0.005

log = logging.getLogger(__name__)


def worker_name(index: int) -> str:
    """Stable across restarts, so a restarted worker's snapshots replace its predecessor's."""
    return f"{socket.gethostname()}:{index}"


async def ensure_metrics_topic(admin: AIOKafkaAdminClient) -> None:
    """Workers may start before any gateway created the metrics topic; either side creates it, same config."""
    topic = NewTopic(METRICS_TOPIC, 1, 1, topic_configs={"retention.ms": str(METRICS_RETENTION_MS)})
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([topic])


async def ensure_state_topic(admin: AIOKafkaAdminClient) -> None:
    """The compacted topic aggregate state is published to (`schemas.processor_state`); gateways that tail it
    create it too, with the same config."""
    configs = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([NewTopic(STATE_TOPIC, 1, 1, topic_configs=configs)])


async def source_partitions(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        for _ in range(60):
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                return len(partitions)
            await consumer._client.force_metadata_update()
            await asyncio.sleep(1)
    finally:
        await consumer.stop()
    raise SystemExit(f"source stream {topic!r} does not exist")


async def ensure_repartition_configs(admin: AIOKafkaAdminClient, topics: Topics) -> None:
    """Give a repartition topic made with other settings (by an earlier release) the configs it needs.

    The gateway creates the topic with them; AlterConfigs replaces the whole override set, which is right here
    because the topic is ours alone.
    """
    name = topics.repartition
    if name is None:
        return
    wanted = topics.configs_for(name)
    (described,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    (result,) = described.to_object()["resources"]
    current = {entry["config_names"]: entry["config_value"] for entry in result["config_entries"]}
    if result["error_code"] == 0 and any(current.get(key) != value for key, value in wanted.items()):
        log.info("setting %s on %s", wanted, name)
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted)])


async def prepare(bootstrap: str, topics: Topics) -> int:
    """Everything a worker needs before Faust starts; returns the source's partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await ensure_metrics_topic(admin)
        await ensure_state_topic(admin)
        partitions = await source_partitions(bootstrap, topics.source)
        await ensure_repartition_configs(admin, topics)
    finally:
        await admin.close()
    return partitions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="processors.worker")
    parser.add_argument("--record", type=Path, required=True, help="file holding the processor's spec record")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--index", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    record = orjson.loads(args.record.read_bytes())
    spec = ProcessorSpec.model_validate(record["spec"])
    plan = compile_processor(spec, FunctionRegistry.load(), processor=record["name"])
    partitions = asyncio.run(prepare(args.bootstrap, plan.topics))

    from processors.runtime import ProcessorRuntime  # faust is imported by worker processes only

    runtime = ProcessorRuntime(record, plan, args.bootstrap, args.index, partitions)
    gc_tuning.settle()  # start-up's objects frozen before Faust's loop runs: ~10% less CPU per event
    runtime.run()


if __name__ == "__main__":
    main()

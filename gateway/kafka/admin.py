"""Stream administration over aiokafka's admin client: topics, their configs, offsets and on-disk sizes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka import errors as ke
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.protocol.metadata import MetadataRequest

from gateway import errors as ge
from gateway.kafka import connect
from gateway.kafka.logdirs import DescribeLogDirsRequest
from gateway.kafka.topic_ids import TopicIds
from gateway.kafka.translate import translate
from gateway.settings import Settings
from gateway.timebounds import TimestampRange

_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source: set on this topic
_CATALOG_TTL_S = 30.0
_INTERNAL_REPLICAS = 3
_PING_TIMEOUT_S = 3.0


@dataclass(slots=True)
class PartitionInfo:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    start_offset: int = 0
    end_offset: int = 0
    size_bytes: int = 0


@dataclass(slots=True)
class StreamInfo:
    name: str
    partitions: list[PartitionInfo]
    configs: dict[str, str] = field(default_factory=dict)
    topic_id: uuid.UUID | None = None

    @property
    def replication_factor(self) -> int:
        return len(self.partitions[0].replicas) if self.partitions else 0


@dataclass(slots=True)
class _CatalogEntry:
    partitions: int
    max_message_bytes: int
    timestamps: TimestampRange
    expires_at: float
    min_insync_replicas: int = 1


class StreamAdmin:
    """Topic admin plus a group-less consumer for offset lookups. Every aiokafka error is translated here."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._catalog: dict[str, _CatalogEntry] = {}
        self._lookups: dict[str, asyncio.Future[_CatalogEntry]] = {}
        self.topic_ids = TopicIds(lambda: self.client()._client, retry_after_s=settings.retry_after_s)

    @property
    def connected(self) -> bool:
        return self._admin is not None and self._offsets is not None

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(**connect.client_args(self._settings, "admin"))
        offsets = connect.consumer(self._settings, "offsets", group_id=None)
        try:
            await admin.start()
            await offsets.start()
        except BaseException:
            await admin.close()
            await offsets.stop()
            raise
        self._admin, self._offsets = admin, offsets

    async def close(self) -> None:
        admin, offsets = self._admin, self._offsets
        self._admin = self._offsets = None
        if offsets is not None:
            await offsets.stop()
        if admin is not None:
            await admin.close()

    def client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise ge.BrokerUnavailable("not connected to Kafka yet", retry_after_s=self._settings.retry_after_s)
        return self._admin

    def offsets_consumer(self) -> AIOKafkaConsumer:
        if self._offsets is None:
            raise ge.BrokerUnavailable("not connected to Kafka yet", retry_after_s=self._settings.retry_after_s)
        return self._offsets

    def _fail(self, exc: BaseException, stream: str | None = None) -> ge.GatewayError:
        return translate(exc, stream=stream, retry_after_s=self._settings.retry_after_s)

    async def ping(self) -> None:
        """Ask Kafka for its brokers; any failure, a slow answer included, is 503 (what `/readyz` must say)."""
        try:
            await asyncio.wait_for(self.client().describe_cluster(), _PING_TIMEOUT_S)
        except TimeoutError as exc:
            raise ge.BrokerUnavailable(
                f"Kafka did not answer within {_PING_TIMEOUT_S:g} s", retry_after_s=self._settings.retry_after_s
            ) from exc
        except Exception as exc:
            error = self._fail(exc)
            if error.status >= 500:
                raise ge.BrokerUnavailable(error.detail, retry_after_s=self._settings.retry_after_s) from exc
            raise error from exc

    async def broker_count(self) -> int:
        try:
            return len((await self.client().describe_cluster())["brokers"])
        except Exception as exc:
            raise self._fail(exc) from exc

    async def internal_replication_factor(self) -> int:
        """`KAFKAGATE_INTERNAL_REPLICATION_FACTOR`, or min(3, brokers) when unset."""
        configured = self._settings.internal_replication_factor
        return configured if configured is not None else min(_INTERNAL_REPLICAS, await self.broker_count())

    # --- topics -------------------------------------------------------------------------------------------

    async def create_internal(self, name: str, partitions: int, configs: dict[str, str]) -> None:
        """Create a topic of the gateway's own (or one an API makes on first use) with the internal replication
        factor; from 3 replicas on, writes also need 2 in-sync ones unless `configs` say otherwise."""
        replicas = await self.internal_replication_factor()
        durable = {"min.insync.replicas": "2"} if replicas >= _INTERNAL_REPLICAS else {}
        await self.create(name, partitions, replicas, {**durable, **configs})

    async def create(self, name: str, partitions: int, replication_factor: int, configs: dict[str, str]) -> None:
        topic = NewTopic(name, partitions, replication_factor, topic_configs=configs)
        self.topic_ids.forget(name)
        try:
            response = await self.client().create_topics([topic])
        except Exception as exc:
            raise self._fail(exc, name) from exc
        for _topic, code, message in response.topic_errors:
            self._raise_for(code, message, name)
        await self._settle(name, lambda topic: topic is not None and len(topic["partitions"]) == partitions)

    async def _settle(self, name: str, done: Callable[[dict[str, Any] | None], bool], timeout_s: float = 10) -> None:
        """Wait until metadata shows a change the controller accepted, so the next read sees it.

        `done` gets the topic's metadata, or None while the topic does not exist. Every broker applies the
        controller's metadata in its own time, and later requests go to any of them, so all must show it.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            if all(done(topic) for topic in await self._metadata_everywhere(name)):
                return
            if time.monotonic() > deadline:
                raise ge.OperationTimeout(f"Kafka accepted the change to {name!r} but did not show it in time")
            await asyncio.sleep(0.05)

    async def _metadata_everywhere(self, name: str) -> list[dict[str, Any] | None]:
        """The topic's metadata as each reachable broker shows it (None where it does not exist)."""
        admin = self.client()
        seen: list[dict[str, Any] | None] = []
        failure: BaseException | None = None
        # aiokafka's admin client asks a random broker; `_send_request` with a node id asks that one.
        for broker in admin._client.cluster.brokers():
            try:
                response = await admin._send_request(MetadataRequest([name]), broker.nodeId)
            except (ke.KafkaConnectionError, ke.NodeNotReadyError, ke.RequestTimedOutError) as exc:
                failure = exc  # a broker that is down serves nobody's next request either
                continue
            except Exception as exc:
                raise self._fail(exc, name) from exc
            (topic,) = response.to_object()["topics"]
            seen.append(None if topic["error_code"] == ke.UnknownTopicOrPartitionError.errno else dict(topic))
        if not seen:
            raise self._fail(failure or ke.NoBrokersAvailable(), name)
        return seen

    def _raise_for(self, code: int, message: str | None, stream: str) -> None:
        if code == 0:
            return
        error_type = ke.for_code(code)
        raise self._fail(error_type(message or error_type.__name__), stream)

    async def list_names(self) -> list[str]:
        try:
            names = await self.client().list_topics()
        except Exception as exc:
            raise self._fail(exc) from exc
        return sorted(names)

    async def partition_counts(self, names: list[str]) -> dict[str, int]:
        """Partitions per stream, asked of Kafka now (not the cache): a stream that no longer exists is left out."""
        if not names:
            return {}
        try:
            topics = await self.client().describe_topics(names)
        except Exception as exc:
            raise self._fail(exc) from exc
        return {topic["topic"]: len(topic["partitions"]) for topic in topics if topic["error_code"] == 0}

    async def _metadata(self, name: str) -> dict[str, Any]:
        try:
            (topic,) = await self.client().describe_topics([name])
        except Exception as exc:
            raise self._fail(exc, name) from exc
        if topic["error_code"] != 0:
            self._raise_for(topic["error_code"], None, name)
        return dict(topic)

    async def configs(self, name: str, *, only_overrides: bool = False) -> dict[str, str]:
        resource = ConfigResource(ConfigResourceType.TOPIC, name)
        try:
            (response,) = await self.client().describe_configs([resource])
        except Exception as exc:
            raise self._fail(exc, name) from exc
        (result,) = response.to_object()["resources"]
        self._raise_for(result["error_code"], result["error_message"], name)
        return {
            entry["config_names"]: entry["config_value"]
            for entry in result["config_entries"]
            if not only_overrides or entry["config_source"] == _DYNAMIC_TOPIC_CONFIG
        }

    async def describe(self, name: str) -> StreamInfo:
        topic = await self._metadata(name)
        partitions = sorted(
            (
                PartitionInfo(p["partition"], p["leader"], list(p["replicas"]), list(p["isr"]))
                for p in topic["partitions"]
            ),
            key=lambda p: p.partition,
        )
        info = StreamInfo(name, partitions, await self.configs(name), await self.topic_ids.id_of(name))
        ranges = await self.offset_range(name, [p.partition for p in partitions])
        sizes = await self._sizes(name, [p.partition for p in partitions])
        for p in partitions:
            p.start_offset, p.end_offset = ranges[p.partition]
            p.size_bytes = sizes.get(p.partition, 0)
        return info

    async def _sizes(self, name: str, partitions: list[int]) -> dict[int, int]:
        """Bytes on disk per partition, summed over the brokers that hold a replica (leaders only count once)."""
        admin = self.client()
        sizes: dict[int, int] = {}
        try:
            nodes = [b["node_id"] for b in (await admin.describe_cluster())["brokers"]]
            for node in nodes:
                response = await admin._client.send(node, DescribeLogDirsRequest(name, partitions))
                for result in response.to_object()["results"]:
                    for topic in result["topics"]:
                        for part in topic["partitions"]:
                            index = part["partition_index"]
                            sizes[index] = max(sizes.get(index, 0), part["partition_size"])
        except Exception as exc:
            raise self._fail(exc, name) from exc
        return sizes

    async def alter(self, name: str, configs: dict[str, str], partitions: int | None) -> None:
        if partitions is not None:
            current = len((await self._metadata(name))["partitions"])
            if partitions < current:
                raise ge.InvalidPartitions(
                    f"stream {name!r} has {current} partitions; Kafka can only increase the count"
                )
            if partitions > current:
                try:
                    response = await self.client().create_partitions({name: NewPartitions(partitions)})
                except Exception as exc:
                    raise self._fail(exc, name) from exc
                for _topic, code, message in response.topic_errors:
                    self._raise_for(code, message, name)
                await self._settle(name, lambda topic: topic is not None and len(topic["partitions"]) == partitions)
        if configs:
            # AlterConfigs replaces the whole set, so merge with the topic's current overrides first.
            merged = {**await self.configs(name, only_overrides=True), **configs}
            resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=merged)
            try:
                (response,) = await self.client().alter_configs([resource])
            except Exception as exc:
                raise self._fail(exc, name) from exc
            for result in response.to_object()["resources"]:
                self._raise_for(result["error_code"], result["error_message"], name)
        self._catalog.pop(name, None)

    async def delete(self, name: str) -> None:
        await self._metadata(name)
        try:
            response = await self.client().delete_topics([name])
        except Exception as exc:
            raise self._fail(exc, name) from exc
        for _topic, code in response.topic_error_codes:
            self._raise_for(code, None, name)
        self._catalog.pop(name, None)
        self.topic_ids.forget(name)
        await self._settle(name, lambda topic: topic is None)

    # --- the produce path's cached view ------------------------------------------------------------------

    async def limits(self, name: str) -> tuple[int, int]:
        """(partition count, max.message.bytes) of a stream, cached briefly; StreamNotFound when it is gone.

        Concurrent requests for a stream whose entry expired share one lookup instead of each asking Kafka.
        """
        entry = await self._entry(name)
        return entry.partitions, entry.max_message_bytes

    async def produce_limits(self, name: str) -> tuple[int, int, TimestampRange]:
        """`limits` plus the record timestamps the stream accepts, from the same short-lived cache."""
        entry = await self._entry(name)
        return entry.partitions, entry.max_message_bytes, entry.timestamps

    async def min_insync_replicas(self, name: str) -> int:
        """The stream's `min.insync.replicas`, from the same short-lived cache as `limits`."""
        return (await self._entry(name)).min_insync_replicas

    async def _entry(self, name: str) -> _CatalogEntry:
        entry = self._catalog.get(name)
        if entry is None or entry.expires_at < time.monotonic():
            pending = self._lookups.get(name)
            if pending is None:
                pending = self._lookups[name] = asyncio.ensure_future(self._lookup(name))
                pending.add_done_callback(lambda _: self._lookups.pop(name, None))
            entry = await asyncio.shield(pending)
        return entry

    async def _lookup(self, name: str) -> _CatalogEntry:
        topic = await self._metadata(name)
        configs = await self.configs(name)
        max_bytes = int(configs.get("max.message.bytes", "1048588"))
        entry = _CatalogEntry(
            len(topic["partitions"]),
            max_bytes,
            TimestampRange.from_configs(configs),
            time.monotonic() + _CATALOG_TTL_S,
            int(configs.get("min.insync.replicas", "1")),
        )
        self._catalog[name] = entry
        return entry

    def forget(self, name: str) -> None:
        self._catalog.pop(name, None)

    async def offset_range(self, stream: str, partitions: list[int]) -> dict[int, tuple[int, int]]:
        """`[start, end)` per partition: the first offset still stored and the next one to be written."""
        tps = [TopicPartition(stream, p) for p in partitions]
        try:
            starts = await self.offsets_consumer().beginning_offsets(tps)
            ends = await self.offsets_consumer().end_offsets(tps)
        except Exception as exc:
            raise self._fail(exc, stream) from exc
        return {tp.partition: (starts[tp], ends[tp]) for tp in tps}

    async def offsets_for_time(
        self, stream: str, partitions: list[int], timestamp_ms: int
    ) -> dict[int, tuple[int, int] | None]:
        """Per partition, the earliest (offset, timestamp) at or after `timestamp_ms`, or None."""
        tps = [TopicPartition(stream, p) for p in partitions]
        try:
            found = await self.offsets_consumer().offsets_for_times(dict.fromkeys(tps, timestamp_ms))
        except Exception as exc:
            raise self._fail(exc, stream) from exc
        return {tp.partition: None if hit is None else (hit.offset, hit.timestamp) for tp, hit in found.items()}

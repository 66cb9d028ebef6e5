"""The asyncio client: `AsyncClient(url, token)`, the same resources and calls as `Client`, awaited.

async with AsyncClient() as client:
    await client.events.publish("orders", {"id": 1})
    async with client.producer("orders") as producer:
        await producer.send({"id": 2})
    async with client.consumer("orders", "billing", start="earliest") as consumer:
        async for event in consumer:
            await handle(event)  # committed after this body returns
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from kafkagate.client import calls
from kafkagate.client import models as m
from kafkagate.client.calls import Call, Offset
from kafkagate.client.config import Connection
from kafkagate.client.errors import ApiError, TransportError, error_for
from kafkagate.client.retrying import RetryPolicy

if TYPE_CHECKING:
    from kafkagate.client.consumer import AsyncConsumer
    from kafkagate.client.producer import AsyncProducer

T = TypeVar("T")


class AsyncClient:
    """A gateway's native API over one pooled httpx.AsyncClient, for one event loop.

    `timeout_s` bounds each attempt (long polls get their wait added); `retry` says what is repeated and for how
    long (`kafkagate.client.retrying`). `transport` replaces httpx's network transport (tests, proxies)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        connection = Connection.resolve(url, token)
        self.url = connection.url
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=connection.url, headers=connection.headers(), timeout=timeout_s, transport=transport
        )
        self.streams = Streams(self)
        self.events = Events(self)
        self.groups = Groups(self)
        self.processors = Processors(self)
        self.keys = Keys(self)
        self.tenants = Tenants(self)

    @classmethod
    def from_env(cls, **options: Any) -> AsyncClient:
        """A client for `KAFKAGATE_URL` (default http://127.0.0.1:8000) with `KAFKAGATE_TOKEN`."""
        return cls(**options)

    async def run(self, call: Call[T]) -> T:
        """Send `call`, repeating it as `self.retry` allows; the parsed answer, or the typed error."""
        waited_s = 0.0
        attempt = 0
        timeout = httpx.Timeout(self.timeout_s, read=self.timeout_s + call.wait_ms / 1000)
        while True:
            attempt += 1
            failure: ApiError | httpx.TransportError
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    content=call.body,
                    headers=call.headers(),
                    timeout=timeout,
                )
            except httpx.TransportError as exc:
                failure = exc
            else:
                if response.is_success:
                    return call.parse(response)
                failure = error_for(response)
            delay = self.retry.delay_s(safe=call.safe, attempt=attempt, waited_s=waited_s, failure=failure)
            if delay is None:
                if isinstance(failure, ApiError):
                    raise failure
                raise TransportError(f"{call.method} {call.path}: {failure!r}") from failure
            await asyncio.sleep(delay)
            waited_s += delay

    async def health(self) -> Any:
        return await self.run(calls.health())

    async def ready(self) -> Any:
        return await self.run(calls.ready())

    async def openapi(self) -> Any:
        return await self.run(calls.openapi())

    async def metrics_text(self) -> str:
        return await self.run(calls.metrics_text())

    async def access_token(self, api_key: str) -> m.AccessToken:
        """Exchange an API key for a short-lived JWT (`POST /auth/token`)."""
        return await self.run(calls.access_token(api_key))

    def producer(self, stream: str, **options: Any) -> AsyncProducer:
        """A batching producer for `stream`; see `kafkagate.client.producer.AsyncProducer` for the options."""
        from kafkagate.client.producer import AsyncProducer

        return AsyncProducer(self, stream, **options)

    def consumer(self, stream: str, group: str, **options: Any) -> AsyncConsumer:
        """An at-least-once consumer-group iterator; see `kafkagate.client.consumer.AsyncConsumer`."""
        from kafkagate.client.consumer import AsyncConsumer

        return AsyncConsumer(self, stream, group, **options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class Streams(_Resource):
    async def create(
        self,
        name: str,
        *,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Stream:
        return await self._client.run(
            calls.create_stream(name, partitions, replication_factor, config, idempotency_key)
        )

    async def list(self, *, limit: int | None = None, after: str | None = None) -> m.StreamPage:
        return await self._client.run(calls.list_streams(limit, after))

    async def iterate(self, *, page_size: int | None = None) -> AsyncIterator[m.StreamEntry]:
        """Every visible stream, following `nextAfter` page by page."""
        after: str | None = None
        while True:
            page = await self.list(limit=page_size, after=after)
            for entry in page.streams:
                yield entry
            if page.next_after is None:
                return
            after = page.next_after

    async def get(self, name: str) -> m.Stream:
        return await self._client.run(calls.get_stream(name))

    async def update(
        self, name: str, *, partitions: int | None = None, config: Mapping[str, Any] | None = None
    ) -> m.Stream:
        return await self._client.run(calls.update_stream(name, partitions, config))

    async def delete(self, name: str) -> m.StreamDeleted:
        return await self._client.run(calls.delete_stream(name))

    async def set_schema(
        self, name: str, schema: Mapping[str, Any], *, on_invalid: str | None = None
    ) -> m.StreamSchema:
        """`on_invalid`: `reject` (422 SCHEMA_VIOLATION) or `deadLetter` (written to `<stream>.dlq`)."""
        return await self._client.run(calls.put_schema(name, schema, on_invalid))

    async def get_schema(self, name: str) -> m.StreamSchema:
        return await self._client.run(calls.get_schema(name))

    async def delete_schema(self, name: str) -> m.StreamSchema:
        return await self._client.run(calls.delete_schema(name))


class Events(_Resource):
    async def publish(
        self,
        stream: str,
        value: Any,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        partition: int | None = None,
        timestamp: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> m.Published:
        """One event; retried with one generated `Idempotency-Key`, so it is written once however often it is sent."""
        event = calls.event_document(
            value, key=key, headers=headers, partition_key=partition_key, partition=partition, timestamp=timestamp
        )
        return await self._client.run(calls.publish(stream, event, idempotency_key))

    async def publish_batch(
        self,
        stream: str,
        events: Sequence[Mapping[str, Any]],
        *,
        compression: str | None = None,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> m.BatchResult:
        """Events as `calls.event_document` builds them. A 207 is returned, not raised: check `failure_count`."""
        return await self._client.run(calls.publish_batch(stream, events, compression, timeout_ms, idempotency_key))

    async def get(self, stream: str, event_id: str) -> m.Event:
        return await self._client.run(calls.get_event(stream, event_id))

    async def poll(
        self,
        stream: str,
        group: str,
        *,
        offset: Offset | None = None,
        limit: int | None = None,
        timeout_ms: int | None = None,
        auto_commit: bool | None = None,
        max_bytes: int | None = None,
    ) -> m.Poll:
        call = calls.poll(
            stream,
            group,
            offset=offset,
            limit=limit,
            timeout_ms=timeout_ms,
            auto_commit=auto_commit,
            max_bytes=max_bytes,
        )
        return await self._client.run(call)

    async def read_partition(
        self,
        stream: str,
        partition: int,
        *,
        offset: Offset | None = None,
        limit: int | None = None,
        timeout_ms: int | None = None,
    ) -> m.PartitionRead:
        return await self._client.run(calls.read_partition(stream, partition, offset, limit, timeout_ms))

    async def offsets_at(self, stream: str, timestamp: int | str) -> m.OffsetsAtTime:
        return await self._client.run(calls.offsets_at(stream, timestamp))


class Groups(_Resource):
    async def list(self) -> m.GroupList:
        return await self._client.run(calls.list_groups())

    async def get(self, group: str) -> m.Group:
        return await self._client.run(calls.get_group(group))

    async def delete(self, group: str) -> m.GroupDeleted:
        return await self._client.run(calls.delete_group(group))

    async def commit(
        self, group: str, offsets: Sequence[tuple[str, int, int]], *, idempotency_key: str | None = None
    ) -> m.Committed:
        """`offsets`: (stream, partition, next offset to read), i.e. the last processed offset + 1."""
        return await self._client.run(calls.commit(group, offsets, idempotency_key))

    async def reset(
        self, group: str, stream: str, to: str, *, timestamp: int | str | None = None, offset: int | None = None
    ) -> m.GroupReset:
        """`to`: earliest, latest, timestamp (with `timestamp`) or offset (with `offset`); the group must be idle."""
        return await self._client.run(calls.reset_group(group, stream, to, timestamp, offset))

    async def close_sessions(self, group: str) -> m.SessionsClosed:
        return await self._client.run(calls.close_sessions(group))


class Processors(_Resource):
    async def create(self, spec: Mapping[str, Any], *, idempotency_key: str | None = None) -> m.Processor:
        return await self._client.run(calls.create_processor(spec, idempotency_key))

    async def list(self) -> m.ProcessorList:
        return await self._client.run(calls.list_processors())

    async def get(self, processor_id: str) -> m.Processor:
        return await self._client.run(calls.get_processor(processor_id))

    async def replace(self, processor_id: str, spec: Mapping[str, Any]) -> m.Processor:
        return await self._client.run(calls.replace_processor(processor_id, spec))

    async def apply(self, spec: Mapping[str, Any]) -> tuple[m.Processor, bool]:
        """Create the processor named by `spec["name"]`, or replace its spec; (processor, created)."""
        for existing in (await self.list()).processors:
            if existing.name == spec.get("name"):
                return await self.replace(existing.processor_id, spec), False
        return await self.create(spec), True

    async def delete(self, processor_id: str) -> m.ProcessorDeleted:
        return await self._client.run(calls.delete_processor(processor_id))

    async def pause(self, processor_id: str) -> m.Processor:
        return await self._client.run(calls.pause_processor(processor_id))

    async def resume(self, processor_id: str) -> m.Processor:
        return await self._client.run(calls.resume_processor(processor_id))

    async def metrics(self, processor_id: str) -> m.ProcessorMetrics:
        return await self._client.run(calls.processor_metrics(processor_id))

    async def state(self, processor_id: str, key: str, *, after: Mapping[int, int] | None = None) -> dict[str, Any]:
        """The processor's windows for `key`; `after` waits until it has processed those source positions."""
        return await self._client.run(calls.processor_state(processor_id, key, after))


class Keys(_Resource):
    async def create(
        self,
        name: str,
        scopes: Sequence[str],
        *,
        tenant: str | None = None,
        streams: Sequence[str] | None = None,
        expires_at: int | str | None = None,
        requests_per_second: float | None = None,
        bytes_per_second: float | None = None,
    ) -> m.CreatedKey:
        call = calls.create_key(
            name,
            scopes,
            tenant=tenant,
            streams=streams,
            expires_at=expires_at,
            requests_per_second=requests_per_second,
            bytes_per_second=bytes_per_second,
        )
        return await self._client.run(call)

    async def list(self) -> m.KeyList:
        return await self._client.run(calls.list_keys())

    async def get(self, key_id: str) -> m.ApiKey:
        return await self._client.run(calls.get_key(key_id))

    async def revoke(self, key_id: str) -> m.KeyRevoked:
        return await self._client.run(calls.revoke_key(key_id))


class Tenants(_Resource):
    async def create(self, slug: str, name: str, *, metadata: Mapping[str, Any] | None = None) -> m.Tenant:
        return await self._client.run(calls.create_tenant(slug, name, metadata))

    async def list(self) -> m.TenantList:
        return await self._client.run(calls.list_tenants())

    async def get(self, tenant: str) -> m.Tenant:
        return await self._client.run(calls.get_tenant(tenant))

"""The blocking client: `Client(url, token)` or `Client.from_env()`, one resource per part of the API.

with Client.from_env() as client:
    client.streams.create("orders", partitions=6)
    client.events.publish("orders", {"id": 1}, key="customer-7")
    with client.producer("orders", max_events=500, linger_ms=50) as producer:
        producer.send({"id": 2})
    with client.consumer("orders", "billing", start="earliest") as consumer:
        for event in consumer:
            handle(event)  # committed after this body returns
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from kafkagate.client import calls
from kafkagate.client import models as m
from kafkagate.client.calls import Call, Offset
from kafkagate.client.config import Connection
from kafkagate.client.errors import ApiError, TransportError, error_for
from kafkagate.client.retrying import RetryPolicy

if TYPE_CHECKING:
    from kafkagate.client.consumer import Consumer
    from kafkagate.client.producer import Producer

T = TypeVar("T")


class Client:
    """A gateway's native API over one pooled httpx connection set; thread-safe, like httpx.Client.

    `timeout_s` bounds each attempt (long polls get their wait added); `retry` says what is repeated and for how
    long (`kafkagate.client.retrying`). `transport` replaces httpx's network transport (tests, proxies)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        connection = Connection.resolve(url, token)
        self.url = connection.url
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=connection.url, headers=connection.headers(), timeout=timeout_s, transport=transport
        )
        self.streams = Streams(self)
        self.events = Events(self)
        self.groups = Groups(self)
        self.processors = Processors(self)
        self.keys = Keys(self)
        self.tenants = Tenants(self)

    @classmethod
    def from_env(cls, **options: Any) -> Client:
        """A client for `KAFKAGATE_URL` (default http://127.0.0.1:8000) with `KAFKAGATE_TOKEN`."""
        return cls(**options)

    def run(self, call: Call[T]) -> T:
        """Send `call`, repeating it as `self.retry` allows; the parsed answer, or the typed error."""
        waited_s = 0.0
        attempt = 0
        timeout = httpx.Timeout(self.timeout_s, read=self.timeout_s + call.wait_ms / 1000)
        while True:
            attempt += 1
            failure: ApiError | httpx.TransportError
            try:
                response = self._http.request(
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
            time.sleep(delay)
            waited_s += delay

    def health(self) -> Any:
        return self.run(calls.health())

    def ready(self) -> Any:
        return self.run(calls.ready())

    def openapi(self) -> Any:
        return self.run(calls.openapi())

    def metrics_text(self) -> str:
        return self.run(calls.metrics_text())

    def access_token(self, api_key: str) -> m.AccessToken:
        """Exchange an API key for a short-lived JWT (`POST /auth/token`)."""
        return self.run(calls.access_token(api_key))

    def producer(self, stream: str, **options: Any) -> Producer:
        """A batching producer for `stream`; see `kafkagate.client.producer.Producer` for the options."""
        from kafkagate.client.producer import Producer

        return Producer(self, stream, **options)

    def consumer(self, stream: str, group: str, **options: Any) -> Consumer:
        """An at-least-once consumer-group iterator; see `kafkagate.client.consumer.Consumer`."""
        from kafkagate.client.consumer import Consumer

        return Consumer(self, stream, group, **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Streams(_Resource):
    def create(
        self,
        name: str,
        *,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Stream:
        return self._client.run(calls.create_stream(name, partitions, replication_factor, config, idempotency_key))

    def list(self, *, limit: int | None = None, after: str | None = None) -> m.StreamPage:
        return self._client.run(calls.list_streams(limit, after))

    def iterate(self, *, page_size: int | None = None) -> Iterator[m.StreamEntry]:
        """Every visible stream, following `nextAfter` page by page."""
        after: str | None = None
        while True:
            page = self.list(limit=page_size, after=after)
            yield from page.streams
            if page.next_after is None:
                return
            after = page.next_after

    def get(self, name: str) -> m.Stream:
        return self._client.run(calls.get_stream(name))

    def update(self, name: str, *, partitions: int | None = None, config: Mapping[str, Any] | None = None) -> m.Stream:
        return self._client.run(calls.update_stream(name, partitions, config))

    def delete(self, name: str) -> m.StreamDeleted:
        return self._client.run(calls.delete_stream(name))

    def set_schema(self, name: str, schema: Mapping[str, Any], *, on_invalid: str | None = None) -> m.StreamSchema:
        """`on_invalid`: `reject` (422 SCHEMA_VIOLATION) or `deadLetter` (written to `<stream>.dlq`)."""
        return self._client.run(calls.put_schema(name, schema, on_invalid))

    def get_schema(self, name: str) -> m.StreamSchema:
        return self._client.run(calls.get_schema(name))

    def delete_schema(self, name: str) -> m.StreamSchema:
        return self._client.run(calls.delete_schema(name))


class Events(_Resource):
    def publish(
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
        return self._client.run(calls.publish(stream, event, idempotency_key))

    def publish_batch(
        self,
        stream: str,
        events: Sequence[Mapping[str, Any]],
        *,
        compression: str | None = None,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> m.BatchResult:
        """Events as `calls.event_document` builds them. A 207 is returned, not raised: check `failure_count`."""
        return self._client.run(calls.publish_batch(stream, events, compression, timeout_ms, idempotency_key))

    def get(self, stream: str, event_id: str) -> m.Event:
        return self._client.run(calls.get_event(stream, event_id))

    def poll(
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
        return self._client.run(call)

    def read_partition(
        self,
        stream: str,
        partition: int,
        *,
        offset: Offset | None = None,
        limit: int | None = None,
        timeout_ms: int | None = None,
    ) -> m.PartitionRead:
        return self._client.run(calls.read_partition(stream, partition, offset, limit, timeout_ms))

    def offsets_at(self, stream: str, timestamp: int | str) -> m.OffsetsAtTime:
        return self._client.run(calls.offsets_at(stream, timestamp))


class Groups(_Resource):
    def list(self) -> m.GroupList:
        return self._client.run(calls.list_groups())

    def get(self, group: str) -> m.Group:
        return self._client.run(calls.get_group(group))

    def delete(self, group: str) -> m.GroupDeleted:
        return self._client.run(calls.delete_group(group))

    def commit(
        self, group: str, offsets: Sequence[tuple[str, int, int]], *, idempotency_key: str | None = None
    ) -> m.Committed:
        """`offsets`: (stream, partition, next offset to read), i.e. the last processed offset + 1."""
        return self._client.run(calls.commit(group, offsets, idempotency_key))

    def reset(
        self, group: str, stream: str, to: str, *, timestamp: int | str | None = None, offset: int | None = None
    ) -> m.GroupReset:
        """`to`: earliest, latest, timestamp (with `timestamp`) or offset (with `offset`); the group must be idle."""
        return self._client.run(calls.reset_group(group, stream, to, timestamp, offset))

    def close_sessions(self, group: str) -> m.SessionsClosed:
        return self._client.run(calls.close_sessions(group))


class Processors(_Resource):
    def create(self, spec: Mapping[str, Any], *, idempotency_key: str | None = None) -> m.Processor:
        return self._client.run(calls.create_processor(spec, idempotency_key))

    def list(self) -> m.ProcessorList:
        return self._client.run(calls.list_processors())

    def get(self, processor_id: str) -> m.Processor:
        return self._client.run(calls.get_processor(processor_id))

    def replace(self, processor_id: str, spec: Mapping[str, Any]) -> m.Processor:
        return self._client.run(calls.replace_processor(processor_id, spec))

    def apply(self, spec: Mapping[str, Any]) -> tuple[m.Processor, bool]:
        """Create the processor named by `spec["name"]`, or replace its spec; (processor, created)."""
        for existing in self.list().processors:
            if existing.name == spec.get("name"):
                return self.replace(existing.processor_id, spec), False
        return self.create(spec), True

    def delete(self, processor_id: str) -> m.ProcessorDeleted:
        return self._client.run(calls.delete_processor(processor_id))

    def pause(self, processor_id: str) -> m.Processor:
        return self._client.run(calls.pause_processor(processor_id))

    def resume(self, processor_id: str) -> m.Processor:
        return self._client.run(calls.resume_processor(processor_id))

    def metrics(self, processor_id: str) -> m.ProcessorMetrics:
        return self._client.run(calls.processor_metrics(processor_id))

    def state(self, processor_id: str, key: str, *, after: Mapping[int, int] | None = None) -> dict[str, Any]:
        """The processor's windows for `key`; `after` waits until it has processed those source positions."""
        return self._client.run(calls.processor_state(processor_id, key, after))


class Keys(_Resource):
    def create(
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
        return self._client.run(call)

    def list(self) -> m.KeyList:
        return self._client.run(calls.list_keys())

    def get(self, key_id: str) -> m.ApiKey:
        return self._client.run(calls.get_key(key_id))

    def revoke(self, key_id: str) -> m.KeyRevoked:
        return self._client.run(calls.revoke_key(key_id))


class Tenants(_Resource):
    def create(self, slug: str, name: str, *, metadata: Mapping[str, Any] | None = None) -> m.Tenant:
        return self._client.run(calls.create_tenant(slug, name, metadata))

    def list(self) -> m.TenantList:
        return self._client.run(calls.list_tenants())

    def get(self, tenant: str) -> m.Tenant:
        return self._client.run(calls.get_tenant(tenant))

"""Every operation of the native API as a `Call`: method, path, query, body bytes and how to read the answer.

Pure: nothing here does I/O, so the sync and async clients share one description of the API and differ only in
how they send. A call that may be repeated safely is marked `safe` (GET, PUT and DELETE, and POSTs that carry an
`Idempotency-Key`); the body is encoded once, so a retry sends the very same bytes and the gateway recognises it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel

from kafkagate.client import models as m

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
API = "/api/v1"
Offset = int | str  # an offset number, or "earliest" / "latest"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    safe: bool = False  # repeating it cannot do the work twice
    idempotency_key: str | None = None
    wait_ms: int = 0  # how long the gateway may hold the answer on purpose (a long poll), added to the read timeout

    def headers(self) -> dict[str, str]:
        headers = {} if self.body is None else {"content-type": "application/json"}
        if self.idempotency_key is not None:
            headers["idempotency-key"] = self.idempotency_key
        return headers


def new_idempotency_key() -> str:
    """A key for one logical request: random, so two different requests never share one."""
    return f"kg-{uuid.uuid4().hex}"


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    def parse(response: httpx.Response) -> M:
        return cls.model_validate(orjson.loads(response.content))

    return parse


def _json(response: httpx.Response) -> Any:
    return orjson.loads(response.content)


def _text(response: httpx.Response) -> str:
    return response.text


def _seg(name: str | int) -> str:
    return quote(str(name), safe="")


def _body(document: Any) -> bytes:
    return orjson.dumps(document)


def _params(**values: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _get(path: str, parse: Callable[[httpx.Response], T], **params: object) -> Call[T]:
    return Call("GET", path, parse, _params(**params), safe=True)


def _idempotent_post(path: str, document: Any, parse: Callable[[httpx.Response], T], key: str | None) -> Call[T]:
    return Call("POST", path, parse, body=_body(document), safe=True, idempotency_key=key or new_idempotency_key())


# --- process ---


def health() -> Call[Any]:
    return _get("/healthz", _json)


def ready() -> Call[Any]:
    return _get("/readyz", _json)


def openapi() -> Call[Any]:
    return _get("/openapi.json", _json)


def metrics_text() -> Call[str]:
    return _get("/metrics", _text)


def access_token(api_key: str) -> Call[m.AccessToken]:
    # Exchanging a key twice only issues two tokens: safe to repeat.
    return Call("POST", "/auth/token", _model(m.AccessToken), body=_body({"api_key": api_key}), safe=True)


# --- streams ---


def create_stream(
    name: str, partitions: int | None, replication_factor: int | None, config: Mapping[str, Any] | None, key: str | None
) -> Call[m.Stream]:
    document: dict[str, Any] = {"name": name}
    if partitions is not None:
        document["partitions"] = partitions
    if replication_factor is not None:
        document["replicationFactor"] = replication_factor
    if config:
        document["config"] = dict(config)
    return _idempotent_post(f"{API}/streams", document, _model(m.Stream), key)


def list_streams(limit: int | None, after: str | None) -> Call[m.StreamPage]:
    return _get(f"{API}/streams", _model(m.StreamPage), limit=limit, after=after)


def get_stream(name: str) -> Call[m.Stream]:
    return _get(f"{API}/streams/{_seg(name)}", _model(m.Stream))


def update_stream(name: str, partitions: int | None, config: Mapping[str, Any] | None) -> Call[m.Stream]:
    document: dict[str, Any] = {}
    if partitions is not None:
        document["partitions"] = partitions
    if config:
        document["config"] = dict(config)
    # Raising partitions to a count twice is refused the second time, so a PATCH is not retried blindly.
    return Call("PATCH", f"{API}/streams/{_seg(name)}", _model(m.Stream), body=_body(document))


def delete_stream(name: str) -> Call[m.StreamDeleted]:
    return Call("DELETE", f"{API}/streams/{_seg(name)}", _model(m.StreamDeleted), safe=True)


def put_schema(stream: str, schema: Mapping[str, Any], on_invalid: str | None) -> Call[m.StreamSchema]:
    document: dict[str, Any] = {"schema": dict(schema)}
    if on_invalid is not None:
        document["onInvalid"] = on_invalid
    return Call("PUT", f"{API}/streams/{_seg(stream)}/schema", _model(m.StreamSchema), body=_body(document), safe=True)


def get_schema(stream: str) -> Call[m.StreamSchema]:
    return _get(f"{API}/streams/{_seg(stream)}/schema", _model(m.StreamSchema))


def delete_schema(stream: str) -> Call[m.StreamSchema]:
    return Call("DELETE", f"{API}/streams/{_seg(stream)}/schema", _model(m.StreamSchema), safe=True)


# --- events ---


def event_document(
    value: Any,
    *,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    partition_key: str | None = None,
    partition: int | None = None,
    timestamp: int | str | None = None,
) -> dict[str, Any]:
    """One event as the produce endpoints take it; unset fields are left out."""
    document: dict[str, Any] = {"value": value}
    for name, item in (
        ("key", key),
        ("headers", None if headers is None else dict(headers)),
        ("partitionKey", partition_key),
        ("partition", partition),
        ("timestamp", timestamp),
    ):
        if item is not None:
            document[name] = item
    return document


def publish(stream: str, event: Mapping[str, Any], key: str | None) -> Call[m.Published]:
    return _idempotent_post(f"{API}/streams/{_seg(stream)}/events", dict(event), _model(m.Published), key)


def publish_batch(
    stream: str,
    events: Sequence[Mapping[str, Any]],
    compression: str | None,
    timeout_ms: int | None,
    key: str | None,
) -> Call[m.BatchResult]:
    document: dict[str, Any] = {"events": list(events)}
    options = _params(compression=compression)
    if timeout_ms is not None:
        document["options"] = {**options, "timeout": timeout_ms}
    elif options:
        document["options"] = options
    return _idempotent_post(f"{API}/streams/{_seg(stream)}/events/batch", document, _model(m.BatchResult), key)


def publish_encoded(stream: str, body: bytes, key: str | None) -> Call[m.BatchResult]:
    """A batch whose body is already encoded (`kafkagate.client.batching.batch_body`)."""
    path = f"{API}/streams/{_seg(stream)}/events/batch"
    return Call("POST", path, _model(m.BatchResult), body=body, safe=True, idempotency_key=key or new_idempotency_key())


def get_event(stream: str, event_id: str) -> Call[m.Event]:
    return _get(f"{API}/streams/{_seg(stream)}/events/{_seg(event_id)}", _model(m.Event))


def poll(
    stream: str,
    group: str,
    *,
    offset: Offset | None = None,
    limit: int | None = None,
    timeout_ms: int | None = None,
    auto_commit: bool | None = None,
    max_bytes: int | None = None,
) -> Call[m.Poll]:
    """A poll moves the member's position, so repeating one after a lost answer skips what that answer held;
    it is retried only when it never reached the gateway (see `safe`)."""
    params = _params(
        consumerGroup=group, offset=offset, limit=limit, timeout=timeout_ms, autoCommit=auto_commit, maxBytes=max_bytes
    )
    return Call("GET", f"{API}/streams/{_seg(stream)}/events", _model(m.Poll), params, wait_ms=timeout_ms or 0)


def read_partition(
    stream: str, partition: int, offset: Offset | None, limit: int | None, timeout_ms: int | None
) -> Call[m.PartitionRead]:
    path = f"{API}/streams/{_seg(stream)}/partitions/{partition}/events"
    params = _params(offset=offset, limit=limit, timeout=timeout_ms)
    return Call("GET", path, _model(m.PartitionRead), params, safe=True, wait_ms=timeout_ms or 0)


def offsets_at(stream: str, timestamp: int | str) -> Call[m.OffsetsAtTime]:
    return _get(f"{API}/streams/{_seg(stream)}/offsets", _model(m.OffsetsAtTime), timestamp=timestamp)


# --- consumer groups ---


def list_groups() -> Call[m.GroupList]:
    return _get(f"{API}/consumers", _model(m.GroupList))


def get_group(group: str) -> Call[m.Group]:
    return _get(f"{API}/consumers/{_seg(group)}", _model(m.Group))


def delete_group(group: str) -> Call[m.GroupDeleted]:
    return Call("DELETE", f"{API}/consumers/{_seg(group)}", _model(m.GroupDeleted), safe=True)


def commit(group: str, offsets: Sequence[tuple[str, int, int]], key: str | None) -> Call[m.Committed]:
    """`offsets` are (stream, partition, next offset to read): the last processed offset + 1, as in Kafka."""
    document = {"offsets": [{"stream": s, "partition": p, "offset": o} for s, p, o in offsets]}
    return _idempotent_post(f"{API}/consumers/{_seg(group)}/commit", document, _model(m.Committed), key)


def reset_group(
    group: str, stream: str, to: str, timestamp: int | str | None, offset: int | None
) -> Call[m.GroupReset]:
    document: dict[str, Any] = {"stream": stream, "to": to}
    if timestamp is not None:
        document["timestamp"] = timestamp
    if offset is not None:
        document["offset"] = offset
    # Resetting to the same place twice lands in the same place.
    return Call("POST", f"{API}/consumers/{_seg(group)}/reset", _model(m.GroupReset), body=_body(document), safe=True)


def close_sessions(group: str) -> Call[m.SessionsClosed]:
    return Call("DELETE", f"{API}/consumers/{_seg(group)}/sessions", _model(m.SessionsClosed), safe=True)


# --- processors ---


def create_processor(spec: Mapping[str, Any], key: str | None) -> Call[m.Processor]:
    return _idempotent_post(f"{API}/processors", dict(spec), _model(m.Processor), key)


def list_processors() -> Call[m.ProcessorList]:
    return _get(f"{API}/processors", _model(m.ProcessorList))


def get_processor(processor_id: str) -> Call[m.Processor]:
    return _get(f"{API}/processors/{_seg(processor_id)}", _model(m.Processor))


def replace_processor(processor_id: str, spec: Mapping[str, Any]) -> Call[m.Processor]:
    # An identical spec changes nothing (the gateway's PUT is idempotent).
    path = f"{API}/processors/{_seg(processor_id)}"
    return Call("PUT", path, _model(m.Processor), body=_body(dict(spec)), safe=True)


def delete_processor(processor_id: str) -> Call[m.ProcessorDeleted]:
    return Call("DELETE", f"{API}/processors/{_seg(processor_id)}", _model(m.ProcessorDeleted), safe=True)


def pause_processor(processor_id: str) -> Call[m.Processor]:
    return Call("POST", f"{API}/processors/{_seg(processor_id)}/pause", _model(m.Processor), safe=True)


def resume_processor(processor_id: str) -> Call[m.Processor]:
    return Call("POST", f"{API}/processors/{_seg(processor_id)}/resume", _model(m.Processor), safe=True)


def processor_metrics(processor_id: str) -> Call[m.ProcessorMetrics]:
    return _get(f"{API}/processors/{_seg(processor_id)}/metrics", _model(m.ProcessorMetrics))


def processor_state(
    processor_id: str, key: str, after: Mapping[int, int] | None = None, wait_ms: int = 10_000
) -> Call[dict[str, Any]]:
    """An aggregate's windows for one key; with `after` ({partition: offset}, as produce answers give them) the
    gateway answers once the processor has processed those positions (it waits up to its own limit)."""
    positions = ",".join(f"{partition}:{offset}" for partition, offset in sorted((after or {}).items())) or None
    call: Call[dict[str, Any]] = _get(f"{API}/processors/{_seg(processor_id)}/state", _json, key=key, after=positions)
    return replace(call, wait_ms=wait_ms) if positions else call


# --- keys and tenants ---


def create_key(
    name: str,
    scopes: Sequence[str],
    *,
    tenant: str | None = None,
    streams: Sequence[str] | None = None,
    expires_at: int | str | None = None,
    requests_per_second: float | None = None,
    bytes_per_second: float | None = None,
) -> Call[m.CreatedKey]:
    """Not retried after a lost answer: a second request would create a second key."""
    document: dict[str, Any] = {"name": name, "scopes": list(scopes)}
    if tenant is not None:
        document["tenant"] = tenant
    if streams is not None:
        document["streams"] = list(streams)
    if expires_at is not None:
        document["expiresAt"] = expires_at
    limits = {"requestsPerSecond": requests_per_second, "bytesPerSecond": bytes_per_second}
    if any(v is not None for v in limits.values()):
        document["rateLimit"] = {k: v for k, v in limits.items() if v is not None}
    return Call("POST", f"{API}/keys", _model(m.CreatedKey), body=_body(document))


def list_keys() -> Call[m.KeyList]:
    return _get(f"{API}/keys", _model(m.KeyList))


def get_key(key_id: str) -> Call[m.ApiKey]:
    return _get(f"{API}/keys/{_seg(key_id)}", _model(m.ApiKey))


def revoke_key(key_id: str) -> Call[m.KeyRevoked]:
    return Call("DELETE", f"{API}/keys/{_seg(key_id)}", _model(m.KeyRevoked), safe=True)


def create_tenant(slug: str, name: str, metadata: Mapping[str, Any] | None) -> Call[m.Tenant]:
    # A repeat is 409 TENANT_ALREADY_EXISTS, never a second tenant, so it is safe to retry.
    document = {"slug": slug, "name": name, "metadata": dict(metadata or {})}
    return Call("POST", f"{API}/tenants", _model(m.Tenant), body=_body(document), safe=True)


def list_tenants() -> Call[m.TenantList]:
    return _get(f"{API}/tenants", _model(m.TenantList))


def get_tenant(tenant: str) -> Call[m.Tenant]:
    return _get(f"{API}/tenants/{_seg(tenant)}", _model(m.Tenant))

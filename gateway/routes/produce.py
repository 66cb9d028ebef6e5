"""Publishing events: `POST /api/v1/streams/{stream}/events` and `.../events/batch` (seed 003)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway import event_ids, idempotency
from gateway.bodies import parse, read_body
from gateway.context import context, request_id
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.partitioner import partition_for_key
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from gateway.timefmt import iso_ms, now_ms
from schemas.events import BATCH, EVENT, EventIn

REQUEST_ID_HEADER = "x-request-id"
# Kafka's per-record overhead in a v2 batch is at most ~21 bytes plus varints; round up generously.
_RECORD_OVERHEAD_BYTES = 64


def stamps(request: Request) -> list[tuple[str, bytes]]:
    """The headers the gateway adds to every record of a request: its request id and idempotency key."""
    found = [(REQUEST_ID_HEADER, request_id(request).encode())]
    key = request.headers.get(idempotency.HEADER)
    if key is not None:
        found.append((idempotency.RECORD_HEADER, key.encode()))
    return found


def to_record(
    event: EventIn, stamped: list[tuple[str, bytes]], partitions: int, now: int, where: str
) -> OutgoingRecord:
    """Serialize one validated event. `where` names it in errors (`body` or `events.3`)."""
    key = event.get("key")
    value = event["value"]
    if value is None and key is None:
        raise ge.ValidationFailed(
            "a null value (tombstone) needs a key", [{"field": f"{where}.value", "message": "null value needs a key"}]
        )
    partition = event.get("partition")
    if partition is not None:
        if partition >= partitions:
            raise ge.ValidationFailed(
                f"partition {partition} does not exist; the stream has {partitions}",
                [{"field": f"{where}.partition", "message": f"must be < {partitions}"}],
            )
    else:
        partition_key = event.get("partitionKey")
        if partition_key is not None:
            partition = partition_for_key(partition_key.encode(), partitions)
    headers = [(name, text.encode()) for name, text in (event.get("headers") or {}).items()]
    headers.extend(stamped)
    timestamp = event.get("timestamp")
    return OutgoingRecord(
        key=None if key is None else key.encode(),
        value=None if value is None else orjson.dumps(value),
        headers=headers,
        timestamp_ms=now if timestamp is None else timestamp,
        partition=partition,
    )


def record_size(record: OutgoingRecord) -> int:
    size = _RECORD_OVERHEAD_BYTES + len(record.key or b"") + len(record.value or b"")
    for name, value in record.headers:
        size += len(name) + len(value) + 2
    return size


def published(ack: Ack) -> dict[str, Any]:
    return {
        "eventId": event_ids.encode(ack.partition, ack.offset),
        "partition": ack.partition,
        "offset": ack.offset,
        "timestamp": iso_ms(ack.timestamp_ms),
        "status": "published",
    }


async def publish_event(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    stream = namespace(request).topic(name, write=True)
    body = await read_body(request, ctx.settings.max_body_bytes)
    event = parse(EVENT, body)
    ctx.kafka.require_ready()
    partitions, max_message_bytes, accepted = await ctx.kafka.admin.produce_limits(stream)
    now = now_ms()
    record = to_record(event, stamps(request), partitions, now, "body")
    if record_size(record) > max_message_bytes:
        raise ge.PayloadTooLarge(f"event is larger than stream {stream!r} accepts ({max_message_bytes} bytes)")
    problem = accepted.problem(record.timestamp_ms, now)
    if problem is not None:
        raise ge.InvalidTimestamp(f"stream {stream!r} refuses this event: {problem}")
    try:
        ack = await ctx.kafka.producer.publish(stream, record, ctx.settings.produce_timeout_ms)
    except AckTimeout as exc:
        idempotency.settle_later(request, exc.outcome, lambda late: created(name, late))
        raise
    return created(name, ack)


def created(stream: str, ack: Ack) -> Response:
    """`stream` as the caller named it (its namespace's name, not the Kafka topic)."""
    result = published(ack)
    location = f"/api/v1/streams/{stream}/events/{result['eventId']}"
    return JSONResponse(result, status_code=201, headers={"location": location})


def failure(index: int, error: ge.GatewayError) -> dict[str, Any]:
    item: dict[str, Any] = {
        "index": index,
        "status": "failed",
        "code": error.code,
        "error": error.error,
        "message": error.detail,
        "retriable": error.retriable,
    }
    if isinstance(error, ge.OperationTimeout):
        item["outcome"] = "unknown"
    return item


async def publish_batch(request: Request) -> Response:
    ctx = context(request)
    settings = ctx.settings
    stream = namespace(request).topic(request.path_params["stream"], write=True)
    body = await read_body(request, settings.max_body_bytes)
    batch = parse(BATCH, body)
    events = batch["events"]
    if len(events) > settings.max_batch_events:
        raise ge.ValidationFailed(
            f"a batch holds at most {settings.max_batch_events} events",
            [{"field": "events", "message": f"{len(events)} events; the limit is {settings.max_batch_events}"}],
        )
    options = batch.get("options") or {}
    ctx.kafka.require_ready()
    partitions, max_message_bytes, accepted = await ctx.kafka.admin.produce_limits(stream)
    stamped, now = stamps(request), now_ms()
    records = [to_record(event, stamped, partitions, now, f"events.{i}") for i, event in enumerate(events)]

    results: list[dict[str, Any] | None] = [None] * len(records)
    sendable: list[int] = []
    for i, record in enumerate(records):
        problem = accepted.problem(record.timestamp_ms, now)
        if record_size(record) > max_message_bytes:
            results[i] = failure(
                i, ge.PayloadTooLarge(f"event is larger than the stream accepts ({max_message_bytes})")
            )
        elif problem is not None:
            results[i] = failure(i, ge.InvalidTimestamp(f"the stream refuses this event: {problem}"))
        else:
            sendable.append(i)
    timeout_ms = min(options.get("timeout", settings.produce_timeout_ms), settings.produce_timeout_ms)
    outcomes = await ctx.kafka.producer.publish_batch(
        stream,
        [records[i] for i in sendable],
        partitions,
        compression=options.get("compression"),
        timeout_ms=timeout_ms,
    )
    batch_id = f"batch_{secrets.token_hex(8)}"

    def render(final: list[Ack | ge.GatewayError]) -> Response:
        done = list(results)
        for i, outcome in zip(sendable, final, strict=True):
            done[i] = failure(i, outcome) if isinstance(outcome, ge.GatewayError) else published(outcome)
        failures = sum(1 for r in done if r is not None and r["status"] == "failed")
        document = {
            "batchId": batch_id,
            "totalEvents": len(records),
            "successCount": len(records) - failures,
            "failureCount": failures,
            "results": done,
        }
        return JSONResponse(document, status_code=207 if failures else 200)

    if any(isinstance(outcome, AckTimeout) for outcome in outcomes):
        idempotency.settle_later(request, lambda: ctx.kafka.producer.settle(outcomes), render)
    return render(outcomes)

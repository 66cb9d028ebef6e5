"""Publishing events: `POST /api/v1/streams/{stream}/events` and `.../events/batch` (seed 003)."""

from __future__ import annotations

import secrets
from typing import Any, cast

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway import event_ids, idempotency, json_values, raw_events, takeover
from gateway.bodies import parse, read_body
from gateway.context import context
from gateway.dead_letters import DeadLetterTimeout
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.partitioner import partition_for_key
from gateway.publishing import UNPARSED, DeadLettered, Outcome, Submission
from gateway.record_stamps import stamps
from gateway.responses import JSONResponse
from gateway.settings import Compression
from gateway.tenancy import namespace
from gateway.timefmt import iso_ms, now_ms
from schemas.dead_letters import SUFFIX
from schemas.events import BATCH, EVENT, EventIn


def to_record(
    event: EventIn, stamped: list[tuple[str, bytes]], partitions: int, now: int, where: str
) -> OutgoingRecord:
    """Serialize one validated event. `where` names it in errors (`body` or `events.3`)."""
    value = event["value"]
    try:
        encoded = None if value is None else json_values.encode(value)
    except json_values.UnwritableValue as exc:
        pointer, message = exc.pointer, exc.message
        raise ge.ValidationFailed(
            f"the value cannot be written as JSON: {where}.value{pointer} {message}",
            [{"field": f"{where}.value{pointer}", "message": message, "type": "json_number"}],
        ) from exc
    return _record(
        event.get("key"),
        encoded,
        event.get("headers"),
        event.get("partition"),
        event.get("partitionKey"),
        event.get("timestamp"),
        stamped,
        partitions,
        now,
        where,
    )


def raw_record(
    event: raw_events.RawEvent, stamped: list[tuple[str, bytes]], partitions: int, now: int, where: str
) -> OutgoingRecord:
    """`to_record` for an event of the fast path: its value is stored as the bytes that arrived."""
    return _record(
        event.key,
        event.value_bytes(),
        event.headers,
        event.partition,
        event.partitionKey,
        event.timestamp,
        stamped,
        partitions,
        now,
        where,
    )


def _record(  # noqa: PLR0917 - one event's fields, from either decoder
    key: str | None,
    encoded: bytes | None,
    given_headers: dict[str, str] | None,
    partition: int | None,
    partition_key: str | None,
    timestamp: int | None,
    stamped: list[tuple[str, bytes]],
    partitions: int,
    now: int,
    where: str,
) -> OutgoingRecord:
    if encoded is None and key is None:
        raise ge.ValidationFailed(
            "a null value (tombstone) needs a key", [{"field": f"{where}.value", "message": "null value needs a key"}]
        )
    if partition is not None:
        if partition >= partitions:
            raise ge.ValidationFailed(
                f"partition {partition} does not exist; the stream has {partitions}",
                [{"field": f"{where}.partition", "message": f"must be < {partitions}"}],
            )
    elif partition_key is not None:
        partition = partition_for_key(partition_key.encode(), partitions)
    if given_headers:
        headers = [(name, text.encode()) for name, text in given_headers.items()]
        headers.extend(stamped)
    else:
        headers = list(stamped)  # most events carry no headers: no comprehension to run per event
    return OutgoingRecord(
        key=None if key is None else key.encode(),
        value=encoded,
        headers=headers,
        timestamp_ms=now if timestamp is None else timestamp,
        partition=partition,
    )


def published(ack: Ack) -> dict[str, Any]:
    return {
        "eventId": event_ids.encode(ack.partition, ack.offset),
        "partition": ack.partition,
        "offset": ack.offset,
        "timestamp": iso_ms(ack.timestamp_ms),
        "status": "published",
    }


def dead_lettered(stream: str, outcome: DeadLettered) -> dict[str, Any]:
    """Where the event landed in `<stream>.dlq` (named as the caller names streams) and why."""
    return {
        **published(outcome.ack),
        "status": "dead-lettered",
        "stream": stream + SUFFIX,
        "reason": outcome.reason,
        "schemaVersion": outcome.schema_version,
        "errors": [v.field() for v in outcome.violations],
    }


def result(stream: str, outcome: Ack | DeadLettered) -> dict[str, Any]:
    return dead_lettered(stream, outcome) if isinstance(outcome, DeadLettered) else published(outcome)


async def publish_event(request: Request) -> Response:
    ctx = context(request)
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    body = await read_body(request, ctx.settings.max_body_bytes)
    fast = raw_events.event(body)
    event = parse(EVENT, body) if fast is None else None  # the body is refused before the stream is looked up
    limits = await ctx.publisher.limits(topic)
    now = now_ms()
    if fast is not None:
        submission = Submission(raw_record(fast, stamps(request), limits.partitions, now, "body"), UNPARSED)
    else:
        parsed = cast(EventIn, event)
        submission = Submission(to_record(parsed, stamps(request), limits.partitions, now, "body"), parsed["value"])
    found = await takeover.recovered(request, topic, [submission], now)
    if found:  # an earlier attempt, whose gateway stopped before it answered, wrote the event
        return created(name, found[0])
    try:
        outcome = await ctx.publisher.publish(topic, submission, now)
    except AckTimeout as exc:
        idempotency.settle_later(request, exc.outcome, lambda late: created(name, late))
        raise
    except DeadLetterTimeout as exc:
        idempotency.settle_later(request, exc.outcome, lambda late: created(name, late))
        raise
    return created(name, outcome)


def created(stream: str, outcome: Ack | DeadLettered) -> Response:
    """201 with the event's location; 202 when it was dead-lettered: durably written, but to `<stream>.dlq`,
    not the stream, so a client testing for 201 never takes it for published (and a retry would only write a
    second dead letter). `stream` as the caller named it (its namespace's name, not the Kafka topic)."""
    document = result(stream, outcome)
    where = document.get("stream", stream)
    location = f"/api/v1/streams/{where}/events/{document['eventId']}"
    status = 202 if isinstance(outcome, DeadLettered) else 201
    return JSONResponse(document, status_code=status, headers={"location": location})


def failure(index: int, error: ge.GatewayError) -> dict[str, Any]:
    item: dict[str, Any] = {
        "index": index,
        "status": "failed",
        "code": error.code,
        "error": error.error,
        "message": error.detail,
        "retriable": error.retriable,
    }
    if isinstance(error, ge.ValidationFailed):
        item["errors"] = error.errors
    if isinstance(error, ge.OperationTimeout):
        item["outcome"] = "unknown"
    return item


def _fast_options(options: raw_events.RawOptions | msgspec.UnsetType) -> tuple[Compression | None, int | None]:
    if isinstance(options, msgspec.UnsetType):
        return None, None
    compression = None if isinstance(options.compression, msgspec.UnsetType) else options.compression
    timeout_ms = None if isinstance(options.timeout, msgspec.UnsetType) else options.timeout
    return compression, timeout_ms


async def publish_batch(request: Request) -> Response:
    ctx = context(request)
    settings = ctx.settings
    name = request.path_params["stream"]
    topic = namespace(request).topic(name, write=True)
    body = await read_body(request, settings.max_body_bytes)
    fast = raw_events.batch(body)
    if fast is not None:
        count = len(fast.events)
        compression, timeout_ms = _fast_options(fast.options)
    else:
        batch = parse(BATCH, body)
        count = len(batch["events"])
        options = batch.get("options") or {}
        compression, timeout_ms = options.get("compression"), options.get("timeout")
    if count > settings.max_batch_events:
        raise ge.ValidationFailed(
            f"a batch holds at most {settings.max_batch_events} events",
            [{"field": "events", "message": f"{count} events; the limit is {settings.max_batch_events}"}],
        )
    limits = await ctx.publisher.limits(topic)
    stamped, now = stamps(request), now_ms()
    if fast is not None:
        submissions = [
            Submission(raw_record(event, stamped, limits.partitions, now, f"events.{i}"), UNPARSED)
            for i, event in enumerate(fast.events)
        ]
    else:
        submissions = [
            Submission(to_record(event, stamped, limits.partitions, now, f"events.{i}"), event["value"])
            for i, event in enumerate(batch["events"])
        ]
    found = await takeover.recovered(request, topic, submissions, now)
    rest = [i for i in range(len(submissions)) if i not in found]
    sent = (
        await ctx.publisher.publish_batch(
            topic, [submissions[i] for i in rest], now, compression=compression, timeout_ms=timeout_ms
        )
        if rest
        else []
    )
    outcomes = takeover.merged(found, rest, sent) if found else sent
    batch_id = f"batch_{secrets.token_hex(8)}"

    def render(final: list[Outcome]) -> Response:
        done = [
            failure(i, outcome) if isinstance(outcome, ge.GatewayError) else result(name, outcome)
            for i, outcome in enumerate(final)
        ]
        failures = sum(1 for r in done if r["status"] == "failed")
        document = {
            "batchId": batch_id,
            "totalEvents": len(done),
            "successCount": len(done) - failures,
            "failureCount": failures,
            "deadLetteredCount": sum(1 for r in done if r["status"] == "dead-lettered"),
            "results": done,
        }
        return JSONResponse(document, status_code=207 if failures else 200)

    if any(isinstance(outcome, AckTimeout | DeadLetterTimeout) for outcome in outcomes):
        idempotency.settle_later(request, lambda: ctx.publisher.settle(outcomes), render)
    return render(outcomes)

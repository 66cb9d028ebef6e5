"""The Event Intake API (seed 004): `POST /v1/events` and `GET /v1/events/{event_id}`, as its document has them.

An adapter: it maps the document's fields, statuses and error envelope (`gateway.seeds.intake_envelope`) onto
the shared services, and talks to Kafka only through them.

- Where events go: the caller's intake stream, `KAFKAGATE_INTAKE_STREAM` (`events`) in its namespace, so
  `_t.<slug>.events` for a tenant and `events` for the untenanted namespace. It is an ordinary stream (the
  native API reads it too), created on first use with `KAFKAGATE_INTAKE_STREAM_PARTITIONS` partitions.
- The record: key `event_type` (one type keeps its order), value the JSON `{event_type, occurred_at, data}`,
  headers `x-request-id` and `idempotency-key` like the native API. Its timestamp is the time the gateway
  received the event, not `occurred_at`: Kafka judges timestamps against its own clock (it refuses records
  more than `message.timestamp.after.max.ms`, 1 h by default, in the future) and deletes by them (retention),
  so a backfilled event from last month would be deleted as soon as it was written. `occurred_at` is in the
  value, exactly as sent.
- 202 only after Kafka acknowledged the record from every in-sync replica (`acks=all`).
- `idempotency_key` runs the request through the gateway's idempotency keys (`IdempotencyKeys.handle_key`,
  realm `intake`): claims in Kafka, so the same key and event answer the same 202 and `event_id` on every
  gateway and across restarts for `KAFKAGATE_IDEMPOTENCY_TTL_S`, with nothing ingested twice. Keys belong to
  the calling principal (key and tenant) and never meet `Idempotency-Key` header keys.
- `event_id` encodes the record's position (`gateway.seeds.intake_ids`), so reading an event is one fetch.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import errors as ge
from gateway import idempotency, takeover
from gateway.authorization import guarded, require_stream
from gateway.bodies import read_body
from gateway.context import context
from gateway.dead_letters import DeadLettered
from gateway.event_lookup import lookup
from gateway.idempotency import IdempotencyKeys
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.principal import principal
from gateway.provisioning import ensure_stream
from gateway.publishing import Submission
from gateway.record_stamps import stamps
from gateway.responses import JSONResponse
from gateway.seeds import intake_events, intake_ids
from gateway.seeds.intake_envelope import NOT_FOUND_MESSAGE, PREFIX
from gateway.tenancy import namespace
from gateway.timefmt import now_ms

REALM = "intake"  # the idempotency keys of this API, apart from every other API's
JSON_MEDIA_TYPE = "application/json"


def intake_topic(request: Request, *, write: bool = False) -> str:
    """The Kafka topic of the caller's intake stream, checked against the key's stream patterns (403)."""
    stream = context(request).settings.intake_stream
    require_stream(principal(request), stream)
    return namespace(request).topic(stream, write=write)


def require_json(request: Request) -> None:
    """The document requires `Content-Type: application/json` (parameters such as charset are fine)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != JSON_MEDIA_TYPE:
        sent = f"got {media!r}" if media else "none was sent"
        raise ge.UnsupportedMediaType(f"Content-Type must be {JSON_MEDIA_TYPE}; {sent}")


async def submit_event(request: Request) -> Response:
    ctx = context(request)
    topic = intake_topic(request, write=True)
    require_json(request)
    event = intake_events.parse(await read_body(request, ctx.settings.max_body_bytes))
    ctx.kafka.require_ready()
    keys: IdempotencyKeys = request.app.state.idempotency

    async def publish() -> Response:
        return await _publish(request, topic, event)

    return await keys.handle_key(request, publish, event.idempotency_key, event.canonical(), REALM)


async def _publish(request: Request, topic: str, event: intake_events.IntakeEvent) -> Response:
    ctx = context(request)
    await ensure_stream(ctx.kafka, topic, ctx.settings.intake_stream_partitions, {})
    now = now_ms()
    headers = stamps(request, event.idempotency_key)
    record = OutgoingRecord(key=event.event_type.encode(), value=event.stored(), headers=headers, timestamp_ms=now)
    value = {"event_type": event.event_type, "occurred_at": event.occurred_at, "data": event.data}
    submission = Submission(record, value)
    found = await takeover.recovered(request, topic, [submission], now)
    try:
        outcome = found[0] if found else await ctx.publisher.publish(topic, submission, now)
    except AckTimeout as exc:
        idempotency.settle_later(request, exc.outcome, accepted)
        raise
    if isinstance(outcome, DeadLettered):
        # The intake stream's schema set it aside in its dead-letter stream: there is no event in the intake
        # stream for an event_id to name, so this is no acceptance; the client learns why, per violation.
        errors = [violation.field() for violation in outcome.violations]
        raise ge.SchemaViolation(
            f"data does not match the intake stream's schema (version {outcome.schema_version}); the event was "
            "kept in its dead-letter stream",
            errors,
        )
    return accepted(outcome)


def accepted(ack: Ack) -> Response:
    event_id = intake_ids.encode(ack.partition, ack.offset)
    body = {"status": "accepted", "event_id": event_id}
    return JSONResponse(body, status_code=202, headers={"location": f"{PREFIX}/{event_id}"})


async def get_event(request: Request) -> Response:
    ctx = context(request)
    topic = intake_topic(request)
    event_id: str = request.path_params["event_id"]
    position = intake_ids.decode(event_id)
    if position is None:
        raise ge.EventNotFound(NOT_FOUND_MESSAGE)
    record = await lookup(ctx.kafka, topic, position.partition, position.offset)
    event = None if record is None else intake_events.from_stored(record.value)
    if event is None:
        raise ge.EventNotFound(NOT_FOUND_MESSAGE)
    return JSONResponse({"event_id": event_id, **event})


def routes() -> list[Route]:
    return [
        Route(PREFIX, guarded("produce", submit_event), methods=["POST"]),
        Route(f"{PREFIX}/{{event_id}}", guarded("consume", get_event), methods=["GET"]),
    ]

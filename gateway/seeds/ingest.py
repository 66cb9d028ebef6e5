"""The Streaming Ingest API (seed 001): `POST /v1/streams/ingest`, mapped onto the publishing service.

    POST /v1/streams/ingest
    Authorization: Bearer <token>          a key with the produce scope whose stream patterns allow the stream
    Content-Type: application/json
    X-Stream-Id: <stream id or name>       the stream's `streamId` (its Kafka topic id) or its name
    {"timestamp": "...", "source": "...", "event": {...}, "metadata": {...}}   or a JSON array of such objects

    200 {"status": "accepted", "ingested_bytes": <request body bytes>, "stream_id": "<the stream's id>"}

The answer comes once Kafka acknowledged every event with acks=all. Each event becomes one record:

- value: the event object as sent (every member kept), as compact JSON;
- key: `source`, so one source's events stay in order on one partition;
- timestamp: when the gateway received the request. The event's own `timestamp` stays in the value, where a
  processor can make it the record time (`setTimestamp` with `{"field": "timestamp", "format": "iso8601"}`).
  Stamping event time on the record would let Kafka refuse events more than an hour ahead of its clock
  (`message.timestamp.after.max.ms`) and delete old ones at once under the stream's time-based retention;
- headers: the gateway's own (`x-request-id`).

Every event of a request is checked before any is sent, so a 400 means nothing was written. A 503 or 504 after
sending can leave part of an array written; resending the whole array can then duplicate those events.
Errors take the document's envelope (`gateway.seeds.ingest_envelope`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.authorization import require_stream
from gateway.bodies import read_body
from gateway.context import context
from gateway.kafka.producer import OutgoingRecord
from gateway.principal import principal
from gateway.publishing import Submission
from gateway.record_stamps import stamps
from gateway.responses import JSONResponse
from gateway.seeds.ingest_events import parse_events
from gateway.stream_ids import resolve_for_write
from gateway.tenancy import namespace
from gateway.timefmt import now_ms

STREAM_ID_HEADER = "x-stream-id"


def to_submission(event: dict[str, Any], headers: list[tuple[str, bytes]], now: int) -> Submission:
    record = OutgoingRecord(
        key=event["source"].encode(), value=orjson.dumps(event), headers=list(headers), timestamp_ms=now
    )
    return Submission(record, event)


async def ingest(request: Request) -> Response:
    ctx = context(request)
    reference = (request.headers.get(STREAM_ID_HEADER) or "").strip()
    if not reference:
        raise ge.BadRequest("The X-Stream-Id header is required: the id (or name) of the target stream.")
    body = await read_body(request, ctx.settings.max_body_bytes)
    events = parse_events(body, ctx.settings.max_batch_events)
    ctx.kafka.require_ready()
    target = await resolve_for_write(ctx.kafka.admin.topic_ids, namespace(request), reference)
    require_stream(principal(request), target.name)
    limits = await ctx.publisher.limits(target.topic)
    now = now_ms()
    headers = stamps(request)
    submissions = [to_submission(event, headers, now) for event in events]
    for index, submission in enumerate(submissions):
        if submission.size > limits.max_message_bytes:
            where = {"index": index} if len(submissions) > 1 else None
            raise ge.PayloadTooLarge(
                f"an event is larger than the stream accepts ({limits.max_message_bytes} bytes)", extra=where
            )
    outcomes = await ctx.publisher.publish_batch(target.topic, submissions, now)
    # Anything but an error is accepted: acknowledged by Kafka, or taken by the stream's dead-letter handling.
    failures = [(i, outcome) for i, outcome in enumerate(outcomes) if isinstance(outcome, ge.GatewayError)]
    if failures:
        index, first = failures[0]
        if len(submissions) > 1:
            first.detail = f"{len(failures)} of {len(submissions)} events were not accepted: {first.detail}"
            first.extra = {**first.extra, "index": index}
        raise first
    document = {"status": "accepted", "ingested_bytes": len(body), "stream_id": str(target.stream_id)}
    return JSONResponse(document)

"""Reading an ingest request body (seed 001): one event or an array of them, each checked as the document
asks, with the document's wording in every refusal. Pure: no I/O."""

from __future__ import annotations

from typing import Any

import pydantic_core
from pydantic import ValidationError

from gateway import errors as ge
from gateway import json_values
from schemas.ingest import INGEST_EVENT

TIMESTAMP_DETAIL = "The 'timestamp' field must be a valid ISO 8601 string."
FIELD_DETAILS = {
    "timestamp": TIMESTAMP_DETAIL,
    "source": "The 'source' field is required and must be a non-empty string.",
    "event": "The 'event' field is required and must be a JSON object.",
    "metadata": "The 'metadata' field must be a JSON object when present.",
}


def _at(index: int | None) -> dict[str, Any] | None:
    return None if index is None else {"index": index}


def check_event(item: Any, index: int | None = None) -> dict[str, Any]:
    """`item` when it is a valid event, else BadRequest naming the first problem (and `index` in an array)."""
    if not isinstance(item, dict):
        raise ge.BadRequest("Each event must be a JSON object.", extra=_at(index))
    try:
        INGEST_EVENT.validate_python(item)
    except ValidationError as exc:
        loc = exc.errors(include_url=False, include_input=False)[0]["loc"]
        detail = FIELD_DETAILS.get(str(loc[0]) if loc else "", "The event does not have the documented shape.")
        raise ge.BadRequest(detail, extra=_at(index)) from exc
    unwritable = json_values.problem(item)
    if unwritable is not None:
        pointer, message = unwritable
        raise ge.BadRequest(f"The member {pointer} {message}.", extra=_at(index))
    return item


def parse_events(body: bytes, max_events: int) -> list[dict[str, Any]]:
    """The events of a request body, in order: a JSON object is one event, a JSON array is a batch of up to
    `max_events`. Every event is checked before any is sent, so a refusal means nothing was written."""
    if not body:
        raise ge.SerializationError("The request body is empty; expected a JSON event or an array of events.")
    # pydantic's parser, as everywhere else in the gateway: orjson would read an integer beyond 64 bits as a
    # float and store a different number than was sent.
    try:
        document = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise ge.SerializationError(f"The request body is not valid JSON: {exc}.") from exc
    if isinstance(document, dict):
        return [check_event(document)]
    if not isinstance(document, list):
        raise ge.SerializationError("The request body must be a JSON object (one event) or an array of events.")
    if not document:
        raise ge.BadRequest("The array is empty; send at least one event.")
    if len(document) > max_events:
        raise ge.BadRequest(f"An array holds at most {max_events} events; this one has {len(document)}.")
    return [check_event(item, index) for index, item in enumerate(document)]

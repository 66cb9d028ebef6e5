"""The Event Intake API's event (seed 004): the request body of `POST /v1/events`, checked with the document's
messages, and the JSON the intake stream stores for it.

All four fields are required: `event_type` (a non-empty string, at most 255 characters), `occurred_at` (an
ISO 8601 timestamp with a timezone: `Z` or an offset; one without is refused rather than guessed to be UTC),
`idempotency_key` (1-255 printable ASCII characters, the `Idempotency-Key` header's rules) and `data` (a JSON
object). Any other field is refused, so nothing a client sends is silently dropped. `occurred_at` is kept
exactly as sent; it is what `GET /v1/events/{event_id}` returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from gateway import errors as ge
from gateway import json_values
from gateway.idempotency import MAX_KEY_CHARS
from schemas.events import RFC_3339_TAIL

MAX_EVENT_TYPE_CHARS = 255
FIELDS = ("event_type", "occurred_at", "idempotency_key", "data")


class IntakeEvent(BaseModel):
    """The body of `POST /v1/events`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_type: str = Field(
        min_length=1, max_length=MAX_EVENT_TYPE_CHARS, description="e.g. user.created; events of one type keep order"
    )
    occurred_at: str = Field(
        description="ISO 8601 timestamp with a timezone (UTC recommended), e.g. 2025-12-22T10:30:00Z; kept as sent",
        json_schema_extra={"format": "date-time", "pattern": f"^(?!0000)[0-9]{{4}}{RFC_3339_TAIL}"},
    )
    idempotency_key: str = Field(
        min_length=1,
        max_length=MAX_KEY_CHARS,
        pattern=r"^[\x20-\x7E]+$",
        description="prevents duplicate ingestion on retries: the same key and event answer the same event_id",
    )
    data: dict[str, Any] = Field(description="the event payload (a JSON object)")

    @field_validator("occurred_at")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        if "T" not in value and " " not in value:
            raise PydanticCustomError("timestamp", "occurred_at must be a date and time, e.g. 2025-12-22T10:30:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "timestamp", "occurred_at is not an ISO 8601 timestamp, e.g. 2025-12-22T10:30:00Z"
            ) from None
        if parsed.tzinfo is None:
            raise PydanticCustomError(
                "timestamp", "occurred_at needs a timezone (Z or an offset such as +02:00), e.g. 2025-12-22T10:30:00Z"
            )
        return value

    def canonical(self) -> bytes:
        """The event as sorted JSON: what makes two requests with one idempotency_key "the same request"."""
        return orjson.dumps(self.model_dump(), option=orjson.OPT_SORT_KEYS)

    def stored(self) -> bytes:
        """The intake stream's record value: the event without its idempotency key (a record header)."""
        return orjson.dumps({"event_type": self.event_type, "occurred_at": self.occurred_at, "data": self.data})


# What a field's value must be, for every refusal of a present field other than a bad timestamp.
_FIELD_RULES = {
    "event_type": f"Invalid field: event_type must be a non-empty string of at most {MAX_EVENT_TYPE_CHARS} characters",
    "occurred_at": "Invalid timestamp: occurred_at must be an ISO 8601 string, e.g. 2025-12-22T10:30:00Z",
    "idempotency_key": f"Invalid field: idempotency_key must be 1 to {MAX_KEY_CHARS} printable ASCII characters",
    "data": "Invalid field: data must be a JSON object",
}


def _message(error: ErrorDetails) -> str:
    kind, where = error["type"], error["loc"]
    if not where:
        return "Request body must be a JSON object"
    name = str(where[0])
    if kind == "missing":
        return f"Missing required field: {name}"
    if kind == "extra_forbidden":
        return f"Unknown field: {name}"
    if kind == "timestamp":
        return f"Invalid timestamp: {error['msg']}"
    return _FIELD_RULES.get(name, f"Invalid field: {name}")


def parse(body: bytes) -> IntakeEvent:
    """The event in `body`, or 400 `invalid_request` naming the first problem in the document's field order."""
    if not body.strip():
        raise ge.BadRequest("Request body is empty; expected a JSON object")
    try:
        event = IntakeEvent.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors[0]["type"] == "json_invalid":
            reason = errors[0]["msg"].removeprefix("Invalid JSON: ")
            raise ge.SerializationError(f"Malformed JSON: {reason}") from exc
        order = {name: i for i, name in enumerate(FIELDS)}
        first = min(errors, key=lambda e: order.get(str(e["loc"][0]) if e["loc"] else "", len(FIELDS)))
        raise ge.BadRequest(_message(first)) from exc
    unwritable = json_values.problem(event.data)
    if unwritable is not None:
        pointer, message = unwritable
        raise ge.BadRequest(f"Invalid field: data{pointer} {message}")
    return event


def from_stored(value: bytes | None) -> dict[str, Any] | None:
    """The event a record of the intake stream holds (`event_type`, `occurred_at`, `data`), or None when the
    record is not one (the stream is an ordinary stream: anything may have been written to it)."""
    if value is None:
        return None
    try:
        stored = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(stored, dict):
        return None
    event_type, occurred_at, data = stored.get("event_type"), stored.get("occurred_at"), stored.get("data")
    if not (isinstance(event_type, str) and isinstance(occurred_at, str) and isinstance(data, dict)):
        return None
    return {"event_type": event_type, "occurred_at": occurred_at, "data": data}

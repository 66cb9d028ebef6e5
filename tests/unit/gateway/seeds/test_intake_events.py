"""The intake event body: the document's example parses, each refusal says what the document says, and the
stored value holds what `GET /v1/events/{id}` returns."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway import errors as ge
from gateway.seeds.intake_events import from_stored, parse

# The document's example request body, as printed.
EXAMPLE = b"""{
    "event_type": "user.created",
    "occurred_at": "2025-12-22T10:30:00Z",
    "idempotency_key": "0f3f6f9b-9f0b-4c8d-9f18-5b6a9d9d2d41",
    "data": {
      "user_id": "u_12345",
      "plan": "pro"
    }
  }"""
FIELDS: dict[str, Any] = orjson.loads(EXAMPLE)


def body(**changes: Any) -> bytes:
    document = {**FIELDS, **changes}
    return orjson.dumps({name: value for name, value in document.items() if value is not ...})


def refusal(raw: bytes) -> ge.GatewayError:
    with pytest.raises(ge.BadRequest) as caught:
        parse(raw)
    assert caught.value.status == 400
    return caught.value


def test_the_documents_example_parses() -> None:
    event = parse(EXAMPLE)
    assert (event.event_type, event.occurred_at, event.idempotency_key) == (
        "user.created",
        "2025-12-22T10:30:00Z",
        "0f3f6f9b-9f0b-4c8d-9f18-5b6a9d9d2d41",
    )
    assert event.data == {"user_id": "u_12345", "plan": "pro"}


@pytest.mark.parametrize("field", ["event_type", "occurred_at", "idempotency_key", "data"])
def test_a_missing_field_is_named_as_the_document_does(field: str) -> None:
    assert refusal(body(**{field: ...})).detail == f"Missing required field: {field}"


def test_the_first_missing_field_in_the_documents_order_is_named() -> None:
    assert refusal(b'{"data": {}}').detail == "Missing required field: event_type"
    assert refusal(b"{}").detail == "Missing required field: event_type"


@pytest.mark.parametrize(
    "timestamp",
    ["2025-12-22T10:30:00Z", "2025-12-22T10:30:00.123456Z", "2025-12-22T12:30:00+02:00", "2025-12-22 10:30:00-05:00"],
)
def test_iso_8601_timestamps_with_a_timezone_are_kept_as_sent(timestamp: str) -> None:
    assert parse(body(occurred_at=timestamp)).occurred_at == timestamp


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("2025-12-22T10:30:00", "needs a timezone"),
        ("2025-12-22", "must be a date and time"),
        ("yesterday", "must be a date and time"),
        ("2025-13-22T10:30:00Z", "is not an ISO 8601 timestamp"),
        ("2025-12-22T25:30:00Z", "is not an ISO 8601 timestamp"),
        ("", "must be a date and time"),
        (1766399400, "must be an ISO 8601 string"),
        (None, "must be an ISO 8601 string"),
    ],
)
def test_invalid_timestamps_are_refused(timestamp: Any, reason: str) -> None:
    detail = refusal(body(occurred_at=timestamp)).detail
    assert detail.startswith("Invalid timestamp: occurred_at")
    assert reason in detail


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data": [1, 2]}, "Invalid field: data must be a JSON object"),
        ({"data": "text"}, "Invalid field: data must be a JSON object"),
        ({"data": None}, "Invalid field: data must be a JSON object"),
        ({"event_type": ""}, "Invalid field: event_type must be a non-empty string of at most 255 characters"),
        ({"event_type": 7}, "Invalid field: event_type must be a non-empty string of at most 255 characters"),
        ({"event_type": "x" * 256}, "Invalid field: event_type must be a non-empty string of at most 255 characters"),
        ({"idempotency_key": ""}, "Invalid field: idempotency_key must be 1 to 255 printable ASCII characters"),
        ({"idempotency_key": "clé"}, "Invalid field: idempotency_key must be 1 to 255 printable ASCII characters"),
        ({"idempotency_key": "k" * 256}, "Invalid field: idempotency_key must be 1 to 255 printable ASCII characters"),
        ({"idempotency_key": 42}, "Invalid field: idempotency_key must be 1 to 255 printable ASCII characters"),
        ({"source": "crm"}, "Unknown field: source"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, Any], message: str) -> None:
    assert refusal(body(**changes)).detail == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Request body is empty; expected a JSON object"),
        (b"[1]", "Request body must be a JSON object"),
        (b'"text"', "Request body must be a JSON object"),
    ],
)
def test_bodies_that_are_not_objects_are_refused(raw: bytes, message: str) -> None:
    assert refusal(raw).detail == message


def test_malformed_json_is_refused() -> None:
    error = refusal(b'{"event_type": "user.created",')
    assert isinstance(error, ge.SerializationError)
    assert error.detail.startswith("Malformed JSON: ")


def test_the_same_event_serialized_differently_is_the_same_request() -> None:
    reordered = b'{"data": {"plan": "pro", "user_id": "u_12345"}, "idempotency_key": '
    reordered += b'"0f3f6f9b-9f0b-4c8d-9f18-5b6a9d9d2d41", "occurred_at": "2025-12-22T10:30:00Z", '
    reordered += b'"event_type": "user.created"}'
    assert parse(reordered).canonical() == parse(EXAMPLE).canonical()
    assert parse(body(data={"plan": "free"})).canonical() != parse(EXAMPLE).canonical()


def test_the_stored_value_is_what_get_returns_without_the_key() -> None:
    stored = parse(EXAMPLE).stored()
    assert orjson.loads(stored) == {
        "event_type": "user.created",
        "occurred_at": "2025-12-22T10:30:00Z",
        "data": {"user_id": "u_12345", "plan": "pro"},
    }
    assert from_stored(stored) == orjson.loads(stored)


@pytest.mark.parametrize(
    "value", [None, b"", b"not json", b"[1]", b'{"value": 1}', b'{"event_type": "a", "occurred_at": "b", "data": 1}']
)
def test_records_that_are_not_intake_events_are_not_events(value: bytes | None) -> None:
    assert from_stored(value) is None

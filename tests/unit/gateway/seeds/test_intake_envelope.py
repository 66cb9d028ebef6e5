"""The intake error envelope: every gateway error maps onto the document's codes (or a sensible extra one), with
the request id in body and header, and nothing internal leaks into a 500."""

from __future__ import annotations

import jsonschema
import orjson
import pytest

from gateway import errors as ge
from gateway.envelopes import error_response
from gateway.seeds.intake_envelope import CODES, ERROR_SCHEMA, describe, render

RID = "req_0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (
            ge.BadRequest("Missing required field: event_type"),
            400,
            "invalid_request",
            "Missing required field: event_type",
        ),
        (ge.SerializationError("Malformed JSON: x"), 400, "invalid_request", "Malformed JSON: x"),
        (ge.UnsupportedMediaType("Content-Type must be application/json"), 400, "invalid_request", None),
        (ge.InvalidTimestamp("the stream refuses this event"), 400, "invalid_request", "The stream refuses this event"),
        (ge.IdempotencyKeyReused("used"), 400, "invalid_request", None),
        (ge.Unauthorized("a valid bearer token is required"), 401, "unauthorized", "Missing or invalid token"),
        (ge.Forbidden("this key lacks the 'produce' scope"), 403, "forbidden", "This key lacks the 'produce' scope"),
        (ge.EventNotFound("whatever"), 404, "not_found", "Event not found"),
        (ge.StreamNotFound("stream '_t.acme.events' does not exist"), 404, "not_found", "Event not found"),
        (ge.MethodNotAllowed("PUT is not allowed on /v1/events"), 405, "method_not_allowed", None),
        (ge.IdempotencyKeyInUse("in progress", retry_after_s=1), 409, "conflict", None),
        (ge.PayloadTooLarge("body exceeds the limit"), 413, "payload_too_large", "Body exceeds the limit"),
        (
            ge.QuotaExceeded("key 'k' is over", retry_after_s=60),
            429,
            "rate_limited",
            "Too many requests. Retry after 60 seconds.",
        ),
        (
            ge.BrokerUnavailable("down", retry_after_s=5),
            503,
            "unavailable",
            "Service unavailable. Retry after 5 seconds.",
        ),
        (ge.Overloaded("full", retry_after_s=5), 503, "unavailable", "Service unavailable. Retry after 5 seconds."),
        (ge.OperationTimeout("slow"), 504, "timeout", None),
        (ge.GatewayError("KeyError: 'secret internals'"), 500, "internal_error", "Unexpected error"),
    ],
)
def test_errors_map_onto_the_documents_codes(
    error: ge.GatewayError, status: int, code: str, message: str | None
) -> None:
    found = describe(error)
    assert found[:2] == (status, code)
    if message is not None:
        assert found[2] == message
    assert code in CODES


def test_the_envelope_carries_the_request_id_and_the_errors_headers() -> None:
    response = render(ge.QuotaExceeded("over", retry_after_s=3), RID)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert (response.headers["x-request-id"], response.headers["retry-after"]) == (RID, "3")
    body = orjson.loads(response.body)
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body == {
        "error": {"code": "rate_limited", "message": "Too many requests. Retry after 3 seconds.", "request_id": RID}
    }


def test_a_401_still_says_how_to_authenticate() -> None:
    response = render(ge.Unauthorized("a valid bearer token is required"), RID)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/evt_x", "/v1/events/a/b"])
def test_the_intake_paths_answer_in_this_envelope(path: str) -> None:
    body = orjson.loads(error_response(ge.NotFound("no route"), path, RID).body)
    assert set(body) == {"error"}


@pytest.mark.parametrize("path", ["/v1/eventsx", "/api/v1/streams/events", "/v1"])
def test_other_paths_keep_their_own(path: str) -> None:
    response = error_response(ge.NotFound("no route"), path, RID)
    assert response.headers["content-type"] == "application/problem+json"

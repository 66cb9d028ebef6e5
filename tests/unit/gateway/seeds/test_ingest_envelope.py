"""The ingest API's error envelope: every gateway error maps to the document's shape and a sensible code."""

from __future__ import annotations

import orjson
import pytest

from gateway import errors as ge
from gateway.envelopes import error_response
from gateway.seeds.ingest_envelope import render, status_and_code
from schemas.ingest import IngestError

CASES = [
    (ge.SerializationError("bad json"), 400, "invalid_format"),
    (ge.BadRequest("bad field"), 400, "invalid_format"),
    (ge.InvalidTimestamp("too far ahead"), 400, "invalid_format"),
    (ge.PayloadTooLarge("body exceeds the limit of 1048576 bytes"), 400, "invalid_format"),
    (ge.UnsupportedMediaType("expected application/json"), 400, "invalid_format"),
    (ge.ValidationFailed("1 invalid field(s)", []), 400, "invalid_format"),
    (ge.Unauthorized("a valid bearer token is required"), 401, "unauthorized"),
    (ge.Forbidden("this key may not use stream 'x'"), 403, "forbidden"),
    (ge.StreamNotFound("no stream"), 404, "not_found"),
    (ge.TenantNotFound("no tenant"), 404, "not_found"),
    (ge.NotFound("no route"), 404, "not_found"),
    (ge.MethodNotAllowed("GET"), 405, "method_not_allowed"),
    (ge.QuotaExceeded("over", retry_after_s=2), 429, "rate_limited"),
    (ge.Overloaded("full", retry_after_s=1), 503, "overloaded"),
    (ge.BrokerUnavailable("down", retry_after_s=1), 503, "unavailable"),
    (ge.OperationTimeout("slow"), 504, "timeout"),
    (ge.GatewayError("bug"), 500, "internal_error"),
    (ge.Conflict("unexpected here"), 500, "internal_error"),
]


@pytest.mark.parametrize(
    ("exc", "status", "code"), CASES, ids=lambda c: type(c).__name__ if isinstance(c, Exception) else ""
)
def test_every_error_has_a_status_and_code(exc: ge.GatewayError, status: int, code: str) -> None:
    assert status_and_code(exc) == (status, code)
    response = render(exc, "req_1")
    assert response.status_code == status
    body = orjson.loads(bytes(response.body))
    IngestError.model_validate(body)
    assert body["error"] == code
    assert set(body) == {"error", "detail"}
    assert response.headers["x-request-id"] == "req_1"
    assert response.headers["content-type"] == "application/json"


def test_retry_after_www_authenticate_and_index_are_carried() -> None:
    assert render(ge.QuotaExceeded("over", retry_after_s=3), "r").headers["retry-after"] == "3"
    assert render(ge.Unauthorized("no"), "r").headers["www-authenticate"].startswith("Bearer")
    body = orjson.loads(bytes(render(ge.BadRequest("x", extra={"index": 4}), "r").body))
    assert body == {"error": "invalid_format", "detail": "x", "index": 4}


def test_the_path_and_only_the_path_takes_the_envelope() -> None:
    exc = ge.Unauthorized("a valid bearer token is required")
    assert error_response(exc, "/v1/streams/ingest", "r").media_type == "application/json"
    assert error_response(exc, "/v1/streams/ingest/x", "r").media_type == "application/json"
    assert error_response(exc, "/v1/streams/ingestion", "r").media_type == "application/problem+json"
    assert error_response(exc, "/api/v1/streams/x/events", "r").media_type == "application/problem+json"

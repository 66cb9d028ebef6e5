"""The event log API's error envelope (seed 002): codes per error class, and the body's shape."""

from __future__ import annotations

import jsonschema
import orjson
import pytest

from gateway import errors as ge
from gateway.seeds.logs_envelope import CODES, ERROR_SCHEMA, describe, render


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ge.BadRequest("x"), "invalid_request"),
        (ge.SerializationError("x"), "invalid_request"),
        (ge.Unauthorized("x"), "unauthorized"),
        (ge.NotFound("log not found"), "not_found"),
        (ge.Conflict("x"), "conflict"),
        (ge.IdempotencyKeyInUse("x"), "conflict"),
        (ge.UnsupportedMediaType("x"), "unsupported_media_type"),
        (ge.ValidationFailed("x", []), "invalid_view"),
        (ge.OperationTimeout("x"), "timeout"),
        (ge.BrokerUnavailable("x", retry_after_s=5), "unavailable"),
        (ge.GatewayError("secret detail"), "internal_error"),
    ],
)
def test_each_error_has_a_code(error: ge.GatewayError, code: str) -> None:
    assert describe(error)[0] == code
    assert code in CODES


def test_the_body_keeps_the_documents_success_flag() -> None:
    response = render(ge.ValidationFailed("bad apply", [{"field": "apply", "message": "m", "type": "cel"}]), "req_1")
    body = orjson.loads(bytes(response.body))
    jsonschema.validate(body, ERROR_SCHEMA)
    assert response.status_code == 422
    assert body["success"] is False
    assert body["request_id"] == "req_1"
    assert body["error"]["errors"][0]["field"] == "apply"
    internal = orjson.loads(bytes(render(ge.GatewayError("secret detail"), "req_2").body))
    assert "secret" not in internal["error"]["message"]

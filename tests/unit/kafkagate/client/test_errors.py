from __future__ import annotations

import httpx
import pytest

from kafkagate.client.errors import (
    ApiError,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    Unavailable,
    ValidationFailed,
    error_for,
    retry_after_s,
)

PROBLEM = {
    "type": "https://kafkagate.dev/problems/stream-not-found",
    "title": "Stream not found",
    "status": 404,
    "detail": "stream 'x' does not exist",
    "instance": "/api/v1/streams/x",
    "code": 1001,
    "error": "STREAM_NOT_FOUND",
    "request_id": "req_1",
    "retriable": False,
}


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, text="plain failure", headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def test_a_problem_becomes_the_error_class_of_its_status_with_its_fields() -> None:
    error = error_for(response(404, PROBLEM))
    assert isinstance(error, NotFound)
    assert (error.status_code, error.code, error.error, error.request_id) == (404, 1001, "STREAM_NOT_FOUND", "req_1")
    assert error.problem == PROBLEM
    assert not error.retriable
    assert "req_1" in str(error)


def test_validation_errors_keep_each_field() -> None:
    fields = [{"field": "events.3.value", "message": "required"}]
    error = error_for(
        response(422, {**PROBLEM, "status": 422, "code": 1007, "error": "VALIDATION_ERROR", "errors": fields})
    )
    assert isinstance(error, ValidationFailed)
    assert error.errors == fields


@pytest.mark.parametrize(
    ("status", "cls", "retriable"),
    [
        (409, Conflict, False),
        (429, RateLimited, True),
        (503, Unavailable, True),
        (500, ServerError, False),
        (502, ServerError, False),
    ],
)
def test_classes_follow_the_status(status: int, cls: type[ApiError], retriable: bool) -> None:
    error = error_for(response(status, {"detail": "x"}, {"retry-after": "3"}))
    assert type(error) is cls
    assert error.retriable is retriable
    assert error.retry_after_s == 3


def test_a_body_that_is_not_a_problem_still_gives_a_typed_error_with_the_header_request_id() -> None:
    error = error_for(response(502, headers={"x-request-id": "req_h"}))
    assert isinstance(error, ServerError)
    assert (error.error, error.detail, error.request_id) == ("HTTP_502", "plain failure", "req_h")


@pytest.mark.parametrize(
    ("raw", "seconds"), [("5", 5.0), (" 1 ", 1.0), ("-1", None), ("Wed, 21 Oct 2015 07:28:00 GMT", None)]
)
def test_retry_after_reads_seconds(raw: str, seconds: float | None) -> None:
    assert retry_after_s(httpx.Response(503, headers={"retry-after": raw})) == seconds
    assert retry_after_s(httpx.Response(503)) is None

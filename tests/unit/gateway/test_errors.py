from __future__ import annotations

import pytest

from gateway import errors as ge


def test_seed_codes_are_exact() -> None:
    assert (ge.StreamNotFound.code, ge.StreamNotFound.error) == (1001, "STREAM_NOT_FOUND")
    assert (ge.InvalidOffset.code, ge.InvalidOffset.error) == (1002, "INVALID_OFFSET")
    assert (ge.ConsumerGroupNotFound.code, ge.ConsumerGroupNotFound.error) == (1003, "CONSUMER_GROUP_NOT_FOUND")
    assert (ge.SerializationError.code, ge.SerializationError.error) == (1004, "SERIALIZATION_ERROR")
    assert (ge.QuotaExceeded.code, ge.QuotaExceeded.error) == (1005, "QUOTA_EXCEEDED")
    assert (ge.OperationTimeout.code, ge.OperationTimeout.error) == (1006, "TIMEOUT")


def test_own_codes_start_at_1007_and_are_unique_per_name() -> None:
    by_code: dict[int, set[str]] = {}
    for cls in ge.ALL_ERRORS:
        by_code.setdefault(cls.code, set()).add(cls.error)
        assert cls.code >= 1001
        if cls.code > 1006:
            assert cls.error not in {"STREAM_NOT_FOUND", "INVALID_OFFSET", "TIMEOUT"}
    # 1007 is shared by BadRequest and ValidationFailed only.
    assert all(len(names) == 1 for code, names in by_code.items() if code != 1007)


def test_every_error_is_documented_in_the_tree() -> None:
    doc = ge.__doc__ or ""
    for cls in ge.ALL_ERRORS:
        assert cls.__name__ in doc
        assert f"{cls.code} {cls.error}" in doc


def test_problem_body_shape() -> None:
    exc = ge.ValidationFailed("2 invalid field(s)", [{"field": "value", "message": "required"}])
    body = ge.problem_body(exc, instance="/api/v1/streams/x/events", request_id="req_1")
    assert body == {
        "type": "https://kafkagate.dev/problems/validation-error",
        "title": "Validation failed",
        "status": 422,
        "detail": "2 invalid field(s)",
        "instance": "/api/v1/streams/x/events",
        "code": 1007,
        "error": "VALIDATION_ERROR",
        "request_id": "req_1",
        "retriable": False,
        "errors": [{"field": "value", "message": "required"}],
    }


@pytest.mark.parametrize("cls", [ge.QuotaExceeded, ge.BrokerUnavailable, ge.OperationTimeout])
def test_retriable_errors(cls: type[ge.GatewayError]) -> None:
    assert cls.retriable

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from schemas.events import BATCH, EVENT, timestamp_ms
from schemas.keys import RateLimitIn


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (1736937000123, 1736937000123),
        ("2025-01-15T10:30:00Z", 1736937000000),
        ("2025-01-15T10:30:00.123Z", 1736937000123),
        ("2025-01-15T11:30:00+01:00", 1736937000000),
        ("2025-01-15T10:30:00", 1736937000000),
        (1736937000123.0, 1736937000123),  # found by schemathesis: an integral float is that integer in JSON
    ],
)
def test_timestamps(raw: float | str, expected: int) -> None:
    assert timestamp_ms(raw) == expected


@pytest.mark.parametrize(
    "raw", ["yesterday", -1, 10**15, True, 1.5, -1.0, 1e300, float("nan"), float("inf"), "2025-13-01T00:00:00Z"]
)
def test_bad_timestamps(raw: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        timestamp_ms(raw)


def test_seed_single_event_validates() -> None:
    body = {
        "key": "user-123",
        "value": {"eventType": "user-action", "timestamp": "2025-01-15T10:30:00Z"},
        "headers": {"correlationId": "abc-123", "source": "web-app"},
        "partitionKey": "user-123",
    }
    assert EVENT.validate_json(orjson.dumps(body)) == body


def test_seed_batch_validates() -> None:
    body = {
        "events": [{"key": "user-123", "value": {"eventType": "login"}}, {"key": "u", "value": {"amount": 99.99}}],
        "options": {"compression": "gzip", "timeout": 5000},
    }
    assert BATCH.validate_json(orjson.dumps(body)) == body


def test_unknown_fields_and_missing_value_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        EVENT.validate_json(b'{"vaule": 1}')
    assert {e["loc"] for e in info.value.errors()} == {("value",), ("vaule",)}


@pytest.mark.parametrize("partition", ["false", "true", '"3"', "1.5", "-1", "2147483648"])
def test_a_partition_is_an_integer_not_a_boolean_or_a_string(partition: str) -> None:
    """Found by schemathesis: pydantic's lax mode read `false` as partition 0."""
    with pytest.raises(ValidationError):
        EVENT.validate_json(f'{{"value": 1, "partition": {partition}}}')


def test_integral_floats_are_integers() -> None:
    """Found by schemathesis: strict mode refused partition 0.0 and timeout 5000.0, integers to JSON Schema."""
    assert EVENT.validate_json('{"value": 1, "partition": 1.0}') == {"value": 1, "partition": 1}
    assert EVENT.validate_json('{"value": 1, "partition": 2147483647}')["partition"] == 2**31 - 1
    batch = BATCH.validate_json('{"events": [{"value": 1, "partition": 0.0}], "options": {"timeout": 5000.0}}')
    assert batch == {"events": [{"value": 1, "partition": 0}], "options": {"timeout": 5000}}
    with pytest.raises(ValidationError):
        BATCH.validate_json('{"events": [{"value": 1}], "options": {"timeout": 0.5}}')
    assert EVENT.validate_json(b'{"value": 1, "partition": 3}') == {"value": 1, "partition": 3}


def test_a_rate_limit_is_a_number_not_a_boolean() -> None:
    with pytest.raises(ValidationError):
        RateLimitIn.model_validate_json(b'{"bytesPerSecond": false}')
    assert RateLimitIn.model_validate_json(b'{"bytesPerSecond": 5}').bytesPerSecond == 5.0

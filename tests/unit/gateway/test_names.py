from __future__ import annotations

import pytest

from gateway.errors import InvalidStreamName
from gateway.names import is_internal, validate_stream_name


@pytest.mark.parametrize("name", ["user-events", "a", "A.b_c-9", "x" * 249])
def test_legal_names(name: str) -> None:
    assert validate_stream_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (".", "not allowed"),
        ("..", "not allowed"),
        ("x" * 250, "limit is 249"),
        ("has space", "characters outside"),
        ("ünïcode", "characters outside"),
        ("a/b", "characters outside"),
        ("_private", "reserved"),
        ("__consumer_offsets", "reserved"),
    ],
)
def test_illegal_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidStreamName, match=reason):
        validate_stream_name(name)


def test_internal_topics() -> None:
    assert is_internal("__consumer_offsets")
    assert not is_internal("orders")

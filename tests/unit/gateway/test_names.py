from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from gateway.errors import GatewayError, InvalidStreamName
from gateway.names import GROUP_PATTERN, STREAM_PATTERN, is_internal, validate_group_name, validate_stream_name


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


SAMPLES = [
    "a",
    "user-events",
    "A.b_c-9",
    "x" * 249,
    "x" * 250,
    "",
    ".",
    "..",
    "...",
    ".a",
    "_internal",
    "a_b",
    "__consumer_offsets",
    "with space",
    "slash/name",
    "ünï",
    "a\n",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_the_documented_patterns_are_the_validators(name: str) -> None:
    """The OpenAPI document's patterns (ECMA-262 there; these use no construct the two dialects read differently)
    accept exactly the names the validators accept."""

    def accepted(validate: Callable[[str], str]) -> bool:
        try:
            validate(name)
        except GatewayError:
            return False
        return True

    assert (re.search(STREAM_PATTERN, name) is not None and "\n" not in name) == accepted(validate_stream_name)
    assert (re.search(GROUP_PATTERN, name) is not None and "\n" not in name) == accepted(validate_group_name)

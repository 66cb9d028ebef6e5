"""The query parameters of GET /api/v1/processors/{id}/state."""

from __future__ import annotations

import re

import pytest

from gateway import errors as ge
from gateway.parameters import POSITIONS_PATTERN
from gateway.routes.processor_state import key_candidates, parse_positions

GOOD = ("0:15,2:7", "1:3, 1:9", " 0:0 ", "")
BAD = ("0", "a:1", "0:-1", "0:1,", "0:1;1:2", "\u00b2:1", "0:\u0663")


def test_positions_are_partition_offset_pairs() -> None:
    assert parse_positions("0:15,2:7") == {0: 15, 2: 7}
    assert parse_positions("1:3, 1:9") == {1: 9}
    assert parse_positions(None) == {}
    for bad in BAD:
        with pytest.raises(ge.InvalidOffset):
            parse_positions(bad)


def test_the_documented_pattern_is_what_the_parser_takes() -> None:
    """`after`'s pattern in /openapi.json (ECMA-262, and the same in Python for these) matches exactly what parses."""
    for good in GOOD:
        assert re.fullmatch(POSITIONS_PATTERN, good), good
        parse_positions(good)
    for bad in BAD:
        assert not re.fullmatch(POSITIONS_PATTERN, bad, re.ASCII), bad


def test_a_numeric_key_may_be_its_json_number() -> None:
    assert key_candidates("u1") == ["u1"]
    assert key_candidates("42") == ["42", 42]
    assert key_candidates('"x"') == ['"x"']

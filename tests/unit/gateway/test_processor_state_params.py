"""The query parameters of GET /api/v1/processors/{id}/state."""

from __future__ import annotations

import pytest

from gateway import errors as ge
from gateway.routes.processor_state import key_candidates, parse_positions


def test_positions_are_partition_offset_pairs() -> None:
    assert parse_positions("0:15,2:7") == {0: 15, 2: 7}
    assert parse_positions("1:3, 1:9") == {1: 9}
    assert parse_positions(None) == {}
    for bad in ("0", "a:1", "0:-1", "0:1,", "0:1;1:2"):
        with pytest.raises(ge.InvalidOffset):
            parse_positions(bad)


def test_a_numeric_key_may_be_its_json_number() -> None:
    assert key_candidates("u1") == ["u1"]
    assert key_candidates("42") == ["42", 42]
    assert key_candidates('"x"') == ['"x"']

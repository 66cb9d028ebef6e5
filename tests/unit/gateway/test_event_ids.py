from __future__ import annotations

import pytest

from gateway.event_ids import EventPosition, decode, encode


def test_round_trip() -> None:
    assert decode(encode(3, 1234567)) == EventPosition(3, 1234567)
    assert encode(0, 0) == "evt_0_0"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "evt_",
        "evt_1",
        "evt_a_1",
        "evt_1_-2",
        "abc_1_2",
        "evt_1_2_3",
        "evt_1_" + "9" * 20,
        "evt_\u00b2_1",
        "evt_0_\u0663",
    ],
)
def test_rejects_foreign_ids(bad: str) -> None:
    assert decode(bad) is None

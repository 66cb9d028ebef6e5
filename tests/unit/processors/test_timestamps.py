from __future__ import annotations

from typing import Any

import pytest

from processors.events import Event
from processors.timestamps import TimestampError, TimestampFormat, TimestampRule, to_epoch_ms


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        (1_736_937_000_123, "epoch_ms", 1_736_937_000_123),
        (1_736_937_000, "epoch_s", 1_736_937_000_000),
        (1.001, "epoch_s", 1001),
        ("2025-01-15T10:30:00.123Z", "iso8601", 1_736_937_000_123),
        ("2025-01-15T11:30:00+01:00", "iso8601", 1_736_937_000_000),
        ("2025-01-15T10:30:00", "iso8601", 1_736_937_000_000),
    ],
)
def test_formats(raw: Any, fmt: TimestampFormat, expected: int) -> None:
    assert to_epoch_ms(raw, fmt) == expected


@pytest.mark.parametrize(
    ("raw", "fmt"),
    [("1700000000000", "epoch_ms"), (True, "epoch_ms"), (float("nan"), "epoch_s"), (-1, "epoch_ms"), (5, "iso8601")],
)
def test_rejected(raw: Any, fmt: TimestampFormat) -> None:
    with pytest.raises(TimestampError):
        to_epoch_ms(raw, fmt)


def test_rule_reads_a_value_field() -> None:
    rule = TimestampRule(("meta", "at"), "epoch_s")

    assert rule.extract(Event({"meta": {"at": 2}})) == 2000
    with pytest.raises(TimestampError, match=r"'meta\.at' is missing"):
        rule.extract(Event({"meta": {}}))

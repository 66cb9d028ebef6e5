"""Event times: RFC 3339 date-times with an offset, as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.lake.event_time import parse_timestamp


def test_timestamps_are_read_as_utc() -> None:
    assert parse_timestamp("2026-05-22T16:30:00+02:00") == datetime(2026, 5, 22, 14, 30, tzinfo=UTC)
    assert parse_timestamp("2026-05-22t14:30:00z") == datetime(2026, 5, 22, 14, 30, tzinfo=UTC)


def test_timestamps_need_an_offset() -> None:
    for bad in ("2026-05-22", "2026-05-22T14:30:00", "yesterday"):
        with pytest.raises(ValueError):  # noqa: PT011 - each is a plain ValueError from parsing
            parse_timestamp(bad)

"""ISO 8601 as the ingest API takes it: every accepted string names a real moment that the processors'
`setTimestamp` (iso8601) can read; everything else is refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from schemas.ingest import is_iso_8601

ACCEPTED = [
    "2025-02-12T14:32:15Z",
    "2025-02-12T14:32:15.123Z",
    "2025-02-12T14:32:15.123456789Z",
    "2025-02-12T14:32:15,5Z",
    "2025-02-12T14:32:15+01:00",
    "2025-02-12T14:32:15-0530",
    "2025-02-12T14:32:15+01",
    "2025-02-12T14:32",
    "2025-02-12T14:32:15",
    "2025-02-12",
    "20250212T143215Z",
    "20250212T143215.5+0100",
    "20250212",
]
REFUSED = [
    "",
    "12/02/2025 14:32",
    "2025-02-12 14:32:15",  # a space is RFC 3339's, not ISO 8601's
    "2025-02-12x14:32:15",
    "2025-02-12t14:32:15z",
    "2025-02-30T00:00:00Z",
    "2025-13-01",
    "2025-02-12T24:00:00Z",
    "2025-02-12T143215Z",  # extended date with basic time
    "1739370735",
    "2025-02-12T14:32:15Z ",
    "yesterday",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_iso_8601_forms_are_accepted_and_readable_by_set_timestamp(text: str) -> None:
    assert is_iso_8601(text)
    datetime.fromisoformat(text)


@pytest.mark.parametrize("text", REFUSED)
def test_other_strings_are_refused(text: str) -> None:
    assert not is_iso_8601(text)

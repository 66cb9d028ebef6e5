from __future__ import annotations

import pytest

from gateway.timefmt import iso_ms


@pytest.mark.parametrize(
    ("epoch_ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1736937000123, "2025-01-15T10:30:00.123Z"),
        (1736937000999, "2025-01-15T10:30:00.999Z"),
        (1736937001000, "2025-01-15T10:30:01.000Z"),
        (253402300799999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_iso_ms(epoch_ms: int, text: str) -> None:
    assert iso_ms(epoch_ms) == text

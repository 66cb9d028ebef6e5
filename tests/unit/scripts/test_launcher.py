"""Reading the address `scripts/kafka.py up` printed: strict, so stray output fails loudly with the line."""

from __future__ import annotations

import pytest

from scripts import launcher


@pytest.mark.parametrize(
    "stdout",
    ["", "\x1b[0m\x1b[0m127.0.0.1:9092\n", "127.0.0.1:9092 \n", "installing\n", "127.0.0.1:9092\nnoise"],
)
def test_anything_but_a_host_port_last_line_is_refused_with_the_line(stdout: str) -> None:
    with pytest.raises(ValueError, match="last line was"):
        launcher.parse_bootstrap(stdout)


def test_the_address_is_read_from_the_last_line() -> None:
    assert launcher.parse_bootstrap("installing\n127.0.0.1:41234\n") == "127.0.0.1:41234"

from __future__ import annotations

import httpx
import pytest

from kafkagate.cli import COMMANDS, exit_codes, handles
from kafkagate.client.errors import TransportError, error_for


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["streams", "list"],
        ["--url", "http://x", "produce", "s"],
        ["--output=json", "tail", "s"],
        ["-o", "json", "groups", "list"],
    ],
)
def test_client_command_lines_go_to_the_client(argv: list[str]) -> None:
    assert handles(argv)


@pytest.mark.parametrize("argv", [["serve"], ["worker"], ["--url", "http://x", "serve"], ["unknown"]])
def test_serve_worker_and_anything_else_stay_with_the_gateway(argv: list[str]) -> None:
    assert not handles(argv)


def test_every_documented_command_is_registered() -> None:
    from kafkagate.cli.app import kafkagate

    assert set(kafkagate.commands) >= COMMANDS
    assert {"serve", "worker"} <= set(kafkagate.commands)


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, 3), (403, 3), (404, 4), (409, 5), (429, 7), (503, 7), (400, 1), (422, 1), (500, 1)],
)
def test_exit_codes_follow_the_error(status: int, code: int) -> None:
    assert exit_codes.for_error(error_for(httpx.Response(status, json={}))) == code


def test_an_unreachable_gateway_is_exit_7() -> None:
    assert exit_codes.for_error(TransportError("refused")) == exit_codes.UNREACHABLE

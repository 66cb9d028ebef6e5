"""What every command shares: where the gateway is, the token, the output mode, and one client built on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from kafkagate.client import Client, RetryPolicy
from kafkagate.client.config import TOKEN_VARIABLE, URL_VARIABLE

F = TypeVar("F", bound=Callable[..., Any])
# A person at a terminal should hear about a gateway that is down within a second or two, not after the
# library's two minutes; `produce` raises its own budget, since waiting out 429s is its back-pressure.
COMMAND_RETRY = RetryPolicy(attempts=5, max_backoff_s=2.0, total_s=30.0)
PRODUCE_RETRY = RetryPolicy(attempts=30, max_backoff_s=5.0, total_s=300.0)


@dataclass
class Session:
    url: str | None = None
    token: str | None = None
    output: str = "table"
    timeout_s: float = 30.0
    _client: Client | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.url, self.token, timeout_s=self.timeout_s, retry=COMMAND_RETRY)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def session() -> Session:
    return click.get_current_context().find_root().ensure_object(Session)


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(ctx.find_root().ensure_object(Session), name, value)

    return callback


def connection_options(command: F) -> F:
    """`--url`, `--token`, `--output` and `--timeout`, accepted on the root and on every command."""
    for option in reversed(
        (
            click.option(
                "--url",
                callback=_store("url"),
                expose_value=False,
                help=f"gateway base URL [env {URL_VARIABLE}; default http://127.0.0.1:8000]",
            ),
            click.option(
                "--token", callback=_store("token"), expose_value=False, help=f"bearer token [env {TOKEN_VARIABLE}]"
            ),
            click.option(
                "-o",
                "--output",
                type=click.Choice(["table", "json"]),
                callback=_store("output"),
                expose_value=False,
                help="table (for people) or json (for scripts)",
            ),
            click.option(
                "--timeout",
                type=float,
                callback=_store("timeout_s"),
                expose_value=False,
                help="seconds per request attempt (default 30)",
            ),
        )
    ):
        command = option(command)
    return command

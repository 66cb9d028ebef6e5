"""Printing: JSON documents for `--output json`, rich tables otherwise. Errors go to standard error."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from kafkagate.client.errors import ApiError, KafkagateError

if TYPE_CHECKING:
    from rich.console import Console


class ReaderGone(Exception):
    """Standard output's reader went away (`kafkagate tail s | head`)."""


def document(value: BaseModel | dict[str, Any] | list[Any]) -> Any:
    """The wire form of a response model (camelCase names, only the fields the gateway sent), or the value."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return value


def print_json(value: BaseModel | dict[str, Any] | list[Any], *, indent: bool = True) -> None:
    option = orjson.OPT_INDENT_2 if indent else 0
    write_line(orjson.dumps(document(value), option=option))


def write_line(data: bytes) -> None:
    """One line on standard output, flushed (a tail's reader sees each event as it comes)."""
    try:
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise ReaderGone from None


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich exits with 1 here; `kafkagate.cli.app.run` treats a reader that went away as success.
            raise ReaderGone

    return QuietConsole(stderr=stderr, highlight=False, soft_wrap=False)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(grid)


def fields(title: str | None, pairs: Iterable[tuple[str, Any]]) -> None:
    """A two-column table of one object's fields."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2, 0, 0))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name, value in pairs:
        shown = orjson.dumps(value).decode() if isinstance(value, dict | list) else value
        grid.add_row(name, "" if shown is None else str(shown))
    console().print(grid)


def error(exc: KafkagateError, *, as_json: bool) -> None:
    if as_json:
        problem = exc.problem if isinstance(exc, ApiError) else {"error": "TRANSPORT", "detail": str(exc)}
        sys.stderr.write(orjson.dumps(problem).decode() + "\n")
        return
    if isinstance(exc, ApiError):
        line = f"kafkagate: {exc.status_code} {exc.error}: {exc.detail}"
        if exc.request_id:
            line += f" (request_id {exc.request_id})"
        for item in exc.errors[:20]:
            line += f"\n  {item.get('field', '')}: {item.get('message', '')}"
    else:
        line = f"kafkagate: cannot reach the gateway: {exc}"
    sys.stderr.write(line + "\n")

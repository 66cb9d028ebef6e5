"""A Server-Sent Events reader over an httpx streaming response, written from the WHATWG parsing rules (not the
gateway's framing code), for the push-consume tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

SSE = {"accept": "text/event-stream"}


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass(frozen=True)
class Event:
    id: str | None
    name: str
    data: str

    @property
    def document(self) -> Any:
        return orjson.loads(self.data)


def read_sse(response: httpx.Response) -> AsyncIterator[Comment | Event]:
    """Comments and dispatched events of a streaming response, in order, until the stream ends."""
    return parse_lines(response.aiter_lines())


async def parse_lines(lines: AsyncIterator[str]) -> AsyncIterator[Comment | Event]:
    data: list[str] = []
    event_id: str | None = None
    name = "message"
    async for line in lines:
        if line == "":
            if data:
                yield Event(event_id, name, "\n".join(data))
            data, name = [], "message"
            continue
        if line.startswith(":"):
            yield Comment(line[1:].strip())
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
        elif field == "event":
            name = value


async def until_connected(reader: AsyncIterator[Comment | Event]) -> None:
    """Read up to the gateway's `connected` comment: from then on, the member exists."""
    async for item in reader:
        if item == Comment("connected"):
            return
    raise AssertionError("the stream ended before it said it was connected")

"""Server-Sent Events on the wire (the WHATWG HTML "server-sent events" section): framing, and whether a request
asked for an event stream.

    id: evt_0_12            one event: its id, then one `data:` line per line of its data, then a blank line
    data: {"eventId": ...}
                            (blank line: the event is dispatched)
    : heartbeat             a comment, which clients ignore; it keeps proxies and idle timers from closing

A client joins an event's `data:` lines with "\\n". JSON text has line breaks only in whitespace (a string holds
them escaped), so splitting at every CR, LF or CRLF and joining with LF gives back the same JSON value.
"""

from __future__ import annotations

import re

MEDIA_TYPE = "text/event-stream"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_MEDIA_RANGE = re.compile(r"^\s*([^;\s]+)\s*(.*)$")


def event(data: bytes, *, event_id: str | None = None, name: str | None = None) -> bytes:
    """One event. `event_id` becomes the client's Last-Event-ID; `name` its type (absent: "message")."""
    lines: list[bytes] = []
    if event_id is not None:
        lines.append(b"id: " + _field(event_id))
    if name is not None:
        lines.append(b"event: " + _field(name))
    lines.extend(b"data: " + line for line in _LINE_BREAK.split(data))
    return b"\n".join(lines) + b"\n\n"


def comment(text: str = "") -> bytes:
    """A comment line; every line break in `text` starts another comment line."""
    return b"".join(b": " + line + b"\n" for line in _LINE_BREAK.split(text.encode())) + b"\n"


def retry(delay_ms: int) -> bytes:
    """How long a client waits before it reconnects, once the stream is cut."""
    return f"retry: {delay_ms}\n\n".encode()


def _field(value: str) -> bytes:
    # A line break would end the field early and a NUL makes clients ignore an id: refuse both.
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"an SSE field cannot hold line breaks or NUL: {value!r}")
    return value.encode()


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_event_stream(accept: str | None) -> bool:
    """Whether an Accept header asks for `text/event-stream` rather than JSON: it names `text/event-stream`
    (exactly; `*/*` and `text/*` do not count) with a quality above 0 and at least that of `application/json`."""
    if not accept:
        return False
    stream_q = json_q = 0.0
    for media_range in accept.split(","):
        match = _MEDIA_RANGE.match(media_range)
        if match is None:
            continue
        media, parameters = match.group(1).lower(), match.group(2)
        if media == MEDIA_TYPE:
            stream_q = max(stream_q, _quality(parameters))
        elif media == "application/json":
            json_q = max(json_q, _quality(parameters))
    return stream_q > 0 and stream_q >= json_q

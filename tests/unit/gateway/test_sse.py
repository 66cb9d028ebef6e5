"""SSE framing and Accept negotiation, checked against a small parser written from the WHATWG rules."""

from __future__ import annotations

import re

import orjson
import pytest

from gateway import sse


def parse(stream: bytes) -> list[dict[str, str]]:
    """Events as an EventSource dispatches them: lines end at CR, LF or CRLF; `data` lines joined with LF; a
    leading space after the colon is dropped; comments skipped; an event is dispatched at a blank line."""
    events: list[dict[str, str]] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", stream.decode()):
        if line == "":
            if data:
                events.append({**fields, "data": "\n".join(data)})
            data, fields = [], {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        else:
            fields[name] = value
    return events


def test_an_event_carries_its_id_and_data() -> None:
    framed = sse.event(b'{"a":1}', event_id="evt_0_12")
    assert framed == b'id: evt_0_12\ndata: {"a":1}\n\n'
    assert parse(framed) == [{"id": "evt_0_12", "data": '{"a":1}'}]


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b"\r"])
def test_multi_line_data_becomes_one_data_line_each_and_joins_back_to_the_same_json(sep: bytes) -> None:
    value = sep.join([b"{", b'  "a": [1,', b"    2],", b'  "b": "x"', b"}"])
    framed = sse.event(value, event_id="evt_1_3")
    assert framed.count(b"data: ") == 5
    assert b"\r" not in framed
    (parsed,) = parse(framed)
    assert parsed["id"] == "evt_1_3"
    assert orjson.loads(parsed["data"]) == {"a": [1, 2], "b": "x"}


def test_a_named_event_and_consecutive_events_stay_apart() -> None:
    framed = sse.event(b"1", event_id="evt_0_0") + sse.event(b'{"x":2}', name="problem") + sse.event(b"3")
    assert parse(framed) == [
        {"id": "evt_0_0", "data": "1"},
        {"event": "problem", "data": '{"x":2}'},
        {"data": "3"},
    ]


def test_data_starting_with_a_space_or_colon_survives() -> None:
    (parsed,) = parse(sse.event(b" :x"))
    assert parsed["data"] == " :x"


@pytest.mark.parametrize("bad", ["evt\n1", "evt\r1", "evt\x001"])
def test_ids_with_line_breaks_or_nul_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="line breaks or NUL"):
        sse.event(b"{}", event_id=bad)


def test_comments_and_retry_dispatch_nothing() -> None:
    assert sse.comment("heartbeat") == b": heartbeat\n\n"
    assert sse.comment("two\nlines") == b": two\n: lines\n\n"
    assert sse.retry(1000) == b"retry: 1000\n\n"
    assert parse(sse.comment("x") + sse.retry(5) + sse.comment()) == []


@pytest.mark.parametrize(
    ("accept", "stream"),
    [
        ("text/event-stream", True),
        ("Text/Event-Stream", True),
        ("text/event-stream;q=0.9, application/json;q=0.5", True),
        ("application/json, text/event-stream", True),  # equal quality: the caller named the stream
        ("application/json;q=1, text/event-stream;q=0.5", False),
        ("text/event-stream;q=0", False),
        ("text/event-stream;q=oops", False),
        ("*/*", False),
        ("text/*", False),
        ("application/json", False),
        ("", False),
        (None, False),
        (",,;", False),
    ],
)
def test_accept_negotiation(accept: str | None, stream: bool) -> None:
    assert sse.wants_event_stream(accept) is stream

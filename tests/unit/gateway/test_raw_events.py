"""The fast path of produce bodies says yes only where the full path says yes, and to the same event."""

from __future__ import annotations

import orjson
import pytest

from gateway import raw_events
from schemas.events import BATCH, EVENT

ACCEPTED = [
    b'{"value":{"a":1,"b":[true,null,"x"],"c":-2.5}}',
    b'{"key":"k","value":null}',
    b'{"key":null,"value":"text","partition":2,"timestamp":1736937000123}',
    b'{"value":1,"partitionKey":"p","headers":{"h":"v"}}',
    b'{"value":"caf\xc3\xa9 \\u00e9 \\n"}',
    b'{"value":12345678901234567}',
    b'{"value":[' + b"[" * 100 + b"]" * 100 + b"]}",
]

DECLINED = [
    b'{"value":1e400}',  # overflows to infinity in the full path
    b'{"value":1.5E3}',
    b'{"value":18446744073709551616}',  # 2**64: beyond what orjson writes
    b'{"value":"\xff"}',  # invalid UTF-8 inside a raw value
    b'{"value":' + b"[" * 300 + b"]" * 300 + b"}",  # deeper than the full path parses
    b'{"value":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    b'{"value":1,"timestamp":"2025-01-01T00:00:00Z"}',  # date-times: the full path converts them
    b'{"value":1,"partition":"2"}',  # lax coercion: the full path decides
    b'{"value":1,"partition":-1}',
    b'{"value":1,"timestamp":253402300800000}',
    b'{"value":1,"extra":true}',
    b'{"value":1,"headers":{"":"v"}}',
    b'{"key":1,"value":1}',
    b'{"key":"k"}',
    b'{"value":NaN}',
    b"[]",
    b"",
]


@pytest.mark.parametrize("body", ACCEPTED)
def test_an_accepted_event_is_the_full_paths_event_with_the_value_as_sent(body: bytes) -> None:
    fast = raw_events.event(body)
    assert fast is not None
    full = EVENT.validate_json(body)
    assert fast.key == full.get("key")
    assert fast.partition == full.get("partition")
    assert fast.partitionKey == full.get("partitionKey")
    assert fast.timestamp == full.get("timestamp")
    assert fast.headers == full.get("headers")
    stored = fast.value_bytes()
    assert (None if stored is None else orjson.loads(stored)) == full["value"]


@pytest.mark.parametrize("body", DECLINED)
def test_anything_the_full_path_would_treat_differently_is_declined(body: bytes) -> None:
    assert raw_events.event(body) is None


def test_a_batch_is_accepted_whole_or_declined_whole() -> None:
    events = [{"key": f"k{i}", "value": {"n": i}} for i in range(3)]
    body = orjson.dumps({"events": events, "options": {"compression": "lz4", "timeout": 1000}})
    fast = raw_events.batch(body)
    assert fast is not None
    assert [orjson.loads(e.value_bytes() or b"null") for e in fast.events] == [e["value"] for e in events]
    assert BATCH.validate_json(body)["options"] == {"compression": "lz4", "timeout": 1000}
    assert isinstance(fast.options, raw_events.RawOptions)
    assert fast.options.compression == "lz4"
    risky = orjson.dumps({"events": [*events, {"value": 1}]}).replace(b'"value":1}', b'"value":1e400}')
    assert raw_events.batch(risky) is None
    for refused in (b'{"events":[]}', b'{"events":[{"value":1}],"options":null}', b'{"events":[{"value":1}],"x":1}'):
        assert raw_events.batch(refused) is None


@pytest.mark.parametrize(
    ("value", "risky"),
    [
        (b'{"id":"550e8400-e29b-41d4-a716-446655440000","n":1}', False),  # hex in a string: screened, then cleared
        (b'{"n":3e5}', True),
        (b'{"n":[1,2.5E-3]}', True),
        (b'{"n": -1e+2}', True),
        (b'{"n":1234567890123456789}', True),
        (b'{"n":123456789012345678,"s":"1e5"}', False),
        (b'{"n":-1234567890123456789}', True),
        (b'{"n":1E5}', True),
        (b'{"n":-123456789012345678}', False),  # a sign and 18 digits: 19 screened zeros, cleared by the regex
        (b'{"s":"--------------------","t":"+1-555-0100"}', False),  # dashes and signs in strings: cleared too
    ],
)
def test_numbers_the_full_path_may_refuse_are_found_and_hex_in_strings_is_not(value: bytes, risky: bool) -> None:
    assert (raw_events.event(b'{"value":' + value + b"}") is None) is risky

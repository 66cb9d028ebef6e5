"""The one event every workload sends: a ~200-byte JSON value with a per-event key.

Raw records and gateway request bodies carry the same bytes: the gateway stores `orjson.dumps(value)`, and
`VALUE` is already that encoding, so both sides write identical record values.
"""

from __future__ import annotations

import orjson

VALUE: bytes = orjson.dumps(
    {
        "eventType": "page-view",
        "userId": "user-000123",
        "sessionId": "s_9f2c41d7a83b",
        "page": "/checkout/cart",
        "device": {"os": "linux", "browser": "firefox"},
        "cart": {"items": 3, "total": 99.99},
        "ts": 1736937000123,
    }
)


def key(index: int) -> str:
    return f"user-{index:06d}"


def event_body(index: int) -> bytes:
    """The JSON body of `POST /api/v1/streams/{stream}/events` for event `index`."""
    return orjson.dumps({"key": key(index), "value": orjson.Fragment(VALUE)})


def batch_body(start: int, size: int) -> bytes:
    """The JSON body of `POST .../events/batch` holding events `start` to `start + size - 1`."""
    events = [{"key": key(i), "value": orjson.Fragment(VALUE)} for i in range(start, start + size)]
    return orjson.dumps({"events": events})

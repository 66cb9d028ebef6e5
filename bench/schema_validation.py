"""What a stream schema costs per event, measured in-process on the produce path's own check.

`CompiledSchema.violations` is what `gateway/publishing.py` calls once per event of a stream with a schema, on
the value as the request parser produced it; the bench runs it over the bench's own event (`bench/payload.py`)
against a realistic schema of that event, valid and invalid, in chunks, so the clock's own cost is spread over
a chunk. Pure-Python `jsonschema` over the same events is shown beside it when installed (the test extra), as
the reason for the choice of validator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from bench import payload
from bench.measurement import Measurement, Window
from gateway.stream_schemas import CompiledSchema, compile_schema

SCENARIO = "schema check per event"
_CHUNK = 1000

# The schema a team would put on the bench's page-view stream: types, bounds, a pattern, an enum, nesting.
PAGE_VIEW = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventType", "userId", "sessionId", "page", "ts"],
    "additionalProperties": False,
    "properties": {
        "eventType": {"enum": ["page-view", "click", "purchase"]},
        "userId": {"type": "string", "pattern": "^user-[0-9]{6}$"},
        "sessionId": {"type": "string", "minLength": 4, "maxLength": 64},
        "page": {"type": "string", "pattern": "^/"},
        "device": {
            "type": "object",
            "properties": {"os": {"type": "string"}, "browser": {"type": "string"}},
            "required": ["os"],
        },
        "cart": {
            "type": "object",
            "properties": {"items": {"type": "integer", "minimum": 0}, "total": {"type": "number", "minimum": 0}},
        },
        "ts": {"type": "integer", "minimum": 0},
    },
}


def _drive(side: str, check: Callable[[Any], object], value: Any, count: int) -> Measurement:
    latencies: list[float] = []  # one per chunk: the mean per event over it (so "requests" counts chunks)
    done = 0
    with Window(None) as window:
        while done < count:
            size = min(_CHUNK, count - done)
            started = time.perf_counter()
            for _ in range(size):
                check(value)
            latencies.append((time.perf_counter() - started) / size)  # per event, averaged over the chunk
            done += size
    return Measurement(SCENARIO, side, count, window.seconds, latencies)


def _pure_python() -> Callable[[Any], object] | None:
    try:
        import jsonschema
    except ImportError:
        return None
    validator = jsonschema.Draft202012Validator(PAGE_VIEW)
    return lambda value: list(validator.iter_errors(value)) if not validator.is_valid(value) else []


def schema_overhead(count: int) -> list[Measurement]:
    """`count` checks of the bench event each: valid, invalid (two violations), and with pure-Python jsonschema."""
    schema = CompiledSchema(1, "reject", compile_schema(PAGE_VIEW))
    valid = orjson.loads(payload.VALUE)
    invalid = {**valid, "userId": "nobody", "cart": {"items": -1, "total": 99.99}}
    if schema.violations(valid) or len(schema.violations(invalid)) != 2:
        raise RuntimeError("the bench schema does not judge the bench events as intended; fix PAGE_VIEW")
    variants: list[tuple[str, Callable[[Any], object], Any]] = [
        ("valid", schema.violations, valid),
        ("invalid (2)", schema.violations, invalid),
    ]
    slow = _pure_python()
    if slow is not None:
        variants.append(("valid, jsonschema", slow, valid))
    for side, check, value in variants:  # warm-up
        _drive(side, check, value, min(count, _CHUNK))
    return [_drive(side, check, value, count) for side, check, value in variants]


def overhead_lines(measurements: list[Measurement]) -> list[str]:
    """One line per variant: median microseconds per event (of chunk means)."""
    runs = [m for m in measurements if m.scenario == SCENARIO]
    if not runs:
        return []
    lines = [f"stream schema check, median per event (in-process, jsonschema-rs, {runs[0].events:,} events each):"]
    lines += [f"  {m.side:<18} {m.percentile_ms(0.5) * 1000:7.2f} us" for m in runs]
    return lines

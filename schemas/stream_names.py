"""The names a request may give a stream or a consumer group, as JSON Schema: Kafka's topic rules, minus the
`_`-prefixed names kafkagate keeps for internal topics. `gateway/names.py` enforces the same constants; the
OpenAPI document declares these schemas wherever a path, query, header or body field names a stream or group."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

MAX_LENGTH = 249
CHARACTERS = "A-Za-z0-9._-"
# ECMA-262 patterns; tests hold them to the validators in gateway/names.py.
GROUP_PATTERN = f"^[{CHARACTERS}]{{1,{MAX_LENGTH}}}$"
STREAM_PATTERN = f"^(?!\\.\\.?$)(?!_)[{CHARACTERS}]{{1,{MAX_LENGTH}}}$"

STREAM_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_LENGTH,
    "pattern": STREAM_PATTERN,
    "description": f"[{CHARACTERS}]{{1,{MAX_LENGTH}}}, not `.` or `..`; names starting with `_` are internal topics",
}
GROUP_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": GROUP_PATTERN}

# A request field naming a stream: validated by the route (400 INVALID_STREAM_NAME), declared here.
StreamName = Annotated[str, WithJsonSchema(STREAM_NAME)]

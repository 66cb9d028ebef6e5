"""Path and query parameters: the bounds the routes enforce, and the JSON Schemas `/openapi.json` declares for
them, built from the same constants and settings so the document states exactly what a request may carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from gateway import queryparams
from gateway.settings import Settings
from schemas.events import MAX_PARTITION, TIMESTAMP
from schemas.logs import NAME_SCHEMA
from schemas.stream_names import GROUP_NAME, STREAM_NAME


@dataclass(frozen=True, slots=True)
class IntegerParameter:
    """An integer query parameter: absent or empty is `default`; outside `minimum..maximum` is a 422."""

    name: str
    default: int
    minimum: int
    maximum: int

    def read(self, params: QueryParams) -> int:
        return queryparams.integer(params, self.name, self.default, self.minimum, self.maximum)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum, "default": self.default}


@dataclass(frozen=True, slots=True)
class ReadParameters:
    """The bounds of the reading routes (group polls, partition replays, listings, previews) under one gateway's
    settings."""

    limit: IntegerParameter
    timeout_ms: IntegerParameter
    max_bytes: IntegerParameter
    page_limit: IntegerParameter  # `GET /api/v1/streams`
    preview_limit: IntegerParameter  # `GET /v1/datasets/{slug}/preview`: rows


def read_parameters(settings: Settings) -> ReadParameters:
    """Defaults never exceed their maximum, so a gateway configured below them still answers a bare request."""
    return ReadParameters(
        limit=IntegerParameter("limit", min(100, settings.consume_max_limit), 1, settings.consume_max_limit),
        timeout_ms=IntegerParameter(
            "timeout", min(1000, settings.consume_max_timeout_ms), 0, settings.consume_max_timeout_ms
        ),
        max_bytes=IntegerParameter("maxBytes", settings.consume_max_bytes, 1024, settings.consume_max_bytes),
        page_limit=IntegerParameter(
            "limit", min(100, settings.streams_page_size_max), 1, settings.streams_page_size_max
        ),
        preview_limit=IntegerParameter(
            "limit", min(10, settings.lake.preview_max_limit), 1, settings.lake.preview_max_limit
        ),
    )


# `after` of a processor's state: partition:offset pairs, comma separated (`gateway.routes.processor_state`).
POSITIONS_PATTERN = r"^(\s*[0-9]+:[0-9]+\s*(,\s*[0-9]+:[0-9]+\s*)*)?$"

# Path parameters by name; a name missing here is declared as a plain string.
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "stream": STREAM_NAME,
    "group": GROUP_NAME,
    "partition": {"type": "integer", "minimum": 0, "maximum": MAX_PARTITION},
    "log": NAME_SCHEMA,  # an event log's name to create, or its id (a UUID fits the pattern too)
    "view": NAME_SCHEMA,
}


def query_schemas(settings: Settings) -> dict[str, dict[str, Any]]:
    """The schema of each kind of query parameter the operations declare (`Operation.query`'s last member)."""
    read = read_parameters(settings)
    return {
        "limit": read.limit.schema(),
        "timeout": read.timeout_ms.schema(),
        "maxBytes": read.max_bytes.schema(),
        "page-limit": read.page_limit.schema(),
        "preview-limit": read.preview_limit.schema(),
        "offset": {
            "anyOf": [
                {"type": "string", "enum": ["earliest", "latest"]},
                {"type": "integer", "minimum": 0, "maximum": queryparams.MAX_OFFSET},
            ],
        },
        "boolean": {"type": "boolean", "default": False},
        "group": GROUP_NAME,
        "stream": STREAM_NAME,
        "string": {"type": "string"},
        "sequence": {"type": "integer", "minimum": 0},
        "positions": {"type": "string", "pattern": POSITIONS_PATTERN},
        "timestamp": TIMESTAMP,
    }

"""Log lines: plain text (the default) or one JSON object per line (`KAFKAGATE_LOG_FORMAT=json`).

Every record logged while a request is being served carries that request's `request_id`, `key_id` and `tenant`
(the tenant's slug, else its id). The request middleware puts the request's scope state in `REQUEST_STATE`, and
`RequestContextFilter` reads it when a record is made, so the principal set by authentication shows up on every
line logged after it, with no per-line lookups beyond two dict reads.

The JSON lines are built with the stdlib and orjson (already a dependency) rather than a logging library: the
formatter is a few lines, and orjson turns anything it cannot encode into its `str()` instead of failing the line.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The scope state (`scope["state"]`) of the request this task is serving; None outside requests.
REQUEST_STATE: ContextVar[dict[str, Any] | None] = ContextVar("kafkagate_request_state", default=None)

CONTEXT_FIELDS = ("request_id", "key_id", "tenant")
# What every LogRecord has; anything else on a record came from `extra=` and goes into the JSON object, except
# uvicorn's `color_message` (the message again, with ANSI colours).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class RequestContextFilter(logging.Filter):
    """Sets `request_id`, `key_id` and `tenant` on every record (None outside a request); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        state = REQUEST_STATE.get()
        if state is None:
            record.request_id = record.key_id = record.tenant = None
            return True
        record.request_id = state.get("request_id")
        principal = state.get("principal")
        if principal is None:
            record.key_id = record.tenant = None
        else:
            record.key_id = principal.key_id
            record.tenant = principal.tenant_slug or principal.tenant_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, the request context fields,
    any `extra=` fields, and `exception` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr by default) in `log_format`, with the request context filter."""
    out = logging.StreamHandler(stream)
    out.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    out.addFilter(RequestContextFilter())
    return out


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Route every logger (uvicorn's, aiokafka's, faust's, ours) through one root handler in `log_format`."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler(log_format))
    root.setLevel(level)

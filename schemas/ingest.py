"""Request and response shapes of the Streaming Ingest API (seed 001, `POST /v1/streams/ingest`).

An event is `{timestamp?, source, event, metadata?}`; members beyond these are kept (the API takes
semi-structured events), so what is stored in Kafka is the object as sent. The document names `source` and
`event` as the fields whose absence is an error and asks only that `timestamp` be ISO 8601, so `timestamp` may
be left out. The body is one event or a JSON array of them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Required

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

# ISO 8601 calendar dates and date-times, extended (2025-02-12T14:32:15.5Z) or basic (20250212T143215Z) form,
# with optional seconds, fraction and UTC offset. Every string matched here also parses with
# `datetime.fromisoformat`, which the processors' `setTimestamp` (format iso8601) uses.
_ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
    r"|\d{8}(?:T\d{2}(?:\d{2}(?:\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?:\d{2})?)?)?"
)


def is_iso_8601(text: str) -> bool:
    """Whether `text` is an ISO 8601 date or date-time that names a real moment (no 2025-02-30, no 25:00)."""
    if not _ISO_8601.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _iso_8601(text: str) -> str:
    if not is_iso_8601(text):
        raise ValueError("must be an ISO 8601 date-time")
    return text


# `_ISO_8601` with each field's range, as the document's pattern (ECMA-262): the days each month has, February's
# 29th in leap years only, and no year 0 (which `datetime` cannot hold), so it matches exactly what `is_iso_8601`
# accepts.
_H, _M = r"(?:[01][0-9]|2[0-3])", r"[0-5][0-9]"
_ZONE = rf"(?:Z|[+-]{_H}(?::?{_M})?)"
_ZONE_BASIC = rf"(?:Z|[+-]{_H}(?:{_M})?)"
_YEAR = r"(?!0000)[0-9]{4}"
# Divisible by 4, and by 400 where it ends in 00.
_LEAP_YEAR = r"(?!0000)(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"


def _calendar_date(separator: str) -> str:
    days_of = {
        "(?:0[13578]|1[02])": "(?:0[1-9]|[12][0-9]|3[01])",
        "(?:0[469]|11)": "(?:0[1-9]|[12][0-9]|30)",
        "02": "(?:0[1-9]|1[0-9]|2[0-8])",
    }
    month_days = "|".join(f"{month}{separator}{days}" for month, days in days_of.items())
    return f"(?:{_YEAR}{separator}(?:{month_days})|{_LEAP_YEAR}{separator}02{separator}29)"


ISO_8601_PATTERN = (
    rf"^(?:{_calendar_date('-')}(?:T{_H}(?::{_M}(?::{_M}(?:[.,][0-9]+)?)?)?{_ZONE}?)?"
    rf"|{_calendar_date('')}(?:T{_H}(?:{_M}(?:{_M}(?:[.,][0-9]+)?)?)?{_ZONE_BASIC}?)?)$"
)
Iso8601 = Annotated[
    str,
    AfterValidator(_iso_8601),
    Field(examples=["2025-02-12T14:32:15Z"], json_schema_extra={"pattern": ISO_8601_PATTERN}),
]


class IngestEvent(TypedDict, total=False):
    """One event. `event` holds the main event data (key-value pairs); `metadata` is optional context. A member
    that is present must have its type (a null `timestamp` is not an ISO 8601 string)."""

    __pydantic_config__ = ConfigDict(extra="allow", strict=True)  # type: ignore[misc]

    timestamp: Iso8601
    source: Required[Annotated[str, StringConstraints(min_length=1, max_length=32_767)]]
    event: Required[dict[str, Any]]
    metadata: dict[str, Any]


INGEST_EVENT = TypeAdapter(IngestEvent)
INGEST_BODY: TypeAdapter[IngestEvent | list[IngestEvent]] = TypeAdapter(
    IngestEvent | Annotated[list[IngestEvent], Field(min_length=1)]
)


class IngestAccepted(BaseModel):
    """Every event of the request was acknowledged by Kafka (acks=all)."""

    status: Literal["accepted"]
    ingested_bytes: Annotated[int, Field(ge=0, description="bytes of the request body as received")]
    stream_id: Annotated[str, Field(description="the stream's id (its Kafka topic id), whichever way it was named")]


IngestErrorCode = Literal[
    "invalid_format",
    "unauthorized",
    "forbidden",
    "not_found",
    "request_timeout",
    "method_not_allowed",
    "rate_limited",
    "overloaded",
    "unavailable",
    "timeout",
    "internal_error",
]


class IngestError(BaseModel):
    """The document's error envelope. `index` names the offending event of an array body."""

    error: IngestErrorCode
    detail: str
    index: int | None = None

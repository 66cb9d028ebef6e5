from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One record as the processor steps see it.

    ``value`` is the decoded JSON value, ``key`` the decoded record key, ``headers`` the record headers decoded to
    ``str`` (the runtime decides how to decode bytes; a repeated header name keeps the last value),
    ``timestamp`` epoch milliseconds, and ``partition``/``offset`` the position in the source stream. Steps never
    mutate an event; they return a new one, so the runtime can still dead-letter the value as received.
    """

    value: Any
    key: Any = None
    headers: Mapping[str, Any] = field(default_factory=dict)
    timestamp: int = 0
    partition: int = 0
    offset: int = 0

"""Event ids that locate the event: `evt_<partition>_<offset>` within the stream named in the URL.

A Kafka record is identified by (topic, partition, offset), and the stream is always part of the request path,
so the id only needs the other two. Encoding them in the id means the read endpoint needs no index: it fetches
exactly one record at that position.
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "evt_"


class EventPosition(NamedTuple):
    partition: int
    offset: int


def encode(partition: int, offset: int) -> str:
    return f"{PREFIX}{partition}_{offset}"


def decode(event_id: str) -> EventPosition | None:
    """The position named by `event_id`, or None when it is not a kafkagate event id."""
    if not event_id.startswith(PREFIX):
        return None
    partition, sep, offset = event_id[len(PREFIX) :].partition("_")
    if not sep or not (partition + offset).isascii() or not partition.isdigit() or not offset.isdigit():
        return None
    if len(partition) > 10 or len(offset) > 19:
        return None
    return EventPosition(int(partition), int(offset))

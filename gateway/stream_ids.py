"""Stream ids: a stream can be named by its Kafka topic id (`streamId`, a UUID) as well as by its name.

Ids resolve within the caller's namespace only: the id of another tenant's stream, or of an internal topic,
answers exactly as an id no topic has (404), so ids cannot be used to probe other tenants.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from gateway import errors as ge
from gateway.kafka.topic_ids import TopicIds
from gateway.names import is_internal
from gateway.tenancy import Namespace

# The canonical 8-4-4-4-12 form only: a 32-digit run of hex is a legal stream name and stays one.
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """A stream a request writes to: its `name` in the caller's namespace, its Kafka `topic` and id."""

    name: str
    topic: str
    stream_id: uuid.UUID


def as_stream_id(reference: str) -> uuid.UUID | None:
    """`reference` as a topic id when it is a UUID in canonical form, else None."""
    return uuid.UUID(reference) if _CANONICAL_UUID.fullmatch(reference) else None


async def resolve_for_write(ids: TopicIds, space: Namespace, reference: str) -> StreamTarget:
    """The stream `reference` (a stream id or a stream name) names in `space`. A UUID-shaped reference is tried
    as an id first, then as a name (a stream may be named like a UUID). Raises StreamNotFound."""
    stream_id = as_stream_id(reference)
    if stream_id is not None:
        topic = await ids.topic_of(stream_id)
        name = None if topic is None else space.stream(topic)
        if topic is not None and name is not None and not is_internal(name):
            return StreamTarget(name, topic, stream_id)
    try:
        topic = space.topic(reference, write=True)
    except ge.InvalidStreamName as exc:
        raise ge.StreamNotFound(f"no stream has the id or name {reference!r}") from exc
    try:
        return StreamTarget(reference, topic, await ids.id_of(topic))
    except ge.StreamNotFound:
        raise ge.StreamNotFound(f"no stream has the id or name {reference!r}") from None

"""Topic ids: the UUID Kafka gives every topic at creation, looked up by name or by id and cached briefly.

A topic id never names another topic, but a name can: a topic deleted and created again under the same name
gets a new id. Entries therefore expire (`ttl_s`), and the admin forgets a name when it creates or deletes it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import errors as ke
from aiokafka.client import AIOKafkaClient

from gateway import errors as ge
from gateway.kafka.metadata import TopicIdMetadataRequest, UnsupportedLookup, topic_ids
from gateway.kafka.translate import translate

_UNKNOWN_TOPIC_OR_PARTITION = 3
_UNKNOWN_TOPIC_ID = 100


@dataclass(frozen=True, slots=True)
class _Entry:
    topic: str
    topic_id: uuid.UUID
    expires_at: float


class TopicIds:
    """Name ↔ id lookups over Metadata v10/v12. `client` returns the connected low-level client (or raises
    BrokerUnavailable); `ttl_s` bounds how long a cached answer may outlive a deleted topic."""

    def __init__(self, client: Callable[[], AIOKafkaClient], *, ttl_s: float = 30.0, retry_after_s: int = 1):
        self._client = client
        self._ttl_s = ttl_s
        self._retry_after_s = retry_after_s
        self._by_name: dict[str, _Entry] = {}
        self._by_id: dict[uuid.UUID, _Entry] = {}

    def forget(self, topic: str) -> None:
        entry = self._by_name.pop(topic, None)
        if entry is not None:
            self._by_id.pop(entry.topic_id, None)

    async def id_of(self, topic: str) -> uuid.UUID:
        """The id of `topic`; StreamNotFound when there is no such topic."""
        found = await self.ids_of([topic])
        if topic not in found:
            raise ge.StreamNotFound(f"stream {topic!r} does not exist")
        return found[topic]

    async def ids_of(self, topics: list[str]) -> dict[str, uuid.UUID]:
        """The ids of those of `topics` that exist, in one Metadata request for the ones not cached."""
        now = time.monotonic()
        found = {t: e.topic_id for t in topics if (e := self._by_name.get(t)) is not None and e.expires_at > now}
        missing = [t for t in topics if t not in found]
        if missing:
            for error_code, name, topic_id in await self._ask(TopicIdMetadataRequest(names=missing)):
                if error_code == 0 and name is not None:
                    found[name] = self._remember(name, topic_id, now).topic_id
                elif error_code != _UNKNOWN_TOPIC_OR_PARTITION:
                    raise self._fail(ke.for_code(error_code)(), name)
        return found

    async def topic_of(self, topic_id: uuid.UUID) -> str | None:
        """The topic whose id is `topic_id`, or None when no topic has it."""
        now = time.monotonic()
        entry = self._by_id.get(topic_id)
        if entry is not None and entry.expires_at > now:
            return entry.topic
        try:
            answers = await self._ask(TopicIdMetadataRequest(ids=[topic_id.bytes]))
        except UnsupportedLookup:
            return None  # a broker before Kafka 3.1: ids can still be shown, but not resolved
        for error_code, name, found_id in answers:
            if error_code == 0 and name is not None and found_id == topic_id:
                return self._remember(name, found_id, now).topic
            if error_code not in (0, _UNKNOWN_TOPIC_ID, _UNKNOWN_TOPIC_OR_PARTITION):
                raise self._fail(ke.for_code(error_code)(), None)
        return None

    def _remember(self, topic: str, topic_id: uuid.UUID, now: float) -> _Entry:
        stale = self._by_name.get(topic)
        if stale is not None and stale.topic_id != topic_id:
            self._by_id.pop(stale.topic_id, None)
        entry = _Entry(topic, topic_id, now + self._ttl_s)
        self._by_name[topic] = self._by_id[topic_id] = entry
        return entry

    async def _ask(self, request: TopicIdMetadataRequest) -> list[tuple[int, str | None, uuid.UUID]]:
        client = self._client()
        node = client.get_random_node()
        if node is None:
            raise ge.BrokerUnavailable("no Kafka broker is known yet", retry_after_s=self._retry_after_s)
        try:
            return topic_ids(await client.send(node, request))
        except UnsupportedLookup:
            raise
        except Exception as exc:
            raise self._fail(exc, None) from exc

    def _fail(self, exc: BaseException, topic: str | None) -> ge.GatewayError:
        return translate(exc, stream=topic, retry_after_s=self._retry_after_s)

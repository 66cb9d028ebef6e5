"""Tenant namespaces: how a tenant's streams, consumer groups and processors are named in Kafka.

    untenanted stream   orders                 -> topic    orders
    tenant acme         orders                 -> topic    _t.acme.orders
    tenant acme         group billing          -> group    _t.acme.billing
    tenant acme         processor alerts       -> topics   _t.acme.alerts.dlq, _t.acme.alerts.repartition

The prefix is `_t.<slug>.`. Untenanted names may not start with `_` (internal topics), so no tenant's name can
collide with an untenanted one; slugs hold neither `.` nor `_`, so no two tenants' names can collide either,
even under Kafka's rule that `.` and `_` collide in metric names. Operators still read the topic list: the slug
says whose a topic is. A tenant sees only its own names, without the prefix; anything else answers as if it did
not exist. The root credential sees every topic by its Kafka name, internal ones included.

This module is the only place that knows the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from gateway import errors as ge
from gateway.names import MAX_LENGTH, is_internal, validate_group_name, validate_stream_name
from gateway.principal import Principal, principal

TENANT_PREFIX = "_t."


def tenant_prefix(slug: str) -> str:
    return f"{TENANT_PREFIX}{slug}."


@dataclass(frozen=True, slots=True)
class Namespace:
    """The names one principal sees. `prefix` is empty for the untenanted namespace."""

    prefix: str = ""
    root: bool = False

    # --- streams ------------------------------------------------------------------------------------------

    def topic(self, stream: str, *, write: bool = False) -> str:
        """The Kafka topic of `stream`, checking the name. Writes never reach internal topics; reads of one
        (root only) are allowed, and for anyone else an internal name is a stream that does not exist."""
        if not write and not self.prefix and is_internal(stream):
            if self.root and stream and len(stream) <= MAX_LENGTH:
                return stream
            raise ge.StreamNotFound(f"stream {stream!r} does not exist")
        topic = self.prefix + validate_stream_name(stream)
        if len(topic) > MAX_LENGTH:
            room = MAX_LENGTH - len(self.prefix)
            raise ge.InvalidStreamName(f"stream name is {len(stream)} characters; this tenant's limit is {room}")
        return topic

    def stream(self, topic: str) -> str | None:
        """The name `topic` has in this namespace, or None when it is not visible here."""
        if self.prefix:
            return topic[len(self.prefix) :] if topic.startswith(self.prefix) else None
        if is_internal(topic) and not self.root:
            return None
        return topic

    def visible(self, topics: list[str]) -> list[str]:
        """The names of the visible ones among `topics`, in their order."""
        return [name for name in map(self.stream, topics) if name is not None]

    # --- consumer groups ----------------------------------------------------------------------------------

    def group(self, group: str) -> str:
        """The Kafka group id of `group`. Untenanted groups may not use the tenant prefix (root excepted)."""
        validate_group_name(group)
        if not self.prefix and group.startswith(TENANT_PREFIX) and not self.root:
            raise ge.InvalidGroupName(f"consumer group names starting with {TENANT_PREFIX!r} are reserved")
        kafka_group = self.prefix + group
        if len(kafka_group) > MAX_LENGTH:
            raise ge.InvalidGroupName(f"consumer group {group!r} is too long for this tenant")
        return kafka_group

    def group_name(self, kafka_group: str) -> str | None:
        """The name a Kafka group id has in this namespace, or None when it is not visible here."""
        if self.prefix:
            return kafka_group[len(self.prefix) :] if kafka_group.startswith(self.prefix) else None
        if kafka_group.startswith(TENANT_PREFIX) and not self.root:
            return None
        return kafka_group

    # --- processors ---------------------------------------------------------------------------------------

    def processor(self, name: str) -> str:
        return self.prefix + name

    def processor_name(self, stored: str) -> str | None:
        return self.stream(stored) if self.prefix or stored.startswith(TENANT_PREFIX) else stored


def namespace_of(who: Principal) -> Namespace:
    if who.tenant_slug is not None:
        return Namespace(tenant_prefix(who.tenant_slug))
    return Namespace(root=who.root)


def namespace(request: Request) -> Namespace:
    """The namespace of this request's principal."""
    return namespace_of(principal(request))

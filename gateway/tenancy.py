"""Tenant namespaces: how a tenant's streams, consumer groups and processors are named in Kafka.

    untenanted stream   orders                 -> topic    orders
    tenant acme         orders                 -> topic    _t.acme.orders
    tenant acme         group billing          -> group    _t.acme.billing
    tenant acme         processor alerts       -> topics   _t.acme.alerts.dlq, _t.acme.alerts.repartition
    tenant acme         lookup table users     -> topic    _t.acme.users   (the record's `namespace`)

The prefix is `_t.<slug>.`. Untenanted names may not start with `_` (internal topics), so no tenant's name can
collide with an untenanted one; slugs hold neither `.` nor `_`, so no two tenants' names can collide either,
even under Kafka's rule that `.` and `_` collide in metric names. Operators still read the topic list: the slug
says whose a topic is. A tenant sees only its own names, without the prefix; anything else answers as if it did
not exist. The root credential sees every topic by its Kafka name, internal ones included.

This module is the only place that knows the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from gateway import errors as ge
from gateway.names import MAX_LENGTH, is_internal, validate_group_name, validate_stream_name
from gateway.principal import Principal, principal
from schemas.processors import ProcessorSpec, RouteOperation

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
        if not write and is_internal(stream):
            if self.root and not self.prefix and len(stream) <= MAX_LENGTH:
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

    def group(self, group: str, *, create: bool = False) -> str:
        """The Kafka group id of `group`. Untenanted groups may not use the tenant prefix (root excepted): a
        request that would create one is refused, and for any other such a group does not exist."""
        validate_group_name(group)
        if not self.prefix and group.startswith(TENANT_PREFIX) and not self.root:
            if create:
                raise ge.InvalidGroupName(f"consumer group names starting with {TENANT_PREFIX!r} are reserved")
            raise ge.ConsumerGroupNotFound(f"consumer group {group!r} does not exist")
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

    def processor_name(self, stored: str) -> str | None:
        """The name a stored processor has in this namespace, or None when it is not visible here."""
        return self.stream(stored) if self.prefix or stored.startswith(TENANT_PREFIX) else stored

    def processor_spec(self, spec: ProcessorSpec) -> ProcessorSpec:
        """`spec` with the names it holds (its own, source, sinks) in Kafka's terms. Lookup tables keep the names
        map functions know them by; the runtime reads them under the record's `namespace` (this prefix)."""
        if not self.prefix:
            return spec
        operations = [self._operation(op) for op in spec.operations]
        return spec.model_copy(
            update={
                "name": self.prefix + spec.name,
                "source": self.prefix + spec.source,
                "sink": None if spec.sink is None else self.prefix + spec.sink,
                "operations": operations,
            }
        )

    def _operation(self, op: Any) -> Any:
        if isinstance(op, RouteOperation):
            cases = [case.model_copy(update={"sink": self.prefix + case.sink}) for case in op.cases]
            default = None if op.default is None else self.prefix + op.default
            return op.model_copy(update={"cases": cases, "default": default})
        return op

    def spec_document(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A stored spec (camelCase JSON, Kafka's names) as this namespace shows it."""
        if not self.prefix:
            return stored

        def local(name: Any) -> Any:
            return name[len(self.prefix) :] if isinstance(name, str) and name.startswith(self.prefix) else name

        document = {**stored, "name": local(stored.get("name")), "source": local(stored.get("source"))}
        document["sink"] = local(stored.get("sink"))
        operations = []
        for op in stored.get("operations", []):
            shown = op
            if op.get("type") == "route":
                cases = [{**case, "sink": local(case.get("sink"))} for case in op.get("cases", [])]
                shown = {**op, "cases": cases, "default": local(op.get("default"))}
            operations.append(shown)
        document["operations"] = operations
        return document


def namespace_of(who: Principal) -> Namespace:
    if who.tenant_slug is not None:
        return Namespace(tenant_prefix(who.tenant_slug))
    return Namespace(root=who.root)


def namespace(request: Request) -> Namespace:
    """The namespace of this request's principal."""
    return namespace_of(principal(request))

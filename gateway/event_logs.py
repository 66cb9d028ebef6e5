"""Event logs and their views (seed 002) as a service: the registry, appends, and waiting for a view's state.

A log is a one-partition topic (`schemas.logs.log_topic`) whose records are the events: event N is the record
at offset N - 1, so sequences start at 1, strictly increase and are never reused, and an append is answered
only once Kafka acknowledged it from every in-sync replica (the gateway's idempotent `acks=all` producer). The
registry (logs and views) and the view states are replicated tables (`gateway.kafka.table`), so any gateway
answers for any log, and a view's state is read from this gateway's copy, never from the host that computes it.

Names are unique per tenant: the first registry record of a name in offset order wins; a loser removes its own
record and answers 409 (its empty topic stays behind).
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid

from gateway import errors as ge
from gateway.kafka.clients import KafkaClients
from gateway.kafka.table import ReplicatedTable
from gateway.provisioning import ensure_stream
from gateway.tenancy import Namespace
from schemas.logs import (
    LEADER_TIMEOUT_MS,
    LOG_TOPIC_CONFIGS,
    NAME_PATTERN,
    LogRecord,
    Registered,
    ViewDefinition,
    ViewRecord,
    ViewState,
    log_key,
    log_topic,
    view_key,
)

_NAME = re.compile(NAME_PATTERN)
LOG_NOT_FOUND = "log not found"
VIEW_NOT_FOUND = "view not found"


def validate_name(kind: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ge.BadRequest(f"{kind} names are 1-200 characters of [A-Za-z0-9._-], starting with a letter or digit")
    return name


def leader_ready(state: ViewState | None, now_ms: int) -> bool:
    """A leader is ready when it published (a change or its heartbeat) within `LEADER_TIMEOUT_MS`."""
    return state is not None and now_ms - state.published_at_ms <= LEADER_TIMEOUT_MS


class EventLogs:
    def __init__(self, kafka: KafkaClients):
        self.kafka = kafka
        self.registry: ReplicatedTable[Registered] = kafka.logs
        self.states: ReplicatedTable[ViewState] = kafka.view_states

    # --- logs ---------------------------------------------------------------------------------------------

    def _named(self, namespace: Namespace, name: str) -> list[tuple[int, LogRecord]]:
        return sorted(
            (entry.offset, entry.value)
            for entry in self.registry.entries().values()
            if isinstance(entry.value, LogRecord)
            and entry.value.namespace == namespace.prefix
            and entry.value.name == name
        )

    async def create(self, namespace: Namespace, name: str) -> LogRecord:
        await self.registry.sync()
        if self._named(namespace, name):
            raise ge.Conflict(f"a log named {name!r} already exists")
        log_id = str(uuid.uuid4())
        await ensure_stream(self.kafka, log_topic(log_id), 1, LOG_TOPIC_CONFIGS)
        record = LogRecord(log_id=log_id, name=name, namespace=namespace.prefix, created_at=int(time.time()))
        await self.registry.put(log_key(log_id), record.model_dump_json().encode())
        winner = self._named(namespace, name)[0][1]
        if winner.log_id != log_id:
            await self.registry.delete(log_key(log_id))
            raise ge.Conflict(f"a log named {name!r} already exists")
        return record

    async def find(self, namespace: Namespace, log_id: str) -> LogRecord:
        """The log, when `namespace` owns it (the root credential reaches every log); 404 otherwise."""
        found = self.registry.get(log_key(log_id))
        if found is None:
            await self.registry.sync()  # created through another gateway a moment ago, perhaps
            found = self.registry.get(log_key(log_id))
        if not isinstance(found, LogRecord) or not (namespace.root or found.namespace == namespace.prefix):
            raise ge.NotFound(LOG_NOT_FOUND)
        return found

    # --- views --------------------------------------------------------------------------------------------

    async def deploy(self, log: LogRecord, view: str, definition: ViewDefinition) -> ViewRecord:
        """Store the view. The same definition again keeps its deployment (and state); another one replaces it
        with a new deployment that folds the log from its first event."""
        current = await self.view(log, view, missing_ok=True)
        if current is not None and current.definition == definition:
            return current
        record = ViewRecord(
            log_id=log.log_id,
            view=view,
            deployment=str(uuid.uuid4()),
            definition=definition,
            created_at=int(time.time()),
        )
        await self.registry.put(view_key(log.log_id, view), record.model_dump_json().encode())
        if current is not None:
            await self.states.delete(current.deployment)  # the replaced deployment's state is of no more use
        return record

    async def view(self, log: LogRecord, view: str, *, missing_ok: bool = False) -> ViewRecord | None:
        key = view_key(log.log_id, view)
        found = self.registry.get(key)
        if found is None:
            await self.registry.sync()
            found = self.registry.get(key)
        if not isinstance(found, ViewRecord):
            if missing_ok:
                return None
            raise ge.NotFound(VIEW_NOT_FOUND)
        return found

    async def state(self, view: ViewRecord) -> ViewState | None:
        """This gateway's copy of the view's newest published state (None before a leader published one); the
        first call on a gateway waits for the copy to catch up, later ones answer from memory at once."""
        if not self.states.started:
            await self.states.sync()
        return self.states.get(view.deployment)

    async def state_after(self, view: ViewRecord, sequence: int, timeout_s: float) -> ViewState | None:
        """The state once it reflects event `sequence`; 504 when it does not within `timeout_s`. A sequence past
        the log's last event is a 400 at once: every append was answered with a sequence Kafka already held, so
        waiting for a later one would only ever end in that 504."""
        if sequence > 0:
            last = (await self.kafka.admin.offset_range(log_topic(view.log_id), [0]))[0][1]
            if sequence > last:
                raise ge.BadRequest(f"after {sequence} is beyond the log's last event (sequence {last})")

        def reached() -> bool:
            state = self.states.get(view.deployment)
            return sequence <= 0 or (state is not None and state.sequence >= sequence)

        if not await self.states.wait_until(reached, timeout_s):
            state = await self.state(view)
            seen = 0 if state is None else state.sequence
            leader = "its leader" if leader_ready(state, int(time.time() * 1000)) else "no leader is ready, and it"
            raise ge.OperationTimeout(
                f"the view has processed sequence {seen}; {leader} did not reach {sequence} within {timeout_s:g} s"
            )
        return await self.state(view)

    async def remove(self, log: LogRecord, view: ViewRecord) -> None:
        """Remove the view; hosts stop folding it, and its published state is deleted."""
        await self.registry.delete(view_key(log.log_id, view.view))
        await self.states.delete(view.deployment)

    async def delete(self, log: LogRecord) -> None:
        """Delete the log, its views and their states, then its topic."""
        await self.registry.sync()
        for entry in list(self.registry.entries().values()):
            if isinstance(entry.value, ViewRecord) and entry.value.log_id == log.log_id:
                await self.remove(log, entry.value)
        await self.registry.delete(log_key(log.log_id))
        with contextlib.suppress(ge.StreamNotFound):
            await self.kafka.admin.delete(log_topic(log.log_id))

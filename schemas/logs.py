"""Event logs and their views (seed 002): the records of the log registry and of the view state topic.

    _kafkagate_logs         compacted; `log/<log_id>` -> LogRecord, `view/<log_id>/<view>` -> ViewRecord
    _kafkagate_log.<log_id> one partition per log, no retention: event N is the record at offset N - 1
    _kafkagate_view_state   compacted; `<deployment>` -> ViewState (state, processed sequence, leader)

Gateways write the registry and tail both compacted topics; view hosts (`processors.views`) tail the registry,
fold each log into its views' states and publish them. The state topic is also the view's checkpoint: a host
that takes a view over restores the newest published state and reads the log on from its sequence.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LOGS_TOPIC = "_kafkagate_logs"
VIEW_STATE_TOPIC = "_kafkagate_view_state"
LOG_TOPIC_PREFIX = "_kafkagate_log."
#: Log and view names (`gateway.event_logs.validate_name`: 400 otherwise); an ECMA-262 pattern too.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
NAME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": NAME_PATTERN,
    "description": "1-200 characters of [A-Za-z0-9._-], starting with a letter or digit",
}
#: A log keeps every event: views are folds over all of it.
LOG_TOPIC_CONFIGS = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
#: A ready leader republishes its view at least this often, so a gateway can tell a live leader from a dead one.
HEARTBEAT_INTERVAL_MS = 2_000
#: A view whose newest state is older than this has no live leader (`leader_status: null`).
LEADER_TIMEOUT_MS = 10_000


def log_topic(log_id: str) -> str:
    return f"{LOG_TOPIC_PREFIX}{log_id}"


def log_key(log_id: str) -> str:
    return f"log/{log_id}"


def view_key(log_id: str, view: str) -> str:
    return f"view/{log_id}/{view}"


class LogRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: str = "log"
    log_id: str
    name: str
    namespace: str = Field(description="the owning tenant's Kafka prefix; empty for the untenanted namespace")
    created_at: int = Field(description="seconds since the epoch")


class ViewDefinition(BaseModel):
    """What `POST /logs/{log_id}/views/{view}` takes: a deterministic state machine in CEL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial: Any = Field(description="the state before the first event (any JSON value)")
    apply: str = Field(min_length=1, max_length=10_000, description="CEL over `state`, `event`, `raw`, `sequence`")
    query: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="CEL over `state`, `input`, `raw`"
    )


class ViewRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: str = "view"
    log_id: str
    view: str
    deployment: str = Field(description="a new id on every deploy: a redeployed view folds the log afresh")
    definition: ViewDefinition
    created_at: int = Field(description="seconds since the epoch")


class ViewState(BaseModel):
    """A view's state after its first `sequence` events, as its leader published it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    deployment: str
    sequence: int = Field(ge=0, description="events folded in: the state reflects events 1..sequence")
    state: Any
    errors: int = Field(default=0, description="events whose `apply` failed (each left the state unchanged)")
    last_error: str | None = None
    leader: str
    published_at_ms: int


Registered = LogRecord | ViewRecord


def decode_registered(value: bytes) -> Registered:
    """A log registry record; ValueError when it is not one."""
    try:
        document = orjson.loads(value)
        if isinstance(document, dict) and document.get("kind") == "view":
            return ViewRecord.model_validate(document)
        return LogRecord.model_validate(document)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc


def decode_view_state(value: bytes) -> ViewState:
    try:
        return ViewState.model_validate_json(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc

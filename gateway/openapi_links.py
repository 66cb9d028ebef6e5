"""OpenAPI links: which success response supplies what another operation needs, so a client (or a fuzzer's
stateful phase) can walk the API: create a stream, publish to it, poll it as a group, commit, close the group's
members, then reset or delete it; run an aggregating processor over the stream and read its state; create an
event log, append to it, deploy a view and query it; create a lake tenant, register and publish a schema, make
a dataset of it and collect an event; and read back what each step returned.

`LINKS` maps a source operation to its links, each naming its target by method and path; `links_for` renders
them with the targets' operationIds and refuses a link to an operation `OPERATIONS` does not have. A link that
sets the request body sets all of it (`x-schemathesis: {merge_body: false}`): its values only make sense
together (a commit's offsets name the polled stream, a processor's `source` the created one), and fields a
fuzzer added around them would make the request another one. `tests/contract/test_openapi_links.py` follows
every link against a gateway on a real broker, so a link that no longer leads where it says fails the tests.

schemathesis's stateful phase also starts walks at any POST that has links, sending it generated data. A commit
or an append to a generated group or log is a 404, so neither has links of its own: the group's reads, close and
reset follow the poll, and a log's deletion follows the removal of its view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.openapi_operation import API, Operation, operation_id
from schemas.lake import INTERACTION_EVENT_CLASS


@dataclass(frozen=True)
class Link:
    target: str  # "METHOD /path", as `Operation.label`
    parameters: dict[str, str]  # "in.name" -> a runtime expression or a constant (strings, as OpenAPI 3.1 wants)
    description: str
    body: Any = field(default=None)  # the target's request body (runtime expressions inside), if the link sets it


_STREAM = f"{API}/streams/{{stream}}"
_GROUP = f"{API}/consumers/{{group}}"
_PROCESSOR = f"{API}/processors/{{processor_id}}"

_CREATED_NAME = "$response.body#/name"
_CREATED = {"path.stream": _CREATED_NAME}
_SAME_STREAM = {"path.stream": "$request.path.stream"}
_POLLED_GROUP = {"path.group": "$request.query.consumerGroup"}
_SAME_GROUP = {"path.group": "$request.path.group"}
# Where the poll left partition 0; no value (the link is not followed) when another member holds that partition.
_POLLED_OFFSET = "$response.body#/metadata/nextOffsets/0"
_PROCESSOR_ID = {"path.processor_id": "$response.body#/processorId"}
_LOG = "/logs/{log_id}"
_VIEW = f"{_LOG}/views/{{view}}"
_CREATED_LOG = {"path.log_id": "$response.body#/log_id"}
_SAME_LOG = {"path.log_id": "$request.path.log_id"}
_SAME_VIEW = {**_SAME_LOG, "path.view": "$request.path.view"}
_TENANT = "header.X-Tenant-ID"
_SAME_TENANT = {_TENANT: "$request.header.X-Tenant-ID"}
_LAKE_SCHEMA = "/v1/schemas/{schema_id}"
_REGISTERED = {**_SAME_TENANT, "path.schema_id": "$response.body#/id"}
_CREATED_DATASET = {**_SAME_TENANT, "path.slug": "$response.body#/slug"}
# A lake schema of objects (the interaction-event class adds an optional RFC 3339 `timestamp`).
_LAKE_SCHEMA_IN = {
    "uri": "urn:kafkagate:links:{$response.header.X-Request-ID}",
    "title": "links",
    "class_uri": INTERACTION_EVENT_CLASS,
    "definition": {"type": "object", "properties": {"n": {"type": "integer"}}},
}

# The schema the putSchema link sets, and an event it accepts (what the publish links send).
_SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
_EVENT = {"key": "k1", "value": {"id": 1}}
# Counts events per record key in one-hour tumbling windows: a processor with state to read (`/state?key=`).
_COUNT_BY_KEY = [
    {"type": "window", "windowType": "tumbling", "duration": 3_600_000},
    {"type": "aggregate", "aggregation": "count", "groupBy": "key"},
]
# A view counting the log's events; its query answers the count whatever the input.
_COUNTER_VIEW = {"initial": 0, "apply": "state + 1", "query": "state"}

LINKS: dict[str, dict[str, Link]] = {
    f"POST {API}/streams": {
        "describe": Link(f"GET {_STREAM}", _CREATED, "the created stream"),
        "alter": Link(f"PATCH {_STREAM}", _CREATED, "alter the created stream"),
        "putSchema": Link(
            f"PUT {_STREAM}/schema",
            _CREATED,
            "set the created stream's schema: objects with an integer `id`, others refused",
            body={"schema": _SCHEMA, "onInvalid": "reject"},
        ),
        "publish": Link(f"POST {_STREAM}/events", _CREATED, "publish to the created stream", body=_EVENT),
        "publishBatch": Link(f"POST {_STREAM}/events/batch", _CREATED, "publish a batch to the created stream"),
        "poll": Link(
            f"GET {_STREAM}/events",
            {**_CREATED, "query.consumerGroup": _CREATED_NAME, "query.offset": "earliest"},
            "poll the created stream as a group named after it",
        ),
        "ingest": Link(
            "POST /v1/streams/ingest",
            {"header.X-Stream-Id": "$response.body#/streamId"},
            "ingest into the created stream by its streamId",
        ),
        "process": Link(
            f"POST {API}/processors",
            {},
            "a processor counting the created stream's events by key, named by the request id of the stream's "
            "creation (unique)",
            body={
                "name": "$response.header.X-Request-ID",
                "source": _CREATED_NAME,
                "operations": _COUNT_BY_KEY,
                "sink": "{$response.header.X-Request-ID}.out",
                "config": {"startFrom": "earliest"},
            },
        ),
    },
    # Deletions hang off a read of the resource, not its creation: a fuzzer's stateful phase may follow any link
    # of any earlier answer, and a delete right after each creation would leave the longer walks nothing to use.
    f"GET {_STREAM}": {
        "delete": Link(f"DELETE {_STREAM}", _SAME_STREAM, "delete the described stream"),
    },
    f"PUT {_STREAM}/schema": {
        "getSchema": Link(f"GET {_STREAM}/schema", _SAME_STREAM, "the schema just set"),
        "publish": Link(f"POST {_STREAM}/events", _SAME_STREAM, "publish an event the schema checks", body=_EVENT),
        "deleteSchema": Link(f"DELETE {_STREAM}/schema", _SAME_STREAM, "remove the schema just set"),
    },
    f"POST {_STREAM}/events": {
        "read": Link(
            f"GET {_STREAM}/events/{{event_id}}",
            {**_SAME_STREAM, "path.event_id": "$response.body#/eventId"},
            "the published event",
        ),
        "replay": Link(
            f"GET {_STREAM}/partitions/{{partition}}/events",
            {**_SAME_STREAM, "path.partition": "$response.body#/partition"},
            "replay the partition the event went to",
        ),
        "poll": Link(
            f"GET {_STREAM}/events",
            {**_SAME_STREAM, "query.consumerGroup": "$request.path.stream", "query.offset": "earliest"},
            "poll the stream as a group named after it",
        ),
        "offsets": Link(
            f"GET {_STREAM}/offsets", {**_SAME_STREAM, "query.timestamp": "0"}, "the stream's offsets from its start"
        ),
    },
    f"GET {_STREAM}/events": {
        "describeGroup": Link(f"GET {_GROUP}", _POLLED_GROUP, "the polling group"),
        "commit": Link(
            f"POST {_GROUP}/commit",
            _POLLED_GROUP,
            "commit what the poll read of partition 0: the group's next offset there (`nextOffsets`)",
            body={"offsets": [{"stream": "$request.path.stream", "partition": 0, "offset": _POLLED_OFFSET}]},
        ),
        "closeSessions": Link(f"DELETE {_GROUP}/sessions", _POLLED_GROUP, "close this gateway's members"),
    },
    f"DELETE {_GROUP}/sessions": {
        "describeGroup": Link(
            f"GET {_GROUP}", _SAME_GROUP, "the group, now without this gateway's members (inactive once none is left)"
        ),
        "reset": Link(
            f"POST {_GROUP}/reset",
            _SAME_GROUP,
            "reset the group to the earliest offsets of the first stream its closed members read",
            body={"stream": "$response.body#/streams/0", "to": "earliest"},
        ),
    },
    f"GET {_GROUP}": {
        "reset": Link(
            f"POST {_GROUP}/reset",
            _SAME_GROUP,
            "reset the group's first committed stream to its earliest offsets",
            body={"stream": "$response.body#/offsets/0/stream", "to": "earliest"},
        ),
        "deleteGroup": Link(f"DELETE {_GROUP}", _SAME_GROUP, "delete the group once it is inactive"),
    },
    f"POST {API}/processors": {
        "describe": Link(f"GET {_PROCESSOR}", _PROCESSOR_ID, "the created processor"),
        "replace": Link(
            f"PUT {_PROCESSOR}",
            _PROCESSOR_ID,
            "a new version with the same spec",
            body="$response.body#/spec",
        ),
        "pause": Link(f"POST {_PROCESSOR}/pause", _PROCESSOR_ID, "pause the created processor"),
        "resume": Link(f"POST {_PROCESSOR}/resume", _PROCESSOR_ID, "resume the created processor"),
        "metrics": Link(f"GET {_PROCESSOR}/metrics", _PROCESSOR_ID, "the created processor's metrics"),
        "state": Link(
            f"GET {_PROCESSOR}/state",
            {**_PROCESSOR_ID, "query.key": "k1"},
            "the created processor's state for key `k1` (its aggregate's windows; none before an event with it)",
        ),
    },
    f"GET {_PROCESSOR}": {
        "replace": Link(
            f"PUT {_PROCESSOR}", _PROCESSOR_ID, "a new version with the spec read", body="$response.body#/spec"
        ),
        "delete": Link(f"DELETE {_PROCESSOR}", _PROCESSOR_ID, "delete the described processor"),
    },
    f"PUT {_PROCESSOR}": {
        "describe": Link(f"GET {_PROCESSOR}", _PROCESSOR_ID, "the new version"),
    },
    f"POST {API}/keys": {
        "describe": Link(f"GET {API}/keys/{{key_id}}", {"path.key_id": "$response.body#/keyId"}, "the created key"),
        "revoke": Link(f"DELETE {API}/keys/{{key_id}}", {"path.key_id": "$response.body#/keyId"}, "revoke it"),
    },
    f"POST {API}/tenants": {
        "describe": Link(f"GET {API}/tenants/{{tenant}}", {"path.tenant": "$response.body#/id"}, "the tenant"),
    },
    "POST /logs/{log}": {
        "append": Link(f"POST {_LOG}/append", _CREATED_LOG, "append an event to the created log"),
        "deployView": Link(
            f"POST {_VIEW}",
            {**_CREATED_LOG, "path.view": "count"},
            "deploy a view counting the created log's events",
            body=_COUNTER_VIEW,
        ),
    },
    f"POST {_VIEW}": {
        "stats": Link(f"GET {_VIEW}/stats", _SAME_VIEW, "the deployed view's leader and progress"),
        "query": Link(f"POST {_VIEW}/query", _SAME_VIEW, "query the deployed view"),
        "append": Link(f"POST {_LOG}/append", _SAME_LOG, "append an event the view folds"),
        "deleteView": Link(f"DELETE {_VIEW}", _SAME_VIEW, "remove the deployed view"),
    },
    f"DELETE {_VIEW}": {
        "delete": Link("DELETE /logs/{log}", {"path.log": "$request.path.log_id"}, "delete the log, its view gone"),
    },
    "POST /v1/events": {
        "read": Link("GET /v1/events/{event_id}", {"path.event_id": "$response.body#/event_id"}, "the event"),
    },
    "POST /v1/tenants": {
        "registerSchema": Link(
            "POST /v1/schemas",
            {_TENANT: "$response.body#/id"},
            "register a draft schema for the created tenant, its uri made of the request id (unique)",
            body=_LAKE_SCHEMA_IN,
        ),
        "schemas": Link("GET /v1/schemas", {_TENANT: "$response.body#/id"}, "the created tenant's schemas"),
        "datasets": Link("GET /v1/datasets", {_TENANT: "$response.body#/id"}, "the created tenant's datasets"),
    },
    "POST /v1/schemas": {
        "read": Link(f"GET {_LAKE_SCHEMA}", _REGISTERED, "the registered schema"),
        "publish": Link(
            f"PATCH {_LAKE_SCHEMA}",
            _REGISTERED,
            "publish the registered schema",
            body={"status": "published"},
        ),
    },
    f"PATCH {_LAKE_SCHEMA}": {
        "createDataset": Link(
            "POST /v1/datasets",
            _SAME_TENANT,
            "a dataset of the schema just published, its slug the request id (unique)",
            body={"slug": "$response.header.X-Request-ID", "name": "links", "schema_uri": "$response.body#/uri"},
        ),
        "collect": Link(
            "POST /v1/collect",
            _SAME_TENANT,
            "an event of the schema just published",
            body={"schema_id": "$response.body#/id", "timestamp": "2026-01-01T00:00:00Z", "payload": {"n": 1}},
        ),
    },
    "POST /v1/datasets": {
        "read": Link("GET /v1/datasets/{slug}", _CREATED_DATASET, "the created dataset"),
        "preview": Link("GET /v1/datasets/{slug}/preview", _CREATED_DATASET, "the created dataset's latest rows"),
    },
}


def links_for(op: Operation, operations: Iterable[Operation]) -> dict[str, Any]:
    """The OpenAPI `links` of `op`'s success response (empty when it has none)."""
    known = {other.label: other for other in operations}
    rendered: dict[str, Any] = {}
    for name, link in LINKS.get(op.label, {}).items():
        target = known.get(link.target)
        if target is None:
            raise ValueError(f"link {name!r} of {op.label} names {link.target}, which is not an operation")
        document: dict[str, Any] = {
            "operationId": operation_id(target.method, target.path),
            "description": link.description,
        }
        if link.parameters:
            document["parameters"] = link.parameters
        if link.body is not None:
            document["requestBody"] = link.body
            document["x-schemathesis"] = {"merge_body": False}
        rendered[name] = document
    return rendered

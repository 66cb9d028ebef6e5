"""Every OpenAPI link of `/openapi.json`, followed once against a gateway on the real broker: the walks below start
from a request a client would make (create a stream, a log, a key, a tenant, a lake tenant, an intake event) and
then only follow links, adding a body where the link sets none. Each linked request must succeed, so a link whose
expressions no longer resolve, or whose values the target refuses (a body the validator rejects, an id the
target cannot find), fails here rather than leaving schemathesis's stateful phase without usable data; and a
link no walk follows fails the test too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.openapi import OPERATIONS
from gateway.openapi_operation import operation_id
from tests.contract.link_walk import Step, linked_request
from tests.integration.conftest import GatewayFactory, make_gateway
from tests.integration.lake.conftest import lake_gateway, lake_settings, tenant_prefix

pytestmark = [pytest.mark.kafka]
__all__ = ["lake_gateway", "lake_settings", "make_gateway", "tenant_prefix"]

OCTET = {"content-type": "application/octet-stream"}


@dataclass(frozen=True)
class Start:
    """A walk's first request, made as a client would."""

    name: str
    method: str
    path: str  # the operation's path template
    body: Any
    path_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Follow:
    """Follow `link` of the answer to the earlier step `source`; `body` (JSON) or `content` (bytes, with
    `headers`) is what the client sends where the link sets no body."""

    name: str
    source: str
    link: str
    body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def stream_walk(suffix: str) -> list[Start | Follow]:
    """A stream, its schema and events, its polling group up to a reset, an aggregating processor, then deletion."""
    return [
        Start("stream", "POST", "/api/v1/streams", {"name": f"links-{suffix}", "partitions": 1}),
        Follow("described", "stream", "describe"),
        Follow("altered", "stream", "alter", body={"partitions": 2}),
        Follow("ingested", "stream", "ingest", body={"source": "links", "event": {"n": 1}}),
        Follow("batch", "stream", "publishBatch", body={"events": [{"value": {"id": 2}}]}),
        Follow("schema", "stream", "putSchema"),
        Follow("schemaRead", "schema", "getSchema"),
        Follow("checked", "schema", "publish"),
        Follow("schemaGone", "schema", "deleteSchema"),
        Follow("published", "stream", "publish"),
        Follow("read", "published", "read"),
        Follow("partition", "published", "replay"),
        Follow("offsets", "published", "offsets"),
        Follow("firstPoll", "stream", "poll"),
        Follow("poll", "published", "poll"),
        Follow("group", "poll", "describeGroup"),
        Follow("commit", "poll", "commit"),
        Follow("closed", "poll", "closeSessions"),
        Follow("resetAfterClose", "closed", "reset"),
        Follow("inactive", "closed", "describeGroup"),
        Follow("reset", "inactive", "reset"),
        Follow("groupDeleted", "inactive", "deleteGroup"),
        Follow("processor", "stream", "process"),
        Follow("processorRead", "processor", "describe"),
        Follow("replaced", "processor", "replace"),
        Follow("replacedAgain", "processorRead", "replace"),
        Follow("newVersion", "replaced", "describe"),
        Follow("paused", "processor", "pause"),
        Follow("resumed", "processor", "resume"),
        Follow("metrics", "processor", "metrics"),
        Follow("state", "processor", "state"),
        Follow("processorDeleted", "processorRead", "delete"),
        Follow("deleted", "described", "delete"),
    ]


def group_walk(suffix: str) -> list[Start | Follow]:
    """A group deleted once its members are closed, without a commit."""
    return [
        Start("stream", "POST", "/api/v1/streams", {"name": f"links-group-{suffix}", "partitions": 1}),
        Follow("poll", "stream", "poll"),
        Follow("closed", "poll", "closeSessions"),
        Follow("inactive", "closed", "describeGroup"),
        Follow("groupDeleted", "inactive", "deleteGroup"),
        Follow("described", "stream", "describe"),
        Follow("deleted", "described", "delete"),
    ]


def log_walk(suffix: str) -> list[Start | Follow]:
    return [
        Start("log", "POST", "/logs/{log}", None, {"log": f"links-{suffix}"}),
        Follow("appended", "log", "append", content=b"first", headers=OCTET),
        Follow("view", "log", "deployView"),
        Follow("stats", "view", "stats"),
        Follow("answer", "view", "query", content=b"", headers=OCTET),
        Follow("appendedAgain", "view", "append", content=b"second", headers=OCTET),
        Follow("viewDeleted", "view", "deleteView"),
        Follow("deleted", "viewDeleted", "delete"),
    ]


def key_walk(suffix: str) -> list[Start | Follow]:
    return [
        Start("key", "POST", "/api/v1/keys", {"name": f"links-{suffix}", "scopes": ["consume"]}),
        Follow("described", "key", "describe"),
        Follow("revoked", "key", "revoke"),
    ]


def tenant_walk(suffix: str) -> list[Start | Follow]:
    return [
        Start("tenant", "POST", "/api/v1/tenants", {"slug": f"links-{suffix}", "name": "links"}),
        Follow("described", "tenant", "describe"),
    ]


def intake_walk(suffix: str) -> list[Start | Follow]:
    event = {
        "event_type": "links.checked",
        "occurred_at": "2026-01-01T00:00:00Z",
        "idempotency_key": f"links-{suffix}",
        "data": {"n": 1},
    }
    return [Start("event", "POST", "/v1/events", event), Follow("read", "event", "read")]


def lake_walk(suffix: str) -> list[Start | Follow]:
    """A lake tenant, a schema registered and published, a dataset of it and an event collected."""
    return [
        Start("tenant", "POST", "/v1/tenants", {"slug": f"links-{suffix}", "name": "links"}),
        Follow("schemas", "tenant", "schemas"),
        Follow("datasets", "tenant", "datasets"),
        Follow("schema", "tenant", "registerSchema"),
        Follow("schemaRead", "schema", "read"),
        Follow("published", "schema", "publish"),
        Follow("dataset", "published", "createDataset"),
        Follow("collected", "published", "collect"),
        Follow("datasetRead", "dataset", "read"),
        Follow("preview", "dataset", "preview"),
    ]


WALKS = (stream_walk, group_walk, log_walk, key_walk, tenant_walk, intake_walk)
_BY_ID = {operation_id(op.method, op.path): op for op in OPERATIONS}


def _links_of(document: dict[str, Any], op_id: str, status: int) -> dict[str, Any]:
    op = _BY_ID[op_id]
    links: dict[str, Any] = document["paths"][op.path][op.method]["responses"].get(str(status), {}).get("links", {})
    return links


async def _walk(client: httpx.AsyncClient, document: dict[str, Any], steps: list[Start | Follow]) -> set[str]:
    """Run the steps; return the links followed (`<operationId>.<link>`)."""
    done: dict[str, Step] = {}
    followed: set[str] = set()
    for item in steps:
        if isinstance(item, Start):
            path = item.path
            for name, value in item.path_params.items():
                path = path.replace(f"{{{name}}}", quote(value, safe=""))
            response = await client.request(item.method, path, json=item.body)
            op_id = operation_id(item.method.lower(), item.path)
            step = Step(op_id, item.path_params, {}, {}, item.body, response)
        else:
            source = done[item.source]
            link = _links_of(document, source.operation_id, source.response.status_code).get(item.link)
            assert link is not None, f"{source.operation_id} answered {source.response.status_code} without {item.link}"
            request = linked_request(link, source)
            target = _BY_ID[request.operation_id]
            path = target.path
            for name, value in request.path_params.items():
                path = path.replace(f"{{{name}}}", quote(value, safe=""))
            assert "{" not in path, f"link {item.link} of {source.operation_id} leaves {path} unfilled"
            headers = {**item.headers, **request.headers}
            body = request.body if request.sets_body else item.body
            content = None if body is not None else item.content
            response = await client.request(
                target.method.upper(),
                path,
                params=request.query,
                headers=headers,
                json=body if content is None else None,
                content=content,
            )
            step = Step(request.operation_id, request.path_params, request.query, headers, body, response)
            followed.add(f"{source.operation_id}.{item.link}")
        assert 200 <= step.response.status_code < 300, (
            f"{item.name} ({step.operation_id}) answered {step.response.status_code}: {step.response.text[:500]}"
        )
        done[item.name] = step
    return followed


@pytest.mark.timeout(300)
async def test_every_link_leads_where_it_says(make_gateway: GatewayFactory, lake_gateway: httpx.AsyncClient) -> None:
    client = await make_gateway(consume_max_timeout_ms=200)
    document = (await client.get("/openapi.json")).json()
    followed: set[str] = set()
    for walk in WALKS:
        followed |= await _walk(client, document, walk(uuid.uuid4().hex[:8]))
    followed |= await _walk(lake_gateway, document, lake_walk(uuid.uuid4().hex[:8]))
    rendered = {
        f"{document['paths'][path][method]['operationId']}.{name}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        for response in op["responses"].values()
        for name in response.get("links", {})
    }
    assert followed == rendered, {"not followed": rendered - followed}

"""Log lines: JSON objects carrying the request id, key id and tenant of the request being served."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.log_format import REQUEST_STATE, handler
from gateway.metrics import GatewayMetrics
from gateway.principal import ALL_SCOPES, Principal
from tests.unit.gateway.test_telemetry import app_with

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """What a JSON handler on the root logger has written so far, one parsed object per line."""
    stream = io.StringIO()
    json_handler = handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(json_handler)
    root.setLevel(logging.INFO)
    yield lambda: [orjson.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(json_handler)
    root.setLevel(level)


def test_a_line_logged_for_a_request_names_its_request_key_and_tenant(lines: Lines) -> None:
    who = Principal(key_id="key_123", scopes=ALL_SCOPES, tenant_id="0190-abc", tenant_slug="acme")
    token = REQUEST_STATE.set({"request_id": "req-7", "principal": who})
    try:
        logging.getLogger("gateway.test").warning("stream %s is full", "orders", extra={"stream": "orders"})
    finally:
        REQUEST_STATE.reset(token)
    [line] = lines()
    assert line["message"] == "stream orders is full"
    assert line["level"] == "WARNING"
    assert line["logger"] == "gateway.test"
    assert (line["request_id"], line["key_id"], line["tenant"]) == ("req-7", "key_123", "acme")
    assert line["stream"] == "orders"
    assert line["ts"].endswith("+00:00")


def test_outside_requests_there_is_no_request_context(lines: Lines) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("gateway.test").exception("failed")
    [line] = lines()
    assert "request_id" not in line
    assert "key_id" not in line
    assert "ValueError: boom" in line["exception"]


async def test_every_line_of_a_request_carries_its_id(lines: Lines) -> None:
    transport = httpx.ASGITransport(app=app_with(GatewayMetrics()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.post("/things/x", headers={"x-request-id": "req-abc"})
        await client.post("/things/y")
    ours = [line for line in lines() if line["logger"] in {"tests.handler", "kafkagate.access"}]
    first, access, second, _ = ours
    assert first["message"] == "serving x"
    assert first["request_id"] == access["request_id"] == "req-abc"
    assert access["logger"] == "kafkagate.access"
    assert (access["route"], access["status"], access["bytes"]) == ("/things/{name}", 201, 2)
    assert second["request_id"].startswith("req_")

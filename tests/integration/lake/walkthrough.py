"""The seed document's walkthrough ("Your First Event"), its curl commands pasted as they are, and a small runner
that sends them to an in-process gateway: only the base URL changes and the bearer token is added."""

from __future__ import annotations

import shlex
from typing import Any

import httpx

DOCUMENT_BASE_URL = "http://localhost:8000"

STEPS = r"""
curl -s -X POST http://localhost:8000/v1/tenants \
  -H 'Content-Type: application/json' \
  -d '{"slug": "acme", "name": "Acme Corp"}'
---
curl -s -X POST http://localhost:8000/v1/schemas \
  -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
  -d '{
    "uri": "https://ns.azothedge.com/pdm/schema/orders-v1",
    "title": "Orders",
    "class_uri": "https://ns.azothedge.com/pdm/class/interaction-event",
    "field_group_uris": [],
    "definition": {
      "type": "object",
      "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "number"},
        "timestamp": {"type": "string", "format": "date-time"}
      },
      "required": ["order_id", "timestamp"]
    }
  }'
---
curl -s -X PATCH http://localhost:8000/v1/schemas/$SCHEMA_ID \
  -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
  -d '{"status": "published"}'
---
curl -s -X POST http://localhost:8000/v1/datasets \
  -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
  -d '{
    "slug": "orders",
    "name": "Orders",
    "schema_uri": "https://ns.azothedge.com/pdm/schema/orders-v1"
  }'
---
curl -s -X POST http://localhost:8000/v1/collect \
  -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
  -d '{
    "schema_id": "https://ns.azothedge.com/pdm/schema/orders-v1",
    "timestamp": "2026-05-22T14:30:00Z",
    "payload": {"order_id": "o-1001", "amount": 42.5, "timestamp": "2026-05-22T14:30:00Z"}
  }'
---
curl -s "http://localhost:8000/v1/datasets/orders/preview?limit=10" \
  -H "X-Tenant-ID: $TENANT"
"""


def commands() -> list[str]:
    return [step.strip() for step in STEPS.split("---")]


async def curl(client: httpx.AsyncClient, command: str, env: dict[str, str], **replace: str) -> httpx.Response:
    """Run one pasted curl command (`-s`, `-X`, `-H`, `-d`) through `client`. Shell variables come from `env`;
    `replace` swaps literal text in the command first."""
    for old, new in replace.items():
        command = command.replace(old, new)
    for name, value in env.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl"
    method, headers, data, url = "GET", {}, None, ""
    rest = iter(words[1:])
    for word in rest:
        if word == "-s":
            continue
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(rest)
            method = "POST" if method == "GET" else method
        else:
            url = word
    assert url.startswith(DOCUMENT_BASE_URL), url
    path = url.removeprefix(DOCUMENT_BASE_URL)
    content: Any = None if data is None else data.encode()
    return await client.request(method, path, headers=headers, content=content)

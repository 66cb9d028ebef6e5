"""The committed contract, `schemas/openapi.json`, is what the gateway serves at `/openapi.json` with default
settings, byte for byte once rendered (sorted keys), so an API change cannot land without its contract diff."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from scripts.openapi import COMMITTED, REGENERATE, document, render
from tests.contract import test_openapi

client = test_openapi.client  # the same Kafka-less app with default settings


def drift(served: dict[str, Any], committed: dict[str, Any]) -> list[str]:
    """Where the two documents differ, as short locations (a path's operation, a component), for the message."""
    places: list[str] = []
    for section in sorted(set(served) | set(committed)):
        ours, theirs = served.get(section), committed.get(section)
        if ours == theirs:
            continue
        if isinstance(ours, dict) and isinstance(theirs, dict):
            for name in sorted(set(ours) | set(theirs)):
                if ours.get(name) != theirs.get(name):
                    places.append(f"{section}.{name}")
        else:
            places.append(section)
    return places


async def test_the_committed_document_is_the_served_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    served = response.json()
    committed = orjson.loads(COMMITTED.read_bytes())
    if served != committed:
        where = ", ".join(drift(served, committed)[:20])
        pytest.fail(f"{COMMITTED.name} differs from the served document at: {where}\nRegenerate it: {REGENERATE}")
    assert COMMITTED.read_bytes() == render(served), f"{COMMITTED.name} is not in canonical form: {REGENERATE}"


def test_the_script_writes_the_served_document() -> None:
    assert render(document()) == COMMITTED.read_bytes(), f"Regenerate it: {REGENERATE}"


def test_drift_names_the_operations_and_components_that_changed() -> None:
    before = {"paths": {"/a": {"get": 1}, "/b": {"get": 1}}, "components": {"schemas": {"X": 1}}}
    after = {"paths": {"/a": {"get": 2}, "/b": {"get": 1}}, "components": {"schemas": {"X": 1}}, "info": {}}
    assert drift(after, before) == ["info", "paths./a"]

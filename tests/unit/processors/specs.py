"""Spec documents shared by the processor and schema tests."""

from __future__ import annotations

from typing import Any

import orjson

# Verbatim from the issue (seed 003): it must validate and compile as written.
SEED_EXAMPLE = b"""
{"name":"fraud-detection","source":"transactions",
 "operations":[{"type":"filter","predicate":"value.amount > 1000"},
               {"type":"map","function":"enrichWithUserData"},
               {"type":"window","windowType":"tumbling","duration":300000},
               {"type":"aggregate","aggregation":"count","groupBy":"userId"}],
 "sink":"fraud-alerts","config":{"parallelism":4,"checkpointInterval":60000}}
"""


def seed_document() -> dict[str, Any]:
    """A fresh copy of the seed example, safe to modify."""
    document: dict[str, Any] = orjson.loads(SEED_EXAMPLE)
    return document


def spec_document(*operations: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A minimal valid spec around ``operations``."""
    document: dict[str, Any] = {"name": "p", "source": "in", "operations": list(operations), "sink": "out"}
    document.update(overrides)
    return document

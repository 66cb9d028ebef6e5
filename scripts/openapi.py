"""The committed OpenAPI document, `schemas/openapi.json`: what `GET /openapi.json` serves with default settings.

    python -m scripts.openapi           write it (`make openapi`)
    python -m scripts.openapi --check   exit 1 when the committed file differs from the code's document

Keys are sorted and indented, so the file is the same bytes whatever order the code builds the document in, and
a change to the API shows as a small diff in review. `tests/contract/test_openapi_committed.py` fails on drift.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson

COMMITTED = Path(__file__).resolve().parent.parent / "schemas" / "openapi.json"
REGENERATE = "make openapi  (or: .venv/bin/python -m scripts.openapi)"


def document() -> dict[str, Any]:
    """The document with every setting at its default, whatever KAFKAGATE_* variables are set."""
    from gateway.openapi import build_openapi

    return build_openapi(version("kafkagate"))


def render(spec: dict[str, Any]) -> bytes:
    return orjson.dumps(spec, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    expected = render(document())
    if args.check:
        if not COMMITTED.exists() or COMMITTED.read_bytes() != expected:
            print(f"{COMMITTED} is out of date; regenerate it with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    COMMITTED.write_bytes(expected)
    print(f"wrote {COMMITTED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

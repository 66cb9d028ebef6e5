"""Following the OpenAPI links of `/openapi.json` the way a client (or schemathesis's stateful phase) does: a
runtime-expression evaluator (OpenAPI 3.1 §4.8.20.4) and the request a link makes of an earlier step.

Expressions: `$response.body#/<pointer>`, `$response.header.<name>`, `$request.path.<name>`,
`$request.query.<name>`, `$request.header.<name>`, `$request.body#/<pointer>`, and strings embedding them in
braces (`{$response.header.X-Request-ID}.out`); anything else is a constant. An expression that names what the
step does not have raises `Unresolved`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

_EMBEDDED = re.compile(r"\{(\$[^{}]+)\}")


class Unresolved(LookupError):
    """A runtime expression names something the step's request or response does not have."""


@dataclass
class Step:
    """One request made and its answer, kept for the links that follow from it."""

    operation_id: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # JSON (as sent), bytes, or None
    response: httpx.Response
    links: dict[str, Any] = field(default_factory=dict)  # the links of the answered status, by name


def pointer(document: Any, path: str) -> Any:
    """RFC 6901: the value at `path` (`/a/0/b`) in `document`."""
    value = document
    for raw in path.split("/")[1:] if path else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        try:
            value = value[int(token)] if isinstance(value, list) else value[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise Unresolved(f"no {path!r} in {document!r}") from None
    return value


def _lookup(mapping: dict[str, str], name: str, where: str) -> str:
    lowered = {key.lower(): value for key, value in mapping.items()}
    if name.lower() not in lowered:
        raise Unresolved(f"the step has no {where} {name!r}")
    return lowered[name.lower()]


def expression(text: str, step: Step) -> Any:
    """The value of one runtime expression against `step`."""
    source, _, rest = text.removeprefix("$").partition(".")
    kind, _, name = rest.partition(".")
    if rest.startswith("body"):
        _, _, path = rest.partition("#")
        if source == "response":
            return pointer(step.response.json(), path)
        return pointer(step.body, path)
    if source == "response" and kind == "header":
        return _lookup(dict(step.response.headers), name, "response header")
    if source == "request" and kind in {"path", "query", "header"}:
        table = {"path": step.path_params, "query": step.query, "header": step.headers}[kind]
        return _lookup(table, name, f"{kind} parameter")
    raise ValueError(f"unsupported runtime expression {text!r}")


def evaluate(value: Any, step: Step) -> Any:
    """`value` with every runtime expression in it (nested in objects and arrays too) replaced by its value."""
    if isinstance(value, dict):
        return {key: evaluate(item, step) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, step) for item in value]
    if not isinstance(value, str):
        return value
    if value.startswith("$"):
        return expression(value, step)
    return _EMBEDDED.sub(lambda match: str(expression(match.group(1), step)), value)


@dataclass
class LinkedRequest:
    """What a link makes of an earlier step: the target's parameters by location, and its body if it sets one."""

    operation_id: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    sets_body: bool


def linked_request(link: dict[str, Any], step: Step) -> LinkedRequest:
    found: dict[str, dict[str, str]] = {"path": {}, "query": {}, "header": {}}
    for name, value in link.get("parameters", {}).items():
        where, _, parameter = name.partition(".")
        found[where][parameter] = str(evaluate(value, step))
    sets_body = "requestBody" in link
    body = evaluate(link["requestBody"], step) if sets_body else None
    return LinkedRequest(link["operationId"], found["path"], found["query"], found["header"], body, sets_body)

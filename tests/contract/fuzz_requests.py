"""How `st run` shapes the requests it generates before sending them: a `before_call` hook, loaded with the checks
through `tests/contract/fuzz_hooks.py` (`hooks` in `schemathesis.toml`).

Idempotency keys. A generated key is a short random string ("0", "A"), so a run soon sends one key with two
different requests, which kafkagate rightly refuses (422 IDEMPOTENCY_KEY_REUSED; the intake API's 400 for its
body's `idempotency_key`), or repeats a request whose stored answer is replayed: a 201 for a stream that a later
step deleted, which schemathesis then reports as a created resource not found. In the stateful phase either one
ends the walk (a commit after a poll, the steps after a stream's creation). A client sends one key per logical
request, and each generated request is one, so every valid key gets a fresh suffix. What this hides: the fuzzer
no longer sends one key twice; `tests/integration/test_idempotency.py` and `tests/integration/test_intake.py`
cover replays and reuse. Negative cases, and a key the document calls invalid (empty, too long, not printable
ASCII), are sent as generated, so their refusal is still checked.
"""

from __future__ import annotations

import secrets
from typing import Any

import schemathesis

from gateway.errors import InvalidIdempotencyKey
from gateway.idempotency import MAX_KEY_CHARS, validate_key

HEADER = "Idempotency-Key"
INTAKE_PATH = "/v1/events"
INTAKE_FIELD = "idempotency_key"
_SUFFIX_BYTES = 8  # 16 hex digits


def fresh(key: object) -> object:
    """`key` with a suffix no other request has; anything but a valid key comes back as is."""
    if not isinstance(key, str):
        return key
    try:
        validate_key(key)
    except InvalidIdempotencyKey:
        return key
    suffix = secrets.token_hex(_SUFFIX_BYTES)
    return f"{key[: MAX_KEY_CHARS - len(suffix) - 1]}-{suffix}"


def shape(method: str, path: str, headers: Any, body: Any) -> Any:
    """The body to send, with valid idempotency keys made fresh (a header in place, the intake body's field in a
    new body)."""
    if headers is not None and HEADER in headers:
        headers[HEADER] = fresh(headers[HEADER])
    if path == INTAKE_PATH and method.upper() == "POST" and isinstance(body, dict) and INTAKE_FIELD in body:
        return {**body, INTAKE_FIELD: fresh(body[INTAKE_FIELD])}
    return body


def is_positive(case: Any) -> bool:
    """Whether schemathesis meant `case` to be valid. Negative cases are sent as generated: a case that leaves out a
    required header is checked for its refusal, and changing its headers would have the missing one sent after all."""
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Called by schemathesis before it sends each case."""
    if not is_positive(case):
        return
    body = shape(case.method, case.formatted_path, case.headers, case.body)
    if body is not case.body:
        case.body = body

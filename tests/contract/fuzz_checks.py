"""Schemathesis checks of kafkagate's error contract, loaded by `st run` through `schemathesis.toml` (`hooks`):
every non-2xx answer is the envelope its API documents, carrying the request id.

- the native API (`/api/v1/...`, `/auth/token`, `/metrics`, ...): `application/problem+json` whose `request_id`
  is the response's `X-Request-ID`;
- a seed API (`gateway/envelopes.py` picks it by path): `application/json` in that document's envelope, with
  `X-Request-ID` set, and the id in the body where the envelope has a place for it (the intake API's).

The body's shape itself is the documented error schema's, which schemathesis's `response_schema_conformance`
checks; this module checks what that schema cannot say: which envelope, and that the id is this request's.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import schemathesis

from gateway.envelopes import renderer_for
from gateway.seeds import intake_envelope

PROBLEM = "application/problem+json"


def check_envelope(path: str, status: int, headers: dict[str, str], content: bytes) -> None:
    """Raise AssertionError unless a `status` answer on `path` is the documented envelope with its request id."""
    if status < 400:
        return
    request_id = headers.get("x-request-id")
    assert request_id, f"{status} on {path} has no X-Request-ID"
    media_type = headers.get("content-type", "").split(";")[0].strip()
    render = renderer_for(path)
    if render is None:
        assert media_type == PROBLEM, f"{status} on {path} is {media_type!r}, not {PROBLEM}"
        try:
            body = json.loads(content)
        except ValueError:
            raise AssertionError(f"{status} on {path}: the body is not JSON: {content[:200]!r}") from None
        assert isinstance(body, dict), f"{status} on {path}: the problem document is not an object"
        assert body.get("request_id") == request_id, f"{status} on {path}: request_id is not {request_id}"
        assert body.get("status") == status, f"{status} on {path}: the problem says status {body.get('status')}"
        return
    assert media_type == "application/json", f"{status} on {path} is {media_type!r}, not application/json"
    body = json.loads(content)
    if path.startswith(intake_envelope.PREFIX):
        assert body["error"]["request_id"] == request_id, f"{status} on {path}: request_id is not {request_id}"


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """Every non-2xx is its API's documented error envelope, with this request's id."""
    path = urlsplit(response.request.url).path
    headers = {name.lower(): values[0] for name, values in response.headers.items() if values}
    check_envelope(path, response.status_code, headers, response.content)

"""The client's error tree. Every non-2xx answer of the native API raises one of these, carrying its problem+json.

    KafkagateError                     anything this client raises on purpose
    ├── TransportError                 the gateway could not be reached, or the answer did not arrive
    └── ApiError                       the gateway answered a problem (status, code, error, request_id)
        ├── BadRequest                 400
        ├── Unauthorized               401
        ├── Forbidden                  403
        ├── NotFound                   404
        ├── RequestTimeout             408  (retriable)
        ├── Conflict                   409  (IDEMPOTENCY_KEY_IN_USE is retriable)
        ├── PayloadTooLarge            413
        ├── UnsupportedMediaType       415
        ├── ValidationFailed           422  (`errors` lists each bad field or schema violation)
        ├── RateLimited                429  (retriable, `retry_after_s`)
        ├── ServerError                500 and any other 5xx
        ├── Unavailable                503  (retriable, `retry_after_s`: Kafka down or the gateway overloaded)
        └── GatewayTimeout             504  (retriable; the outcome may be unknown)

Classes follow the HTTP status; the gateway's numeric `code` and symbolic `error` (STREAM_NOT_FOUND, ...) are on
every instance, so `except NotFound as exc: if exc.error == "STREAM_NOT_FOUND"` tells the kinds apart.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx


class KafkagateError(Exception):
    """Base of every error this client raises on purpose."""


class TransportError(KafkagateError):
    """No answer from the gateway: connection refused, reset, or timed out. Raised `from` httpx's error."""


class ApiError(KafkagateError):
    """The gateway answered with an error status; `problem` is its whole problem+json document."""

    status: ClassVar[int] = 0
    retriable_by_default: ClassVar[bool] = False

    def __init__(self, status_code: int, problem: dict[str, Any], *, retry_after_s: float | None = None) -> None:
        self.status_code = status_code
        self.problem = problem
        self.code: int | None = _int_or_none(problem.get("code"))
        self.error: str = str(problem.get("error") or f"HTTP_{status_code}")
        self.detail: str = str(problem.get("detail") or problem.get("title") or "")
        self.request_id: str | None = _str_or_none(problem.get("request_id"))
        retriable = problem.get("retriable")
        self.retriable: bool = retriable if isinstance(retriable, bool) else self.retriable_by_default
        self.retry_after_s = retry_after_s
        errors = problem.get("errors")
        self.errors: list[dict[str, Any]] = (
            [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        )
        super().__init__(f"{status_code} {self.error}: {self.detail} (request_id={self.request_id})")


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class RequestTimeout(ApiError):
    status = 408
    retriable_by_default = True


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class ValidationFailed(ApiError):
    status = 422


class RateLimited(ApiError):
    status = 429
    retriable_by_default = True


class ServerError(ApiError):
    status = 500


class Unavailable(ApiError):
    status = 503
    retriable_by_default = True


class GatewayTimeout(ApiError):
    status = 504
    retriable_by_default = True


_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        RateLimited,
        ServerError,
        Unavailable,
        GatewayTimeout,
    )
}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def retry_after_s(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds (the gateway sends whole seconds), or None when absent or unreadable.

    An HTTP-date form is not sent by the gateway; it reads as None and the caller's own backoff applies."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_for(response: httpx.Response) -> ApiError:
    """The typed error for a non-2xx response; a body that is not a problem document still gives one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem: dict[str, Any] = body if isinstance(body, dict) else {"detail": response.text[:500]}
    problem.setdefault("request_id", response.headers.get("x-request-id"))
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(status, problem, retry_after_s=retry_after_s(response))

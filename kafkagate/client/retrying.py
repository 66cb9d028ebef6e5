"""When a failed request is sent again, and after how long. Pure: the clients sleep, this only decides.

A call marked `safe` (see `kafkagate.client.calls`) is repeated after any transport failure and after the
answers that say "not now": 408, 409 IDEMPOTENCY_KEY_IN_USE (the first attempt is still running), 429, 502, 503
and 504. Any other call is repeated only when the gateway certainly did nothing: the connection never opened, or
429 (quotas are checked before a route runs). `Retry-After` is honoured, up to `max_retry_after_s`; without it the
wait doubles from `backoff_s` up to `max_backoff_s`, with jitter so a crowd of clients does not retry in step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from kafkagate.client.errors import ApiError

_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; `total_s` bounds the time spent waiting between tries (a gateway that
    keeps answering 429 makes a producer wait, which is the back-pressure, but not for ever)."""

    attempts: int = 8
    backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    max_retry_after_s: float = 30.0
    total_s: float = 120.0

    def delay_s(
        self, *, safe: bool, attempt: int, waited_s: float, failure: ApiError | httpx.TransportError
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up and raise `failure`."""
        if attempt >= self.attempts or not retriable(failure, safe=safe):
            return None
        hinted = failure.retry_after_s if isinstance(failure, ApiError) else None
        if hinted is not None:
            delay = min(hinted, self.max_retry_after_s)
        else:
            ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
            delay = ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography
        if waited_s + delay > self.total_s:
            return None
        return delay


NO_RETRIES = RetryPolicy(attempts=1)


def retriable(failure: ApiError | httpx.TransportError, *, safe: bool) -> bool:
    if isinstance(failure, httpx.TransportError):
        return safe or isinstance(failure, _NOT_SENT)
    if failure.status_code == 429:
        return True
    if not safe:
        return False
    if failure.status_code == 409:
        return failure.error == "IDEMPOTENCY_KEY_IN_USE"
    return failure.status_code in _RETRY_STATUSES

"""The `RateLimit-Policy` and `RateLimit` response fields, rendered from a key's quota and a bucket decision.

Syntax of draft-ietf-httpapi-ratelimit-headers-11 (May 2026): both fields are Structured Field lists of
items named by a string, e.g. `RateLimit-Policy: "default";q=100;w=1` and `RateLimit: "default";r=50;t=1`.
`q` is the quota per window `w` (seconds) and `qu` its unit (`requests` when absent, `content-bytes` for body
bytes); `r` is what remains and `t` the seconds until the bucket is full again (on a refusal: until the
refused request would pass, so `Retry-After` never points before the end of the window, as the draft asks).
"""

from __future__ import annotations

import math
from functools import lru_cache

from gateway.quotas import BYTES, REQUESTS, Decision, Quota

POLICY = b"ratelimit-policy"
RATELIMIT = b"ratelimit"


def quota_per_window(rate_per_s: float) -> tuple[int, int]:
    """(q, w) with integer q and w as the draft requires: one second, or the window one unit takes."""
    if rate_per_s >= 1:
        return math.floor(rate_per_s), 1
    return 1, math.ceil(1 / rate_per_s)


@lru_cache(maxsize=1024)
def policy_field(quota: Quota) -> str:
    """The policy list of `quota` (empty when unlimited); cached, since a key's policy rarely changes."""
    items: list[str] = []
    if quota.requests_per_s:
        q, w = quota_per_window(quota.requests_per_s)
        items.append(f'"{REQUESTS}";q={q};w={w}')
    if quota.bytes_per_s:
        q, w = quota_per_window(quota.bytes_per_s)
        items.append(f'"{BYTES}";q={q};qu="content-bytes";w={w}')
    return ", ".join(items)


def ratelimit_field(decision: Decision) -> str:
    return ", ".join(f'"{u.policy}";r={u.remaining};t={u.reset_s}' for u in decision.usage)


def fields(quota: Quota, decision: Decision) -> list[tuple[bytes, bytes]]:
    """Both response fields as raw ASGI headers; none for an unlimited key."""
    if not decision.usage:
        return []
    return [(POLICY, policy_field(quota).encode()), (RATELIMIT, ratelimit_field(decision).encode())]

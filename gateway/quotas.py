"""Per-key token buckets: how many requests and request-body bytes a key may send per second.

Pure code with an injectable clock, so the maths is tested without sleeping. The buckets live in one gateway
process: N gateways behind a load balancer let a key through up to N times its quota.

- A bucket holds one second's worth of tokens (`BURST_S`): a key may spend its whole per-second quota at
  once, then gets its steady rate.
- A cost larger than the whole bucket (a body bigger than one second's bytes) is admitted once the bucket is
  full and leaves it in debt; refusing it would make such a body impossible, and the debt keeps the average.
- A full bucket is indistinguishable from a new one, so full buckets are dropped by a periodic sweep, and the
  table holds at most `max_keys` keys (least recently used go first), so idle keys cost no memory.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from gateway.principal import RateLimit

Clock = Callable[[], float]
BURST_S = 1.0
REQUESTS = "default"  # the policy names of the RateLimit fields
BYTES = "bytes"
_EPSILON = 1e-9  # refill arithmetic in floats must not refuse a request for a billionth of a token


@dataclass(frozen=True, slots=True)
class Quota:
    """What one key may send per second; 0 in a field means no limit of that kind."""

    requests_per_s: float
    bytes_per_s: float

    @property
    def unlimited(self) -> bool:
        return self.requests_per_s == 0 and self.bytes_per_s == 0


def resolve(own: RateLimit | None, default: Quota) -> Quota:
    """A key's quota: its own `rateLimit` fields where set, the gateway's default for the others."""
    if own is None:
        return default
    return Quota(
        default.requests_per_s if own.requests_per_s is None else own.requests_per_s,
        default.bytes_per_s if own.bytes_per_s is None else own.bytes_per_s,
    )


@dataclass(slots=True)
class TokenBucket:
    rate_per_s: float
    tokens: float
    updated_s: float

    @classmethod
    def full(cls, rate_per_s: float, now_s: float) -> TokenBucket:
        return cls(rate_per_s, rate_per_s * BURST_S, now_s)

    @property
    def capacity(self) -> float:
        return self.rate_per_s * BURST_S

    def refill(self, now_s: float) -> None:
        elapsed_s = max(0.0, now_s - self.updated_s)
        self.tokens = min(self.capacity, self.tokens + elapsed_s * self.rate_per_s)
        self.updated_s = now_s

    def retune(self, rate_per_s: float) -> None:
        """Follow a key whose quota changed; never hand out more than the new capacity."""
        if rate_per_s != self.rate_per_s:
            self.rate_per_s = rate_per_s
            self.tokens = min(self.tokens, self.capacity)

    def wait_s(self, cost: float) -> float:
        """Seconds until `cost` may pass (0: now). A cost over capacity needs a full bucket, not more."""
        if cost <= 0:
            return 0.0
        missing = min(cost, self.capacity) - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate_per_s

    def take(self, cost: float) -> None:
        self.tokens -= cost

    def seconds_until_full(self) -> float:
        return max(0.0, self.capacity - self.tokens) / self.rate_per_s

    def full_at(self, now_s: float) -> bool:
        return self.tokens + (now_s - self.updated_s) * self.rate_per_s >= self.capacity - _EPSILON


@dataclass(frozen=True, slots=True)
class Usage:
    """One policy after a decision: `remaining` tokens (whole units) and `reset_s` until the bucket is full,
    or, for a refused policy, until the refused cost would pass."""

    policy: str
    remaining: int
    reset_s: int


@dataclass(frozen=True, slots=True)
class Decision:
    """`retry_after_s` is 0 when admitted, otherwise at least 1; `violated` names the policies that refused."""

    admitted: bool
    retry_after_s: int
    usage: tuple[Usage, ...]
    violated: tuple[str, ...] = ()


ADMITTED = Decision(admitted=True, retry_after_s=0, usage=())


@dataclass(slots=True)
class _KeyBuckets:
    requests: TokenBucket | None
    body_bytes: TokenBucket | None

    def each(self) -> tuple[tuple[str, TokenBucket], ...]:
        pairs = ((REQUESTS, self.requests), (BYTES, self.body_bytes))
        return tuple((name, bucket) for name, bucket in pairs if bucket is not None)


def _bucket(held: TokenBucket | None, rate_per_s: float, now_s: float) -> TokenBucket | None:
    if rate_per_s == 0:
        return None
    if held is None:
        return TokenBucket.full(rate_per_s, now_s)
    held.refill(now_s)
    held.retune(rate_per_s)
    return held


class QuotaTable:
    """The buckets of every key seen lately, in one process. `admit` charges a request, `charge_bytes` body
    bytes that arrive after admission (bodies without a declared length)."""

    def __init__(self, *, clock: Clock = time.monotonic, max_keys: int = 100_000, sweep_interval_s: float = 10.0):
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_interval_s = sweep_interval_s
        self._keys: OrderedDict[str, _KeyBuckets] = OrderedDict()
        self._swept_s = clock()

    def __len__(self) -> int:
        return len(self._keys)

    def _entry(self, key_id: str, quota: Quota, now_s: float) -> _KeyBuckets:
        entry = self._keys.get(key_id)
        if entry is None:
            entry = _KeyBuckets(None, None)
            self._keys[key_id] = entry
            while len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key_id)
        entry.requests = _bucket(entry.requests, quota.requests_per_s, now_s)
        entry.body_bytes = _bucket(entry.body_bytes, quota.bytes_per_s, now_s)
        return entry

    def admit(self, key_id: str, quota: Quota, body_bytes: int | None) -> Decision:
        """Charge one request of `body_bytes` (None: not declared; then the bytes bucket must only be out of
        debt, and the body is charged as it streams) or refuse it, charging nothing."""
        if quota.unlimited:
            return ADMITTED
        now_s = self._clock()
        self._maybe_sweep(now_s)
        entry = self._entry(key_id, quota, now_s)
        costs = {REQUESTS: 1.0, BYTES: 1.0 if body_bytes is None else float(body_bytes)}
        waits = {name: bucket.wait_s(costs[name]) for name, bucket in entry.each()}
        violated = tuple(name for name, wait_s in waits.items() if wait_s > 0)
        if violated:
            retry_after_s = max(1, math.ceil(max(waits.values())))
            usage = tuple(
                Usage(name, 0, max(1, math.ceil(waits[name])))
                if name in violated
                else Usage(name, _whole(bucket.tokens), math.ceil(bucket.seconds_until_full()))
                for name, bucket in entry.each()
            )
            return Decision(admitted=False, retry_after_s=retry_after_s, usage=usage, violated=violated)
        for name, bucket in entry.each():
            bucket.take(0.0 if name == BYTES and body_bytes is None else costs[name])
        usage = tuple(
            Usage(name, _whole(bucket.tokens), math.ceil(bucket.seconds_until_full())) for name, bucket in entry.each()
        )
        return Decision(admitted=True, retry_after_s=0, usage=usage)

    def charge_bytes(self, key_id: str, quota: Quota, body_bytes: int) -> None:
        """Charge body bytes that arrived after admission; the debt refuses the key's next requests."""
        if quota.bytes_per_s == 0 or body_bytes <= 0:
            return
        entry = self._entry(key_id, quota, self._clock())
        if entry.body_bytes is not None:
            entry.body_bytes.take(float(body_bytes))

    def _maybe_sweep(self, now_s: float) -> None:
        if now_s - self._swept_s >= self._sweep_interval_s:
            self.sweep()

    def sweep(self) -> int:
        """Drop the keys whose buckets have all refilled; returns how many were dropped."""
        now_s = self._clock()
        self._swept_s = now_s
        idle = [key for key, entry in self._keys.items() if all(b.full_at(now_s) for _, b in entry.each())]
        for key in idle:
            del self._keys[key]
        return len(idle)


def _whole(tokens: float) -> int:
    return max(0, math.floor(tokens + _EPSILON))

"""The idempotency ledger: claims and results of idempotency keys, folded from the records of one log.

Pure: the Kafka adapter (`gateway.kafka.idempotency_log`) writes and reads the records; this module encodes
them and decides, for every record in offset order, who owns a key. Every gateway folds the same records in the
same order with the same timestamps (the topic stamps records with the broker's append time), so every gateway
reaches the same verdict for a claim without talking to the others.

Per key (a *scope*: principal and Idempotency-Key together) the rules are:

- the first claim of a free key owns it until its lease ends; the owner extends the lease by claiming again
  (a renewal, same claim id) while it works;
- a claim while the owner's lease runs loses (409, or 422 when its fingerprint differs); a claim after the
  lease ran out without a result takes the key over (the owner is presumed dead). The new owner learns which
  requests held the key before it (`Won.lapsed`: their request ids and claim times), so it can look for what
  they wrote before running the request again (`gateway.takeover`). A lapsed claim is remembered as long as a
  result would be (the claim's `keep`), so a retry days later still learns of it;
- the owner's release frees the key (the request failed before any side effect);
- the first result stored for a key is final until it expires; later claims replay it (or get 422);
- a claim after the result expired starts over.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import orjson

CLAIM_SUFFIX = b"/claim"
_SEPARATOR = b"\n"  # between a result's JSON head and its body; orjson never writes a raw newline


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Lapsed:
    """A claim that held a key until its lease ran out, with no result: its owner may have done some or all of
    the work (records stamped with `request_id`) before it stopped."""

    request_id: str
    claimed_ms: int


@dataclass(frozen=True, slots=True)
class Won:
    lapsed: tuple[Lapsed, ...] = ()


@dataclass(frozen=True, slots=True)
class InUse:
    pass


@dataclass(frozen=True, slots=True)
class Reused:
    pass


@dataclass(frozen=True, slots=True)
class Replay:
    response: StoredResponse


Verdict = Won | InUse | Reused | Replay


def result_key(scope: str) -> bytes:
    return scope.encode()


def claim_key(scope: str) -> bytes:
    # Claims and results need different record keys: compaction keeps only the latest record per key, and a
    # claim arriving after a result must not compact the result away.
    return scope.encode() + CLAIM_SUFFIX


def claim_value(claim_id: str, fingerprint: str, lease_ms: int, request_id: str = "", keep_ms: int = 0) -> bytes:
    """A claim (or its renewal) of `claim_id`, made by request `request_id`; if it lapses, it is remembered for
    `keep_ms` after it was made."""
    return orjson.dumps({"t": "claim", "c": claim_id, "f": fingerprint, "l": lease_ms, "r": request_id, "k": keep_ms})


def release_value(claim_id: str) -> bytes:
    return orjson.dumps({"t": "release", "c": claim_id})


def result_value(claim_id: str, fingerprint: str, ttl_ms: int, response: StoredResponse) -> bytes:
    head = {"t": "result", "c": claim_id, "f": fingerprint, "x": ttl_ms, "s": response.status}
    head["h"] = [list(pair) for pair in response.headers]
    return orjson.dumps(head) + _SEPARATOR + response.body


@dataclass(slots=True)
class _Owner:
    claim_id: str
    fingerprint: str
    lease_until_ms: int
    request_id: str = ""
    claimed_ms: int = 0
    keep_until_ms: int = 0
    lapsed: tuple[Lapsed, ...] = ()


@dataclass(slots=True)
class StoredResult:
    fingerprint: str
    expires_ms: int
    response: StoredResponse


@dataclass(slots=True)
class _Entry:
    owner: _Owner | None = None
    result: StoredResult | None = None

    def free_at(self, timestamp_ms: int) -> bool:
        """Nothing holds the key at this time: a new claim starts over."""
        if self.result is not None:
            return timestamp_ms >= self.result.expires_ms
        return self.owner is None

    def until_ms(self) -> int:
        if self.result is not None:
            return self.result.expires_ms
        return max(self.owner.lease_until_ms, self.owner.keep_until_ms) if self.owner is not None else 0


@dataclass(slots=True)
class Ledger:
    """What the records read so far say about every key that is not expired."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    _expiries: list[tuple[int, str]] = field(default_factory=list)  # a heap

    def apply(self, key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
        """Fold one record in (records of one scope must come in offset order). Malformed records are skipped."""
        if key is None or value is None:
            return
        head, _, body = value.partition(_SEPARATOR)
        try:
            record = orjson.loads(head)
            scope = key.removesuffix(CLAIM_SUFFIX).decode()
            kind = record["t"]
            if kind == "claim":
                claimed = _Owner(
                    record["c"],
                    record["f"],
                    timestamp_ms + int(record["l"]),
                    str(record.get("r", "")),
                    timestamp_ms,
                    timestamp_ms + int(record.get("k", 0)),
                )
                self._claim(scope, claimed)
            elif kind == "release":
                self._release(scope, record["c"])
            elif kind == "result":
                headers = tuple((str(name), str(text)) for name, text in record["h"])
                response = StoredResponse(int(record["s"]), headers, body)
                self._result(scope, record["f"], timestamp_ms + int(record["x"]), response, timestamp_ms)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return

    def _claim(self, scope: str, claimed: _Owner) -> None:
        timestamp_ms = claimed.claimed_ms
        entry = self.entries.get(scope)
        if entry is None or entry.free_at(timestamp_ms):
            entry = self.entries[scope] = _Entry()
        if entry.result is not None:
            return
        owner = entry.owner
        if owner is not None and owner.claim_id == claimed.claim_id:
            owner.lease_until_ms = max(owner.lease_until_ms, claimed.lease_until_ms)
        elif owner is None:
            entry.owner = claimed
        elif timestamp_ms >= owner.lease_until_ms:  # a takeover: the owner stopped without a result
            claimed.lapsed = (*owner.lapsed, Lapsed(owner.request_id, owner.claimed_ms))
            claimed.keep_until_ms = max(claimed.keep_until_ms, owner.keep_until_ms)
            entry.owner = claimed
        else:
            return
        heapq.heappush(self._expiries, (entry.until_ms(), scope))

    def _release(self, scope: str, claim_id: str) -> None:
        entry = self.entries.get(scope)
        if entry is not None and entry.result is None and entry.owner and entry.owner.claim_id == claim_id:
            entry.owner = None

    def _result(self, scope: str, fingerprint: str, expires: int, response: StoredResponse, timestamp_ms: int) -> None:
        entry = self.entries.get(scope)
        if entry is None:  # its claim was compacted away: the result alone is the history
            entry = self.entries[scope] = _Entry()
        if entry.result is not None and timestamp_ms < entry.result.expires_ms:
            return
        entry.result = StoredResult(fingerprint, expires, response)
        heapq.heappush(self._expiries, (expires, scope))

    def verdict(self, scope: str, claim_id: str, fingerprint: str) -> Verdict:
        """What the claim `claim_id` got, once it has been applied."""
        entry = self.entries.get(scope)
        if entry is not None and entry.result is not None:
            if entry.result.fingerprint != fingerprint:
                return Reused()
            return Replay(entry.result.response)
        if entry is None or entry.owner is None:
            # Released (or expired and swept) since the claim was applied: the claim lost a race it may retry.
            return InUse()
        if entry.owner.claim_id == claim_id:
            return Won(entry.owner.lapsed)
        return Reused() if entry.owner.fingerprint != fingerprint else InUse()

    def stored(self, scope: str, now_ms: int) -> StoredResult | None:
        """The unexpired result of `scope`, if this ledger has read one."""
        entry = self.entries.get(scope)
        if entry is None or entry.result is None or now_ms >= entry.result.expires_ms:
            return None
        return entry.result

    def sweep(self, before_ms: int) -> None:
        """Forget keys whose lease or result ran out before `before_ms`, so memory holds only live keys.

        Pass a time well behind the newest record's timestamp: a key forgotten while a record still to come
        could find it held would make this gateway's verdicts differ from the others'."""
        expiries = self._expiries
        while expiries and expiries[0][0] <= before_ms:
            _, scope = heapq.heappop(expiries)
            entry = self.entries.get(scope)
            if entry is not None and entry.until_ms() <= before_ms:
                del self.entries[scope]

"""Idempotency keys: a request carrying `Idempotency-Key` runs at most once per principal and key.

The semantics follow Stripe and the IETF `Idempotency-Key` draft:

- The key is 1-255 printable ASCII characters (0x20-0x7E; HTTP strips spaces at either end, spaces inside
  are part of the key). Anything else is 400 `INVALID_IDEMPOTENCY_KEY`.
- A key belongs to the principal (key id and tenant) that used it: two principals never share a key.
- The first request with a key runs; its response (status, `content-type`, `location`, body) is stored for
  `KAFKAGATE_IDEMPOTENCY_TTL_S` (24 h) after it completed. A repeat of the same request (same method, path,
  query and body bytes) gets the stored response byte for byte, with `Idempotent-Replayed: true`, and runs
  nothing again. The same key with a different request is 422 `IDEMPOTENCY_KEY_REUSED`.
- A response that did something is stored after it went out, so the claim is the key's only write on the
  request's path. Until the stored response is acknowledged, a repeat at the gateway that answered replays it
  from memory, and a repeat elsewhere is 409; should the gateway stop before it is stored, the claim lapses like
  any other (below) and the takeover finds the records the request wrote.
- While the first request runs, a repeat is 409 `IDEMPOTENCY_KEY_IN_USE` with `Retry-After`.
- Responses that mean nothing happened are not stored (4xx, and 503: Kafka was not reachable): the key is
  released, so a corrected retry runs. Every other response is stored, 5xx included.
- A produce that timed out (504, or batch entries with `"outcome": "unknown"`) keeps the key in use until Kafka
  tells the gateway what became of the records; then the real outcome is stored and replayed.
- A gateway that stops (a crash) while it owns a key leaves a claim that lapses with its lease. The next claim
  takes the key over and learns of the lapsed claims (`lapsed(request)`); routes that write records first look
  for the records those claims wrote (`gateway.takeover`) and answer with them instead of writing them again.

Ownership is decided in Kafka (`gateway.kafka.idempotency_log`), so it holds across restarts and any number of
gateways. Routes opt in where they are registered (`idempotent(handler)`); a route whose outcome may arrive
after its response calls `settle_later`. An API whose key travels elsewhere (a seed API's body field) validates
it itself and calls `IdempotencyKeys.handle_key` with the key, the bytes that define "the same request" and a
`realm`, so its keys never meet the header's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from gateway import errors as ge
from gateway.bodies import read_body
from gateway.context import request_id
from gateway.envelopes import error_response
from gateway.idempotency_ledger import InUse, Lapsed, Replay, Reused, StoredResponse, StoredResult
from gateway.kafka.idempotency_log import IdempotencyLog
from gateway.principal import Principal, principal
from gateway.settings import Settings

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
RECORD_HEADER = "idempotency-key"  # copied onto produced records, so consumers can dedupe too
REPLAYED_HEADER = "idempotent-replayed"
MAX_KEY_CHARS = 255
STORED_HEADERS = ("content-type", "location")
IN_USE_RETRY_AFTER_S = 1
_SETTLE = "kafkagate.idempotency.settle"
_LAPSED = "kafkagate.idempotency.lapsed"

Endpoint = Callable[[Request], Awaitable[Response]]
Settle = Callable[[], Awaitable[Response]]
Run = Callable[[], Awaitable[Response]]  # the request's work, once its key is won
T = TypeVar("T")


def validate_key(raw: str) -> str:
    if not 1 <= len(raw) <= MAX_KEY_CHARS:
        raise ge.InvalidIdempotencyKey(f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters; got {len(raw)}")
    if not all(" " <= char <= "~" for char in raw):
        raise ge.InvalidIdempotencyKey("Idempotency-Key must be printable ASCII (0x20-0x7E)")
    return raw


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:  # length-prefixed, so no two different tuples hash the same bytes
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()


def _who(who: Principal) -> tuple[bytes, bytes]:
    # A tenant id of None and "" must differ: the untenanted namespace is not a tenant named "".
    return who.key_id.encode(), b"\x00" if who.tenant_id is None else b"t" + who.tenant_id.encode()


def scope_of(who: Principal, key: str, realm: str = "") -> str:
    """The name a key goes by in the log: the principal and the key, hashed (keys never appear in Kafka). A
    non-empty `realm` gives an API's keys a namespace of their own; the header's keys have none."""
    if realm:
        return _digest(b"scope", *_who(who), key.encode(), realm.encode())
    return _digest(b"scope", *_who(who), key.encode())


def fingerprint(who: Principal, method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same request": principal, method, path, query and body bytes."""
    return _digest(b"request", *_who(who), method.encode(), path.encode(), query.encode(), body)


def stored_response(response: Response) -> StoredResponse:
    headers = tuple((name, response.headers[name]) for name in STORED_HEADERS if name in response.headers)
    return StoredResponse(response.status_code, headers, bytes(response.body))


def replay(stored: StoredResponse) -> Response:
    return Response(stored.body, stored.status, headers={**dict(stored.headers), REPLAYED_HEADER: "true"})


def releases_key(status: int) -> bool:
    """Whether a response means the request did nothing, so the key is given back rather than stored."""
    return 400 <= status < 500 or status == 503


def settle_later(
    request: Request, outcome: Callable[[], Awaitable[T | ge.GatewayError]], render: Callable[[T], Response]
) -> None:
    """Tell the idempotency layer this request's real outcome arrives after its response: `outcome()` waits
    for it and `render` turns it into the response to store. Does nothing for a request without a key."""
    state = request.scope["state"]
    if _SETTLE not in state:
        return
    path, rid = request.url.path, request_id(request)

    async def final() -> Response:
        result = await outcome()
        if isinstance(result, ge.GatewayError):
            return error_response(result, path, rid)
        return render(result)

    state[_SETTLE] = final


def lapsed(request: Request) -> tuple[Lapsed, ...]:
    """The claims that held this request's key before it and lapsed without a result (empty for almost every
    request): they may have done some of the work, and a route that writes records looks for theirs first."""
    found: tuple[Lapsed, ...] = request.scope["state"].get(_LAPSED, ())
    return found


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class _Lease:
    # Renews a won claim every third of its lease while the request (or its late outcome) is pending; a timer
    # rather than a task per request, because almost every request ends long before the first renewal.

    def __init__(self, keys: IdempotencyKeys, scope: str, claim_id: str, fingerprint: str):
        self._keys, self._args = keys, (scope, claim_id, fingerprint)
        self._period_s = keys.lease_ms / 3000
        self._handle: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(self._period_s, self._due)

    def _due(self) -> None:
        self._keys.log.spawn(self._renew())

    async def _renew(self) -> None:
        try:
            await self._keys.log.renew(*self._args, self._keys.lease_ms)
        except ge.GatewayError as exc:
            log.warning("could not renew an idempotency claim: %s", exc.detail)
        if self._handle is not None:
            self._handle = asyncio.get_running_loop().call_later(self._period_s, self._due)

    def end(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class IdempotencyKeys:
    """The per-request flow over an `IdempotencyLog`.

    The lease (how long a claim holds a key without renewal before another claim may take it over) is twice
    the longest a gateway waits on Kafka (60 s by default); owners renew it every third of that while they work,
    so only an owner that stopped (a crash, a stalled event loop) loses its key. `on_replay` is called once per
    stored response replayed (the replay counter).
    """

    def __init__(self, settings: Settings, log: IdempotencyLog, on_replay: Callable[[], None] = lambda: None):
        self.log = log
        self._settings = settings
        self.on_replay = on_replay
        self.lease_ms = 2 * max(settings.produce_timeout_ms, settings.admin_request_timeout_ms)
        # Responses sent but not yet acknowledged by the log, by scope (see the module: stored after the response).
        self._storing: dict[str, StoredResult] = {}

    async def handle(self, request: Request, handler: Endpoint) -> Response:
        raw = request.headers.get(HEADER)
        if raw is None:
            return await handler(request)
        key = validate_key(raw)
        body = await read_body(request, self._settings.max_body_bytes)
        who = principal(request)
        digest = fingerprint(who, request.method, request.url.path, request.url.query, body)
        replayed = Request(request.scope, _replaying(body, request.receive))
        return await self._once(request, lambda: handler(replayed), scope_of(who, key), digest)

    async def handle_key(self, request: Request, run: Run, key: str, request_bytes: bytes, realm: str) -> Response:
        """`run()` at most once per principal, `realm` and `key`, with the semantics of this module.

        For APIs whose key is not the header: the route has read and validated the body and the key itself.
        `request_bytes` define "the same request" (with the method and path); pass a canonical form of what was
        parsed, so that a retry serialized differently is still the same request.
        """
        who = principal(request)
        digest = fingerprint(who, request.method, request.url.path, "", request_bytes)
        return await self._once(request, run, scope_of(who, key, realm), digest)

    async def _once(self, request: Request, run: Run, scope: str, digest: str) -> Response:
        stored = self.log.stored(scope) or self._storing.get(scope)
        if stored is not None:
            if stored.fingerprint != digest:
                raise self._reused()
            self.on_replay()
            return replay(stored.response)
        claim_id = secrets.token_hex(8)
        verdict = await self.log.claim(scope, claim_id, digest, self.lease_ms, request_id(request))
        if isinstance(verdict, Replay):
            self.on_replay()
            return replay(verdict.response)
        if isinstance(verdict, Reused):
            raise self._reused()
        if isinstance(verdict, InUse):
            raise ge.IdempotencyKeyInUse(
                "a request with this Idempotency-Key is still in progress; retry later",
                retry_after_s=IN_USE_RETRY_AFTER_S,
            )
        if verdict.lapsed:
            request.scope["state"][_LAPSED] = verdict.lapsed
        return await self._run(request, run, (scope, claim_id, digest))

    @staticmethod
    def _reused() -> ge.IdempotencyKeyReused:
        return ge.IdempotencyKeyReused("this Idempotency-Key was used with a different request")

    async def _run(self, request: Request, run: Run, claim: tuple[str, str, str]) -> Response:
        state = request.scope["state"]
        state[_SETTLE] = None
        lease = _Lease(self, *claim)
        try:
            response = await run()
        except ge.GatewayError as exc:
            response = error_response(exc, request.url.path, request_id(request))
            if exc.leaves_claim:
                lease.end()
                return response
        except BaseException:
            lease.end()
            # Unknown failure (a bug, or cancelled): give the key back so the client is not locked out.
            self.log.spawn(self._finish(claim, None))
            raise
        settle: Settle | None = state.pop(_SETTLE, None)
        if settle is not None:
            self.log.spawn(self._settle(claim, settle, lease))
            return response
        lease.end()
        if releases_key(response.status_code):
            await self._finish(claim, response)  # before answering: a corrected retry must find the key free
        else:
            self._store_after(claim, response)
        return response

    def _store_after(self, claim: tuple[str, str, str], response: Response) -> None:
        scope, _, digest = claim
        pending = self._storing[scope] = StoredResult(digest, 0, stored_response(response))

        async def store() -> None:
            try:
                await self._record(claim, pending.response)
            finally:
                if self._storing.get(scope) is pending:
                    del self._storing[scope]

        self.log.spawn(store())

    async def _settle(self, claim: tuple[str, str, str], settle: Settle, lease: _Lease) -> None:
        try:
            response = await settle()
        except Exception:
            # The outcome stays unknown; the claim lapses with its lease and a retry after that runs again.
            log.exception("could not learn the late outcome of an idempotent request")
            return
        finally:
            lease.end()
        await self._finish(claim, response)

    async def _finish(self, claim: tuple[str, str, str], response: Response | None) -> None:
        stored = None if response is None or releases_key(response.status_code) else stored_response(response)
        await self._record(claim, stored)

    async def _record(self, claim: tuple[str, str, str], stored: StoredResponse | None) -> None:
        """Store the response, or release the key when there is none to keep."""
        scope, claim_id, digest = claim
        try:
            if stored is None:
                await self.log.release(scope, claim_id)
            else:
                await self.log.complete(scope, claim_id, digest, stored)
        except ge.GatewayError as exc:
            # The response stands; the key stays claimed until its lease runs out.
            log.warning("could not record the outcome of an idempotent request: %s", exc.detail)


def idempotent(handler: Endpoint) -> Endpoint:
    """`handler`, honouring `Idempotency-Key` (see this module). Without the header it is `handler` as it was."""

    async def endpoint(request: Request) -> Response:
        keys: IdempotencyKeys = request.app.state.idempotency
        return await keys.handle(request, handler)

    return endpoint

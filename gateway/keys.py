"""The key store: API keys and access-token signing secrets in a compacted topic every gateway tails.

Keys are written once and deleted (a tombstone) on revocation; every gateway's tail sees the tombstone within
a second, and expiry is checked on every request, so a dead key fails everywhere well within 5 s.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gateway import errors as ge
from gateway import tokens
from gateway.kafka.table import ReplicatedTable
from gateway.principal import Principal, RateLimit
from gateway.timefmt import iso_ms, now_iso, now_ms
from schemas.keys import KeyCreate, KeyRecord, SigningSecret, Stored

_SIGNING = "signing/"
_CONFIGURED_KID = "configured"


def live(key: KeyRecord, now: int) -> bool:
    return key.expiresAtMs is None or now < key.expiresAtMs


def principal_for(key: KeyRecord, tenant_slug: str | None) -> Principal:
    limit = None
    if key.rateLimit is not None:
        limit = RateLimit(key.rateLimit.requestsPerSecond, key.rateLimit.bytesPerSecond)
    return Principal(
        key_id=key.keyId,
        scopes=frozenset(key.scopes),
        tenant_id=key.tenant,
        tenant_slug=tenant_slug,
        streams=None if key.streams is None else tuple(key.streams),
        rate_limit=limit,
    )


@dataclass(frozen=True, slots=True)
class NewKey:
    key: KeyRecord
    token: str  # shown once, in the create response


class KeyStore:
    """Keys and signing secrets. With `jwt_secret` (KAFKAGATE_JWT_SECRET) access tokens are signed with it."""

    def __init__(self, table: ReplicatedTable[Stored], jwt_secret: str | None = None):
        self.table = table
        self._configured = None if jwt_secret is None else (_CONFIGURED_KID, jwt_secret)
        self._secrets: dict[str, str] = {}
        self._secrets_version = -1

    # --- keys ---------------------------------------------------------------------------------------------

    def find(self, key_id: str) -> KeyRecord | None:
        """A live key as this gateway's tail has it now (no Kafka round trip: the authentication hot path)."""
        found = self.table.get(key_id)
        return found if isinstance(found, KeyRecord) and live(found, now_ms()) else None

    async def find_fresh(self, key_id: str) -> KeyRecord | None:
        """Like `find`, but first catches up with Kafka, so a key just created on another gateway is seen."""
        await self.table.sync()
        return self.find(key_id)

    async def create(self, spec: KeyCreate, tenant_id: str | None) -> NewKey:
        key_id = tokens.new_key_id()
        token = tokens.new_token(key_id)
        if spec.expiresAt is not None and spec.expiresAt <= now_ms():
            raise ge.ValidationFailed(
                "expiresAt is in the past", [{"field": "expiresAt", "message": "must be in the future"}]
            )
        record = KeyRecord(
            keyId=key_id,
            name=spec.name,
            tenant=tenant_id,
            scopes=sorted(set(spec.scopes)),
            streams=spec.streams,
            createdAt=now_iso(),
            expiresAt=None if spec.expiresAt is None else iso_ms(spec.expiresAt),
            expiresAtMs=spec.expiresAt,
            rateLimit=spec.rateLimit,
            tokenHash=tokens.token_hash(token),
        )
        await self.table.put(key_id, record.model_dump_json().encode())
        return NewKey(record, token)

    async def keys(self, tenant_id: str | None, *, every_tenant: bool = False) -> list[KeyRecord]:
        """Live keys of `tenant_id` (None: untenanted keys), or of every tenant; by creation time."""
        await self.table.sync()
        now = now_ms()
        found = [
            e.value
            for e in self.table.entries().values()
            if isinstance(e.value, KeyRecord) and live(e.value, now) and (every_tenant or e.value.tenant == tenant_id)
        ]
        return sorted(found, key=lambda k: (k.createdAt, k.keyId))

    async def revoke(self, key_id: str) -> None:
        await self.table.delete(key_id)

    # --- access-token signing secrets ---------------------------------------------------------------------

    def signing_secrets(self) -> dict[str, str]:
        """Every secret that verifies access tokens, by kid (cached until the key store changes)."""
        if self._secrets_version != self.table.version:
            stored = [e.value for e in self.table.entries().values() if isinstance(e.value, SigningSecret)]
            found = {s.kid: s.secret for s in stored}
            if self._configured is not None:
                found[self._configured[0]] = self._configured[1]
            self._secrets, self._secrets_version = found, self.table.version
        return self._secrets

    async def verifying_secrets(self, access_token: str) -> dict[str, str]:
        """The secrets that may have signed `access_token`, catching up with Kafka when its `kid` is unknown here
        (a secret another gateway just created)."""
        found = self.signing_secrets()
        kid = tokens.access_token_kid(access_token)
        if kid is not None and kid not in found:
            await self.table.sync()
            found = self.signing_secrets()
        return found

    async def signing_secret(self) -> tuple[str, str]:
        """The secret new access tokens are signed with: the oldest stored one, created when there is none.

        Two gateways creating one at the same moment both succeed; both secrets verify, and every gateway then
        signs with the one written first.
        """
        if self._configured is not None:
            return self._configured
        await self.table.sync()
        stored = [e for e in self.table.entries().values() if isinstance(e.value, SigningSecret)]
        if not stored:
            kid = secrets.token_hex(8)
            value = SigningSecret(kid=kid, secret=secrets.token_urlsafe(48), createdAt=now_iso())
            await self.table.put(f"{_SIGNING}{kid}", value.model_dump_json().encode())
            stored = [e for e in self.table.entries().values() if isinstance(e.value, SigningSecret)]
        first = min(stored, key=lambda e: e.offset).value
        assert isinstance(first, SigningSecret)  # noqa: S101 - filtered above
        return first.kid, first.secret

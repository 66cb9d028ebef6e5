"""API keys: the create request of `POST /api/v1/keys` and the key document stored in the key store.

They live in the compacted topic `KEYS_TOPIC`, beside the secrets that sign access tokens. Tokens are never
stored: a key document holds the SHA-256 of its token. Field names are camelCase on the wire.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from schemas.events import Timestamp

KEYS_TOPIC = "_kafkagate_keys"
ScopeName = Literal["produce", "consume", "processors", "admin"]
# Glob patterns over stream names (`orders.*`): the stream characters plus `*`, `?` and `[...]` classes.
StreamPattern = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._*?\[\]!-]+$", min_length=1, max_length=249)]


class RateLimitIn(BaseModel):
    # strict: `false` is not a rate (lax mode reads it as 0, no limit); integers still are
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    requestsPerSecond: float | None = Field(default=None, ge=0, description="0 means no limit")
    bytesPerSecond: float | None = Field(default=None, ge=0, description="0 means no limit")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    tenant: str | None = Field(default=None, min_length=1, max_length=64, description="tenant id or slug")
    scopes: list[ScopeName] = Field(min_length=1, max_length=4)
    streams: list[StreamPattern] | None = Field(default=None, min_length=1, max_length=100)
    expiresAt: Timestamp | None = Field(default=None, description="epoch ms or ISO 8601; never when absent")
    rateLimit: RateLimitIn | None = None


class KeyRecord(BaseModel):
    """What the key store keeps per key (`tokenHash` never leaves the gateway)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    keyId: str
    name: str
    tenant: str | None
    scopes: list[ScopeName]
    streams: list[str] | None
    createdAt: str
    expiresAt: str | None
    expiresAtMs: int | None
    rateLimit: RateLimitIn | None
    tokenHash: str

    def document(self) -> dict[str, object]:
        """The key as the API shows it: everything but the token hash."""
        return self.model_dump(mode="json", exclude={"tokenHash", "expiresAtMs"})


class TokenRequest(BaseModel):
    """Seed 002's token exchange body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: str = Field(min_length=1, max_length=512)


class SigningSecret(BaseModel):
    """A secret that signs access tokens, kept in the key store when `KAFKAGATE_JWT_SECRET` is unset."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kid: str
    secret: str
    createdAt: str


Stored = KeyRecord | SigningSecret


def decode_stored(value: bytes) -> Stored:
    """A key store record; ValueError when it is neither a key nor a signing secret."""
    try:
        data = orjson.loads(value)
        if isinstance(data, dict) and "secret" in data:
            return SigningSecret.model_validate(data)
        return KeyRecord.model_validate(data)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc

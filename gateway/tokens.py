"""Bearer credentials: API key tokens (`kg_...`) and the short-lived JWTs that `POST /auth/token` exchanges them for.

An API key token is `kg_<16 hex: the key id>_<43 characters: 256 random bits>`. Only its SHA-256 is stored: the
token has 256 bits of entropy, so a fast hash is as good as a slow one and costs a microsecond per request.
The key id inside the token finds the key without a scan; the hash comparison is constant-time.

Access tokens are HS256 JWTs (PyJWT) naming their key in `sub` and their signing secret in the `kid` header,
so several gateways may each hold secrets and all verify each other's tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

TOKEN_PREFIX = "kg_"  # noqa: S105 - a prefix that makes leaked tokens recognisable, not a secret
KEY_ID_PREFIX = "key_"
_TOKEN = re.compile(r"kg_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")
ISSUER = "kafkagate"
ALGORITHM = "HS256"


def new_key_id() -> str:
    return f"{KEY_ID_PREFIX}{secrets.token_hex(8)}"


def new_token(key_id: str) -> str:
    return f"{TOKEN_PREFIX}{key_id.removeprefix(KEY_ID_PREFIX)}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    """The key id an API key token names, or None when `token` is not shaped like one."""
    found = _TOKEN.fullmatch(token)
    return None if found is None else f"{KEY_ID_PREFIX}{found.group(1)}"


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token).encode(), stored_hash.encode())


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def issue_access_token(key_id: str, kid: str, secret: str, now_s: int, ttl_s: int) -> str:
    claims = {"sub": key_id, "iss": ISSUER, "iat": now_s, "exp": now_s + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})


def access_token_kid(token: str) -> str | None:
    """The `kid` an access token claims to be signed with (unverified), or None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


@dataclass(frozen=True, slots=True)
class AccessClaims:
    key_id: str
    kid: str
    expires_s: int


def verify_access_token(token: str, secrets_by_kid: Mapping[str, str]) -> AccessClaims | None:
    """The claims of a valid, unexpired access token signed by one of `secrets_by_kid`; None otherwise."""
    kid = access_token_kid(token)
    if kid is None or kid not in secrets_by_kid:
        return None
    try:
        claims = jwt.decode(
            token,
            secrets_by_kid[kid],
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    subject, expires = claims.get("sub"), claims.get("exp")
    if not isinstance(subject, str) or not isinstance(expires, int):
        return None
    return AccessClaims(subject, kid, expires)


class VerifiedTokens:
    """Access tokens this gateway has verified, so a client that reuses one (the normal case) costs a dict lookup
    instead of a signature check (~100 us with PyJWT). Expiry and the signing secret are re-checked on every hit;
    the key itself is looked up by the caller on every request either way. Holds at most `capacity` tokens."""

    def __init__(self, capacity: int = 10_000):
        self._capacity = capacity
        self._verified: dict[str, AccessClaims] = {}

    def key_id(self, token: str, secrets_by_kid: Mapping[str, str], now_s: float) -> str | None:
        claims = self._verified.get(token)
        if claims is None:
            claims = verify_access_token(token, secrets_by_kid)
            if claims is None:
                return None
            if len(self._verified) >= self._capacity:
                self._verified.clear()  # cheap and bounded; the next requests re-verify
            self._verified[token] = claims
        if claims.expires_s <= now_s or claims.kid not in secrets_by_kid:
            self._verified.pop(token, None)
            return None
        return claims.key_id

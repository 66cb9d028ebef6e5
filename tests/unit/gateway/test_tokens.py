"""API key tokens and access tokens: shape, entropy, hashing, and JWT checks."""

from __future__ import annotations

import time

import jwt

from gateway import tokens


def tokens_key_id(token: str, secrets_by_kid: dict[str, str]) -> str | None:
    claims = tokens.verify_access_token(token, secrets_by_kid)
    return None if claims is None else claims.key_id


def test_a_token_names_its_key_and_carries_256_random_bits() -> None:
    key_id = tokens.new_key_id()
    token = tokens.new_token(key_id)
    assert token.startswith("kg_")
    assert tokens.key_id_of(token) == key_id
    assert len(token[3 + 16 + 1 :]) == 43  # 32 bytes in base64url
    assert tokens.new_token(key_id) != token


def test_only_well_formed_tokens_name_a_key() -> None:
    for bad in ("", "kg_", "kg_xyz_abc", "Bearer kg_" + "0" * 16 + "_" + "A" * 43, "kg_" + "0" * 16 + "_" + "A" * 42):
        assert tokens.key_id_of(bad) is None


def test_a_token_matches_only_its_own_hash() -> None:
    token = tokens.new_token(tokens.new_key_id())
    stored = tokens.token_hash(token)
    assert stored != token
    assert tokens.matches(token, stored)
    assert not tokens.matches(token + "x", stored)


def test_access_tokens_verify_with_their_kid_only() -> None:
    token = tokens.issue_access_token("key_1", "k1", "s" * 40, now_s=1_000, ttl_s=2**31)
    assert tokens.access_token_kid(token) == "k1"
    assert tokens_key_id(token, {"k1": "s" * 40}) == "key_1"
    assert tokens_key_id(token, {"k1": "t" * 40}) is None
    assert tokens_key_id(token, {"k2": "s" * 40}) is None


def test_expired_and_unsigned_access_tokens_are_refused() -> None:
    expired = tokens.issue_access_token("key_1", "k1", "s" * 40, now_s=1_000, ttl_s=60)
    assert tokens_key_id(expired, {"k1": "s" * 40}) is None
    unsigned = jwt.encode({"sub": "key_1", "iss": "kafkagate", "iat": 1, "exp": 2**40}, None, algorithm="none")
    assert tokens_key_id(unsigned, {"k1": "s" * 40}) is None
    assert tokens.access_token_kid("not.a.jwt") is None


def test_verified_tokens_are_remembered_but_expiry_and_secrets_still_apply() -> None:
    verified = tokens.VerifiedTokens(capacity=2)
    token = tokens.issue_access_token("key_1", "k1", "s" * 40, now_s=int(time.time()), ttl_s=60)
    secrets = {"k1": "s" * 40}
    assert verified.key_id(token, secrets, time.time()) == "key_1"
    assert verified.key_id(token, {}, time.time()) is None, "a removed signing secret kills its tokens"
    assert verified.key_id(token, secrets, time.time()) == "key_1"
    assert verified.key_id(token, secrets, time.time() + 61) is None, "expiry is checked on every hit"
    assert verified.key_id(token + "x", secrets, time.time()) is None
    for i in range(5):
        other = tokens.issue_access_token(f"key_{i}", "k1", "s" * 40, now_s=int(time.time()), ttl_s=60)
        assert verified.key_id(other, secrets, time.time()) == f"key_{i}"
    assert len(verified._verified) <= 2

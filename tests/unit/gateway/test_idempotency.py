"""The pure parts of idempotency keys: key rules, scopes, fingerprints, what is stored, and the ledger's verdicts."""

from __future__ import annotations

import pytest

from gateway import errors as ge
from gateway.idempotency import (
    fingerprint,
    releases_key,
    replay,
    scope_of,
    stored_response,
    validate_key,
)
from gateway.idempotency_ledger import (
    InUse,
    Lapsed,
    Ledger,
    Replay,
    Reused,
    StoredResponse,
    Won,
    claim_key,
    claim_value,
    release_value,
    result_key,
    result_value,
)
from gateway.principal import ALL_SCOPES, Principal
from gateway.responses import JSONResponse

ROOT = Principal(key_id="root", scopes=ALL_SCOPES, root=True)
TENANT_A = Principal(key_id="k1", scopes=ALL_SCOPES, tenant_id="a")
TENANT_B = Principal(key_id="k1", scopes=ALL_SCOPES, tenant_id="b")
UNTENANTED = Principal(key_id="k1", scopes=ALL_SCOPES)
EMPTY_TENANT = Principal(key_id="k1", scopes=ALL_SCOPES, tenant_id="")

LEASE_MS, TTL_MS = 1_000, 10_000
OK = StoredResponse(201, (("content-type", "application/json"),), b'{"offset":0}')


@pytest.mark.parametrize("key", ["a", "x" * 255, "order 42 / retry", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}"])
def test_printable_ascii_keys_of_1_to_255_characters_are_valid(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there", "nul\x00", "del\x7f"])
def test_other_keys_are_400(key: str) -> None:
    with pytest.raises(ge.InvalidIdempotencyKey) as caught:
        validate_key(key)
    assert (caught.value.status, caught.value.code) == (400, 1026)


def test_scopes_separate_principals_and_tenants() -> None:
    scopes = {scope_of(p, "same") for p in (ROOT, TENANT_A, TENANT_B, UNTENANTED, EMPTY_TENANT)}
    assert len(scopes) == 5
    assert scope_of(TENANT_A, "same") == scope_of(TENANT_A, "same")
    assert scope_of(TENANT_A, "same") != scope_of(TENANT_A, "other")


def test_fingerprints_cover_method_path_query_and_body_bytes() -> None:
    base = fingerprint(ROOT, "POST", "/api/v1/streams/s/events", "", b'{"value":1}')
    assert base == fingerprint(ROOT, "POST", "/api/v1/streams/s/events", "", b'{"value":1}')
    others = [
        fingerprint(TENANT_A, "POST", "/api/v1/streams/s/events", "", b'{"value":1}'),
        fingerprint(ROOT, "PUT", "/api/v1/streams/s/events", "", b'{"value":1}'),
        fingerprint(ROOT, "POST", "/api/v1/streams/t/events", "", b'{"value":1}'),
        fingerprint(ROOT, "POST", "/api/v1/streams/s/events", "a=1", b'{"value":1}'),
        fingerprint(ROOT, "POST", "/api/v1/streams/s/events", "", b'{"value": 1}'),  # same JSON, other bytes
        # Fields are length-prefixed: moving bytes from one field to the next changes the fingerprint.
        fingerprint(ROOT, "POST", "/api/v1/streams/s/events", "", b'{"value":1}'[1:]),
    ]
    assert base not in others
    assert len(set(others)) == len(others)


@pytest.mark.parametrize(
    ("status", "released"),
    [
        (200, False),
        (201, False),
        (207, False),
        (400, True),
        (404, True),
        (409, True),
        (422, True),
        (500, False),
        (503, True),
        (504, False),
    ],
)
def test_only_responses_that_did_nothing_release_the_key(status: int, released: bool) -> None:
    assert releases_key(status) is released


def test_stored_responses_keep_status_content_type_location_and_body() -> None:
    response = JSONResponse({"a": 1}, status_code=201, headers={"location": "/x", "x-request-id": "req_1"})
    stored = stored_response(response)
    assert stored == StoredResponse(201, (("content-type", "application/json"), ("location", "/x")), b'{"a":1}')
    replayed = replay(stored)
    assert (replayed.status_code, replayed.body) == (201, b'{"a":1}')
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["location"] == "/x"
    assert replayed.headers["content-type"] == "application/json"
    assert "x-request-id" not in replayed.headers


# --- the ledger: records folded in offset order ---------------------------------------------------------


def claim(ledger: Ledger, claim_id: str, at_ms: int, fp: str = "f1", scope: str = "s", *, keep_ms: int = 0) -> None:
    ledger.apply(claim_key(scope), claim_value(claim_id, fp, LEASE_MS, f"req-{claim_id}", keep_ms), at_ms)


def result(ledger: Ledger, claim_id: str, at_ms: int, fp: str = "f1", scope: str = "s") -> None:
    ledger.apply(result_key(scope), result_value(claim_id, fp, TTL_MS, OK), at_ms)


def test_the_first_claim_wins_and_later_ones_wait_or_are_refused() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    claim(ledger, "b", 10)
    claim(ledger, "c", 20, fp="f2")
    assert ledger.verdict("s", "a", "f1") == Won()
    assert ledger.verdict("s", "b", "f1") == InUse()
    assert ledger.verdict("s", "c", "f2") == Reused()


def test_a_result_is_replayed_to_the_same_request_only() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    result(ledger, "a", 5)
    claim(ledger, "b", 10)
    assert ledger.verdict("s", "b", "f1") == Replay(OK)
    assert ledger.verdict("s", "b", "f2") == Reused()
    stored = ledger.stored("s", 100)
    assert stored is not None
    assert stored.response == OK
    assert ledger.stored("s", 5 + TTL_MS) is None


def test_results_round_trip_any_body_bytes() -> None:
    ledger = Ledger()
    body = b'{"a":"line\\nbreak"}\n\x00\xff'
    response = StoredResponse(500, (("content-type", "application/problem+json"),), body)
    ledger.apply(result_key("s"), result_value("a", "f1", TTL_MS, response), 0)
    assert ledger.verdict("s", "x", "f1") == Replay(response)


def test_a_released_key_goes_to_the_next_claim() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    ledger.apply(claim_key("s"), release_value("b"), 1)  # only the owner can release
    claim(ledger, "b", 2)
    assert ledger.verdict("s", "b", "f1") == InUse()
    ledger.apply(claim_key("s"), release_value("a"), 3)
    claim(ledger, "c", 4, fp="f2")  # a corrected request may use the key now
    assert ledger.verdict("s", "c", "f2") == Won()


def test_renewals_extend_the_lease_and_a_lapsed_lease_is_taken_over() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    claim(ledger, "a", 900)  # renewal: lease now ends at 1900
    claim(ledger, "b", 1500)
    assert ledger.verdict("s", "b", "f1") == InUse()
    claim(ledger, "c", 1900)
    taken_over = Won((Lapsed("req-a", 0),))
    assert ledger.verdict("s", "c", "f1") == taken_over
    claim(ledger, "a", 1950)  # the old owner's late renewal does not win the key back
    assert ledger.verdict("s", "c", "f1") == taken_over


def test_a_takeover_learns_every_lapsed_claim_before_it() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    claim(ledger, "b", LEASE_MS)
    claim(ledger, "c", 2 * LEASE_MS)
    assert ledger.verdict("s", "c", "f1") == Won((Lapsed("req-a", 0), Lapsed("req-b", LEASE_MS)))
    ledger.apply(claim_key("s"), release_value("c"), 2 * LEASE_MS + 1)
    claim(ledger, "d", 2 * LEASE_MS + 2)  # a release means nothing was done: the history starts over
    assert ledger.verdict("s", "d", "f1") == Won()


def test_a_lapsed_claim_is_remembered_for_its_keep_not_just_its_lease() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0, keep_ms=TTL_MS)
    claim(ledger, "z", 0, scope="t")  # no keep: forgotten once its lease ran out
    ledger.sweep(5 * LEASE_MS)
    claim(ledger, "b", 5 * LEASE_MS + 1)
    claim(ledger, "y", 5 * LEASE_MS + 1, scope="t")
    assert ledger.verdict("s", "b", "f1") == Won((Lapsed("req-a", 0),))
    assert ledger.verdict("t", "y", "f1") == Won()


def test_a_result_stays_final_until_it_expires_then_the_key_starts_over() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0)
    result(ledger, "a", 10)
    result(ledger, "b", 20, fp="other")  # a second result (after a takeover) does not replace the first
    claim(ledger, "c", 30)
    assert ledger.verdict("s", "c", "f1") == Replay(OK)
    claim(ledger, "d", 10 + TTL_MS, fp="f2")
    assert ledger.verdict("s", "d", "f2") == Won()


def test_a_result_whose_claim_was_compacted_away_still_counts() -> None:
    ledger = Ledger()
    result(ledger, "a", 10)
    claim(ledger, "b", 20)
    assert ledger.verdict("s", "b", "f1") == Replay(OK)


def test_scopes_are_independent_and_malformed_records_are_skipped() -> None:
    ledger = Ledger()
    ledger.apply(claim_key("s"), b"not json", 0)
    ledger.apply(claim_key("s"), b'{"t": "claim"}', 0)
    ledger.apply(None, claim_value("z", "f1", LEASE_MS), 0)
    claim(ledger, "a", 0, scope="s")
    claim(ledger, "b", 0, scope="t")
    assert ledger.verdict("s", "a", "f1") == Won()
    assert ledger.verdict("t", "b", "f1") == Won()


def test_sweep_forgets_only_what_ran_out() -> None:
    ledger = Ledger()
    claim(ledger, "a", 0, scope="lapsed")
    claim(ledger, "b", 0, scope="done")
    result(ledger, "b", 10, scope="done")
    claim(ledger, "c", 5_000, scope="live")
    ledger.sweep(LEASE_MS)
    assert set(ledger.entries) == {"done", "live"}
    ledger.sweep(10 + TTL_MS)
    assert set(ledger.entries) == set()


def test_realms_keep_an_apis_keys_apart_and_the_header_keys_where_they_were() -> None:
    assert scope_of(TENANT_A, "same", "") == scope_of(TENANT_A, "same")
    assert scope_of(TENANT_A, "same", "intake") != scope_of(TENANT_A, "same")
    assert scope_of(TENANT_A, "same", "intake") != scope_of(TENANT_B, "same", "intake")
    assert scope_of(TENANT_A, "same", "intake") == scope_of(TENANT_A, "same", "intake")

"""The request shaping `st run` loads (`tests/contract/fuzz_requests.py`): pure functions, no broker."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from requests.structures import CaseInsensitiveDict
from schemathesis.generation.modes import GenerationMode
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from gateway.idempotency import MAX_KEY_CHARS
from tests.contract import fuzz_hooks
from tests.contract.fuzz_requests import before_call, fresh, shape


def _sent_key(key: str) -> object:
    headers = CaseInsensitiveDict({"idempotency-key": key})
    shape("POST", "/api/v1/streams", headers, {"name": "a"})
    return headers["Idempotency-Key"]


def test_each_request_gets_a_key_of_its_own() -> None:
    first, second = _sent_key("A"), _sent_key("A")
    assert isinstance(first, str)
    assert isinstance(second, str)
    assert first != second
    assert first.startswith("A-")
    assert second.startswith("A-")


@pytest.mark.parametrize("key", ["", "caf\u00e9", "line\nbreak", "x" * (MAX_KEY_CHARS + 1)])
def test_a_key_the_document_calls_invalid_is_sent_as_generated(key: str) -> None:
    assert _sent_key(key) == key


def test_a_longest_key_stays_within_the_limit() -> None:
    made = fresh("k" * MAX_KEY_CHARS)
    assert isinstance(made, str)
    assert len(made) == MAX_KEY_CHARS
    assert made != "k" * MAX_KEY_CHARS


def test_the_intake_body_key_is_made_fresh_in_a_new_body() -> None:
    event = {"event_type": "t", "occurred_at": "2026-01-01T00:00:00Z", "idempotency_key": "0", "data": {}}
    first = shape("POST", "/v1/events", CaseInsensitiveDict(), event)
    second = shape("POST", "/v1/events", CaseInsensitiveDict(), event)
    assert first["idempotency_key"] != second["idempotency_key"]
    assert {**first, "idempotency_key": "0"} == event
    assert event["idempotency_key"] == "0"  # the generated body itself is left alone
    assert shape("POST", "/v1/events", CaseInsensitiveDict(), {**event, "idempotency_key": 7})["idempotency_key"] == 7


def test_requests_without_a_key_are_left_alone() -> None:
    headers = CaseInsensitiveDict({"accept": "application/json"})
    body = {"name": "a"}
    assert shape("POST", "/api/v1/streams", headers, body) is body
    assert dict(headers) == {"accept": "application/json"}


def test_st_run_loads_the_hook_with_the_checks() -> None:
    assert fuzz_hooks.fuzz_requests.before_call in GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")


def _case(mode: GenerationMode) -> SimpleNamespace:
    meta = SimpleNamespace(generation=SimpleNamespace(mode=mode))
    headers = CaseInsensitiveDict({"Idempotency-Key": "A"})
    return SimpleNamespace(method="POST", formatted_path="/api/v1/streams", headers=headers, body={}, meta=meta)


def test_only_positive_cases_are_shaped() -> None:
    """A negative case that leaves out Authorization had it sent after all once its headers were changed."""
    positive, negative = _case(GenerationMode.POSITIVE), _case(GenerationMode.NEGATIVE)
    before_call(None, positive, {})
    before_call(None, negative, {})
    assert positive.headers["Idempotency-Key"].startswith("A-")
    assert negative.headers["Idempotency-Key"] == "A"

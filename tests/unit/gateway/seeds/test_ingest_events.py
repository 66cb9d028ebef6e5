"""Reading ingest bodies: the document's refusals, in its own words, before anything is sent."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway import errors as ge
from gateway.seeds.ingest_events import TIMESTAMP_DETAIL, parse_events

DOCUMENT_EVENT: dict[str, Any] = {
    "timestamp": "2025-02-12T14:32:15Z",
    "source": "payments-app",
    "event": {"transactionId": "txn_30921", "status": "approved", "latency_ms": 182, "amount": 499, "currency": "USD"},
    "metadata": {"env": "prod", "team": "payments"},
}


def refusal(body: Any, max_events: int = 100) -> ge.GatewayError:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(ge.BadRequest) as caught:
        parse_events(raw, max_events)
    return caught.value


def test_the_documents_event_and_arrays_of_it_are_read_as_sent() -> None:
    assert parse_events(orjson.dumps(DOCUMENT_EVENT), 10) == [DOCUMENT_EVENT]
    extra = {**DOCUMENT_EVENT, "host": "web-1"}
    assert parse_events(orjson.dumps([DOCUMENT_EVENT, extra]), 10) == [DOCUMENT_EVENT, extra]
    no_time = {"source": "a", "event": {}}
    assert parse_events(orjson.dumps(no_time), 10) == [no_time]


def test_invalid_json_and_other_documents_are_refused() -> None:
    for body in (b"", b"{", b"not json", b'{"a": 1} trailing'):
        assert isinstance(refusal(body), ge.SerializationError)
    for document in ("text", 3, None, True):
        assert isinstance(refusal(document), ge.SerializationError)
    assert "empty" in refusal([]).detail
    assert "at most 2" in refusal([DOCUMENT_EVENT] * 3, max_events=2).detail


@pytest.mark.parametrize("timestamp", ["12/02/2025", "2025-02-30T00:00:00Z", 1739370735, None, ["2025-02-12"]])
def test_a_timestamp_that_is_not_an_iso_8601_string_has_the_documents_detail(timestamp: Any) -> None:
    error = refusal({**DOCUMENT_EVENT, "timestamp": timestamp})  # null too: present, and not a string
    assert error.detail == TIMESTAMP_DETAIL
    assert error.extra == {}


@pytest.mark.parametrize(
    ("field", "bad"), [("source", None), ("source", ""), ("source", 7), ("event", None), ("event", [1]), ("event", "x")]
)
def test_a_missing_or_malformed_source_or_event_is_named(field: str, bad: Any) -> None:
    missing = {k: v for k, v in DOCUMENT_EVENT.items() if k != field}
    assert f"'{field}' field is required" in refusal(missing).detail
    assert f"'{field}' field is required" in refusal({**DOCUMENT_EVENT, field: bad}).detail


def test_metadata_must_be_an_object_when_present() -> None:
    assert "'metadata'" in refusal({**DOCUMENT_EVENT, "metadata": "prod"}).detail


def test_a_refusal_in_an_array_names_the_event_and_comes_in_order() -> None:
    bad = [DOCUMENT_EVENT, DOCUMENT_EVENT, {"source": "x", "event": {}, "timestamp": "soon"}, "not an object"]
    error = refusal(bad)
    assert (error.detail, error.extra) == (TIMESTAMP_DETAIL, {"index": 2})
    assert refusal([DOCUMENT_EVENT, 5]).extra == {"index": 1}


def test_the_first_problem_of_an_event_is_reported_in_field_order() -> None:
    assert refusal({"timestamp": "x"}).detail == TIMESTAMP_DETAIL
    assert "'source'" in refusal({"event": 1}).detail

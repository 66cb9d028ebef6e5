"""The view language: the README's three views, and what keeps a fold deterministic."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from processors.expressions import ExpressionEvaluationError
from processors.views.language import View, ViewError, compile_view, normalise

COUNTER = compile_view({"count": 0}, "{'count': state.count + 1}", None)
LAST_BY_KEY = compile_view(
    {"last": {}},
    "event != null && has(event.key) ? {'last': put(state.last, event.key, event.value)} : state",
    "has(input.key) && input.key in state.last ? state.last[input.key] : null",
)
SUM_OF_AMOUNT = compile_view({"total": 0.0}, "{'total': state.total + double(event.amount)}", "state.total")


def fold(view: View, events: list[bytes]) -> Any:
    state = view.initial
    for sequence, raw in enumerate(events, start=1):
        state = view.step(state, raw, sequence).state
    return state


def test_the_counter_counts_every_event_whatever_its_bytes() -> None:
    assert fold(COUNTER, [b'{"type":"user_signup"}', b"\xff\x00not json", b""]) == {"count": 3}
    assert COUNTER.answer({"count": 3}, b"") == {"count": 3}  # no query: the state itself


def test_last_value_per_key() -> None:
    events = [orjson.dumps({"key": k, "value": v}) for k, v in [("a", 1), ("b", 2), ("a", 3)]] + [b"text"]
    state = fold(LAST_BY_KEY, events)
    assert state == {"last": {"a": 3, "b": 2}}
    assert LAST_BY_KEY.answer(state, b'{"key": "a"}') == 3
    assert LAST_BY_KEY.answer(state, b'{"key": "zz"}') is None


def test_sum_of_a_field() -> None:
    events = [orjson.dumps({"amount": amount}) for amount in (10, 2.5, -1)]
    assert SUM_OF_AMOUNT.answer(fold(SUM_OF_AMOUNT, events), b"") == 11.5


def test_apply_sees_the_raw_bytes_and_the_sequence() -> None:
    view = compile_view(
        {"bytes": 0, "seqs": []}, "{'bytes': state.bytes + raw.size(), 'seqs': state.seqs + [sequence]}", None
    )
    assert fold(view, [b"ab", b"cde"]) == {"bytes": 5, "seqs": [1, 2]}


def test_a_failing_apply_keeps_the_state_and_says_why() -> None:
    step = SUM_OF_AMOUNT.step({"total": 1.0}, b'{"other": 1}', 7)
    assert step.state == {"total": 1.0}
    assert step.error is not None
    assert step.error.startswith("event 7:")
    no_json_form = compile_view({}, "{'b': raw}", None).step({}, b"x", 1)
    assert no_json_form.state == {}
    assert no_json_form.error is not None


def test_states_are_normalised_to_their_json_form() -> None:
    # A restored state (decoded from its published JSON) must equal the state the fold held.
    view = compile_view({"n": 0}, "{'n': state.n + 1, 'when': timestamp('2026-01-01T00:00:00Z')}", None)
    state = view.step(view.initial, b"", 1).state
    assert state == orjson.loads(orjson.dumps(state))
    assert isinstance(state["when"], str)
    assert normalise({1: "a"}) == {"1": "a"}


def test_definitions_that_cannot_run_name_their_part() -> None:
    with pytest.raises(ViewError) as syntax:
        compile_view({}, "state.count +", None)
    assert syntax.value.field == "apply"
    with pytest.raises(ViewError) as unknown:
        compile_view({}, "state", "clock.now")
    assert unknown.value.field == "query"
    assert "state, input, raw" in unknown.value.detail
    with pytest.raises(ViewError) as initial:
        compile_view(b"bytes", "state", None)
    assert initial.value.field == "initial"


def test_a_failing_query_raises() -> None:
    with pytest.raises(ExpressionEvaluationError):
        SUM_OF_AMOUNT.answer({"no_total": 1}, b"")

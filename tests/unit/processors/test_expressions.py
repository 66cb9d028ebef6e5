from __future__ import annotations

import pytest

from processors.events import Event
from processors.expressions import (
    BOUND_VARIABLES,
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    UnknownVariableError,
    compile_expression,
)


def test_seed_predicate_compiles_and_evaluates_against_a_dict() -> None:
    predicate = compile_expression("value.amount > 1000")

    assert predicate.test(Event({"amount": 1500}))
    assert not predicate.test(Event({"amount": 1000}))
    assert predicate.test(Event({"amount": 1000.5}))  # int literal against a double compares numerically


def test_every_bound_variable_is_visible() -> None:
    event = Event({"a": 1}, key="k", headers={"h": "v"}, timestamp=5, partition=2, offset=9)
    expression = compile_expression(
        "[string(value.a), key, headers.h, string(timestamp), string(partition), string(offset)]"
    )

    assert expression.evaluate(event) == ["1", "k", "v", "5", "2", "9"]
    assert expression.referenced == BOUND_VARIABLES


def test_only_referenced_variables_are_bound() -> None:
    assert compile_expression("key == 'a' && value.b").referenced == ("value", "key")


def test_map_expression_builds_a_new_value() -> None:
    expression = compile_expression('{"user": value.userId, "big": value.amount > 1000}')

    assert expression.evaluate(Event({"userId": "u1", "amount": 5})) == {"user": "u1", "big": False}


def test_headers_given_as_any_mapping_are_bound() -> None:
    from types import MappingProxyType

    event = Event(None, headers=MappingProxyType({"source": "web"}))

    assert compile_expression("headers.source == 'web'").test(event)


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ("value.amount >", 1, 15),
        ("value.amount > 1000 )", 1, 21),
        ("1 +* 2", 1, 4),
        ("value.a\n  + ", 2, 5),
    ],
)
def test_syntax_errors_carry_the_position(source: str, line: int, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(source)

    assert (caught.value.line, caught.value.column) == (line, column)
    assert caught.value.source == source
    assert f"column {column}" in str(caught.value)


def test_syntax_error_message_names_the_column_for_one_line_sources() -> None:
    with pytest.raises(ExpressionSyntaxError, match=r"^syntax error at column 15: mismatched input '<EOF>'"):
        compile_expression("value.amount >")


def test_unsupported_syntax_is_a_syntax_error_with_position() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression("value.?a")

    assert caught.value.column == 6
    assert "unsupported syntax" in caught.value.detail


def test_unknown_variables_are_rejected_at_compile_time() -> None:
    with pytest.raises(UnknownVariableError) as caught:
        compile_expression("valeu.amount > 1000")

    assert caught.value.names == ("valeu",)
    assert "available: value, key, headers, timestamp, partition, offset" in str(caught.value)


def test_macro_variables_are_not_unknown_variables() -> None:
    expression = compile_expression("value.items.exists(item, item.price > 10)")

    assert expression.test(Event({"items": [{"price": 5}, {"price": 20}]}))


@pytest.mark.parametrize(
    ("source", "value", "kind"),
    [
        ("value.amount > 1000", {}, "missing field"),
        ("value.amount > 1000", {"amount": "x"}, "type error"),
        ("value.amount > 1000", None, "type error"),
        ("value.a / value.b", {"a": 1, "b": 0}, "division by zero"),
        ("value.items[3]", {"items": []}, "index out of range"),
        ("nope(value)", {}, "evaluation error"),  # functions are resolved at evaluation, not at compile time
    ],
)
def test_runtime_errors_are_typed(source: str, value: object, kind: str) -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        compile_expression(source).evaluate(Event(value))

    assert caught.value.kind == kind
    assert "\n" not in str(caught.value)


def test_missing_field_names_the_key() -> None:
    with pytest.raises(ExpressionEvaluationError, match="no such key 'amount'"):
        compile_expression("value.amount > 1").evaluate(Event({}))


def test_has_guards_missing_fields() -> None:
    assert not compile_expression("has(value.amount) && value.amount > 1").test(Event({}))


def test_predicate_must_return_a_bool() -> None:
    with pytest.raises(ExpressionEvaluationError, match="must return a bool, got int"):
        compile_expression("value.amount").test(Event({"amount": 1}))


def test_expressions_compare_by_source() -> None:
    assert compile_expression("value.a == 1") == compile_expression("value.a == 1")
    assert compile_expression("value.a == 1") != compile_expression("value.a == 2")

from __future__ import annotations

import pytest

from processors.events import Event
from processors.expressions import ExpressionCompileError
from processors.selectors import compile_selector, get_path, has_path, parse_path, with_path, without_path


@pytest.mark.parametrize(
    ("text", "path"),
    [("userId", ("userId",)), ("user.id", ("user", "id")), ("value.user.id", ("user", "id")), ("value", ())],
)
def test_field_paths(text: str, path: tuple[str, ...]) -> None:
    selector = compile_selector(text)

    assert selector.path == path
    assert selector.expression is None


@pytest.mark.parametrize("text", ["key", "timestamp", "headers.source", "value.a + value.b", "value['user-id']"])
def test_bound_variables_and_other_text_are_cel(text: str) -> None:
    selector = compile_selector(text)

    assert selector.path is None
    assert selector.expression is not None


def test_select() -> None:
    event = Event({"user": {"id": "u1"}, "a": 1, "b": 2}, key="k")

    assert compile_selector("user.id").select(event) == "u1"
    assert compile_selector("user.missing").select(event) is None
    assert compile_selector("a.deeper").select(event) is None
    assert compile_selector("key").select(event) == "k"
    assert compile_selector("value.a + value.b").select(event) == 3


def test_leaf_names_the_datum() -> None:
    assert compile_selector("user.id").leaf == "id"
    assert compile_selector("key").leaf is None


def test_invalid_cel_is_a_compile_error() -> None:
    with pytest.raises(ExpressionCompileError):
        compile_selector("value.a +")


def test_timestamp_is_a_value_field_in_plain_paths() -> None:
    assert parse_path("timestamp") == ("timestamp",)
    assert parse_path("not a path") is None


def test_copy_on_write_helpers() -> None:
    value = {"a": {"b": 1, "c": 2}, "d": 3}

    assert with_path(value, ("a", "b"), 9) == {"a": {"b": 9, "c": 2}, "d": 3}
    assert with_path(value, ("x", "y"), 1)["x"] == {"y": 1}
    assert without_path(value, ("a", "c")) == {"a": {"b": 1}, "d": 3}
    assert value == {"a": {"b": 1, "c": 2}, "d": 3}
    assert has_path({"a": None}, ("a",))
    assert not has_path({"a": None}, ("a", "b"))
    assert get_path([1], ("a",)) is None

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from processors.events import Event
from processors.functions import (
    ENTRY_POINT_GROUP,
    FunctionError,
    FunctionRegistry,
    Lookups,
    MapFunction,
    RegistryError,
    UnknownFunctionError,
)

BUILTINS = ("dropFields", "enrichWithUserData", "maskFields", "renameFields", "setTimestamp")
USERS: Lookups = {"users": {"u1": {"name": "Ada", "tier": "gold"}, "7": {"name": "Numeric"}}}


def call(name: str, value: Any, args: Mapping[str, Any] | None = None, lookups: Lookups = USERS) -> Event:
    function = FunctionRegistry.load(installed=[]).get(name)
    assert function.check_args(args or {}) == []
    return function.apply(Event(value, key="k", timestamp=1), args or {}, lookups)


def test_builtins_are_registered() -> None:
    assert FunctionRegistry.load(installed=[]).names() == BUILTINS


def test_unknown_function_lists_the_available_ones() -> None:
    with pytest.raises(UnknownFunctionError) as caught:
        FunctionRegistry.load(installed=[]).get("enrichWithUserDta")

    assert caught.value.available == BUILTINS
    assert "available: dropFields, enrichWithUserData, maskFields" in str(caught.value)


class TestEnrichWithUserData:
    def test_merges_the_user_record_under_user(self) -> None:
        event = call("enrichWithUserData", {"userId": "u1", "amount": 5})

        assert event.value == {"userId": "u1", "amount": 5, "user": {"name": "Ada", "tier": "gold"}}
        assert event.key == "k"

    def test_unknown_user_gives_null_like_a_left_join(self) -> None:
        assert call("enrichWithUserData", {"userId": "nobody"}).value["user"] is None
        assert call("enrichWithUserData", {"amount": 1}).value["user"] is None

    def test_numeric_ids_match_string_table_keys(self) -> None:
        assert call("enrichWithUserData", {"userId": 7}).value["user"] == {"name": "Numeric"}

    def test_arguments(self) -> None:
        lookups = {"customers": {"c9": {"name": "Grace"}}}
        args = {"idField": "customer.id", "table": "customers", "target": "customer.profile"}
        event = call("enrichWithUserData", {"customer": {"id": "c9"}}, args, lookups)

        assert event.value == {"customer": {"id": "c9", "profile": {"name": "Grace"}}}

    def test_declares_the_lookup_table_it_needs(self) -> None:
        function = FunctionRegistry.load(installed=[]).get("enrichWithUserData")

        assert function.lookups_for({}) == ("users",)
        assert function.lookups_for({"table": "customers"}) == ("customers",)

    def test_missing_table_is_a_function_error(self) -> None:
        with pytest.raises(FunctionError, match="lookup table 'users' is not available"):
            call("enrichWithUserData", {"userId": "u1"}, lookups={})

    def test_does_not_mutate_the_input(self) -> None:
        value = {"userId": "u1"}
        call("enrichWithUserData", value)

        assert value == {"userId": "u1"}


def test_mask_fields() -> None:
    value = {"card": {"number": "4111111111111111"}, "cvv": 123, "name": "Ada", "note": None}
    masked = call("maskFields", value, {"fields": ["card.number", "cvv", "note", "absent"], "keepLast": 4})

    assert masked.value == {"card": {"number": "****1111"}, "cvv": "****123", "name": "Ada", "note": None}
    assert value["card"] == {"number": "4111111111111111"}
    assert call("maskFields", {"a": "secret"}, {"fields": ["a"], "mask": "#"}).value == {"a": "#"}


def test_drop_fields() -> None:
    value = {"a": 1, "b": {"c": 2, "d": 3}}

    assert call("dropFields", value, {"fields": ["a", "b.c", "x.y"]}).value == {"b": {"d": 3}}
    assert value == {"a": 1, "b": {"c": 2, "d": 3}}


def test_rename_fields_applies_all_moves_at_once() -> None:
    renamed = call("renameFields", {"a": 1, "b": 2, "n": {"x": 3}}, {"fields": {"a": "b", "b": "a", "n.x": "y"}})

    assert renamed.value == {"a": 2, "b": 1, "n": {}, "y": 3}


def test_set_timestamp() -> None:
    assert call("setTimestamp", {"at": 1700000000}, {"field": "at", "format": "epoch_s"}).timestamp == 1_700_000_000_000
    iso = call("setTimestamp", {"at": "2025-01-15T10:30:00.123Z"}, {"field": "at", "format": "iso8601"})
    assert iso.timestamp == 1_736_937_000_123
    with pytest.raises(FunctionError, match="missing or null"):
        call("setTimestamp", {}, {"field": "at"})
    with pytest.raises(FunctionError, match="expected a finite number"):
        call("setTimestamp", {"at": "soon"}, {"field": "at"})


def test_functions_need_an_object_value() -> None:
    with pytest.raises(FunctionError, match="dropFields needs an object value, got str"):
        call("dropFields", "text", {"fields": ["a"]})


@pytest.mark.parametrize(
    ("name", "args", "problem"),
    [
        ("maskFields", {}, "missing argument 'fields'"),
        ("maskFields", {"fields": "a"}, "fields must be a list"),
        ("maskFields", {"fields": ["a"], "keepLast": -1}, "keepLast must be a non-negative integer"),
        ("dropFields", {"fields": ["a b"]}, "is not a field path"),
        ("dropFields", {"fields": ["a"], "extra": 1}, "unknown argument 'extra'"),
        ("renameFields", {"fields": ["a"]}, "fields must be an object"),
        ("setTimestamp", {"field": "t", "format": "rfc822"}, "format must be one of"),
        ("enrichWithUserData", {"idField": 3}, "idField: 3 is not a field path"),
    ],
)
def test_argument_checks(name: str, args: dict[str, Any], problem: str) -> None:
    problems = FunctionRegistry.load(installed=[]).get(name).check_args(args)

    assert any(problem in p for p in problems), problems


def _shout(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    return dataclasses.replace(event, value=str(event.value).upper())


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> str:
    module = types.ModuleType("kafkagate_test_plugin")
    module.shout = _shout  # type: ignore[attr-defined]
    module.described = MapFunction("anyName", _shout)  # type: ignore[attr-defined]
    module.not_callable = 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_entry_points_add_functions(plugin_module: str) -> None:
    registry = FunctionRegistry.load(
        installed=[
            EntryPoint("shout", f"{plugin_module}:shout", ENTRY_POINT_GROUP),
            EntryPoint("yell", f"{plugin_module}:described", ENTRY_POINT_GROUP),
        ]
    )

    assert "shout" in registry
    assert registry.get("yell").name == "yell"
    assert registry.get("shout").apply(Event("hi"), {}, {}).value == "HI"


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("broken", "kafkagate_missing_module:f", "cannot load map function 'broken'"),
        ("odd", "{module}:not_callable", "neither a MapFunction nor callable"),
        ("maskFields", "{module}:shout", "two map functions are named 'maskFields'"),
    ],
)
def test_bad_entry_points_fail_the_registry(plugin_module: str, name: str, target: str, message: str) -> None:
    point = EntryPoint(name, target.format(module=plugin_module), ENTRY_POINT_GROUP)

    with pytest.raises(RegistryError, match=message):
        FunctionRegistry.load(installed=[point])


def test_installed_entry_points_are_read_from_the_group() -> None:
    assert set(BUILTINS) <= set(FunctionRegistry.load().names())

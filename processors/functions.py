"""Named ``map`` functions: the built-ins below plus those operators install under the entry-point group
``kafkagate.functions``.

An entry point's name is the function name; it must load either a ``MapFunction`` or a plain callable
``(event, args, lookups) -> Event``. A function returns a new event and never mutates the one it gets.
Built-ins and their ``args``:

- ``maskFields``: ``fields`` (list of paths), ``mask`` (default ``"****"``), ``keepLast`` (characters kept at the
  end, default 0). Missing and null fields are left alone.
- ``dropFields``: ``fields`` (list of paths).
- ``renameFields``: ``fields`` (object old path → new path), applied all at once, so two fields can be swapped.
- ``setTimestamp``: ``field`` (path), ``format`` (``epoch_ms`` default, ``epoch_s``, ``iso8601``); sets the record
  timestamp that windows and the sink use.
- ``enrichWithUserData``: ``idField`` (default ``userId``), ``table`` (default ``users``), ``target`` (default
  ``user``). Looks the id up in the lookup table the runtime materializes from the compacted stream ``table``
  (user id → user record) and stores the record under ``target``, or null when there is none: a left join.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, get_args

from processors.events import Event
from processors.selectors import FieldPath, get_path, has_path, parse_path, with_path, without_path
from processors.timestamps import TimestampError, TimestampFormat, to_epoch_ms

ENTRY_POINT_GROUP = "kafkagate.functions"

Lookups = Mapping[str, Mapping[Any, Any]]
Apply = Callable[[Event, Mapping[str, Any], Lookups], Event]


class FunctionError(Exception):
    """Raised by a function for one event; the map step's onError decides what happens."""


class UnknownFunctionError(LookupError):
    def __init__(self, name: str, available: tuple[str, ...]) -> None:
        super().__init__(f"unknown function {name!r}; available: {', '.join(available)}")
        self.name = name
        self.available = available


class RegistryError(Exception):
    """An installed function could not be loaded, or two share a name. Raised when the registry is built."""


def _accept_any(args: Mapping[str, Any]) -> list[str]:
    return []


def _no_lookups(args: Mapping[str, Any]) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class MapFunction:
    """A named map function. ``check_args`` returns problems with ``args`` (checked when the spec is submitted);
    ``lookups_for`` names the lookup tables the runtime must provide for these ``args``."""

    name: str
    apply: Apply = field(compare=False, repr=False)
    check_args: Callable[[Mapping[str, Any]], list[str]] = field(default=_accept_any, compare=False, repr=False)
    lookups_for: Callable[[Mapping[str, Any]], tuple[str, ...]] = field(default=_no_lookups, compare=False, repr=False)


class FunctionRegistry:
    """The map functions a processor may name. Build it once at startup with ``FunctionRegistry.load()``."""

    def __init__(self, functions: Iterable[MapFunction]) -> None:
        self._functions: dict[str, MapFunction] = {}
        for function in functions:
            if function.name in self._functions:
                raise RegistryError(f"two map functions are named {function.name!r}")
            self._functions[function.name] = function

    @classmethod
    def load(cls, installed: Iterable[EntryPoint] | None = None) -> FunctionRegistry:
        """Built-ins plus every entry point in ``kafkagate.functions`` (or ``installed`` when given).

        Fails closed: an entry point that cannot be imported, loads something unusable, or reuses a name raises
        RegistryError naming it, so a broken plugin stops startup instead of failing specs later.
        """
        found = entry_points(group=ENTRY_POINT_GROUP) if installed is None else installed
        return cls([*BUILTIN_FUNCTIONS, *(_from_entry_point(point) for point in found)])

    def get(self, name: str) -> MapFunction:
        try:
            return self._functions[name]
        except KeyError:
            raise UnknownFunctionError(name, self.names()) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._functions))

    def __contains__(self, name: object) -> bool:
        return name in self._functions


def _from_entry_point(point: EntryPoint) -> MapFunction:
    try:
        loaded = point.load()
    except Exception as exc:  # any import-time failure of third-party code must name the plugin
        raise RegistryError(f"cannot load map function {point.name!r} from {point.value!r}: {exc}") from exc
    if isinstance(loaded, MapFunction):
        return dataclasses.replace(loaded, name=point.name)
    if callable(loaded):
        return MapFunction(name=point.name, apply=loaded)
    raise RegistryError(f"entry point {point.name!r} ({point.value!r}) is neither a MapFunction nor callable")


def _object(event: Event, name: str) -> Mapping[str, Any]:
    if not isinstance(event.value, Mapping):
        raise FunctionError(f"{name} needs an object value, got {type(event.value).__name__}")
    return event.value


def _check(args: Mapping[str, Any], allowed: set[str], required: set[str]) -> list[str]:
    problems = [
        f"unknown argument {name!r}; expected {', '.join(sorted(allowed))}" for name in args if name not in allowed
    ]
    problems += [f"missing argument {name!r}" for name in sorted(required - set(args))]
    return problems


def _path_problem(name: str, text: Any) -> str | None:
    if not isinstance(text, str) or not parse_path(text):
        return f"{name}: {text!r} is not a field path such as 'card.number'"
    return None


def _paths(args: Mapping[str, Any]) -> list[FieldPath]:
    return [parse_path(text) or () for text in args.get("fields", [])]


def _check_fields_list(args: Mapping[str, Any], allowed: set[str]) -> list[str]:
    problems = _check(args, allowed, {"fields"})
    fields = args.get("fields", [])
    if not isinstance(fields, list):
        return [*problems, "fields must be a list of field paths"]
    return problems + [p for p in (_path_problem("fields", text) for text in fields) if p]


def _check_mask(args: Mapping[str, Any]) -> list[str]:
    problems = _check_fields_list(args, {"fields", "mask", "keepLast"})
    if not isinstance(args.get("mask", ""), str):
        problems.append("mask must be a string")
    keep = args.get("keepLast", 0)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        problems.append("keepLast must be a non-negative integer")
    return problems


def _mask_fields(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    value: Mapping[str, Any] = _object(event, "maskFields")
    mask, keep = args.get("mask", "****"), args.get("keepLast", 0)
    for path in _paths(args):
        current = get_path(value, path)
        if current is not None:
            text = current if isinstance(current, str) else str(current)
            value = with_path(value, path, mask + (text[-keep:] if keep else ""))
    return dataclasses.replace(event, value=value)


def _drop_fields(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    value: Mapping[str, Any] = _object(event, "dropFields")
    for path in _paths(args):
        value = without_path(value, path)
    return dataclasses.replace(event, value=value)


def _check_rename(args: Mapping[str, Any]) -> list[str]:
    problems = _check(args, {"fields"}, {"fields"})
    fields = args.get("fields", {})
    if not isinstance(fields, dict):
        return [*problems, "fields must be an object mapping old path to new path"]
    pairs = [text for pair in fields.items() for text in pair]
    return problems + [p for p in (_path_problem("fields", text) for text in pairs) if p]


def _rename_fields(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    value: Mapping[str, Any] = _object(event, "renameFields")
    moves = [(parse_path(old) or (), parse_path(new) or ()) for old, new in args["fields"].items()]
    present = [(old, new, get_path(value, old)) for old, new in moves if has_path(value, old)]
    for old, _, _ in present:
        value = without_path(value, old)
    for _, new, moved in present:
        value = with_path(value, new, moved)
    return dataclasses.replace(event, value=value)


def _check_set_timestamp(args: Mapping[str, Any]) -> list[str]:
    problems = _check(args, {"field", "format"}, {"field"})
    if "field" in args and (problem := _path_problem("field", args["field"])):
        problems.append(problem)
    if args.get("format", "epoch_ms") not in get_args(TimestampFormat):
        problems.append(f"format must be one of {', '.join(get_args(TimestampFormat))}")
    return problems


def _set_timestamp(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    raw = get_path(_object(event, "setTimestamp"), parse_path(args["field"]) or ())
    if raw is None:
        raise FunctionError(f"setTimestamp: field {args['field']!r} is missing or null")
    try:
        timestamp = to_epoch_ms(raw, args.get("format", "epoch_ms"))
    except TimestampError as exc:
        raise FunctionError(f"setTimestamp: {exc}") from exc
    return dataclasses.replace(event, timestamp=timestamp)


def _check_enrich(args: Mapping[str, Any]) -> list[str]:
    problems = _check(args, {"idField", "table", "target"}, set())
    if "idField" in args and (problem := _path_problem("idField", args["idField"])):
        problems.append(problem)
    if "target" in args and (problem := _path_problem("target", args["target"])):
        problems.append(problem)
    if not isinstance(args.get("table", "users"), str) or not args.get("table", "users"):
        problems.append("table must be a stream name")
    return problems


def _enrich_tables(args: Mapping[str, Any]) -> tuple[str, ...]:
    return (str(args.get("table", "users")),)


def _enrich_with_user_data(event: Event, args: Mapping[str, Any], lookups: Lookups) -> Event:
    value = _object(event, "enrichWithUserData")
    table_name = str(args.get("table", "users"))
    table = lookups.get(table_name)
    if table is None:
        raise FunctionError(f"enrichWithUserData: lookup table {table_name!r} is not available")
    user_id = get_path(value, parse_path(args.get("idField", "userId")) or ())
    user = None
    if user_id is not None:
        # Table keys are decoded Kafka keys (strings) while ids in values are often JSON numbers.
        user = table.get(user_id)
        if user is None and not isinstance(user_id, str):
            user = table.get(str(user_id))
    target = parse_path(args.get("target", "user")) or ("user",)
    return dataclasses.replace(event, value=with_path(value, target, user))


BUILTIN_FUNCTIONS: tuple[MapFunction, ...] = (
    MapFunction("maskFields", _mask_fields, _check_mask),
    MapFunction("dropFields", _drop_fields, lambda args: _check_fields_list(args, {"fields"})),
    MapFunction("renameFields", _rename_fields, _check_rename),
    MapFunction("setTimestamp", _set_timestamp, _check_set_timestamp),
    MapFunction("enrichWithUserData", _enrich_with_user_data, _check_enrich, _enrich_tables),
)

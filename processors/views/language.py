"""The view language: a deterministic state machine written in CEL (pure; imports neither faust nor aiokafka).

    {"initial": <JSON>, "apply": "<CEL>", "query": "<CEL>"?}

`apply` runs once per event, in sequence order, and its value is the next state. It sees

    state     the current state (JSON)
    event     the event parsed as JSON, or null when its bytes are not JSON
    raw       the event's bytes
    sequence  the event's sequence number (1, 2, ...)

`query` answers a query from `state`, `input` (the query body parsed as JSON, or null) and `raw` (its bytes);
without one, a query answers the state itself. Besides CEL's standard functions there is `put(map, key, value)`,
a copy of `map` with `key` set, for states keyed by something in the event. CEL has no clock, randomness or I/O,
so a fold is a function of the log: replaying the same events from the same state gives the same state, which
is what makes a view exact after a crash.

Every state is normalised to what its JSON encoding decodes back to (`normalise`), so a state restored from its
published copy is the state the fold held. An `apply` that fails (an evaluation error, or a state with no JSON
form) leaves the state as it was; that is deterministic too, and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from processors.expressions import ExpressionError, compile_program, evaluation_error

if TYPE_CHECKING:
    import cel

APPLY_VARIABLES = ("state", "event", "raw", "sequence")
QUERY_VARIABLES = ("state", "input", "raw")


class ViewError(ValueError):
    """A definition that cannot run: `field` names the part (`initial`, `apply` or `query`)."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


def _put(mapping: Any, key: Any, value: Any) -> Any:
    if not isinstance(mapping, dict):
        raise TypeError(f"put() takes a map, got {type(mapping).__name__}")
    return {**mapping, key: value}


def normalise(value: Any) -> Any:
    """`value` as its JSON encoding reads back; TypeError when it has none (bytes, durations, huge ints)."""
    try:
        return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"the result has no JSON form: {exc}") from exc


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class _Program:
    source: str
    program: cel.Program = field(repr=False)
    referenced: tuple[str, ...]

    def run(self, bindings: dict[str, Any]) -> Any:
        import cel  # loaded already by compile_program, which made this program

        context = cel.Context()
        context.add_function("put", _put)
        context.update({name: bindings[name] for name in self.referenced})
        try:
            return self.program.execute(context)
        except Exception as exc:  # the extension maps CEL errors onto many builtin types; all mean "this input"
            raise evaluation_error(self.source, exc) from exc


def _compile(part: str, source: str, variables: tuple[str, ...]) -> _Program:
    try:
        program, referenced = compile_program(source, variables)
    except ExpressionError as exc:
        raise ViewError(part, str(exc)) from exc
    return _Program(source, program, referenced)


@dataclass(frozen=True, slots=True)
class Step:
    state: Any
    error: str | None = None  # why `apply` failed; the state is then the previous one


@dataclass(frozen=True, slots=True)
class View:
    initial: Any
    apply: _Program
    query: _Program | None

    def step(self, state: Any, raw: bytes, sequence: int) -> Step:
        """The state after event `sequence` (bytes `raw`)."""
        try:
            result = self.apply.run({"state": state, "event": parse_json(raw), "raw": raw, "sequence": sequence})
            return Step(normalise(result))
        except (ExpressionError, TypeError) as exc:
            return Step(state, f"event {sequence}: {exc}")

    def answer(self, state: Any, raw: bytes) -> Any:
        """The query's output for input `raw` (the state itself without a query); raises ExpressionError or
        TypeError (an output with no JSON form)."""
        if self.query is None:
            return state
        return normalise(self.query.run({"state": state, "input": parse_json(raw), "raw": raw}))


def compile_view(initial: Any, apply: str, query: str | None) -> View:
    """Compile a definition; raises ViewError naming the part that is wrong."""
    try:
        start = normalise(initial)
    except TypeError as exc:
        raise ViewError("initial", str(exc)) from exc
    return View(
        initial=start,
        apply=_compile("apply", apply, APPLY_VARIABLES),
        query=None if query is None else _compile("query", query, QUERY_VARIABLES),
    )

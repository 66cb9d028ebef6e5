"""CEL expressions over events, compiled once and evaluated per event.

Errors::

    ExpressionError
     ├── ExpressionCompileError      rejected when the spec is submitted (→ 422)
     │    ├── ExpressionSyntaxError  carries line and column (1-based) from the parser
     │    └── UnknownVariableError   names a variable other than the bound ones
     └── ExpressionEvaluationError   raised per event; the step's onError decides what happens
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from processors.events import Event

if TYPE_CHECKING:
    import cel

BOUND_VARIABLES: tuple[str, ...] = ("value", "key", "headers", "timestamp", "partition", "offset")

# cel reports each parse error as "<input>:LINE:COLUMN: [Syntax error: ]DETAIL", possibly several per message.
_SYNTAX_ERROR = re.compile(r"<input>:(\d+):(\d+): (?:Syntax error: )?([^\n]*)")
# Comprehension macros bind their own iteration variable, which Program.variables() reports like any other.
_MACRO_BINDER = re.compile(r"\b(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class ExpressionError(Exception):
    def __init__(self, source: str, detail: str) -> None:
        super().__init__(detail)
        self.source = source
        self.detail = detail


class ExpressionCompileError(ExpressionError):
    pass


class ExpressionSyntaxError(ExpressionCompileError):
    def __init__(self, source: str, detail: str, line: int | None, column: int | None) -> None:
        super().__init__(source, detail)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return f"syntax error: {self.detail}"
        where = f"column {self.column}" if self.line == 1 else f"line {self.line}, column {self.column}"
        return f"syntax error at {where}: {self.detail}"


class UnknownVariableError(ExpressionCompileError):
    def __init__(self, source: str, names: tuple[str, ...], available: tuple[str, ...] = BOUND_VARIABLES) -> None:
        listed = ", ".join(repr(name) for name in names)
        super().__init__(source, f"unknown variable {listed}; available: {', '.join(available)}")
        self.names = names


class ExpressionEvaluationError(ExpressionError):
    def __init__(self, source: str, detail: str, kind: str) -> None:
        super().__init__(source, detail)
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.kind} evaluating {self.source!r}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL expression; equal when the source text is equal.

    Only the bound variables the expression references are converted into CEL values per event, because the
    conversion (not the evaluation) dominates the cost: see ``processors/NOTES.md``.
    """

    source: str
    program: cel.Program = field(compare=False, repr=False)
    referenced: tuple[str, ...] = field(compare=False, repr=False)

    def evaluate(self, event: Event) -> Any:
        """Evaluate against ``event``; raises ExpressionEvaluationError, never another exception type."""
        bindings: dict[str, Any] = {}
        for name in self.referenced:
            bound = getattr(event, name)
            bindings[name] = dict(bound) if name == "headers" and not isinstance(bound, dict) else bound
        try:
            return self.program.execute(bindings)
        except Exception as exc:  # the extension maps CEL errors onto many builtin types; all mean "this event"
            raise evaluation_error(self.source, exc) from exc

    def test(self, event: Event) -> bool:
        """Evaluate a predicate. A non-boolean result is an evaluation error: CEL has no truthiness."""
        result = self.evaluate(event)
        if not isinstance(result, bool):
            raise ExpressionEvaluationError(
                self.source, f"a predicate must return a bool, got {type(result).__name__}", "type error"
            )
        return result


def compile_expression(source: str) -> Expression:
    """Compile CEL ``source`` over the bound variables ``value, key, headers, timestamp, partition, offset``.

    Raises ExpressionSyntaxError (with the parser's position) or UnknownVariableError. Functions are not checked
    here: an unknown function fails at evaluation, like any other runtime error.
    """
    program, referenced = compile_program(source, BOUND_VARIABLES)
    return Expression(source=source, program=program, referenced=referenced)


def compile_program(source: str, variables: tuple[str, ...]) -> tuple[cel.Program, tuple[str, ...]]:
    """Compile CEL ``source`` that may reference ``variables``; returns the program and the variables it
    references. Raises ExpressionSyntaxError or UnknownVariableError."""
    import cel  # imported by the first compile: the package loads its command line (prompt_toolkit, rich) too

    try:
        program = cel.compile(source)
    except ValueError as exc:
        raise _syntax_error(source, str(exc)) from exc
    binders = set(_MACRO_BINDER.findall(source))
    names = program.variables()
    unknown = tuple(name for name in names if name not in variables and name not in binders)
    if unknown:
        raise UnknownVariableError(source, unknown, variables)
    return program, tuple(name for name in variables if name in names)


def evaluation_error(source: str, exc: Exception) -> ExpressionEvaluationError:
    """What evaluating ``source`` raising ``exc`` means, as the ExpressionEvaluationError to raise instead."""
    return ExpressionEvaluationError(source, _error_detail(exc), _error_kind(exc))


def _syntax_error(source: str, message: str) -> ExpressionSyntaxError:
    found = _SYNTAX_ERROR.search(message)
    if found is None:
        return ExpressionSyntaxError(source, _first_line(message), None, None)
    return ExpressionSyntaxError(source, found.group(3).strip(), int(found.group(1)), int(found.group(2)))


def _first_line(message: str) -> str:
    return message.split("\n", 1)[0]


def _error_detail(exc: Exception) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"no such key {exc.args[0]!r}"
    # The extension appends generic advice after the first sentence; DLQ headers only need the diagnosis.
    return _first_line(str(exc)).split(". ", 1)[0]


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return "missing field"
    if isinstance(exc, IndexError):
        return "index out of range"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, ArithmeticError):
        return "arithmetic error"
    if isinstance(exc, TypeError):
        return "type error"
    return "evaluation error"

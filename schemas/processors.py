"""The declarative processor spec accepted by ``POST /api/v1/processors``.

Field names are camelCase on the wire and snake_case in Python. These models check shape and cross-field rules
only; compiling CEL, resolving map functions and checking partitions is the job of ``processors.compiler``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict, JsonValue


# Kafka's own rule for topic names; processor names become topic prefixes, so they follow it too, with room left
# for the longest suffix we append (".repartition").
def _not_dots(name: str) -> str:
    if name in {".", ".."}:
        raise ValueError("'.' and '..' are not valid topic names")
    return name


_NOT_DOTS: JsonDict = {"not": {"enum": [".", ".."]}}
TopicName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]+$", min_length=1, max_length=249),
    AfterValidator(_not_dots),
    Field(json_schema_extra=_NOT_DOTS),
]
ProcessorName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]+$", min_length=1, max_length=200),
    AfterValidator(_not_dots),
    Field(json_schema_extra=_NOT_DOTS),
]
CelSource = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
FunctionName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_MS = 2**63 - 1  # Kafka's timestamps are int64 milliseconds; no span of time the windows handle is longer
PositiveMs = Annotated[int, Field(gt=0, le=MAX_MS)]

OnError = Literal["skip", "dlq", "fail"]
WindowType = Literal["tumbling", "hopping", "session"]
EmitMode = Literal["changes", "final"]
TimestampFormat = Literal["epoch_ms", "epoch_s", "iso8601"]
AggregationName = Literal["count", "sum", "avg", "min", "max", "countDistinct"]


class _Spec(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        strict=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers(cls, data: Any) -> Any:
        # JSON has one number type: 170.0 is the integer 170 (JSON Schema agrees), which strict mode would
        # refuse for an int field. A float field takes the int back as the same float.
        if isinstance(data, dict):
            return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
        return data


class FilterOperation(_Spec):
    """Keep events for which the CEL ``predicate`` is true."""

    type: Literal["filter"]
    predicate: CelSource
    on_error: OnError = "dlq"


def _present(name: str, kind: str = "string") -> JsonDict:
    return {"required": [name], "properties": {name: {"type": kind}}}


def _absent(*names: str) -> JsonDict:
    return {"properties": {name: {"type": "null"} for name in names}}


class MapOperation(_Spec):
    """Replace the event with a registry ``function`` (with ``args``) or with the value of a CEL ``expression``."""

    # `_one_of_function_or_expression`, as JSON Schema.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"allOf": [_present("function"), _absent("expression")]},
                {
                    "allOf": [
                        _present("expression"),
                        _absent("function"),
                        {"properties": {"args": {"maxProperties": 0}}},
                    ]
                },
            ]
        }
    )

    type: Literal["map"]
    function: FunctionName | None = None
    expression: CelSource | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    on_error: OnError = "dlq"

    @model_validator(mode="after")
    def _one_of_function_or_expression(self) -> MapOperation:
        if (self.function is None) == (self.expression is None):
            raise ValueError("map needs exactly one of function or expression")
        if self.expression is not None and self.args:
            raise ValueError("args apply to a map function, not to an expression")
        return self


class WindowTimestamp(_Spec):
    """Where event time comes from; without it the record timestamp is used."""

    field: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    format: TimestampFormat = "epoch_ms"


def _window(kind: str, needs: tuple[str, ...], refuses: tuple[str, ...]) -> JsonDict:
    then: list[JsonValue] = [_present(name, "integer") for name in needs]
    then.append(_absent(*refuses))
    return {"if": {"properties": {"windowType": {"const": kind}}}, "then": {"allOf": then}}


class WindowOperation(_Spec):
    """Group events into time windows; must be followed by an aggregate. All durations are milliseconds."""

    # `_fields_match_window_type`, as JSON Schema (but for advance <= duration); `size` is left out of the
    # document as the alias it is.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                _window("session", ("gap",), ("duration", "advance")),
                _window("tumbling", ("duration",), ("gap", "advance")),
                _window("hopping", ("duration", "advance"), ("gap",)),
            ]
        }
    )

    type: Literal["window"]
    window_type: WindowType
    duration: PositiveMs | None = Field(default=None, validation_alias=AliasChoices("duration", "size"))
    advance: PositiveMs | None = None
    gap: PositiveMs | None = None
    grace: Annotated[int, Field(ge=0, le=MAX_MS)] = 0
    emit: EmitMode = "changes"
    timestamp: WindowTimestamp | None = None
    idle_close_after: PositiveMs | None = None
    on_error: OnError = "dlq"

    @model_validator(mode="before")
    @classmethod
    def _duration_or_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and "duration" in data and "size" in data:
            raise ValueError("give either duration or its alias size, not both")
        return data

    @model_validator(mode="after")
    def _fields_match_window_type(self) -> WindowOperation:
        kind = self.window_type
        if kind == "session":
            if self.gap is None:
                raise ValueError("a session window needs gap (ms of inactivity that ends a session)")
            if self.duration is not None or self.advance is not None:
                raise ValueError("a session window takes gap, not duration or advance")
            return self
        if self.duration is None:
            raise ValueError(f"a {kind} window needs duration (ms)")
        if self.gap is not None:
            raise ValueError(f"gap applies to session windows, not to {kind} windows")
        if kind == "tumbling" and self.advance is not None:
            raise ValueError("a tumbling window takes no advance; use a hopping window")
        if kind == "hopping":
            if self.advance is None:
                raise ValueError("a hopping window needs advance (ms)")
            if self.advance > self.duration:
                raise ValueError(f"advance ({self.advance}) must not exceed duration ({self.duration})")
        return self


class AggregateOperation(_Spec):
    """Aggregate per group key (and per window when a window precedes it). Nulls are ignored, as in ksqlDB."""

    # `_field_when_needed`, as JSON Schema.
    model_config = ConfigDict(
        json_schema_extra={"if": {"properties": {"aggregation": {"const": "count"}}}, "else": _present("field")}
    )

    type: Literal["aggregate"]
    aggregation: AggregationName
    field: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    group_by: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    on_error: OnError = "dlq"

    @model_validator(mode="after")
    def _field_when_needed(self) -> AggregateOperation:
        if self.aggregation != "count" and self.field is None:
            raise ValueError(f"aggregation {self.aggregation} needs field")
        return self


class SampleOperation(_Spec):
    """Keep a ``rate`` share of events: by a hash of the key when ``byKey``, else of the source position."""

    type: Literal["sample"]
    rate: Annotated[float, Field(ge=0.0, le=1.0)]
    by_key: bool = False
    on_error: OnError = "dlq"


class RouteCase(_Spec):
    predicate: CelSource
    sink: TopicName


class RouteOperation(_Spec):
    """Send each event to the sink of the first case whose predicate is true, else to ``default``."""

    type: Literal["route"]
    cases: Annotated[list[RouteCase], Field(min_length=1)]
    default: TopicName | None = None
    on_error: OnError = "dlq"


Operation = Annotated[
    FilterOperation | MapOperation | WindowOperation | AggregateOperation | SampleOperation | RouteOperation,
    Field(discriminator="type"),
]


class ProcessorConfig(_Spec):
    """``parallelism`` is the number of worker processes (at most the source's partitions);
    ``checkpoint_interval`` is the offset commit interval in ms; ``start_from`` is where a new processor starts
    reading its source (later versions continue from the previous version's offsets)."""

    parallelism: Annotated[int, Field(ge=1, le=1024)] = 1
    checkpoint_interval: Annotated[int, Field(ge=100, le=MAX_MS)] = 5000
    guarantee: Literal["at_least_once"] = "at_least_once"
    start_from: Literal["earliest", "latest"] = "earliest"


def _one(kind: str) -> dict[str, Any]:
    return {"properties": {"type": {"const": kind}}, "required": ["type"]}


# A route, when there is one, is the last operation. JSON Schema has no "last item", so the document spells out
# pipelines of up to `_ROUTE_POSITIONS` operations; a longer one, it says, has no route (the gateway takes one).
_ROUTE_POSITIONS = 8
_NOT_ROUTE: dict[str, Any] = {"not": _one("route")}
_ROUTE_LAST: dict[str, Any] = {
    "anyOf": [
        {"maxItems": _ROUTE_POSITIONS, "not": {"contains": _one("route")}},
        {"minItems": 1, "maxItems": 1},
        *(
            {"minItems": n, "maxItems": n, "prefixItems": [_NOT_ROUTE] * (n - 1)}
            for n in range(2, _ROUTE_POSITIONS + 1)
        ),
        {"minItems": _ROUTE_POSITIONS + 1, "items": _NOT_ROUTE},
    ]
}

# A window is followed directly by an aggregate: spelled out for a window among the first `_ROUTE_POSITIONS`.
_WINDOW_THEN_AGGREGATE: dict[str, Any] = {
    "anyOf": [
        {"not": {"contains": _one("window")}},
        *(
            {"prefixItems": [*([{"not": _one("window")}] * i), _one("window"), _one("aggregate")]}
            for i in range(_ROUTE_POSITIONS - 1)
        ),
    ]
}
_ROUTE_WITH_DEFAULT = {
    "contains": {"allOf": [_one("route"), {"required": ["default"], "properties": {"default": {"type": "string"}}}]}
}

# What `_pipeline_shape` checks, as far as JSON Schema can say it: at most one window, aggregate and route, a
# window only with an aggregate, and a sink unless a route decides where events go.
_PIPELINE_SHAPE: dict[str, Any] = {
    "allOf": [
        {"properties": {"operations": {"contains": _one(kind), "minContains": 0, "maxContains": 1}}}
        for kind in ("window", "aggregate", "route")
    ]
    + [
        {
            "if": {"properties": {"operations": {"contains": _one("window")}}, "required": ["operations"]},
            "then": {"properties": {"operations": {"contains": _one("aggregate")}}},
        },
        {"properties": {"operations": {"allOf": [_ROUTE_LAST, _WINDOW_THEN_AGGREGATE]}}},
        {
            "if": {"properties": {"operations": _ROUTE_WITH_DEFAULT}, "required": ["operations"]},
            "then": {"properties": {"sink": {"type": "null"}}},
        },
        {
            "anyOf": [
                {"required": ["sink"], "properties": {"sink": {"type": "string"}}},
                {"required": ["operations"], "properties": {"operations": {"contains": _one("route")}}},
            ]
        },
    ]
}


class ProcessorSpec(_Spec):
    """A processor: read ``source``, apply ``operations`` in order, write to ``sink`` (or where a route sends)."""

    model_config = ConfigDict(json_schema_extra=cast("JsonDict", _PIPELINE_SHAPE))

    name: ProcessorName
    source: TopicName
    operations: list[Operation]
    sink: TopicName | None = None
    config: ProcessorConfig = Field(default_factory=ProcessorConfig)

    @model_validator(mode="after")
    def _pipeline_shape(self) -> ProcessorSpec:
        ops = self.operations
        kinds = [op.type for op in ops]
        for kind in ("window", "aggregate", "route"):
            if kinds.count(kind) > 1:
                raise ValueError(f"at most one {kind} operation is allowed")
        for index, op in enumerate(ops):
            if op.type == "window" and (index + 1 == len(ops) or ops[index + 1].type != "aggregate"):
                raise ValueError(f"operations[{index}]: a window must be followed directly by an aggregate")
            if op.type == "route" and index + 1 != len(ops):
                raise ValueError(f"operations[{index}]: route must be the last operation")
        route = ops[-1] if ops and isinstance(ops[-1], RouteOperation) else None
        if route is None and self.sink is None:
            raise ValueError("sink is required unless the last operation is a route")
        if route is not None and route.default is not None and self.sink is not None:
            raise ValueError("with a route, sink acts as the route default; give sink or route.default, not both")
        outputs = [self.sink] if self.sink else []
        if route is not None:
            outputs += [case.sink for case in route.cases] + ([route.default] if route.default else [])
        if self.source in outputs:
            raise ValueError(f"a processor must not write to its own source {self.source!r}")
        return self

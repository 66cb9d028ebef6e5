"""`GET /api/v1/processors/{processor_id}/state?key=K[&after=partition:offset,...]`: an aggregate's current
state for one key, answered from this gateway's copy of the state topic the workers publish
(`schemas.processor_state`), never by calling a worker.

Without `after` the answer is as stale as the copy: workers publish every 100 ms (`PUBLISH_INTERVAL_S`), the
tail reads a record within milliseconds of its write, so an answer lags the worker by about 0.1-0.5 s plus the
worker's own lag behind the source. With `after` (positions as produce responses give them) the gateway waits
until the published progress covers every position, up to KAFKAGATE_READ_AFTER_WRITE_WAIT_MS (504 after).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway import errors as ge
from gateway.context import GatewayContext, context
from gateway.kafka.table import ReplicatedTable
from gateway.partitioner import partition_for_key
from gateway.responses import JSONResponse
from gateway.tenancy import namespace
from processors.compiler import compile_processor
from schemas.processor_state import (
    CLOSED_KEPT_MS,
    AggregateProgress,
    KeyState,
    Published,
    SourceProgress,
    aggregate_record,
    covers,
    key_record,
    source_record,
)


def parse_positions(raw: str | None) -> dict[int, int]:
    """`0:15,2:7` -> {0: 15, 2: 7} (the highest offset per partition); 400 for anything else."""
    if raw is None or raw == "":
        return {}
    positions: dict[int, int] = {}
    for part in raw.split(","):
        partition, sep, offset = part.strip().partition(":")
        if not sep or not _digits(partition) or not _digits(offset):
            raise ge.InvalidOffset(f"after takes partition:offset pairs separated by commas (0:15,2:7), got {part!r}")
        positions[int(partition)] = max(positions.get(int(partition), -1), int(offset))
    return positions


def _digits(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes superscripts, which `int` refuses."""
    return text.isascii() and text.isdigit()


async def _require_held(ctx: GatewayContext, source: str, partitions: int, positions: dict[int, int]) -> None:
    """400 for a position the source does not hold: a produce answered it, so waiting for a later one would only
    ever end in the 504."""
    outside = sorted(p for p in positions if p >= partitions)
    if outside:
        raise ge.InvalidOffset(f"after names partition {outside[0]}; the source has {partitions}")
    ranges = await ctx.kafka.admin.offset_range(source, sorted(positions))
    for partition, offset in sorted(positions.items()):
        end = ranges[partition][1]
        if offset >= end:
            raise ge.InvalidOffset(
                f"after {partition}:{offset} is past the source's last event there (offset {end - 1})"
            )


def key_candidates(raw: str) -> list[Any]:
    """The group keys `key=raw` can mean: the string itself, and the JSON value it spells (a numeric key)."""
    candidates: list[Any] = [raw]
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return candidates
    if not isinstance(parsed, str | dict | list) and parsed is not None:
        candidates.append(parsed)
    return candidates


def _get(table: ReplicatedTable[Published], key: str, kind: type[Any]) -> Any:
    found = table.get(key)
    return found if isinstance(found, kind) else None


async def processor_state(request: Request) -> Response:
    ctx = context(request)
    raw_key = request.query_params.get("key")
    if raw_key is None:
        raise ge.BadRequest("key is required: the group key whose state to read")
    positions = parse_positions(request.query_params.get("after"))
    ctx.kafka.require_ready()
    registry = ctx.kafka.processors
    await registry.sync()
    processor_id = request.path_params["processor_id"]
    record = registry.get(processor_id)
    if record is None or namespace(request).processor_name(record.name) is None:
        raise ge.ProcessorNotFound(f"processor {processor_id!r} does not exist")
    plan = compile_processor(record.processor_spec(), registry.functions, processor=record.name)
    if plan.aggregate is None:
        raise ge.BadRequest("this processor has no aggregate, so it keeps no state to read")
    repartitioned = plan.topics.repartition is not None
    table = ctx.kafka.processor_state
    if not table.started:
        await table.sync()
    group_key, found = raw_key, None
    for candidate in key_candidates(raw_key):
        found = _get(table, key_record(record.processor_id, candidate), KeyState)
        if found is not None:
            group_key = candidate
            break
    partitions = (await ctx.kafka.admin.limits(plan.topics.source))[0]
    if found is not None:
        aggregate_partition = found.partition
    else:
        key_bytes = orjson.dumps(group_key) if repartitioned else str(group_key).encode()
        aggregate_partition = partition_for_key(key_bytes, partitions)

    def sources() -> dict[int, SourceProgress]:
        published = (_get(table, source_record(record.processor_id, p), SourceProgress) for p in range(partitions))
        return {source.partition: source for source in published if source is not None}

    def progress() -> AggregateProgress | None:
        found: AggregateProgress | None = _get(
            table, aggregate_record(record.processor_id, aggregate_partition), AggregateProgress
        )
        return found

    def reached() -> bool:
        return covers(
            positions, aggregate_partition, repartitioned=repartitioned, sources=sources(), progress=progress()
        )

    if positions:
        await _require_held(ctx, plan.topics.source, partitions, positions)
        wait_s = ctx.settings.read_after_write_wait_ms / 1000
        if not await table.wait_until(reached, wait_s):
            handled = {p: s.handled for p, s in sources().items()}
            raise ge.OperationTimeout(
                f"the processor did not reach {request.query_params['after']} within {wait_s:g} s "
                f"(stage 1 has handled {handled or 'nothing yet'})"
            )
        found = _get(table, key_record(record.processor_id, group_key), KeyState)
    document = _document(
        record.processor_id,
        group_key,
        partition=aggregate_partition,
        state=found,
        progress=progress(),
        sources=sources(),
    )
    return JSONResponse(document)


def _document(
    processor_id: str,
    group_key: Any,
    *,
    partition: int,
    state: KeyState | None,
    progress: AggregateProgress | None,
    sources: dict[int, SourceProgress],
) -> dict[str, Any]:
    stream_time = None if progress is None else progress.stream_time
    windows = []
    for window in [] if state is None else state.windows:
        closed = window.closes_at is not None and stream_time is not None and stream_time > window.closes_at
        if (
            closed
            and window.closes_at is not None
            and stream_time is not None
            and (window.closes_at + CLOSED_KEPT_MS < stream_time)
        ):
            continue  # closed longer ago than closed windows are kept
        windows.append({"windowStart": window.start, "windowEnd": window.end, "closed": closed, "value": window.value})
    published = [p.published_at_ms for p in (progress, *sources.values()) if p is not None]
    return {
        "processorId": processor_id,
        "key": group_key,
        "partition": partition,
        "windows": windows,
        "streamTime": stream_time,
        "processed": {str(p): s.handled for p, s in sorted(sources.items())},
        "publishedAt": max(published) if published else None,
    }

"""`kafkagate produce STREAM [FILE|-]`: NDJSON in, batched and idempotent, a progress bar, a summary by code."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import click
import orjson

from kafkagate.cli import exit_codes, output
from kafkagate.cli.session import PRODUCE_RETRY, connection_options, session
from kafkagate.client import BatchOutcome, ProduceStats
from kafkagate.client.errors import ApiError, KafkagateError
from kafkagate.client.models import Failed

_SHOWN_BAD_LINES = 5


class _Tally:
    """What `on_batch` saw: the first message of each failure code, and the last whole-request error."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.examples: dict[str, str] = {}
        self.last_error: KafkagateError | None = None
        self.done = 0

    def __call__(self, outcome: BatchOutcome) -> None:
        with self.lock:
            self.done += outcome.events
            if outcome.error is not None:
                self.last_error = outcome.error
                code = outcome.error.error if isinstance(outcome.error, ApiError) else "TRANSPORT"
                self.examples.setdefault(code, str(outcome.error))
            for item in outcome.items() or ():
                if isinstance(item, Failed):
                    self.examples.setdefault(item.error, item.message)


def _event(line: bytes, envelope: bool, key_field: str | None) -> dict[str, Any]:
    value = orjson.loads(line)
    if envelope:
        if not isinstance(value, dict) or "value" not in value:
            raise ValueError("an --envelope line must be an object with a value")
        return value
    event: dict[str, Any] = {"value": value}
    if key_field is not None and isinstance(value, dict) and value.get(key_field) is not None:
        event["key"] = str(value[key_field])
    return event


@click.command()
@click.argument("stream")
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--envelope", is_flag=True, help="each line is an event document (value, key, headers, ...)")
@click.option("--key-field", default=None, help="use this field of each value as the event key")
@click.option(
    "--batch-size", type=click.IntRange(1, 10_000), default=1000, show_default=True, help="events per request"
)
@click.option("--linger-ms", type=click.IntRange(0), default=50, show_default=True, help="longest wait to fill a batch")
@connection_options
def produce(
    *, stream: str, source: IO[bytes], envelope: bool, key_field: str | None, batch_size: int, linger_ms: int
) -> int:
    """Publish newline-delimited JSON from SOURCE (a file, or `-` for standard input) to STREAM.

    Each line is an event's value (or, with --envelope, a whole event). Batches are retried with their own
    Idempotency-Key, so a retry never writes twice. Exit 0 when every line was published, 6 when some failed."""
    ctx = session()
    client = ctx.client()
    client.streams.get(stream)  # an unknown stream stops here, with exit code 4
    client.retry = PRODUCE_RETRY
    tally = _Tally()
    bad_lines: Counter[str] = Counter()
    total_bytes = _size(source)
    started = time.monotonic()
    interrupted = False
    with _progress(total_bytes) as progress:
        task = progress.add_task("producing", total=total_bytes, events=0, rate="0")

        def on_batch(outcome: BatchOutcome) -> None:
            tally(outcome)
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, events=tally.done, rate=f"{tally.done / elapsed:,.0f}")

        producer = client.producer(stream, max_events=batch_size, linger_ms=linger_ms, on_batch=on_batch)
        try:
            for number, line in enumerate(source, start=1):
                progress.advance(task, len(line))
                if not line.strip():
                    continue
                try:
                    producer.send_event(_event(line, envelope, key_field))
                except ValueError as exc:
                    bad_lines["INVALID_JSON"] += 1
                    tally.examples.setdefault("INVALID_JSON", f"line {number}: {exc}")
                    if bad_lines["INVALID_JSON"] <= _SHOWN_BAD_LINES:
                        click.echo(f"kafkagate: line {number}: {exc}", err=True)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            stats = producer.close()
    seconds = time.monotonic() - started
    _summary(stats, bad_lines, tally, seconds)
    if interrupted:
        return exit_codes.INTERRUPTED
    if stats.published + stats.dead_lettered == 0 and tally.last_error is not None:
        return exit_codes.for_error(tally.last_error)
    return exit_codes.PARTIAL if stats.failed_total or bad_lines else exit_codes.OK


def _size(source: IO[bytes]) -> int | None:
    name = getattr(source, "name", None)
    if isinstance(name, str) and name not in {"<stdin>", "-"}:
        path = Path(name)
        if path.is_file():
            return path.stat().st_size
    return None


def _progress(total_bytes: int | None) -> Any:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    err = output.console(stderr=True)
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total_bytes is not None:
        columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
    columns += [
        TextColumn("{task.fields[events]:,} events"),
        TextColumn("{task.fields[rate]} events/s"),
        TimeElapsedColumn(),
    ]
    return Progress(*columns, console=err, disable=not err.is_terminal, refresh_per_second=8)


def _summary(stats: ProduceStats, bad_lines: Counter[str], tally: _Tally, seconds: float) -> None:
    failed = Counter(stats.failed) + bad_lines
    rate = stats.done / seconds if seconds > 0 else 0.0
    if session().json:
        output.print_json(
            {
                "sent": stats.sent,
                "published": stats.published,
                "deadLettered": stats.dead_lettered,
                "failed": dict(failed),
                "failedTotal": sum(failed.values()),
                "batches": stats.batches,
                "seconds": round(seconds, 3),
                "eventsPerSecond": round(rate, 1),
            }
        )
        return
    rows: list[tuple[str, Any, str]] = [("published", stats.published, ""), ("dead-lettered", stats.dead_lettered, "")]
    rows += [(f"failed {code}", count, tally.examples.get(code, "")) for code, count in failed.most_common()]
    output.console().print(f"{stats.done:,} events in {seconds:.1f} s ({rate:,.0f} events/s, {stats.batches} batches)")
    output.table(None, ["OUTCOME", "EVENTS", "FIRST MESSAGE"], rows)

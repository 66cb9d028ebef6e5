"""`kafkagate processors apply SPEC.json|list|describe|metrics [--watch]|pause|resume|delete`."""

from __future__ import annotations

import time
from typing import IO, Any

import click
import orjson

from kafkagate.cli import output
from kafkagate.cli.session import connection_options, session
from kafkagate.client import Client
from kafkagate.client.models import ProcessorMetrics


def _resolve(client: Client, name_or_id: str) -> str:
    """A processor id from an id (`proc_...`) or a processor name."""
    if name_or_id.startswith("proc_"):
        return name_or_id
    for summary in client.processors.list().processors:
        if summary.name == name_or_id:
            return summary.processor_id
    return name_or_id  # the gateway answers 404 PROCESSOR_NOT_FOUND


@click.group()
def processors() -> None:
    """Declarative stream processors: apply specs, watch their status and metrics."""


@processors.command("apply")
@click.argument("spec_file", type=click.File("rb"))
@connection_options
def apply(spec_file: IO[bytes]) -> None:
    """Create the processor SPEC_FILE names, or replace its spec (a new version when it changed)."""
    try:
        spec = orjson.loads(spec_file.read())
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="SPEC_FILE") from None
    if not isinstance(spec, dict):
        raise click.BadParameter("a processor spec is a JSON object", param_hint="SPEC_FILE")
    processor, created = session().client().processors.apply(spec)
    if session().json:
        output.print_json(processor)
        return
    verb = "created" if created else "applied"
    output.console().print(f"{verb} processor [bold]{processor.name}[/] {processor.processor_id} v{processor.version}")


@processors.command("list")
@connection_options
def list_processors() -> None:
    listed = session().client().processors.list()
    if session().json:
        output.print_json(listed)
        return
    output.table(
        None,
        ["ID", "NAME", "VERSION", "STATUS", "DESIRED", "UPDATED"],
        ((p.processor_id, p.name, p.version, p.status, p.desired, p.updated_at) for p in listed.processors),
    )


@processors.command("describe")
@click.argument("processor")
@connection_options
def describe(processor: str) -> None:
    """PROCESSOR (an id or a name): its status, topics and spec."""
    client = session().client()
    found = client.processors.get(_resolve(client, processor))
    if session().json:
        output.print_json(found)
        return
    topics = found.topics.model_dump(exclude_none=True) if found.topics else {}
    metrics = found.metrics
    output.fields(
        f"{found.name} ({found.processor_id})",
        [
            ("version", found.version),
            ("status", found.status if found.reason is None else f"{found.status}: {found.reason}"),
            ("desired", found.desired),
            ("topics", topics),
            ("events processed", None if metrics is None else metrics.events_processed),
            ("throughput", None if metrics is None else f"{metrics.throughput} events/s"),
            ("lag", None if metrics is None else metrics.lag),
            ("spec", found.spec),
        ],
    )


def _metrics_table(found: ProcessorMetrics) -> Any:
    from rich.table import Table

    values = found.metrics
    grid = Table(title=f"{found.processor_id} v{found.version}: {found.status}", title_justify="left")
    for column in ("IN", "PROCESSED", "EMITTED", "FILTERED", "ERRORS", "DLQ", "LATE", "EVENTS/S", "LATENCY MS", "LAG"):
        grid.add_column(column, justify="right")
    grid.add_row(
        *(
            str(v)
            for v in (
                values.events_in,
                values.events_processed,
                values.events_emitted,
                values.events_filtered,
                values.errors,
                values.dlq_events,
                values.late_events,
                values.throughput,
                values.avg_latency,
                values.lag,
            )
        )
    )
    if found.windows:
        windows = Table(title="open windows", title_justify="left")
        for column in ("START", "END", "EVENTS"):
            windows.add_column(column)
        for w in found.windows[-10:]:
            windows.add_row(w.window_start, w.window_end, str(w.events_count))
        from rich.console import Group

        return Group(grid, windows)
    return grid


@processors.command("metrics")
@click.argument("processor")
@click.option("-w", "--watch", is_flag=True, help="refresh until Ctrl-C (with --output json: one line per refresh)")
@click.option(
    "--interval", type=click.FloatRange(0.2), default=2.0, show_default=True, help="seconds between refreshes"
)
@connection_options
def metrics(processor: str, watch: bool, interval: float) -> None:
    """PROCESSOR's counters, throughput, latency, lag and open windows."""
    client = session().client()
    processor_id = _resolve(client, processor)
    if not watch:
        found = client.processors.metrics(processor_id)
        if session().json:
            output.print_json(found)
        else:
            output.console().print(_metrics_table(found))
        return
    try:
        if session().json:
            while True:
                output.print_json(client.processors.metrics(processor_id), indent=False)
                time.sleep(interval)
        from rich.live import Live

        with Live(_metrics_table(client.processors.metrics(processor_id)), console=output.console()) as live:
            while True:
                time.sleep(interval)
                live.update(_metrics_table(client.processors.metrics(processor_id)))
    except KeyboardInterrupt:
        return


def _lifecycle(name: str, help_text: str) -> None:
    @processors.command(name, help=help_text)
    @click.argument("processor")
    @connection_options
    def command(processor: str) -> None:
        client = session().client()
        processor_id = _resolve(client, processor)
        resource = client.processors
        done = {"pause": resource.pause, "resume": resource.resume, "delete": resource.delete}[name](processor_id)
        if session().json:
            output.print_json(done)
            return
        output.console().print(f"{name}: {processor_id} ({getattr(done, 'status', '')})")


_lifecycle("pause", "Pause PROCESSOR (an id or a name): its workers stop, its offsets stay.")
_lifecycle("resume", "Resume PROCESSOR; also restarts a failed one.")
_lifecycle("delete", "Delete PROCESSOR; its sinks, dead-letter and repartition topics stay.")

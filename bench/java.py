"""The machine's ceiling: Kafka's own Java producer (`ProducerPerformance` from kafka-tools) on the same broker.

It writes the bench's own event value (through `--payload-file`) with the gateway's producer settings. Its
records carry no key, so its partitioner sticks to one partition per batch: a little kinder than the keyed
workloads of the other sides. Its throughput is its own report (JVM start-up excluded); its CPU is counted as
the load generator's.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import payload
from bench.cpu import CpuProbe, CpuSample
from bench.errors import BenchError
from bench.measurement import Measurement
from gateway.kafka.producer import _BATCH_BYTES as GATEWAY_BATCH_BYTES
from gateway.settings import Settings
from scripts.kafka_tools import producer_performance_argv

SIDE = "java ProducerPerformance"
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec .*?"
    r"(?P<p50>[\d.]+) ms 50th, (?P<p95>[\d.]+) ms 95th, (?P<p99>[\d.]+) ms 99th"
)


@dataclass(frozen=True, slots=True)
class Report:
    records: int
    per_s: float
    p50_ms: float
    p99_ms: float


def parse_report(output: str) -> Report:
    """ProducerPerformance's final summary line (the last one holding percentiles)."""
    found = list(_SUMMARY.finditer(output))
    if not found:
        raise BenchError(f"ProducerPerformance printed no summary:\n{output[-2000:]}")
    last = found[-1]
    return Report(int(last["records"]), float(last["rate"]), float(last["p50"]), float(last["p99"]))


def _argv(settings: Settings, topic: str, records: int, payload_file: Path) -> list[str]:
    props = {
        "bootstrap.servers": settings.bootstrap_servers,
        "acks": "all",
        "enable.idempotence": "true",
        "linger.ms": str(settings.producer_linger_ms),
        "batch.size": str(GATEWAY_BATCH_BYTES),
        "compression.type": settings.producer_compression,
    }
    arguments = ["--topic", topic, "--num-records", str(records), "--throughput", "-1"]
    arguments += ["--payload-file", str(payload_file), "--producer-props", *(f"{k}={v}" for k, v in props.items())]
    return producer_performance_argv(arguments)


def _run(argv: list[str]) -> tuple[str, float]:
    """Run to completion; return its output and the CPU seconds it used (from the kernel's child accounting)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # noqa: S603
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchError(f"ProducerPerformance exited with {process.returncode}:\n{output[-2000:]}")
    return output, usage.ru_utime + usage.ru_stime


async def produce(
    settings: Settings, topic: str, scenario: str, *, records: int, work_dir: Path, probe: CpuProbe | None
) -> Measurement:
    payload_file = work_dir / "java-payload.json"
    payload_file.write_bytes(payload.VALUE)  # one line: the delimiter is a newline, so every record is VALUE
    argv = _argv(settings, topic, records, payload_file)
    before = None if probe is None else probe.sample()
    output, java_cpu_s = await asyncio.to_thread(_run, argv)
    report = parse_report(output)
    seconds = report.records / report.per_s if report.per_s > 0 else 0.0
    cpu = None
    if probe is not None and before is not None:
        after = probe.sample()
        # The broker's CPU over the JVM's whole life is spread over its measured seconds: start-up is idle for it.
        broker = None if after.broker_s is None or before.broker_s is None else after.broker_s - before.broker_s
        cpu = CpuSample(bench_s=java_cpu_s, gateway_s=None, broker_s=broker)
    latencies = [report.p50_ms / 1000, report.p99_ms / 1000]  # its own percentiles, not per-request latencies
    return Measurement(scenario, SIDE, report.records, seconds, latencies, cpu)

"""Session fixtures: a real Kafka broker of the test run's own (or `KAFKAGATE_TEST_BOOTSTRAP` to reuse one)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = ROOT / "scripts" / "kafka.py"
# Retention runs every second instead of every 5 minutes, so a test whose records could fall to time-based
# retention (old event timestamps) fails every time instead of once in a while.
BROKER_SETTINGS = ("--set", "log.retention.check.interval.ms=1000")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Broker:
    bootstrap: str
    data_dir: Path | None  # None when the broker is not ours (KAFKAGATE_TEST_BOOTSTRAP)

    @property
    def pid(self) -> int | None:
        if self.data_dir is None:
            return None
        return int((self.data_dir / "broker.pid").read_text())


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Broker]:
    """A broker that lives for the whole test session."""
    reuse = os.environ.get("KAFKAGATE_TEST_BOOTSTRAP")
    if reuse:
        yield Broker(reuse, None)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="kafkagate-test-broker-"))
    port, controller_port = _free_port(), _free_port()
    result = subprocess.run(  # noqa: S603 - our own script, fixed argv
        [
            sys.executable,
            str(KAFKA_SCRIPT),
            "up",
            "--dir",
            str(data_dir),
            "--port",
            str(port),
            "--controller-port",
            str(controller_port),
            *BROKER_SETTINGS,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log = data_dir / "broker.log"
        tail = log.read_text()[-4000:] if log.exists() else ""
        pytest.fail(f"could not start Kafka: {result.stderr}\n--- {log} ---\n{tail}", pytrace=False)
    try:
        yield Broker(result.stdout.strip().splitlines()[-1], data_dir)
    finally:
        subprocess.run([sys.executable, str(KAFKA_SCRIPT), "down", "--dir", str(data_dir)], check=False)  # noqa: S603


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: Broker) -> str:
    return kafka_broker.bootstrap

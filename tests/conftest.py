"""Session fixtures: a real Kafka broker of the test run's own (or `KAFKAGATE_TEST_BOOTSTRAP` to reuse one)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts import launcher

# Retention runs every second instead of every 5 minutes, so a test whose records could fall to time-based
# retention (old event timestamps) fails every time instead of once in a while.
BROKER_SETTINGS = ("log.retention.check.interval.ms=1000",)


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
    result = subprocess.run(  # noqa: S603 - our own script, fixed argv
        launcher.up_argv(data_dir, launcher.free_port(), launcher.free_port(), BROKER_SETTINGS),
        capture_output=True,
        text=True,
        check=False,
    )
    log = data_dir / "broker.log"
    if result.returncode != 0:
        tail = log.read_text()[-4000:] if log.exists() else ""
        pytest.fail(f"could not start Kafka: {result.stderr}\n--- {log} ---\n{tail}", pytrace=False)
    try:
        bootstrap = launcher.parse_bootstrap(result.stdout)
    except ValueError as exc:
        subprocess.run(launcher.down_argv(data_dir), check=False)  # noqa: S603
        pytest.fail(f"{exc}\n--- stderr ---\n{result.stderr}", pytrace=False)
    try:
        yield Broker(bootstrap, data_dir)
    finally:
        subprocess.run(launcher.down_argv(data_dir), check=False)  # noqa: S603


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: Broker) -> str:
    return kafka_broker.bootstrap

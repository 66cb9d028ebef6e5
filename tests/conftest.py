"""Session fixtures: a real Kafka broker of the test run's own (or `KAFKAGATE_TEST_BOOTSTRAP` to reuse one), and
a three-broker cluster for the tests that need replication (started only when one asks for it)."""

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
# The controller fences a broker that stopped heartbeating after 4 s instead of 9 s, and takes it out of its
# partitions' ISRs then; a follower that stopped fetching leaves the ISR after 5 s instead of 30 s.
CLUSTER_SETTINGS = (
    *BROKER_SETTINGS,
    "broker.session.timeout.ms=4000",
    "broker.heartbeat.interval.ms=500",
    "replica.lag.time.max.ms=5000",
)
CLUSTER_BROKERS = 3


@dataclass(frozen=True)
class Broker:
    """A broker (one port) or a cluster (one port per broker) that `scripts/kafka.py` runs from `data_dir`."""

    bootstrap: str
    data_dir: Path | None  # None when the broker is not ours (KAFKAGATE_TEST_BOOTSTRAP)
    ports: tuple[int, ...] = ()
    controller_port: int = 0
    settings: tuple[str, ...] = BROKER_SETTINGS

    @property
    def pid(self) -> int | None:
        """The single broker's process id (None when the broker is not ours)."""
        if self.data_dir is None:
            return None
        return int((self.data_dir / "broker.pid").read_text())

    def node_pid(self, node_id: int) -> int:
        """The process id of broker `node_id` (1, 2, 3) of a cluster."""
        assert self.data_dir is not None
        return int((self.data_dir / f"broker-{node_id}" / "broker.pid").read_text())

    def up_argv(self) -> list[str]:
        """`kafka.py up` for this broker or cluster: run after a node was killed, it starts that node again."""
        assert self.data_dir is not None
        return launcher.up_argv(self.data_dir, self.ports, self.controller_port, self.settings)


def _ports(count: int, offset: int) -> list[int]:
    """Free ports, or `KAFKAGATE_TEST_PORT_BASE + offset` onwards when that is set (a range of one's own on a
    shared machine: the broker takes base..base+1, the cluster base+2..base+5)."""
    base = os.environ.get("KAFKAGATE_TEST_PORT_BASE")
    if base:
        return [int(base) + offset + i for i in range(count)]
    return [launcher.free_port() for _ in range(count)]


def start_kafka(brokers: int, settings: tuple[str, ...], port_offset: int) -> Iterator[Broker]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"kafkagate-test-kafka{brokers}-"))
    *ports, controller_port = _ports(brokers + 1, port_offset)
    broker = Broker("", data_dir, tuple(ports), controller_port, settings)
    result = subprocess.run(  # noqa: S603 - our own script, fixed argv
        broker.up_argv(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        logs = sorted(data_dir.glob("**/broker.log"))
        tails = "".join(f"\n--- {log} ---\n{log.read_text()[-3000:]}" for log in logs)
        subprocess.run(launcher.down_argv(data_dir), check=False)  # noqa: S603
        pytest.fail(f"could not start Kafka: {result.stderr}{tails}", pytrace=False)
    try:
        bootstrap = launcher.parse_bootstrap(result.stdout)
    except ValueError as exc:
        subprocess.run(launcher.down_argv(data_dir), check=False)  # noqa: S603
        pytest.fail(f"{exc}\n--- stderr ---\n{result.stderr}", pytrace=False)
    try:
        yield Broker(bootstrap, data_dir, broker.ports, controller_port, settings)
    finally:
        subprocess.run(launcher.down_argv(data_dir), check=False)  # noqa: S603


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Broker]:
    """A broker that lives for the whole test session."""
    reuse = os.environ.get("KAFKAGATE_TEST_BOOTSTRAP")
    if reuse:
        yield Broker(reuse, None)
        return
    yield from start_kafka(1, BROKER_SETTINGS, 0)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: Broker) -> str:
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[Broker]:
    """Three brokers and a controller of the session's own, started on first use (the chaos tests kill them)."""
    yield from start_kafka(CLUSTER_BROKERS, CLUSTER_SETTINGS, 2)

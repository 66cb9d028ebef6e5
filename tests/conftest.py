"""Session fixtures: a real Kafka broker of the test run's own (or `KAFKAGATE_TEST_BOOTSTRAP` to reuse one)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = ROOT / "scripts" / "kafka.py"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a broker that lives for the whole test session."""
    reuse = os.environ.get("KAFKAGATE_TEST_BOOTSTRAP")
    if reuse:
        yield reuse
        return
    data_dir = Path(tempfile.mkdtemp(prefix="kafkagate-test-broker-"))
    port, controller_port = _free_port(), _free_port()
    result = subprocess.run(
        [sys.executable, str(KAFKA_SCRIPT), "up", "--dir", str(data_dir), "--port", str(port),
         "--controller-port", str(controller_port)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log = data_dir / "broker.log"
        tail = log.read_text()[-4000:] if log.exists() else ""
        pytest.fail(f"could not start Kafka: {result.stderr}\n--- {log} ---\n{tail}", pytrace=False)
    try:
        yield result.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([sys.executable, str(KAFKA_SCRIPT), "down", "--dir", str(data_dir)], check=False)

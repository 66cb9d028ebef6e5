"""How other programs start and stop a broker through `scripts/kafka.py` and read the address it printed.

The test session, the chaos tests and `make bench` all launch brokers the same way, so the command line and the
strict reading of its output live here once.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

KAFKA_SCRIPT = Path(__file__).resolve().parent / "kafka.py"
_BOOTSTRAP = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*")


def free_port() -> int:
    """A port that was free a moment ago; another process could still take it before the broker binds it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def up_argv(
    data_dir: Path,
    port: int | Sequence[int],
    controller_port: int,
    settings: Iterable[str] = (),
    timeout_s: float | None = None,
) -> list[str]:
    """`kafka.py up` for a broker (one port) or a cluster (one port per broker) whose state lives in `data_dir`;
    `settings` are `KEY=VALUE` broker properties. Run again after a node died, it starts just that node."""
    argv = [sys.executable, str(KAFKA_SCRIPT), "up", "--dir", str(data_dir)]
    for each in [port] if isinstance(port, int) else port:
        argv += ["--port", str(each)]
    argv += ["--controller-port", str(controller_port)]
    if timeout_s is not None:
        argv += ["--timeout", f"{timeout_s:g}"]
    for setting in settings:
        argv += ["--set", setting]
    return argv


def down_argv(data_dir: Path) -> list[str]:
    return [sys.executable, str(KAFKA_SCRIPT), "down", "--dir", str(data_dir)]


def parse_bootstrap(stdout: str) -> str:
    """The `host:port[,host:port...]` that `kafka.py up` printed as its last line; anything else is an error
    naming the line."""
    lines = stdout.splitlines()
    last = lines[-1] if lines else ""
    if not _BOOTSTRAP.fullmatch(last):
        raise ValueError(f"kafka.py up did not end with a host:port line; its last line was {last!r}")
    return last

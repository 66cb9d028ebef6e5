"""A throwaway single-node Kafka broker on free ports, started and stopped through `scripts/kafka.py`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from scripts import launcher

_LOG_TAIL_CHARS = 3000


@dataclass(frozen=True, slots=True)
class Broker:
    bootstrap: str
    pid: int | None  # None when the broker is not ours


def _pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "broker.pid").read_text().strip())
    except (OSError, ValueError):
        return None


@contextmanager
def throwaway_broker(data_dir: Path, timeout_s: float = 90.0) -> Iterator[Broker]:
    """Start a broker whose state lives in `data_dir`, yield it, and stop it on the way out.

    `down` runs even when `up` failed or was interrupted: `kafka.py` starts Java in its own session, so a
    Ctrl-C that kills the script would otherwise leave the broker running.
    """
    try:
        result = subprocess.run(  # noqa: S603 - our own script, fixed argv
            launcher.up_argv(data_dir, launcher.free_port(), launcher.free_port(), timeout_s=timeout_s),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = data_dir / "broker.log"
            tail = log.read_text(errors="replace")[-_LOG_TAIL_CHARS:] if log.exists() else ""
            raise BenchError(f"could not start Kafka: {result.stderr.strip()}\n--- {log} ---\n{tail}")
        try:
            bootstrap = launcher.parse_bootstrap(result.stdout)
        except ValueError as exc:
            raise BenchError(f"{exc}\n--- stderr ---\n{result.stderr.strip()}") from exc
        yield Broker(bootstrap, _pid(data_dir))
    finally:
        subprocess.run(launcher.down_argv(data_dir), capture_output=True, check=False)  # noqa: S603


@contextmanager
def given_or_throwaway(bootstrap: str | None, directory: Path) -> Iterator[str]:
    """`bootstrap` when given (a broker that is already running), else a throwaway broker's, kept in `directory`."""
    if bootstrap is not None:
        yield bootstrap
        return
    with throwaway_broker(directory / "broker") as broker:
        yield broker.bootstrap

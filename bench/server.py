"""The gateway under test: `kafkagate serve` as a child process on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.errors import BenchError
from scripts.launcher import free_port

_STOP_GRACE_S = 15.0
_LOG_TAIL_CHARS = 3000


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:] if log_path.exists() else ""


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(
                    f"the gateway exited with code {process.returncode}\n--- {log_path} ---\n{_tail(log_path)}"
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
    raise BenchError(f"the gateway was not ready after {timeout_s:.0f}s\n--- {log_path} ---\n{_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # uvicorn shuts down gracefully on SIGTERM: consumer members leave their groups
    try:
        process.wait(_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True, slots=True)
class Gateway:
    base_url: str
    pid: int


@contextmanager
def _serve(argv: list[str], port: int, env: Mapping[str, str], log_path: Path, timeout_s: float) -> Iterator[Gateway]:
    """Run `argv` until the block exits; yield it once `/readyz` on `port` answers 200.

    The child gets its own session so a terminal Ctrl-C reaches only the bench, which then stops it in order.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own programs, fixed argv
            argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(process, base_url, log_path, timeout_s)
        yield Gateway(base_url, process.pid)
    finally:
        _stop(process)


@contextmanager
def gateway_process(
    bootstrap: str, env: Mapping[str, str], log_path: Path, timeout_s: float = 60.0
) -> Iterator[Gateway]:
    """`kafkagate serve` against `bootstrap`. `env` is the child's environment; listen address and bootstrap
    servers are set here and win over it."""
    port = free_port()
    child_env = {
        **env,
        "KAFKAGATE_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKAGATE_HOST": "127.0.0.1",
        "KAFKAGATE_PORT": str(port),
    }
    executable = Path(sys.executable).with_name("kafkagate")
    with _serve([str(executable), "serve"], port, child_env, log_path, timeout_s) as gateway:
        yield gateway


@contextmanager
def echo_process(env: Mapping[str, str], log_path: Path, timeout_s: float = 30.0) -> Iterator[Gateway]:
    """The bare Starlette echo (`bench.echo`) on a free port."""
    port = free_port()
    with _serve([sys.executable, "-m", "bench.echo", str(port)], port, env, log_path, timeout_s) as echo:
        yield echo

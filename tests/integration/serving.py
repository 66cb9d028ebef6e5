"""`kafkagate serve` as a child process on a free loopback port, for tests that need the real server (signals,
sockets, exit codes) rather than the app in-process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.launcher import free_port

_LOG_TAIL_CHARS = 4000


def tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:] if log_path.exists() else ""


@contextmanager
def served_gateway(
    bootstrap: str, log_path: Path, env: Mapping[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start the gateway (open: no credentials) and yield (process, base URL); kill it if still running after."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")}
    child_env.update(
        {
            "KAFKAGATE_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKAGATE_HOST": "127.0.0.1",
            "KAFKAGATE_PORT": str(port),
            "KAFKAGATE_AUTH": "off",
            **env,
        }
    )
    executable = Path(sys.executable).with_name("kafkagate")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the installed console script, fixed argv
            [str(executable), "serve"], env=child_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, f"the gateway exited with {process.returncode}\n{tail(log_path)}"
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.2)
    raise AssertionError(f"the gateway was not ready after {timeout_s} s\n{tail(log_path)}")


async def wait_exit(process: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    """The exit code, or None if the process is still running after `timeout_s`."""
    try:
        return await asyncio.to_thread(process.wait, timeout_s)
    except subprocess.TimeoutExpired:
        return None

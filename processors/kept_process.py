"""A child process the supervisor keeps alive beside the processors' workers (the lake sink, the view host).

`kafkagate worker` builds one `KeptProcess` per service and calls `keep()` on every turn of its loop: a child
that exited is started again after a backoff (0.5 s doubling to 30 s, reset after a minute of running), and
`stop()` ends it with SIGTERM (SIGKILL after the grace).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 30.0
_STOP_GRACE_S = 15.0


class KeptProcess:
    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._next_start = 0.0
        self._started_at = 0.0

    async def keep(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            code = self.process.returncode
            self.process = None
            if time.monotonic() - self._started_at > 60:
                self.restarts = 0
            self.restarts += 1
            delay = min(_MAX_BACKOFF_S, 0.5 * 2**self.restarts)
            self._next_start = time.monotonic() + delay
            log.warning("%s exited with code %s; restarting in %.1f s", self.name, code, delay)
        if self.process is None and time.monotonic() >= self._next_start:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as output:
                self.process = await asyncio.create_subprocess_exec(
                    *self.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    env=self.env if self.env is not None else dict(os.environ),
                )
            self._started_at = time.monotonic()
            log.info("started %s (pid %d)", self.name, self.process.pid)

    async def stop(self) -> None:
        if await stop_process(self.process):
            log.info("stopped %s", self.name)


async def stop_process(process: asyncio.subprocess.Process | None, grace_s: float = _STOP_GRACE_S) -> bool:
    """SIGTERM `process`, then SIGKILL it if it has not exited within `grace_s`; whether it was running."""
    if process is None or process.returncode is not None:
        return False
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        process.kill()
        await process.wait()
    return True

"""Keeps one view host process (`processors.views.host`) alive beside the supervisor's processor workers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

_STOP_GRACE_S = 15.0
_MAX_BACKOFF_S = 30.0


class ViewHostKeeper:
    def __init__(self, bootstrap: str, data_dir: Path):
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._next_start = 0.0
        self._started_at = 0.0

    async def reconcile(self) -> None:
        """Start the host if it is not running (after a backoff when it died)."""
        now = time.monotonic()
        if self.process is not None and self.process.returncode is not None:
            code = self.process.returncode
            self.process = None
            if now - self._started_at > 60:
                self.restarts = 0
            self.restarts += 1
            delay = min(_MAX_BACKOFF_S, 0.5 * 2**self.restarts)
            self._next_start = now + delay
            log.warning("view host exited with code %s; restarting in %.1fs", code, delay)
        if self.process is None and now >= self._next_start:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            log_file = (self.data_dir / "view-host.log").open("ab")
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "processors.views.host",
                "--bootstrap",
                self.bootstrap,
                stdout=log_file,
                stderr=log_file,
                stdin=asyncio.subprocess.DEVNULL,
                env=dict(os.environ),
            )
            log_file.close()
            self._started_at = time.monotonic()
            log.info("started the view host (pid %d)", self.process.pid)

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), _STOP_GRACE_S)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("stopped the view host")

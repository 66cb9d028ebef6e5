"""Run a command under a pseudo-terminal of its own, as a person at a terminal would: it is the controlling
terminal of the command's session, so a written Ctrl-C reaches it as SIGINT through the line discipline."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
# Runs in the child between fork and the command: a new session whose controlling terminal is standard input.
_TAKE_TERMINAL = (
    "import os, sys; os.setsid(); os.close(os.open(os.ttyname(0), os.O_RDWR)); os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, rows: int = 40, columns: int = 160) -> None:
        self.master, replica = os.openpty()
        fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv of the test's own commands
            [sys.executable, "-c", _TAKE_TERMINAL, *argv],
            stdin=replica,
            stdout=replica,
            stderr=replica,
            env=dict(env),
        )
        os.close(replica)
        self.screen = ""

    def read(self, timeout_s: float) -> str:
        """Everything written within `timeout_s` (or until the command closed the terminal), ANSI codes removed."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            self.screen += _ANSI.sub("", chunk.decode(errors="replace"))
        return self.screen

    def expect(self, pattern: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while re.search(pattern, self.screen) is None:
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and not self._pending()):
                raise AssertionError(f"{pattern!r} not on the terminal after {timeout_s} s:\n{self.screen[-3000:]}")
            self.read(min(left, 0.5))
        return self.screen

    def _pending(self) -> bool:
        ready, _, _ = select.select([self.master], [], [], 0)
        return bool(ready)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.2)
        self.read(0.2)
        return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

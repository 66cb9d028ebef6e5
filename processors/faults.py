"""One-shot fault points: a worker exits at once, like a kill -9, at an exact point the tests choose."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FAULT_EXIT_CODE = 137  # as a process killed by SIGKILL reports itself in a shell


class InjectedFault(RuntimeError):
    """Raised at a fault point armed with ``raise:<name>``: a bug in a handler, as far as the worker can tell."""


def fault_point(name: str) -> None:
    """Exit at once, like a kill -9, when the file named by ``KAFKAGATE_FAULT_FILE`` holds ``name``, or raise
    `InjectedFault` when it holds ``raise:<name>``; the file is removed first, so the restarted worker runs on.
    Tests use it to crash at an exact point."""
    path = os.environ.get("KAFKAGATE_FAULT_FILE")
    if not path:
        return
    fault = Path(path)
    try:
        armed = fault.read_text().strip()
    except OSError:
        return
    if armed not in (name, f"raise:{name}"):
        return
    fault.unlink()
    if armed == name:
        log.error("fault point %s reached: exiting", name)
        os._exit(FAULT_EXIT_CODE)
    raise InjectedFault(f"fault point {name} reached")

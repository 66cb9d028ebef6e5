"""One-shot fault points: a worker exits at once, like a kill -9, at an exact point the tests choose."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FAULT_EXIT_CODE = 137  # as a process killed by SIGKILL reports itself in a shell


def fault_point(name: str) -> None:
    """Exit at once, like a kill -9, when the file named by ``KAFKAGATE_FAULT_FILE`` holds ``name``; the file
    is removed first, so the restarted worker runs on. Tests use it to crash at an exact point."""
    path = os.environ.get("KAFKAGATE_FAULT_FILE")
    if not path:
        return
    fault = Path(path)
    try:
        armed = fault.read_text().strip() == name
    except OSError:
        return
    if armed:
        fault.unlink()
        log.error("fault point %s reached: exiting", name)
        os._exit(FAULT_EXIT_CODE)

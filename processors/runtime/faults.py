"""How a worker stops on purpose: exit codes the supervisor acts on, and the one-shot fault points of the tests."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

STALLED_EXIT_CODE = 75  # EX_TEMPFAIL: the supervisor restarts the worker
FAULT_EXIT_CODE = 137  # as a process killed by SIGKILL reports itself in a shell


class ProcessorFailed(Exception):
    """An operation with `onError: fail` refused an event: stop and report failed."""


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

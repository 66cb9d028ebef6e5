"""How a worker stops on purpose: the exit codes the supervisor acts on (fault points are `processors.faults`)."""

from __future__ import annotations

STALLED_EXIT_CODE = 75  # EX_TEMPFAIL: the supervisor restarts the worker


class ProcessorFailed(Exception):
    """An operation with `onError: fail` refused an event: stop and report failed."""

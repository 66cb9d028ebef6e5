"""Every record a processor writes, and the commit guard that keeps a lost write from being committed past.

Faust only logs a record the broker refused (its future fails; the source offset is still committed), which
would lose the result. Every record the runtime writes goes through `Outputs.write`: a failed write stops the
worker before another offset is committed (`Outputs.guard_commits` checks every write since the last commit).
A refusal that retrying cannot fix (e.g. a timestamp the topic does not accept) reports the processor failed
with the reason; anything else exits for a restart from the committed offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from processors.runtime.faults import STALLED_EXIT_CODE
from processors.runtime.records import write_error
from processors.worker import FAILED_EXIT_CODE

log = logging.getLogger(__name__)

_IN_FLIGHT_PRUNE_AT = 10_000


class Outputs:
    """`report_failed(reason)` records the failure and publishes the worker's `failed` status."""

    def __init__(self, app: Any, report_failed: Callable[[str], Awaitable[None]]):
        self.app = app
        self._report_failed = report_failed
        self._topics: dict[str, Any] = {}
        self._in_flight: list[tuple[str, Any]] = []
        self.failure: str | None = None
        self._stopping: asyncio.Future[None] | None = None

    def topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self.app.topic(name, key_serializer="raw", value_serializer="raw", internal=False)
        return self._topics[name]

    async def write(self, topic: str, **record: Any) -> Any:
        future = await self.topic(topic).send(**record)
        self._in_flight.append((topic, future))
        if len(self._in_flight) > _IN_FLIGHT_PRUNE_AT:
            # Writes without a commit to follow (idle-close ticks): keep only what is pending or failed.
            self._in_flight = [(t, f) for t, f in self._in_flight if write_error(f) is not None or not f.done()]
        return future

    def failed(self, what: str, exc: BaseException) -> None:
        """Start stopping the worker (once): nothing is committed past a lost output."""
        if self.failure is None:
            self.failure = f"{what} failed: {type(exc).__name__}: {exc}"
            retriable = bool(getattr(exc, "retriable", False)) or isinstance(exc, asyncio.TimeoutError)
            self._stopping = asyncio.ensure_future(self._stop_after_failure(retriable=retriable))

    async def _stop_after_failure(self, *, retriable: bool) -> None:
        log.error("%s; stopping without committing past it", self.failure)
        if retriable:
            os._exit(STALLED_EXIT_CODE)
        assert self.failure is not None  # noqa: S101 - set before this task is made
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._report_failed(self.failure), 5)
            await asyncio.wait_for(self.app.producer.flush(), 5)
        os._exit(FAILED_EXIT_CODE)

    def guard_commits(self) -> None:
        consumer: Any = self.app.consumer
        commit = consumer._commit

        async def guarded_commit(offsets: Any) -> bool:
            written, self._in_flight = self._in_flight, []
            # Faust flushes the producer before committing, so every write here has its answer.
            for topic, future in written:
                error = write_error(future)
                if error is not None:
                    self.failed(f"writing to {topic!r}", error)
            if self.failure is not None:
                return False
            return bool(await commit(offsets))

        consumer._commit = guarded_commit

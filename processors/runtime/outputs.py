"""Every record a processor writes, and the commit guard that keeps a lost write from being committed past.

Faust only logs a record the broker refused (its future fails; the source offset is still committed), which
would lose the result. Every record the runtime writes goes through `Outputs.write`, and every table changelog
update through Faust's `send_soon`, which `Outputs.guard_commits` taps: before an offset is committed, every
write since the last commit must have been acknowledged, and a failed one stops the worker instead.

Faust flushes its producer before committing, but that flush is not exact: its buffer of changelog updates
gives up after 0.1 s without a message sent, and returns as soon as its queue is empty while the last update
taken from it may not have reached aiokafka yet. Waiting on the writes themselves is exact, which is what lets
the worker's producer linger: with a linger a commit waits up to the linger for the writes it covers.
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

#: How long a commit waits for the writes it covers before the worker gives up and exits to be restarted.
COMMIT_WAIT_S = 60.0


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

    async def write(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Hand one record to Faust's producer (its aiokafka producer, with the worker's linger) and track it;
        returns the future of its acknowledgement. Records go straight to the producer, not through a Faust
        topic's `send`, whose channel, message wrappers and sensor calls add nothing here."""
        future = await self.app.producer.send(topic, key, value, partition, timestamp, headers)
        self._track(topic, future)
        return future

    def _track(self, topic: str, future: Any) -> None:
        self._in_flight.append((topic, future))
        if len(self._in_flight) > _IN_FLIGHT_PRUNE_AT:
            # Writes without a commit to follow (idle-close ticks): keep only what is pending or failed.
            self._in_flight = [(t, f) for t, f in self._in_flight if write_error(f) is not None or not f.done()]

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

    def guard_commits(self, before: Callable[[], None] | None = None) -> None:
        """`before()` runs first in every commit: writes it makes (through Faust's producer) are waited for too."""
        consumer: Any = self.app.consumer
        commit = consumer._commit
        producer: Any = self.app.producer
        send_soon = producer.send_soon

        def tracked_send_soon(message: Any) -> None:
            # Table changelog updates: Faust's future of each resolves once the broker has it.
            send_soon(message)
            self._track(message.message.channel.get_topic_name(), message)

        async def guarded_commit(offsets: Any) -> bool:
            if before is not None:
                before()
            written, self._in_flight = self._in_flight, []
            pending = [future for _, future in written if not future.done()]
            if pending:
                _, late = await asyncio.wait(pending, timeout=COMMIT_WAIT_S)
                if late:
                    self.failed("waiting for writes before a commit", TimeoutError())
            for topic, future in written:
                error = write_error(future)
                if error is not None:
                    self.failed(f"writing to {topic!r}", error)
            if self.failure is not None:
                return False
            return bool(await commit(offsets))

        producer.send_soon = tracked_send_soon
        consumer._commit = guarded_commit

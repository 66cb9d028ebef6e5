"""Batching producers: `send()` buffers, a batch goes out every `max_events` events (or `max_bytes`) or once
the oldest event has waited `linger_ms`, whichever comes first.

An event the gateway refuses on its own (a 422 naming `events.<i>`: a partition the stream lacks, a tombstone
without a key) fails alone: it resolves to a `Failed` entry and the rest of its batch is sent again as a new
request (the refused request was not stored under its key, so nothing is written twice).

Each batch is one logical request with its own `Idempotency-Key`, kept across every retry of that batch, so a
batch whose answer was lost and is sent again is written once. Batches go out one at a time, in order. While one
is being sent (and retried: a 429 or 503 is waited out as its `Retry-After` says), a `send()` that fills the
buffer waits for it: that wait is the back-pressure, and memory stays bounded by about two batches.

`send()` returns a future of the event's own outcome: a `Published` (status `published` or `dead-lettered`), a
`Failed` entry of a partly failed batch (207), or the exception that failed the whole request once retries
were exhausted. `stats` tallies all of them; `on_batch` is told after every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from kafkagate.client import calls
from kafkagate.client.batching import (
    BatchOutcome,
    Buffer,
    Pending,
    ProduceStats,
    batch_body,
    rejected_events,
    rejection,
)
from kafkagate.client.errors import KafkagateError, ValidationFailed
from kafkagate.client.models import BatchResult, Failed, Published

if TYPE_CHECKING:
    from kafkagate.client.async_client import AsyncClient
    from kafkagate.client.sync_client import Client

Outcome = Published | Failed


class _Resolvable(Protocol):
    """A concurrent.futures or asyncio future of an event's outcome."""

    def set_result(self, result: Outcome, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...

    def exception(self) -> BaseException | None: ...


R = TypeVar("R", bound=_Resolvable)


OnBatch = Callable[[BatchOutcome], None]
DEFAULT_MAX_EVENTS = 1000
DEFAULT_MAX_BYTES = 900_000  # under the gateway's default 1 MiB body limit
DEFAULT_LINGER_MS = 50


def _encode(event: Mapping[str, Any]) -> bytes:
    if "value" not in event:
        raise ValueError("an event needs a value (null is a tombstone and needs a key)")
    return orjson.dumps(dict(event))


class _Options:
    def __init__(
        self,
        stream: str,
        *,
        max_events: int,
        max_bytes: int,
        linger_ms: int,
        compression: str | None,
        timeout_ms: int | None,
        on_batch: OnBatch | None,
    ) -> None:
        self.stream = stream
        self.linger_s = linger_ms / 1000
        self.compression = compression
        self.timeout_ms = timeout_ms
        self.on_batch = on_batch
        self.stats = ProduceStats()
        self.max_events = max_events
        self.max_bytes = max_bytes

    def call(self, encoded: list[bytes]) -> calls.Call[BatchResult]:
        body = batch_body(encoded, compression=self.compression, timeout_ms=self.timeout_ms)
        return calls.publish_encoded(self.stream, body, None)

    def _reject(self, batch: list[Pending[R]], error: ValidationFailed) -> list[Pending[R]] | None:
        """Fail the events `error` names; the others, to be sent again (None: the whole batch was refused)."""
        named = rejected_events(error, len(batch))
        if named is None:
            return None
        for index, errors in named.items():
            batch[index].future.set_result(rejection(index, error, errors))
        self.stats.failed[error.error] += len(named)
        if self.on_batch is not None:
            self.on_batch(BatchOutcome(len(named), error=error))
        return [item for index, item in enumerate(batch) if index not in named]

    def _fail(self, batch: list[Pending[R]], exc: KafkagateError) -> None:
        self.stats.record_error(exc, len(batch))
        for item in batch:
            item.future.set_exception(exc)
            item.future.exception()  # retrieved: the tally and on_batch report it, nobody need await each one
        if self.on_batch is not None:
            self.on_batch(BatchOutcome(len(batch), error=exc))

    def _settle(self, batch: list[Pending[R]], result: BatchResult) -> None:
        self.stats.record(result)
        for item, entry in zip(batch, result.results, strict=True):
            item.future.set_result(entry)
        if self.on_batch is not None:
            self.on_batch(BatchOutcome(len(batch), result=result))


class Producer(_Options):
    """Thread-safe; a daemon thread flushes lingering events. Use it as a context manager, or call `close()`:
    both send what is buffered before returning."""

    def __init__(
        self,
        client: Client,
        stream: str,
        *,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        linger_ms: int = DEFAULT_LINGER_MS,
        compression: str | None = None,
        timeout_ms: int | None = None,
        on_batch: OnBatch | None = None,
    ) -> None:
        super().__init__(
            stream,
            max_events=max_events,
            max_bytes=max_bytes,
            linger_ms=linger_ms,
            compression=compression,
            timeout_ms=timeout_ms,
            on_batch=on_batch,
        )
        self._client = client
        self._buffer: Buffer[Future[Outcome]] = Buffer(max_events, max_bytes)
        self._state = threading.Condition()
        self._sending = threading.Lock()
        self._closed = False
        self._lingerer = threading.Thread(target=self._linger, name=f"kafkagate-producer-{stream}", daemon=True)
        self._lingerer.start()

    def send(
        self,
        value: Any,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        partition: int | None = None,
        timestamp: int | str | None = None,
    ) -> Future[Outcome]:
        event = calls.event_document(
            value, key=key, headers=headers, partition_key=partition_key, partition=partition, timestamp=timestamp
        )
        return self.send_event(event)

    def send_event(self, event: Mapping[str, Any]) -> Future[Outcome]:
        """An event document as the API takes it (`value`, and optionally `key`, `headers`, ...)."""
        encoded = _encode(event)
        future: Future[Outcome] = Future()
        with self._state:
            if self._closed:
                raise RuntimeError("the producer is closed")
            self._buffer.add(encoded, future, time.monotonic())
            self.stats.sent += 1
            full = self._buffer.full()
            self._state.notify()
        if full:
            self._flush(self._buffer.full)
        return future

    def flush(self) -> None:
        """Send everything buffered, and return once it is answered."""
        self._flush(lambda: len(self._buffer) > 0)

    def close(self) -> ProduceStats:
        with self._state:
            self._closed = True
            self._state.notify()
        self._lingerer.join()
        self.flush()
        return self.stats

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _flush(self, more: Callable[[], bool]) -> None:
        with self._sending:
            while True:
                with self._state:
                    if not more():
                        return
                    batch = self._buffer.take()
                self._send(batch)

    def _send(self, batch: list[Pending[Future[Outcome]]]) -> None:
        try:
            result = self._client.run(self.call([item.encoded for item in batch]))
        except ValidationFailed as exc:
            rest = self._reject(batch, exc)
            if rest is None:
                self._fail(batch, exc)
            elif rest:
                self._send(rest)
            return
        except KafkagateError as exc:
            self._fail(batch, exc)
            return
        self._settle(batch, result)

    def _linger(self) -> None:
        while True:
            with self._state:
                while not self._closed and not self._buffer.due(time.monotonic(), self.linger_s):
                    oldest = self._buffer.oldest_at()
                    wait = None if oldest is None else max(0.0, oldest + self.linger_s - time.monotonic())
                    self._state.wait(wait)
                if self._closed:
                    return
            self._flush(lambda: self._buffer.due(time.monotonic(), self.linger_s))


class AsyncProducer(_Options):
    """For one event loop. Use `async with`, or `await close()`: both send what is buffered first."""

    def __init__(
        self,
        client: AsyncClient,
        stream: str,
        *,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        linger_ms: int = DEFAULT_LINGER_MS,
        compression: str | None = None,
        timeout_ms: int | None = None,
        on_batch: OnBatch | None = None,
    ) -> None:
        super().__init__(
            stream,
            max_events=max_events,
            max_bytes=max_bytes,
            linger_ms=linger_ms,
            compression=compression,
            timeout_ms=timeout_ms,
            on_batch=on_batch,
        )
        self._client = client
        self._buffer: Buffer[asyncio.Future[Outcome]] = Buffer(max_events, max_bytes)
        self._sending = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closed = False
        self._lingerer: asyncio.Task[None] | None = None

    async def send(
        self,
        value: Any,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        partition: int | None = None,
        timestamp: int | str | None = None,
    ) -> asyncio.Future[Outcome]:
        event = calls.event_document(
            value, key=key, headers=headers, partition_key=partition_key, partition=partition, timestamp=timestamp
        )
        return await self.send_event(event)

    async def send_event(self, event: Mapping[str, Any]) -> asyncio.Future[Outcome]:
        """Buffers the event (waiting while a full buffer's batch is sent) and returns its outcome's future."""
        if self._closed:
            raise RuntimeError("the producer is closed")
        loop = asyncio.get_running_loop()
        if self._lingerer is None:
            self._lingerer = loop.create_task(self._linger())
        future: asyncio.Future[Outcome] = loop.create_future()
        self._buffer.add(_encode(event), future, loop.time())
        self.stats.sent += 1
        self._wake.set()
        if self._buffer.full():
            await self._flush(self._buffer.full)
        return future

    async def flush(self) -> None:
        await self._flush(lambda: len(self._buffer) > 0)

    async def close(self) -> ProduceStats:
        self._closed = True
        self._wake.set()
        if self._lingerer is not None:
            await self._lingerer  # never cancelled: a batch it is sending must get its answer
        await self.flush()
        return self.stats

    async def __aenter__(self) -> AsyncProducer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _flush(self, more: Callable[[], bool]) -> None:
        async with self._sending:
            while more():
                await self._send(self._buffer.take())

    async def _send(self, batch: list[Pending[asyncio.Future[Outcome]]]) -> None:
        try:
            result = await self._client.run(self.call([item.encoded for item in batch]))
        except ValidationFailed as exc:
            rest = self._reject(batch, exc)
            if rest is None:
                self._fail(batch, exc)
            elif rest:
                await self._send(rest)
            return
        except KafkagateError as exc:
            self._fail(batch, exc)
            return
        self._settle(batch, result)

    async def _linger(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            oldest = self._buffer.oldest_at()
            delay = None if oldest is None else oldest + self.linger_s - loop.time()
            if delay is None or delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            await self._flush(lambda: self._buffer.due(loop.time(), self.linger_s))

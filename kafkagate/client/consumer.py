"""At-least-once consumer-group iterators: poll, yield each event, commit what the loop body finished.

    with client.consumer("orders", "billing", start="earliest") as consumer:
        for event in consumer:
            handle(event)

An event counts as processed once the loop asks for the next one (its body returned). After each poll's
events are processed, and before the next poll, the processed positions are committed (`last offset + 1` per
partition). Leaving the `with` block normally commits the event in hand too (the body that ran `break` is
done); leaving it by an exception commits only the events before it. Without a `with` block, a loop that stops
early commits the events before the current one when the iterator is closed.

The gateway keeps each member's position in memory, one member per (group, stream) and gateway, shared by every
client polling that pair there. So when the iterator stops with events it polled but did not finish (an
exception, a `break` in the middle of a poll's events), it closes this gateway's members of the group
(`DELETE /consumers/{group}/sessions`): the next poll starts a new member at the committed offsets and those
events come again. A poll whose answer was lost is handled the same way. Other consumers of the same group on
the same gateway are rewound with it: they may see events again, and never miss one.

`start` (earliest, latest or an offset) is sent with the first poll only: for a new gateway-side member it is
the reset policy (used when the group has no commits); a member that already exists is moved there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from kafkagate.client.calls import Offset
from kafkagate.client.errors import TransportError
from kafkagate.client.models import Event, Poll

if TYPE_CHECKING:
    from kafkagate.client.async_client import AsyncClient
    from kafkagate.client.sync_client import Client

MAX_REWINDS = 3


class _Positions:
    """Processed and committed positions per partition, and which poll options the next poll sends."""

    def __init__(
        self,
        stream: str,
        group: str,
        *,
        start: Offset | None,
        limit: int,
        timeout_ms: int,
        max_bytes: int | None,
        until_idle: bool,
    ) -> None:
        self.stream = stream
        self.group = group
        self.start = start
        self.limit = limit
        self.timeout_ms = timeout_ms
        self.max_bytes = max_bytes
        self.until_idle = until_idle
        self.done: dict[int, int] = {}
        self.polled: dict[int, int] = {}  # per partition, one past the last offset a poll returned
        self.committed: dict[int, int] = {}
        self.current: Event | None = None
        self.stopped = False
        self._first_poll = True
        self.rewinds = 0

    def poll_offset(self) -> Offset | None:
        offset = self.start if self._first_poll else None
        self._first_poll = False
        return offset

    def received(self, poll: Poll) -> None:
        for event in poll.events:
            self.polled[event.partition] = max(self.polled.get(event.partition, 0), event.offset + 1)

    def unfinished(self) -> bool:
        """Whether a poll returned events the loop has not processed (the member's position is past them)."""
        return any(self.done.get(p, -1) < o for p, o in self.polled.items())

    def rewound(self) -> None:
        """After the members were closed: a new member takes a reset policy (a string) without seeking."""
        self.polled.clear()
        self._first_poll = isinstance(self.start, str)

    def mark(self, event: Event) -> None:
        self.done[event.partition] = max(self.done.get(event.partition, 0), event.offset + 1)
        self.current = None

    def pending(self) -> list[tuple[str, int, int]]:
        return [(self.stream, p, o) for p, o in sorted(self.done.items()) if self.committed.get(p) != o]

    def committed_now(self, offsets: list[tuple[str, int, int]]) -> None:
        for _, partition, offset in offsets:
            self.committed[partition] = offset


class Consumer:
    """`limit` events per poll, each poll waiting up to `timeout_ms` for events. With `until_idle`, iteration ends
    at the first poll that returns nothing (drain what is there); otherwise it runs until `stop()`."""

    def __init__(
        self,
        client: Client,
        stream: str,
        group: str,
        *,
        start: Offset | None = None,
        limit: int = 500,
        timeout_ms: int = 5000,
        max_bytes: int | None = None,
        until_idle: bool = False,
    ) -> None:
        self._client = client
        self.positions = _Positions(
            stream, group, start=start, limit=limit, timeout_ms=timeout_ms, max_bytes=max_bytes, until_idle=until_idle
        )

    def __iter__(self) -> Iterator[Event]:
        at = self.positions
        try:
            while not at.stopped:
                poll = self._poll()
                for event in poll.events:
                    at.current = event
                    yield event
                    at.mark(event)
                    if at.stopped:
                        break
                self.commit()
                if not poll.events and at.until_idle:
                    return
        finally:
            self._finish()

    def stop(self) -> None:
        """End the iteration after the current event (callable from the loop body or another thread)."""
        self.positions.stopped = True

    def commit(self) -> None:
        """Commit every processed position not committed yet."""
        offsets = self.positions.pending()
        if offsets:
            self._client.groups.commit(self.positions.group, offsets)
            self.positions.committed_now(offsets)

    def _poll(self) -> Poll:
        at = self.positions
        while True:
            try:
                poll = self._client.events.poll(
                    at.stream,
                    at.group,
                    offset=at.poll_offset(),
                    limit=at.limit,
                    timeout_ms=at.timeout_ms,
                    max_bytes=at.max_bytes,
                )
            except TransportError:
                if at.rewinds >= MAX_REWINDS:
                    raise
                at.rewinds += 1
                self._rewind()
                continue
            at.rewinds = 0
            at.received(poll)
            return poll

    def _rewind(self) -> None:
        self.commit()
        self._client.groups.close_sessions(self.positions.group)
        self.positions.rewound()

    def _finish(self) -> None:
        if self.positions.unfinished():
            self._rewind()
        else:
            self.commit()

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        current = self.positions.current
        if exc_type is None and current is not None:
            self.positions.mark(current)
        self.stop()
        self._finish()


class AsyncConsumer:
    """`Consumer` for asyncio: `async with client.consumer(...) as c: async for event in c: ...`."""

    def __init__(
        self,
        client: AsyncClient,
        stream: str,
        group: str,
        *,
        start: Offset | None = None,
        limit: int = 500,
        timeout_ms: int = 5000,
        max_bytes: int | None = None,
        until_idle: bool = False,
    ) -> None:
        self._client = client
        self.positions = _Positions(
            stream, group, start=start, limit=limit, timeout_ms=timeout_ms, max_bytes=max_bytes, until_idle=until_idle
        )

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        at = self.positions
        try:
            while not at.stopped:
                poll = await self._poll()
                for event in poll.events:
                    at.current = event
                    yield event
                    at.mark(event)
                    if at.stopped:
                        break
                await self.commit()
                if not poll.events and at.until_idle:
                    return
        finally:
            await self._finish()

    def stop(self) -> None:
        self.positions.stopped = True

    async def commit(self) -> None:
        offsets = self.positions.pending()
        if offsets:
            await self._client.groups.commit(self.positions.group, offsets)
            self.positions.committed_now(offsets)

    async def _poll(self) -> Poll:
        at = self.positions
        while True:
            try:
                poll = await self._client.events.poll(
                    at.stream,
                    at.group,
                    offset=at.poll_offset(),
                    limit=at.limit,
                    timeout_ms=at.timeout_ms,
                    max_bytes=at.max_bytes,
                )
            except TransportError:
                if at.rewinds >= MAX_REWINDS:
                    raise
                at.rewinds += 1
                await self._rewind()
                continue
            at.rewinds = 0
            at.received(poll)
            return poll

    async def _rewind(self) -> None:
        await self.commit()
        await self._client.groups.close_sessions(self.positions.group)
        self.positions.rewound()

    async def _finish(self) -> None:
        if self.positions.unfinished():
            await self._rewind()
        else:
            await self.commit()

    async def __aenter__(self) -> AsyncConsumer:
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        current = self.positions.current
        if exc_type is None and current is not None:
            self.positions.mark(current)
        self.stop()
        await self._finish()

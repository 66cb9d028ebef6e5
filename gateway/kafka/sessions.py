"""Consumer-group members held by this gateway, one per (group, stream), serialized and reaped when idle.

Guarantees that other REST gateways have been burned on:
- Polls on one member run one at a time (a lock), so two concurrent polls can never interleave on a consumer.
- Nothing fetched is dropped: aiokafka keeps records beyond `max_records` buffered, and records cut by the
  response byte cap are un-read by seeking the partition back to the first one not returned.
- Idle members leave the group after `consumer_idle_timeout_ms`; the number of live members is bounded.
- `autoCommit` commits what a poll returned only when the *next* poll arrives (at-least-once): a client that
  dies mid-batch gets the batch again. It commits only the partitions the member still holds: one that moved in
  a rebalance is read again by its new owner from the group's last commit (committing it would be refused).
- After a full poll the member reads its next batch ahead (`read_ahead`), so a client draining a backlog never
  waits for the gateway to fetch and render; what a poll returns and commits is the same as without it.
- On shutdown (`SessionManager.drain`) a long poll stops waiting and answers with what is buffered, so the
  gateway can finish every request in flight instead of cutting polls that would wait out their timeout.
- A member made for an event-stream connection (`pushed`) belongs to that connection alone: polls refuse it, and
  explicit commits go through it as for any member.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka import errors as ke

from gateway import errors as ge
from gateway.kafka import connect
from gateway.kafka.read_ahead import Batch, ReadAhead, take
from gateway.kafka.translate import translate
from gateway.records import Rendered
from gateway.settings import Settings

log = logging.getLogger(__name__)

Seek = str | int  # "earliest", "latest" or an absolute offset
_ASSIGNMENT_WAIT_S = 20.0


@dataclass(slots=True)
class PollResult:
    events: list[Rendered]
    lag: int
    positions: dict[int, int]
    size_bytes: int = 0  # the JSON size of `events`


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, session: ConsumerSession):
        self._session = session

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._session.assigned.clear()
        self._session.read_ahead.drop()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._session.on_assigned(set(assigned))


class ConsumerSession:
    """One group member consuming one stream."""

    def __init__(
        self,
        settings: Settings,
        group: str,
        stream: str,
        initial: Seek,
        draining: asyncio.Event | None = None,
        *,
        pushed: bool = False,
    ):
        """`initial` is where a group without committed offsets starts; a number is applied by the first poll.
        Once `draining` is set, polls stop waiting for records. `pushed`: the member of an event-stream connection."""
        self.group, self.stream = group, stream
        self.pushed = pushed
        # Where this member's reader is, by partition, when that is ahead of the group's commits (an event stream
        # commits rarely): a rebalance that gives a partition back puts it there, not at the committed offset.
        self.own_positions: Callable[[], Mapping[int, int]] | None = None
        self._draining = draining or asyncio.Event()
        self._settings = settings
        reset = initial if initial in ("earliest", "latest") else "latest"
        self.consumer = connect.consumer(
            settings,
            "consumer",
            group_id=group,
            auto_offset_reset=reset,
            max_poll_interval_ms=settings.consumer_idle_timeout_ms + 60_000,
        )
        self.read_ahead = ReadAhead(self.consumer, stream)
        self.lock = asyncio.Lock()
        self.assigned: set[TopicPartition] = set()
        self.committed: dict[TopicPartition, int] = {}
        self._assignment_seen = asyncio.Event()
        self._uncommitted: dict[TopicPartition, int] = {}
        self.last_used = time.monotonic()
        self.closed = False

    async def start(self) -> None:
        try:
            await self.consumer.start()
            self.consumer.subscribe([self.stream], listener=_Listener(self))
        except Exception as exc:
            await self.consumer.stop()
            raise translate(exc, stream=self.stream) from exc

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        for tp in assigned:
            committed = await self.consumer.committed(tp)
            if committed is None:
                self.committed.pop(tp, None)
            else:
                self.committed[tp] = committed
        mine = {} if self.own_positions is None else self.own_positions()
        for tp in assigned:
            if tp.partition in mine:
                self.consumer.seek(tp, mine[tp.partition])
        self._assignment_seen.set()

    async def close(self) -> None:
        self.closed = True
        await self.read_ahead.close()
        await self.consumer.stop()

    def committed_at(self, partition: int) -> int | None:
        """The offset this gateway last saw committed for `partition`, if any."""
        return self.committed.get(TopicPartition(self.stream, partition))

    def touch(self) -> None:
        self.last_used = time.monotonic()

    async def poll(
        self, *, limit: int, timeout_ms: int, max_bytes: int, seek: Seek | None, auto_commit: bool
    ) -> PollResult:
        """Call with `lock` held."""
        await self._wait_assigned()
        try:
            await self.read_ahead.settle()
            # What the last poll returned, for the partitions this member still holds: a partition that moved in a
            # rebalance is read again by its new owner from the group's last commit.
            returned, self._uncommitted = self._uncommitted, {}
            held = {tp: offset for tp, offset in returned.items() if tp in self.assigned}
            if auto_commit and held:
                await self._commit(held)
            if seek is not None:
                self.read_ahead.unread()
                await self._seek_all(seek)
            batch = await self._next_batch(limit, timeout_ms, max_bytes)
            positions = {tp.partition: await self.consumer.position(tp) for tp in sorted(self.assigned)}
            if auto_commit:
                self._uncommitted = {TopicPartition(self.stream, p): o for p, o in positions.items()}
            lag = await self._lag(positions)
            if batch.full and not self._draining.is_set():
                self.read_ahead.start(limit, max_bytes)
        except ge.GatewayError:
            raise
        except Exception as exc:
            raise translate(exc, stream=self.stream) from exc
        finally:
            self.touch()
        return PollResult(batch.events, lag, positions, batch.size_bytes)

    async def _wait_assigned(self) -> None:
        try:
            async with asyncio.timeout(_ASSIGNMENT_WAIT_S):
                await self._assignment_seen.wait()
        except TimeoutError:
            raise ge.OperationTimeout("the consumer group did not assign partitions in time") from None

    async def resume(self, offsets: dict[int, int]) -> None:
        """Commit `offsets` (partition -> next offset) for the partitions this member holds and read on from there,
        leaving partitions other members hold alone (call with `lock` held)."""
        await self._wait_assigned()
        await self.read_ahead.settle()
        self.read_ahead.unread()
        held = {tp: offsets[tp.partition] for tp in sorted(self.assigned) if tp.partition in offsets}
        try:
            if held:
                await self._commit(held)
                for tp, offset in held.items():
                    self.consumer.seek(tp, offset)
        except ge.GatewayError:
            raise
        except Exception as exc:
            raise translate(exc, stream=self.stream) from exc
        finally:
            self.touch()

    async def _fetch(self, limit: int, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        """`getmany`, cut short when the gateway starts draining. Cancelling a waiting `getmany` is safe: aiokafka
        hands out buffered records only after its wait, in the same step it returns them."""
        if timeout_ms == 0 or self._draining.is_set():
            return await self._getmany(limit, 0)
        fetch = asyncio.ensure_future(self._getmany(limit, timeout_ms))
        wake = asyncio.ensure_future(self._draining.wait())
        try:
            await asyncio.wait((fetch, wake), return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetch
        if not fetch.cancelled():
            return fetch.result()
        return await self._getmany(limit, 0)

    async def _getmany(self, limit: int, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        batches: dict[TopicPartition, list[Any]] = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=limit)
        return batches

    async def _next_batch(self, limit: int, timeout_ms: int, max_bytes: int) -> Batch:
        """The batch read ahead for these limits, topped up from what is buffered when it is short; otherwise a
        fetch that waits up to `timeout_ms` for records."""
        batch = self.read_ahead.claim(limit, max_bytes)
        if batch is None:
            return take(self.consumer, await self._fetch(limit, timeout_ms), max_bytes, Batch(), limit)
        if not batch.full:
            take(self.consumer, await self._getmany(limit - len(batch.events), 0), max_bytes, batch, limit)
        return batch

    async def _seek_all(self, seek: Seek) -> None:
        tps = sorted(self.assigned, key=lambda t: t.partition)
        if not tps:
            return
        if seek == "earliest":
            await self.consumer.seek_to_beginning(*tps)
        elif seek == "latest":
            await self.consumer.seek_to_end(*tps)
        else:
            assert isinstance(seek, int)  # noqa: S101 - Seek is str | int and the strings are handled above
            starts = await self.consumer.beginning_offsets(tps)
            ends = await self.consumer.end_offsets(tps)
            for tp in tps:
                if not starts[tp] <= seek <= ends[tp]:
                    raise ge.InvalidOffset(
                        f"offset {seek} is outside partition {tp.partition}'s range [{starts[tp]}, {ends[tp]}]"
                    )
            for tp in tps:
                self.consumer.seek(tp, seek)

    async def _lag(self, positions: dict[int, int]) -> int:
        tps = [TopicPartition(self.stream, p) for p in positions]
        ends: dict[TopicPartition, int | None] = {tp: self.consumer.highwater(tp) for tp in tps}
        missing = [tp for tp, end in ends.items() if end is None]
        if missing:
            ends.update(await self.consumer.end_offsets(missing))
        lag = 0
        for tp in tps:
            end = ends[tp] or 0
            lag += max(0, end - self.committed.get(tp, positions[tp.partition]))
        return lag

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except ke.IllegalStateError as exc:
            raise ge.Conflict(
                "a partition in this commit is assigned to another member of the group; commit through the "
                "gateway that serves it"
            ) from exc
        except ke.CommitFailedError as exc:
            raise ge.Conflict("the group rebalanced during the commit; poll again and retry") from exc
        self.committed.update(offsets)

    async def commit(self, offsets: dict[int, int]) -> None:
        """Commit partition -> next offset through this member (call with `lock` held)."""
        try:
            await self._commit({TopicPartition(self.stream, p): o for p, o in offsets.items()})
        except ge.GatewayError:
            raise
        except Exception as exc:
            raise translate(exc, stream=self.stream) from exc
        finally:
            self.touch()


class SessionManager:
    """The members this gateway holds, keyed by (group, stream)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._sessions: dict[tuple[str, str], ConsumerSession] = {}
        self._create_lock = asyncio.Lock()
        self._reaper: asyncio.Task[None] | None = None
        self._draining = asyncio.Event()

    def __len__(self) -> int:
        return len(self._sessions)

    def find(self, group: str, stream: str) -> ConsumerSession | None:
        return self._sessions.get((group, stream))

    def of_group(self, group: str) -> list[ConsumerSession]:
        return [s for (g, _), s in self._sessions.items() if g == group]

    @property
    def draining(self) -> asyncio.Event:
        """Set once the gateway is shutting down."""
        return self._draining

    async def get_or_create(
        self, group: str, stream: str, initial: Seek, *, pushed: bool = False
    ) -> tuple[ConsumerSession, bool]:
        """The member for (group, stream), and whether it was made now (then `pushed` says whose it is)."""
        session = self._sessions.get((group, stream))
        if session is not None:
            return session, False
        async with self._create_lock:
            session = self._sessions.get((group, stream))
            if session is not None:
                return session, False
            if len(self._sessions) >= self._settings.consumer_max_members:
                raise ge.QuotaExceeded(
                    f"this gateway already holds {len(self._sessions)} consumer members (the limit); close idle "
                    "ones with DELETE /api/v1/consumers/{group}/sessions or retry later",
                    retry_after_s=self._settings.retry_after_s,
                )
            session = ConsumerSession(self._settings, group, stream, initial, self._draining, pushed=pushed)
            await session.start()
            self._sessions[(group, stream)] = session
            return session, True

    async def close(self, session: ConsumerSession) -> None:
        if self._sessions.get((session.group, session.stream)) is session:
            del self._sessions[(session.group, session.stream)]
        await session.close()

    async def close_group(self, group: str) -> list[str]:
        """Close this gateway's members of `group`; the Kafka topics they read, one per member."""
        sessions = self.of_group(group)
        for session in sessions:
            async with session.lock:
                await self.close(session)
        return [session.stream for session in sessions]

    def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_forever(), name="kafkagate-session-reaper")

    async def _reap_forever(self) -> None:
        idle_s = self._settings.consumer_idle_timeout_ms / 1000
        while True:
            await asyncio.sleep(min(idle_s / 4, 5.0))
            now = time.monotonic()
            for session in list(self._sessions.values()):
                if now - session.last_used > idle_s and not session.lock.locked():
                    log.info("closing idle consumer member %s/%s", session.group, session.stream)
                    try:
                        await self.close(session)
                    except Exception:
                        log.exception("closing idle member %s/%s failed", session.group, session.stream)

    def drain(self) -> None:
        """The gateway is shutting down: polls waiting for records answer now, and new ones do not wait."""
        self._draining.set()

    async def close_all(self) -> None:
        """Every member leaves its group, all at once (each is a LeaveGroup round trip of its own)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        sessions = list(self._sessions.values())
        outcomes = await asyncio.gather(*(self.close(s) for s in sessions), return_exceptions=True)
        for session, outcome in zip(sessions, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.warning("closing member %s/%s failed: %r", session.group, session.stream, outcome)

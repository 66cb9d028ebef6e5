"""The view state topic, tailed by a view host: the newest published state of every view, for restores."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.logs import VIEW_STATE_TOPIC, ViewState, decode_view_state

log = logging.getLogger(__name__)


class Checkpoints:
    """`latest(deployment)` answers from everything the topic held when it was called, so a view taken over
    from another host starts from that host's last published state, never an older one."""

    def __init__(self, bootstrap: str):
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self._tp = TopicPartition(VIEW_STATE_TOPIC, 0)
        self._states: dict[str, ViewState] = {}
        self._position = 0
        self._advanced = asyncio.Condition()
        self._tail: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign([self._tp])
        await self._consumer.seek_to_beginning(self._tp)
        self._tail = asyncio.create_task(self._run(), name="kafkagate-view-checkpoints")

    async def stop(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            try:
                batch = await self._consumer.getmany(self._tp, timeout_ms=1000)
                for record in batch.get(self._tp, []):
                    self._apply(record.key, record.value)
                position = await self._consumer.position(self._tp)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the tail outlives broker hiccups; restores wait meanwhile
                log.warning("tail of %s failed, retrying: %r", VIEW_STATE_TOPIC, exc)
                await asyncio.sleep(1)
                continue
            async with self._advanced:
                self._position = position
                self._advanced.notify_all()

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        deployment = key.decode()
        if value is None:
            self._states.pop(deployment, None)
            return
        try:
            state = decode_view_state(value)
        except ValueError as exc:
            log.warning("skipping a malformed view state of %s: %s", deployment, exc)
            return
        known = self._states.get(deployment)
        # States are folds of one log: a higher sequence always holds everything a lower one does.
        if known is None or state.sequence >= known.sequence:
            self._states[deployment] = state

    async def latest(self, deployment: str) -> ViewState | None:
        end = (await self._consumer.end_offsets([self._tp]))[self._tp]
        async with self._advanced:
            await self._advanced.wait_for(lambda: self._position >= end)
        return self._states.get(deployment)

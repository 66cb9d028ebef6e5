"""Consumer-group administration and group-less reads: describe, reset, delete, commit without a member,
fetch one event by position, replay a partition, and offsets for a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka import errors as ke
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.protocol.admin import DeleteGroupsRequest

from gateway import errors as ge
from gateway.kafka import connect
from gateway.kafka.admin import StreamAdmin
from gateway.kafka.translate import translate
from gateway.settings import Settings

INACTIVE_STATES = {"Empty"}
_COORDINATOR_MOVING = (
    ke.GroupCoordinatorNotAvailableError,
    ke.NotCoordinatorForGroupError,
    ke.CoordinatorLoadInProgressError,
)
_COORDINATOR_WAIT_S = 5.0
_MISSING_STATES = {"Dead", ""}


@dataclass(slots=True)
class Member:
    member_id: str
    client_id: str
    host: str
    assignments: list[tuple[str, int]]


@dataclass(slots=True)
class GroupInfo:
    group_id: str
    state: str
    members: list[Member] = field(default_factory=list)


class GroupAdmin:
    def __init__(self, settings: Settings, admin: StreamAdmin):
        self._settings = settings
        self._admin = admin
        self._reader: AIOKafkaConsumer | None = None
        self._reader_lock = asyncio.Lock()

    def _fail(self, exc: BaseException, stream: str | None = None) -> ge.GatewayError:
        return translate(exc, stream=stream, retry_after_s=self._settings.retry_after_s)

    # --- groups -------------------------------------------------------------------------------------------

    async def list_groups(self, visible: Callable[[str], object] = bool) -> list[GroupInfo]:
        """Every group for which `visible(group_id)` is truthy, described."""
        client = self._admin.client()
        try:
            groups = sorted({g[0] for g in await client.list_consumer_groups() if visible(g[0])})
        except Exception as exc:
            raise self._fail(exc) from exc
        if not groups:
            return []
        return await self._describe(groups)

    async def _describe_one(self, group: str) -> list[Any]:
        # A broker creates __consumer_offsets on the first FindCoordinator it is asked, and answers "coordinator
        # not available" until the topic's partitions have leaders (a second or so on a fresh cluster); the
        # same happens while a coordinator moves. Asking again for a few seconds answers the request instead
        # of a 503.
        delay_s, waited_s = 0.05, 0.0
        while True:
            try:
                return list(await self._admin.client().describe_consumer_groups([group]))
            except _COORDINATOR_MOVING:
                if waited_s >= _COORDINATOR_WAIT_S:
                    raise
            await asyncio.sleep(delay_s)
            waited_s += delay_s
            delay_s = min(delay_s * 2, 0.5)

    async def _describe(self, groups: list[str]) -> list[GroupInfo]:
        # One group per request: aiokafka 0.14 decodes a DescribeGroups v3 response with the v2 schema, which
        # skips each group's trailing authorized_operations field and garbles every group after the first.
        try:
            responses = [response for group in groups for response in await self._describe_one(group)]
        except Exception as exc:
            raise self._fail(exc) from exc
        infos: list[GroupInfo] = []
        for response in responses:
            for group in response.to_object()["groups"]:
                info = GroupInfo(group["group"], group["state"])
                for member in group["members"]:
                    assignments: list[tuple[str, int]] = []
                    raw = member["member_assignment"]
                    if raw:
                        decoded = ConsumerProtocolMemberAssignment.decode(raw)
                        assignments = [(tp.topic, tp.partition) for tp in decoded.partitions()]
                    info.members.append(
                        Member(member["member_id"], member["client_id"], member["client_host"], sorted(assignments))
                    )
                infos.append(info)
        return sorted(infos, key=lambda g: g.group_id)

    async def describe(self, group: str) -> GroupInfo:
        (info,) = await self._describe([group])
        if info.state in _MISSING_STATES:
            raise ge.ConsumerGroupNotFound(f"consumer group {group!r} does not exist")
        return info

    async def committed(self, group: str) -> dict[tuple[str, int], int]:
        """(stream, partition) -> committed offset."""
        try:
            offsets = await self._admin.client().list_consumer_group_offsets(group)
        except Exception as exc:
            raise self._fail(exc) from exc
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def require_inactive(self, group: str) -> GroupInfo:
        info = await self.describe(group)
        if info.state not in INACTIVE_STATES:
            raise ge.ConsumerGroupActive(
                f"consumer group {group!r} is {info.state} with {len(info.members)} member(s); close them first"
            )
        return info

    async def commit_without_member(self, group: str, stream: str, partition_offsets: dict[int, int]) -> None:
        """Commit for a group with no active members, straight to the group coordinator."""
        offsets = {TopicPartition(stream, p): o for p, o in partition_offsets.items()}
        consumer = connect.consumer(self._settings, "committer", group_id=group)
        try:
            await consumer.start()
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
        except ke.CommitFailedError as exc:
            raise ge.ConsumerGroupActive(
                f"consumer group {group!r} has active members elsewhere; commit through the gateway serving them"
            ) from exc
        except Exception as exc:
            raise self._fail(exc) from exc
        finally:
            await consumer.stop()

    async def delete(self, group: str) -> None:
        client = self._admin.client()
        try:
            node = await client.find_coordinator(group)
            response = await client._client.send(node, DeleteGroupsRequest([group]))
        except Exception as exc:
            raise self._fail(exc) from exc
        for _group, code in response.results:
            if code == ke.GroupIdNotFound.errno:
                raise ge.ConsumerGroupNotFound(f"consumer group {group!r} does not exist")
            if code == ke.NonEmptyGroup.errno:
                raise ge.ConsumerGroupActive(f"consumer group {group!r} has active members")
            if code:
                raise self._fail(ke.for_code(code)())

    # --- group-less reads --------------------------------------------------------------------------------

    async def _reader_consumer(self) -> AIOKafkaConsumer:
        if self._reader is None:
            reader = connect.consumer(self._settings, "reader", group_id=None)
            await reader.start()
            self._reader = reader
        return self._reader

    async def read(self, stream: str, partition: int, offset: int, limit: int, timeout_ms: int) -> list[Any]:
        """Up to `limit` records of one partition from `offset`, joining no group. Reads are serialized."""
        tp = TopicPartition(stream, partition)
        async with self._reader_lock:
            try:
                reader = await self._reader_consumer()
                reader.assign([tp])
                reader.seek(tp, offset)
                batches = await reader.getmany(tp, timeout_ms=timeout_ms, max_records=limit)
            except Exception as exc:
                raise self._fail(exc, tp.topic) from exc
        records: list[Any] = batches.get(tp, [])
        return records

    async def close(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.stop()

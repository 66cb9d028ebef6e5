"""The commit guard: no source offset is committed before every write it covers is acknowledged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaError

from processors.runtime.outputs import Outputs


class _Channel:
    def get_topic_name(self) -> str:
        return "windows-changelog"


class _Update(asyncio.Future[Any]):
    """What a Faust table hands its producer's `send_soon`: a future that resolves once the broker has it."""

    def __init__(self) -> None:
        super().__init__()
        self.message = self
        self.channel = _Channel()


class _Producer:
    def __init__(self) -> None:
        self.buffered: list[Any] = []

    def send_soon(self, message: Any) -> None:
        self.buffered.append(message)


class _Consumer:
    def __init__(self) -> None:
        self.committed: list[Any] = []

    async def _commit(self, offsets: Any) -> bool:
        self.committed.append(offsets)
        return True


class _App:
    def __init__(self) -> None:
        self.consumer: Any = _Consumer()
        self.producer: Any = _Producer()


async def _no_report(reason: str) -> None:
    return None


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> tuple[_App, Outputs]:
    async def stay(self: Outputs, *, retriable: bool) -> None:
        return None  # the real one exits the process

    monkeypatch.setattr(Outputs, "_stop_after_failure", stay)
    app = _App()
    outputs = Outputs(app, _no_report)
    outputs.guard_commits()
    return app, outputs


async def test_a_commit_waits_until_the_changelog_updates_it_covers_are_acknowledged(
    guarded: tuple[_App, Outputs],
) -> None:
    app, _ = guarded
    update = _Update()
    app.producer.send_soon(update)
    assert app.producer.buffered == [update]  # still handed to Faust's producer
    commit = asyncio.ensure_future(app.consumer._commit({"source-0": 10}))
    await asyncio.sleep(0.05)
    assert not commit.done()
    assert app.consumer.committed == []
    update.set_result(None)
    assert await commit is True
    assert app.consumer.committed == [{"source-0": 10}]


async def test_a_failed_changelog_update_stops_the_commit(guarded: tuple[_App, Outputs]) -> None:
    app, outputs = guarded
    update = _Update()
    app.producer.send_soon(update)
    update.set_exception(KafkaError("refused"))
    assert await app.consumer._commit({"source-0": 10}) is False
    assert app.consumer.committed == []
    assert outputs.failure is not None
    assert "windows-changelog" in outputs.failure


async def test_writes_after_a_commit_are_left_to_the_next_one(guarded: tuple[_App, Outputs]) -> None:
    app, _ = guarded
    first = _Update()
    app.producer.send_soon(first)
    first.set_result(None)
    assert await app.consumer._commit({"source-0": 1}) is True
    later = _Update()
    app.producer.send_soon(later)
    commit = asyncio.ensure_future(app.consumer._commit({"source-0": 2}))
    await asyncio.sleep(0.05)
    assert not commit.done()
    later.set_result(None)
    assert await commit is True


async def test_what_runs_before_a_commit_writes_first_and_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    async def stay(self: Outputs, *, retriable: bool) -> None:
        return None

    monkeypatch.setattr(Outputs, "_stop_after_failure", stay)
    app = _App()
    outputs = Outputs(app, _no_report)
    marks: list[_Update] = []

    def write_marks() -> None:
        mark = _Update()
        marks.append(mark)
        app.producer.send_soon(mark)

    outputs.guard_commits(before=write_marks)
    commit = asyncio.ensure_future(app.consumer._commit({"source-0": 3}))
    await asyncio.sleep(0.05)
    assert len(marks) == 1
    assert not commit.done()
    marks[0].set_result(None)
    assert await commit is True
    assert app.consumer.committed == [{"source-0": 3}]

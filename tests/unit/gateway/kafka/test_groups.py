"""`GroupAdmin` waits out a coordinator that is still being elected instead of answering 503 at once."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import errors as ke

from gateway import errors as ge
from gateway.kafka import groups
from gateway.kafka.groups import GroupAdmin
from gateway.settings import Settings


class ElectingClient:
    """Answers "coordinator not available" `failures` times, as a broker does while it creates
    __consumer_offsets on the first FindCoordinator, then describes the group."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    async def describe_consumer_groups(self, group_ids: list[str]) -> list[Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ke.GroupCoordinatorNotAvailableError()
        return [f"described {group_ids[0]}"]


class Admin:
    def __init__(self, client: ElectingClient):
        self._client = client

    def client(self) -> ElectingClient:
        return self._client


def group_admin(client: ElectingClient) -> GroupAdmin:
    return GroupAdmin(Settings(auth="off"), Admin(client))  # type: ignore[arg-type]  # only .client() is used


async def test_a_coordinator_being_elected_is_waited_for() -> None:
    client = ElectingClient(failures=3)
    assert await group_admin(client)._describe_one("g") == ["described g"]
    assert client.calls == 4


async def test_a_coordinator_that_never_comes_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groups, "_COORDINATOR_WAIT_S", 0.2)
    admin = group_admin(ElectingClient(failures=10**6))
    with pytest.raises(ge.BrokerUnavailable):
        await admin._describe(["g"])

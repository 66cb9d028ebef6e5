"""Token bucket maths with a hand-driven clock: refill, burst, Retry-After rounding, isolation, eviction."""

from __future__ import annotations

import pytest

from gateway.principal import RateLimit
from gateway.quotas import BYTES, REQUESTS, Quota, QuotaTable, TokenBucket, resolve


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def requests_only(rate: float) -> Quota:
    return Quota(requests_per_s=rate, bytes_per_s=0)


def test_a_new_key_may_burst_one_seconds_worth_then_is_refused(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    decisions = [table.admit("k", requests_only(5), 0) for _ in range(6)]
    assert [d.admitted for d in decisions] == [True] * 5 + [False]
    assert [d.usage[0].remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[5]
    assert refused.violated == (REQUESTS,)
    assert refused.retry_after_s == 1
    assert refused.usage[0].remaining == 0


def test_tokens_refill_at_the_rate_and_never_beyond_the_burst(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = requests_only(10)
    for _ in range(10):
        assert table.admit("k", quota, 0).admitted
    assert not table.admit("k", quota, 0).admitted
    clock.advance(0.25)  # 2.5 tokens back
    assert [table.admit("k", quota, 0).admitted for _ in range(3)] == [True, True, False]
    clock.advance(3600)  # an hour idle refills to one second's worth, not 36,000
    assert sum(table.admit("k", quota, 0).admitted for _ in range(20)) == 10


def test_refusals_charge_nothing(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = requests_only(1)
    assert table.admit("k", quota, 0).admitted
    for _ in range(100):
        assert not table.admit("k", quota, 0).admitted
    clock.advance(1.0)
    assert table.admit("k", quota, 0).admitted


@pytest.mark.parametrize(
    ("rate", "advance_s", "expected"),
    [
        (10, 0.0, 1),  # 0.1 s away still says 1: Retry-After is whole seconds and never 0
        (10, 0.099, 1),
        (0.5, 0.0, 2),  # one request per 2 s
        (0.25, 1.0, 3),  # 3 s still missing of 4
    ],
)
def test_retry_after_is_the_ceiling_and_at_least_one(
    clock: FakeClock, rate: float, advance_s: float, expected: int
) -> None:
    table = QuotaTable(clock=clock)
    quota = requests_only(rate)
    for _ in range(int(max(1, rate))):  # empty the bucket (a rate under 1 takes one request into debt)
        assert table.admit("k", quota, 0).admitted
    clock.advance(advance_s)
    refused = table.admit("k", quota, 0)
    assert not refused.admitted
    assert refused.retry_after_s == expected
    assert refused.usage[0].reset_s == expected


def test_retry_after_is_honest_a_request_then_passes(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = requests_only(3)
    while table.admit("k", quota, 0).admitted:
        pass
    refused = table.admit("k", quota, 0)
    clock.advance(refused.retry_after_s)
    assert table.admit("k", quota, 0).admitted


def test_keys_are_isolated(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = requests_only(2)
    assert [table.admit("a", quota, 0).admitted for _ in range(3)] == [True, True, False]
    assert [table.admit("b", quota, 0).admitted for _ in range(3)] == [True, True, False]


def test_bytes_bucket_counts_body_bytes(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = Quota(requests_per_s=0, bytes_per_s=1000)
    assert table.admit("k", quota, 600).admitted
    refused = table.admit("k", quota, 600)
    assert not refused.admitted
    assert refused.violated == (BYTES,)
    assert refused.retry_after_s == 1  # 200 bytes missing at 1000/s
    assert table.admit("k", quota, 400).admitted  # what remains is still usable
    assert table.admit("k", quota, 0).admitted  # a bodiless request costs no bytes


def test_a_body_larger_than_the_bucket_passes_when_full_and_leaves_debt(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = Quota(requests_per_s=0, bytes_per_s=1000)
    assert table.admit("k", quota, 5000).admitted  # would otherwise never pass
    refused = table.admit("k", quota, 10)
    assert not refused.admitted
    assert refused.retry_after_s == 5  # 4000 bytes of debt plus 10 at 1000/s
    clock.advance(5)
    assert table.admit("k", quota, 10).admitted


def test_undeclared_bodies_are_charged_as_they_stream(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = Quota(requests_per_s=0, bytes_per_s=1000)
    assert table.admit("k", quota, None).admitted
    table.charge_bytes("k", quota, 3000)
    refused = table.admit("k", quota, None)
    assert not refused.admitted
    assert refused.retry_after_s == 3


def test_both_buckets_must_admit_and_a_refusal_charges_neither(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    quota = Quota(requests_per_s=2, bytes_per_s=100)
    assert table.admit("k", quota, 100).admitted
    refused = table.admit("k", quota, 50)
    assert not refused.admitted
    assert refused.violated == (BYTES,)
    assert [u.policy for u in refused.usage] == [REQUESTS, BYTES]
    assert refused.usage[0].remaining == 1  # the refused request did not cost a request token
    assert table.admit("k", quota, 0).admitted


def test_zero_means_no_limit(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    unlimited = Quota(0, 0)
    assert all(table.admit("k", unlimited, 10**9).admitted for _ in range(10_000))
    assert len(table) == 0
    assert table.admit("k", unlimited, 1).usage == ()


def test_full_buckets_are_swept(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock, sweep_interval_s=10)
    quota = requests_only(10)
    for key in ("a", "b", "c"):
        for _ in range(10):
            table.admit(key, quota, 0)
    assert len(table) == 3
    clock.advance(0.5)
    assert table.sweep() == 0  # none has refilled yet
    clock.advance(0.6)
    assert table.sweep() == 3
    assert len(table) == 0


def test_the_sweep_runs_by_itself_and_keeps_busy_keys(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock, sweep_interval_s=10)
    quota = requests_only(1)
    for i in range(100):
        table.admit(f"idle-{i}", quota, 0)
    clock.advance(10)
    table.admit("busy", quota, 0)  # triggers the sweep, then charges "busy"
    assert len(table) == 1
    assert not table.admit("busy", quota, 0).admitted


def test_the_table_is_capped_least_recently_used_first(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock, max_keys=3)
    quota = requests_only(1)
    for key in ("a", "b", "c"):
        table.admit(key, quota, 0)
    table.admit("a", quota, 0)  # "a" is now the most recent; "b" the least
    table.admit("d", quota, 0)
    assert len(table) == 3
    assert table.admit("b", quota, 0).admitted  # forgotten, so a fresh bucket
    assert not table.admit("a", quota, 0).admitted


def test_a_changed_quota_is_followed(clock: FakeClock) -> None:
    table = QuotaTable(clock=clock)
    assert table.admit("k", requests_only(100), 0).admitted
    assert [table.admit("k", requests_only(2), 0).admitted for _ in range(3)] == [True, True, False]


def test_resolve_uses_the_keys_own_fields_and_the_default_for_the_rest() -> None:
    default = Quota(1000, 10**6)
    assert resolve(None, default) == default
    assert resolve(RateLimit(), default) == default
    assert resolve(RateLimit(requests_per_s=5), default) == Quota(5, 10**6)
    assert resolve(RateLimit(requests_per_s=0, bytes_per_s=7), default) == Quota(0, 7)


def test_bucket_wait_never_counts_a_free_request() -> None:
    bucket = TokenBucket(rate_per_s=10, tokens=-50, updated_s=0)
    assert bucket.wait_s(0) == 0
    assert bucket.wait_s(1) == pytest.approx(5.1)

"""The RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11 syntax)."""

from __future__ import annotations

import pytest

from gateway.quotas import BYTES, REQUESTS, Decision, Quota, Usage
from gateway.ratelimit_fields import fields, policy_field, quota_per_window, ratelimit_field


def test_policy_field_lists_each_limited_bucket() -> None:
    assert policy_field(Quota(5, 0)) == '"default";q=5;w=1'
    assert policy_field(Quota(0, 4096)) == '"bytes";q=4096;qu="content-bytes";w=1'
    assert policy_field(Quota(5, 4096)) == '"default";q=5;w=1, "bytes";q=4096;qu="content-bytes";w=1'


@pytest.mark.parametrize(("rate", "expected"), [(5, (5, 1)), (2.5, (2, 1)), (0.5, (1, 2)), (0.3, (1, 4)), (1, (1, 1))])
def test_quota_and_window_are_integers(rate: float, expected: tuple[int, int]) -> None:
    assert quota_per_window(rate) == expected


def test_ratelimit_field_reports_remaining_and_reset() -> None:
    decision = Decision(False, 3, (Usage(REQUESTS, 2, 1), Usage(BYTES, 0, 3)), (BYTES,))
    assert ratelimit_field(decision) == '"default";r=2;t=1, "bytes";r=0;t=3'


def test_fields_are_raw_headers_and_absent_for_unlimited_keys() -> None:
    decision = Decision(True, 0, (Usage(REQUESTS, 4, 1),))
    assert fields(Quota(5, 0), decision) == [
        (b"ratelimit-policy", b'"default";q=5;w=1'),
        (b"ratelimit", b'"default";r=4;t=1'),
    ]
    assert fields(Quota(0, 0), Decision(True, 0, ())) == []

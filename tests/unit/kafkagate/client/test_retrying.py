from __future__ import annotations

import httpx
import pytest

from kafkagate.client.errors import ApiError, error_for
from kafkagate.client.retrying import RetryPolicy, retriable


def api_error(status: int, error: str = "X", retry_after: str | None = None) -> ApiError:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    return error_for(httpx.Response(status, json={"error": error}, headers=headers))


REQUEST = httpx.Request("POST", "http://gateway/api/v1/keys")


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_safe_calls_are_retried_on_not_now_answers(status: int) -> None:
    assert retriable(api_error(status), safe=True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 500])
def test_answers_that_will_not_change_are_never_retried(status: int) -> None:
    assert not retriable(api_error(status), safe=True)


def test_a_conflict_is_retried_only_while_the_first_attempt_runs() -> None:
    assert retriable(api_error(409, "IDEMPOTENCY_KEY_IN_USE"), safe=True)
    assert not retriable(api_error(409, "STREAM_ALREADY_EXISTS"), safe=True)


def test_unsafe_calls_are_retried_only_when_nothing_was_done() -> None:
    assert retriable(api_error(429), safe=False)
    assert not retriable(api_error(503), safe=False)
    assert retriable(httpx.ConnectError("refused", request=REQUEST), safe=False)
    assert not retriable(httpx.ReadTimeout("lost", request=REQUEST), safe=False)
    assert retriable(httpx.ReadTimeout("lost", request=REQUEST), safe=True)


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after_s=10)
    assert policy.delay_s(safe=True, attempt=1, waited_s=0, failure=api_error(429, retry_after="3")) == 3
    assert policy.delay_s(safe=True, attempt=1, waited_s=0, failure=api_error(503, retry_after="99")) == 10


def test_backoff_doubles_with_jitter_up_to_the_ceiling() -> None:
    policy = RetryPolicy(backoff_s=0.1, max_backoff_s=0.5, attempts=10)
    failure = api_error(503)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (8, 0.5)]:
        delay = policy.delay_s(safe=True, attempt=attempt, waited_s=0, failure=failure)
        assert delay is not None
        assert ceiling / 2 <= delay <= ceiling


def test_attempts_and_the_time_budget_end_the_retries() -> None:
    policy = RetryPolicy(attempts=3, total_s=10)
    failure = api_error(429, retry_after="4")
    assert policy.delay_s(safe=True, attempt=2, waited_s=0, failure=failure) == 4
    assert policy.delay_s(safe=True, attempt=3, waited_s=0, failure=failure) is None
    assert policy.delay_s(safe=True, attempt=1, waited_s=8, failure=failure) is None

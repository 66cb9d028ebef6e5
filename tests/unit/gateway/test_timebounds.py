from __future__ import annotations

from gateway.timebounds import TimestampRange

NOW = 1_790_000_000_000


def test_kafka_defaults_accept_any_past_and_an_hour_ahead() -> None:
    # What Kafka 4.1 reports for a topic without overrides.
    accepted = TimestampRange.from_configs(
        {
            "message.timestamp.before.max.ms": "9223372036854775807",
            "message.timestamp.after.max.ms": "3600000",
            "message.timestamp.type": "CreateTime",
        }
    )

    assert accepted.problem(0, NOW) is None
    assert accepted.problem(NOW + 3_600_000, NOW) is None
    problem = accepted.problem(NOW + 3_600_001, NOW)
    assert problem is not None
    assert "3600001 ms in the future" in problem
    assert "message.timestamp.after.max.ms" in problem


def test_a_bound_in_the_past_names_its_config() -> None:
    accepted = TimestampRange.from_configs({"message.timestamp.before.max.ms": "60000"})

    assert accepted.problem(NOW - 60_000, NOW) is None
    problem = accepted.problem(NOW - 60_001, NOW)
    assert problem is not None
    assert "message.timestamp.before.max.ms" in problem


def test_log_append_time_takes_any_timestamp() -> None:
    accepted = TimestampRange.from_configs(
        {"message.timestamp.type": "LogAppendTime", "message.timestamp.after.max.ms": "0"}
    )

    assert accepted.problem(NOW + 10**9, NOW) is None


def test_missing_configs_bound_nothing() -> None:
    assert TimestampRange.from_configs({}).problem(NOW * 2, NOW) is None

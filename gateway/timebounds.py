"""Which record timestamps a stream accepts (its topic configs), checked before an event is sent.

Kafka refuses a record whose timestamp is further from the broker's clock than the topic allows
(`message.timestamp.before.max.ms`, `message.timestamp.after.max.ms`; since Kafka 4.0 the latter defaults to one
hour), and it refuses the record's whole partition batch with it. Checking here gives each event its own
400 INVALID_TIMESTAMP instead. Topics with `message.timestamp.type=LogAppendTime` take any timestamp (the broker
overwrites it). The broker's clock decides in the end: an event near a bound may still be refused by Kafka, and
that refusal is translated to the same error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_UNBOUNDED = 2**63 - 1  # Kafka's Long.MAX_VALUE default for message.timestamp.before.max.ms


@dataclass(frozen=True, slots=True)
class TimestampRange:
    before_ms: int = _UNBOUNDED
    after_ms: int = _UNBOUNDED
    log_append: bool = False

    @classmethod
    def from_configs(cls, configs: Mapping[str, str]) -> TimestampRange:
        return cls(
            before_ms=int(configs.get("message.timestamp.before.max.ms", _UNBOUNDED)),
            after_ms=int(configs.get("message.timestamp.after.max.ms", _UNBOUNDED)),
            log_append=configs.get("message.timestamp.type") == "LogAppendTime",
        )

    def problem(self, timestamp_ms: int, now_ms: int) -> str | None:
        """Why the stream would refuse this timestamp now, or None when it accepts it."""
        if self.log_append:
            return None
        if now_ms - timestamp_ms > self.before_ms:
            return (
                f"timestamp is {now_ms - timestamp_ms} ms in the past; the stream accepts at most {self.before_ms} ms "
                "(message.timestamp.before.max.ms)"
            )
        if timestamp_ms - now_ms > self.after_ms:
            return (
                f"timestamp is {timestamp_ms - now_ms} ms in the future; the stream accepts at most {self.after_ms} ms "
                "(message.timestamp.after.max.ms)"
            )
        return None

"""Translate aiokafka exceptions into gateway errors, once, at the adapter boundary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import errors as ke

from gateway import errors as ge

_CONNECTIVITY = (
    ke.KafkaConnectionError,
    ke.NoBrokersAvailable,
    ke.NodeNotReadyError,
    ke.KafkaUnavailableError,
    ke.BrokerNotAvailableError,
    ke.LeaderNotAvailableError,
    ke.NotLeaderForPartitionError,
    ke.GroupCoordinatorNotAvailableError,
    ke.NotCoordinatorForGroupError,
    ke.NotControllerError,
    ke.ProducerClosed,
)


def _detail(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


# Checked in order; the first matching aiokafka type decides. Each factory gets (exc, " 'stream'", retry_after_s).
_RULES: tuple[tuple[tuple[type[BaseException], ...], Callable[[BaseException, str, int], ge.GatewayError]], ...] = (
    ((ke.UnknownTopicOrPartitionError,), lambda e, n, r: ge.StreamNotFound(f"stream{n} does not exist")),
    ((ke.TopicAlreadyExistsError,), lambda e, n, r: ge.StreamAlreadyExists(f"stream{n} already exists")),
    (
        (ke.MessageSizeTooLargeError, ke.RecordTooLargeError, ke.RecordListTooLargeError),
        lambda e, n, r: ge.PayloadTooLarge(f"record is larger than stream{n} accepts (max.message.bytes)"),
    ),
    ((ke.InvalidPartitionsError,), lambda e, n, r: ge.InvalidPartitions(_detail(e))),
    (
        (ke.InvalidConfigurationError, ke.InvalidReplicationFactorError, ke.PolicyViolationError),
        lambda e, n, r: ge.BadRequest(f"Kafka refused the request: {_detail(e)}"),
    ),
    ((ke.InvalidTopicError,), lambda e, n, r: ge.InvalidStreamName(f"Kafka refused the stream name{n}")),
    ((ke.QuotaViolationError,), lambda e, n, r: ge.QuotaExceeded("Kafka throttled the request", retry_after_s=r)),
    ((ke.OffsetOutOfRangeError,), lambda e, n, r: ge.InvalidOffset("offset is out of range")),
    (
        (ke.InvalidTimestampError,),
        lambda e, n, r: ge.InvalidTimestamp(
            f"Kafka refused a timestamp outside what stream{n} accepts (message.timestamp.before.max.ms / "
            "after.max.ms); events sent with it to the same partition were not written"
        ),
    ),
    ((ke.GroupIdNotFound,), lambda e, n, r: ge.ConsumerGroupNotFound("consumer group does not exist")),
    ((ke.NonEmptyGroup,), lambda e, n, r: ge.ConsumerGroupActive("consumer group has active members")),
    (
        (ke.NotEnoughReplicasError, ke.NotEnoughReplicasAfterAppendError),
        lambda e, n, r: ge.BrokerUnavailable(
            f"stream{n} has fewer in-sync replicas than its min.insync.replicas", retry_after_s=r
        ),
    ),
    (_CONNECTIVITY, lambda e, n, r: ge.BrokerUnavailable("Kafka is not reachable", retry_after_s=r)),
    (
        (ke.KafkaTimeoutError, ke.RequestTimedOutError, asyncio.TimeoutError),
        lambda e, n, r: ge.OperationTimeout("Kafka did not answer in time", retry_after_s=r),
    ),
)


def translate(exc: BaseException, *, stream: str | None = None, retry_after_s: int = 5) -> ge.GatewayError:
    """The gateway error that tells a client what `exc` means for its request."""
    if isinstance(exc, ge.GatewayError):
        return exc
    name = f" {stream!r}" if stream else ""
    for types, make in _RULES:
        if isinstance(exc, types):
            return make(exc, name, retry_after_s)
    if isinstance(exc, ke.KafkaError):
        return ge.GatewayError(f"Kafka error: {type(exc).__name__}")
    return ge.GatewayError("unexpected error")


def kafka_cause(exc: BaseException) -> str | None:
    """The aiokafka exception class `exc` was translated from (`raise translate(e) from e`), or None when it was
    not translated from a Kafka client error. Gives the Kafka error counter its `exception` label."""
    cause = exc.__cause__
    if isinstance(cause, ke.KafkaError | asyncio.TimeoutError):
        return type(cause).__name__
    return None

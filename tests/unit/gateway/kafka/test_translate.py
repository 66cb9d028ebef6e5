from __future__ import annotations

import pytest
from aiokafka import errors as ke

from gateway import errors as ge
from gateway.kafka.translate import translate


@pytest.mark.parametrize(
    ("exc", "expected", "status"),
    [
        (ke.UnknownTopicOrPartitionError(), ge.StreamNotFound, 404),
        (ke.TopicAlreadyExistsError(), ge.StreamAlreadyExists, 409),
        (ke.MessageSizeTooLargeError(), ge.PayloadTooLarge, 413),
        (ke.RecordTooLargeError(), ge.PayloadTooLarge, 413),
        (ke.InvalidPartitionsError("fewer"), ge.InvalidPartitions, 400),
        (ke.InvalidReplicationFactorError("rf 3 > brokers 1"), ge.BadRequest, 400),
        (ke.InvalidTopicError(), ge.InvalidStreamName, 400),
        (ke.QuotaViolationError(), ge.QuotaExceeded, 429),
        (ke.OffsetOutOfRangeError(), ge.InvalidOffset, 400),
        (ke.InvalidTimestampError(), ge.InvalidTimestamp, 400),
        (ke.GroupIdNotFound(), ge.ConsumerGroupNotFound, 404),
        (ke.NonEmptyGroup(), ge.ConsumerGroupActive, 409),
        (ke.KafkaConnectionError(), ge.BrokerUnavailable, 503),
        (ke.NoBrokersAvailable(), ge.BrokerUnavailable, 503),
        (ke.NotLeaderForPartitionError(), ge.BrokerUnavailable, 503),
        (ke.NotEnoughReplicasError(), ge.BrokerUnavailable, 503),
        (ke.NotEnoughReplicasAfterAppendError(), ge.BrokerUnavailable, 503),
        (ke.KafkaTimeoutError(), ge.OperationTimeout, 504),
        (ke.RequestTimedOutError(), ge.OperationTimeout, 504),
        (TimeoutError(), ge.OperationTimeout, 504),
        (ke.CorruptRecordException(), ge.GatewayError, 500),
        (RuntimeError("boom"), ge.GatewayError, 500),
    ],
)
def test_translation(exc: BaseException, expected: type[ge.GatewayError], status: int) -> None:
    error = translate(exc, stream="orders", retry_after_s=7)
    assert type(error) is expected
    assert error.status == status
    if error.retriable and status != 504:
        assert error.retry_after_s == 7


def test_names_the_stream_and_passes_gateway_errors_through() -> None:
    assert "'orders'" in translate(ke.UnknownTopicOrPartitionError(), stream="orders").detail
    original = ge.InvalidOffset("nope")
    assert translate(original) is original


def test_internal_details_do_not_leak() -> None:
    error = translate(RuntimeError("secret path /etc/x"))
    assert "secret" not in error.detail


def test_too_few_in_sync_replicas_says_so() -> None:
    for exc in (ke.NotEnoughReplicasError(), ke.NotEnoughReplicasAfterAppendError()):
        assert "in-sync replicas" in translate(exc, stream="orders").detail

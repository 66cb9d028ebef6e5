"""Pairing the records a lapsed owner wrote with the events of the request that took its key over."""

from __future__ import annotations

from gateway import errors as ge
from gateway.dead_letters import DeadLettered, Letter
from gateway.kafka.producer import Ack, OutgoingRecord
from gateway.kafka.stamped import StampedRecord
from gateway.publishing import Submission
from gateway.stream_schemas import Violation
from gateway.takeover import match, merged
from schemas import dead_letters as dl

TOPIC = "orders"
DLQ = dl.dlq_topic(TOPIC)
NOW = 1_000


def event(value: bytes, key: bytes | None = None) -> Submission:
    return Submission(OutgoingRecord(key=key, value=value, headers=[], timestamp_ms=NOW))


def found(
    value: bytes, offset: int, *, key: bytes | None = None, topic: str = TOPIC, partition: int = 0
) -> StampedRecord:
    return StampedRecord(topic, partition, offset, NOW, key, value, ())


def sent_as_is(submission: Submission, now: int) -> ge.GatewayError | Letter | None:
    return None


def test_alike_events_take_the_records_in_offset_order_and_the_rest_are_left_to_write() -> None:
    submissions = [event(b'"a"'), event(b'"a"'), event(b'"b"'), event(b'"a"', key=b"k")]
    records = [found(b'"a"', 7), found(b'"b"', 3), found(b'"a"', 5)]
    assert match(TOPIC, submissions, records, sent_as_is, NOW) == {
        0: Ack(0, 5, NOW),
        1: Ack(0, 7, NOW),
        2: Ack(0, 3, NOW),
    }


def test_a_record_is_used_once_and_a_key_must_match() -> None:
    submissions = [event(b'"a"', key=b"k1"), event(b'"a"', key=b"k1")]
    assert match(TOPIC, submissions, [found(b'"a"', 1, key=b"k1"), found(b'"a"', 2, key=b"k2")], sent_as_is, NOW) == {
        0: Ack(0, 1, NOW)
    }


def test_a_request_of_one_event_takes_its_one_record_whatever_its_bytes() -> None:
    # An API may stamp the time it accepted the event into the value it writes.
    assert match(TOPIC, [event(b'{"at": 2}')], [found(b'{"at": 1}', 4)], sent_as_is, NOW) == {0: Ack(0, 4, NOW)}
    assert match(TOPIC, [event(b"x")], [], sent_as_is, NOW) == {}


def test_a_dead_letter_found_reports_the_schema_verdict() -> None:
    violation = Violation("/amount", "type", "must be a number")
    letter = Letter(OutgoingRecord(None, b'"bad"', [], NOW), 3, (violation,))

    def dead_letters(submission: Submission, now: int) -> ge.GatewayError | Letter | None:
        return letter if submission.record.value == b'"bad"' else None

    submissions = [event(b'"ok"'), event(b'"bad"')]
    records = [found(b'"bad"', 9, topic=DLQ, partition=1), found(b'"ok"', 2)]
    assert match(TOPIC, submissions, records, dead_letters, NOW) == {
        0: Ack(0, 2, NOW),
        1: DeadLettered(Ack(1, 9, NOW), DLQ, dl.REASON_SCHEMA, 3, (violation,)),
    }


def test_a_dead_letter_under_a_replaced_schema_reports_what_its_headers_say() -> None:
    headers = ((dl.REASON, b"schema"), (dl.SCHEMA_VERSION, b"2"))
    record = StampedRecord(DLQ, 0, 4, NOW, None, b'"v"', headers)
    submissions = [event(b'"v"'), event(b'"w"')]
    assert match(TOPIC, submissions, [record], sent_as_is, NOW) == {
        0: DeadLettered(Ack(0, 4, NOW), DLQ, "schema", 2, ())
    }


def test_merged_puts_found_and_sent_outcomes_back_in_request_order() -> None:
    refused = ge.PayloadTooLarge("too large")
    assert merged({1: Ack(0, 5, NOW)}, [0, 2], [Ack(0, 8, NOW), refused]) == [Ack(0, 8, NOW), Ack(0, 5, NOW), refused]

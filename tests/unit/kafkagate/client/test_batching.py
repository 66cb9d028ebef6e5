from __future__ import annotations

import httpx
import orjson
import pytest

from kafkagate.client.batching import Buffer, ProduceStats, batch_body, rejected_events, rejection
from kafkagate.client.errors import ValidationFailed, error_for
from kafkagate.client.models import BatchResult


def fill(buffer: Buffer[int], sizes: list[int], now: float = 0.0) -> None:
    for i, size in enumerate(sizes):
        buffer.add(b"x" * size, i, now)


def test_a_batch_is_cut_at_max_events() -> None:
    buffer: Buffer[int] = Buffer(max_events=3, max_bytes=10_000)
    fill(buffer, [5] * 7)
    assert buffer.full()
    assert [p.future for p in buffer.take()] == [0, 1, 2]
    assert [p.future for p in buffer.take()] == [3, 4, 5]
    assert not buffer.full()
    assert [p.future for p in buffer.take()] == [6]
    assert len(buffer) == 0


def test_a_batch_is_cut_before_max_bytes_but_never_empty() -> None:
    buffer: Buffer[int] = Buffer(max_events=100, max_bytes=100)
    fill(buffer, [40, 40, 40, 500, 10])
    assert [p.future for p in buffer.take()] == [0, 1]
    assert [p.future for p in buffer.take()] == [2]
    assert [p.future for p in buffer.take()] == [3], "an event larger than max_bytes goes alone"
    assert [p.future for p in buffer.take()] == [4]


def test_a_batch_is_due_when_its_oldest_event_has_lingered() -> None:
    buffer: Buffer[int] = Buffer(max_events=10, max_bytes=10_000)
    assert not buffer.due(100.0, 0.05)
    buffer.add(b"1", 0, now=1.0)
    buffer.add(b"2", 1, now=1.04)
    assert not buffer.due(1.04, 0.05)
    assert buffer.due(1.05, 0.05)
    assert buffer.oldest_at() == 1.0


def test_the_body_is_the_batch_document() -> None:
    events = [orjson.dumps({"value": i}) for i in range(3)]
    assert orjson.loads(batch_body(events)) == {"events": [{"value": 0}, {"value": 1}, {"value": 2}]}
    with_options = orjson.loads(batch_body(events[:1], compression="zstd", timeout_ms=500))
    assert with_options["options"] == {"compression": "zstd", "timeout": 500}


def test_stats_count_outcomes_by_code() -> None:
    stats = ProduceStats(sent=4)
    result = BatchResult.model_validate(
        {
            "batchId": "b",
            "totalEvents": 3,
            "successCount": 2,
            "failureCount": 1,
            "deadLetteredCount": 1,
            "results": [
                {"eventId": "evt_0_0", "partition": 0, "offset": 0, "timestamp": "t", "status": "published"},
                {"eventId": "evt_0_1", "partition": 0, "offset": 1, "timestamp": "t", "status": "dead-lettered"},
                {
                    "index": 2,
                    "status": "failed",
                    "code": 1006,
                    "error": "TIMEOUT",
                    "message": "m",
                    "outcome": "unknown",
                },
            ],
        }
    )
    stats.record(result)
    stats.record_error(error_for(httpx.Response(404, json={"error": "STREAM_NOT_FOUND"})), 1)
    assert (stats.published, stats.dead_lettered, stats.batches) == (1, 1, 2)
    assert dict(stats.failed) == {"TIMEOUT": 1, "STREAM_NOT_FOUND": 1}
    assert stats.done == 4


def invalid(fields: list[str]) -> ValidationFailed:
    error = error_for(
        httpx.Response(422, json={"code": 1007, "error": "VALIDATION_ERROR", "errors": [{"field": f} for f in fields]})
    )
    assert isinstance(error, ValidationFailed)
    return error


def test_a_422_naming_events_rejects_just_those() -> None:
    error = invalid(["events.3.partition", "events.3.value", "events.0"])
    assert rejected_events(error, 5) == {
        3: [{"field": "events.3.partition"}, {"field": "events.3.value"}],
        0: [{"field": "events.0"}],
    }
    failed = rejection(3, error, [{"field": "events.3.partition"}])
    assert (failed.index, failed.code, failed.error, failed.status) == (3, 1007, "VALIDATION_ERROR", "failed")


@pytest.mark.parametrize("fields", [["events"], ["options.timeout"], ["events.9.value"], []])
def test_a_422_about_the_whole_batch_rejects_all(fields: list[str]) -> None:
    assert rejected_events(invalid(fields), 5) is None

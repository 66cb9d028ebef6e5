"""A worker's housekeeping clients against the real broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from processors.housekeeping import Housekeeper

pytestmark = pytest.mark.kafka


async def test_a_sink_is_found_after_offsets_of_other_topics_were_looked_up(
    kafka_bootstrap: str, new_stream: Callable[..., Awaitable[str]]
) -> None:
    # Offset lookups make the client track their topics; a later refresh then covered only those, so the first
    # final result of a processor whose lag had been measured failed for ever with "no partitions".
    source, sink = await new_stream(partitions=3), await new_stream(partitions=2)
    keeper = Housekeeper(kafka_bootstrap, "g-housekeeping")
    await keeper.start()
    try:
        await keeper.log_starts([TopicPartition(source, 0)])
        assert await keeper.end_offset(TopicPartition(source, 1)) == 0
        assert await keeper.partition_for(sink, b"some key") in {0, 1}
    finally:
        await keeper.stop()


async def test_holds_records_tells_data_from_transaction_markers(
    kafka_bootstrap: str, new_stream: Callable[..., Awaitable[str]]
) -> None:
    stream = await new_stream(partitions=1)
    tp = TopicPartition(stream, 0)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{stream}")
    await producer.start()
    try:
        for value in (b"a", b"b", b"c"):  # offsets 0, 2 and 4; the commit markers take 1, 3 and 5
            async with producer.transaction():
                await producer.send_and_wait(stream, value, partition=0)
    finally:
        await producer.stop()
    keeper = Housekeeper(kafka_bootstrap, "g-housekeeping")
    await keeper.start()
    try:
        assert await keeper.holds_records(tp, 1, 2) is False, "a commit marker is not a record"
        assert await keeper.holds_records(tp, 3, 4) is False
        assert await keeper.holds_records(tp, 1, 3) is True
        assert await keeper.holds_records(tp, 0, 1) is True
        assert await keeper.holds_records(tp, 3, 5) is True
        assert await keeper.holds_records(tp, 5, 6) is False
    finally:
        await keeper.stop()

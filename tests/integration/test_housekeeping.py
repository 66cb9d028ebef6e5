"""A worker's housekeeping clients against the real broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiokafka import TopicPartition

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

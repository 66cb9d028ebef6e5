"""`emit: final`, once: a closed window's result reaches the sink exactly once across worker crashes.

A closed window's entry holds its result until `release`. Before a result leaves, the entry notes where it goes
(sink, partition, the partition's end offset), and the note is flushed to the changelog; after the sink
acknowledged it, the entry is released. A restart that finds an unreleased result looks for it in the sink from
the noted offset on and sends it only if it is not there: once, whichever side of the sink write the crash fell on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition

from processors.aggregate_store import Result, WindowedAggregate
from processors.faults import fault_point
from processors.housekeeping import Housekeeper
from processors.metrics import WorkerMetrics
from processors.runtime.outputs import Outputs

log = logging.getLogger(__name__)

#: (sink, key, value, timestamp ms) to send for a result, or None when the after-aggregate steps filtered it.
OutputOf = Callable[[Result], "tuple[str, bytes | None, bytes, int] | None"]


class FinalDelivery:
    def __init__(
        self, app: Any, outputs: Outputs, housekeeper: Housekeeper, metrics: WorkerMetrics, output_of: OutputOf
    ):
        self.app = app
        self.outputs = outputs
        self.housekeeper = housekeeper
        self.metrics = metrics
        self.output_of = output_of
        self._sink_next: dict[tuple[str, int], int] = {}

    async def deliver(self, aggregate: WindowedAggregate, results: tuple[Result, ...]) -> None:
        outgoing = []
        for result in results:
            output = self.output_of(result)
            if output is None:
                aggregate.release(result)
                continue
            target, key, value, timestamp = output
            partition = await self.housekeeper.partition_for(target, key)
            after = self._sink_next.get((target, partition))
            if after is None:
                after = await self.housekeeper.end_offset(TopicPartition(target, partition))
            aggregate.note(
                result,
                sink=target,
                partition=partition,
                after=after,
                key=None if key is None else key.decode(),
                sent=value.decode(),
            )
            outgoing.append((result, target, partition, key, value, timestamp))
        if not outgoing:
            return
        await self.app.producer.flush()
        fault_point("final-before-send")
        pending = [
            await self.outputs.write(target, key=key, value=value, partition=partition, timestamp=timestamp / 1000)
            for _, target, partition, key, value, timestamp in outgoing
        ]
        for (_, target, partition, *_), future in zip(outgoing, pending, strict=True):
            metadata = await future
            self._sink_next[(target, partition)] = metadata.offset + 1
            self.metrics.events_emitted += 1
        fault_point("final-after-send")
        for result, *_ in outgoing:
            aggregate.release(result)

    async def resolve_unreleased(self, aggregate: WindowedAggregate, unreleased: tuple[Result, ...]) -> None:
        again = []
        # Per sink partition: where to start reading, and which (key, value) records each result was sent as.
        searches: dict[TopicPartition, tuple[int, dict[tuple[bytes | None, bytes], list[Result]]]] = {}
        for result in unreleased:
            noted = aggregate.delivery(result)
            if not noted:
                again.append(result)  # noted nothing durable, so it was never sent
                continue
            tp = TopicPartition(noted["sink"], noted["partition"])
            record = (None if noted["key"] is None else str(noted["key"]).encode(), str(noted["sent"]).encode())
            start, sent = searches.get(tp, (noted["after"], {}))
            sent.setdefault(record, []).append(result)
            searches[tp] = (min(start, noted["after"]), sent)
        for tp, (start, sent) in searches.items():
            found = await self.housekeeper.find(tp, start, set(sent))
            for record, results in sent.items():
                if record not in found:
                    again.extend(results)
                    continue
                for result in results:
                    log.info("final result for %s window %s was sent before a restart", result.group_key, result.window)
                    aggregate.release(result)
        if again:
            await self.deliver(aggregate, tuple(again))

"""What happens to an event a step refused: dropped (counted), dead-lettered with the value as received, or the
processor stops (`onError: fail`)."""

from __future__ import annotations

import orjson

from processors.events import Event
from processors.executor import DeadLetter, Dropped, Failed, dead_letter_headers
from processors.metrics import WorkerMetrics
from processors.plan import Plan
from processors.runtime.faults import ProcessorFailed
from processors.runtime.outputs import Outputs
from processors.runtime.records import KafkaEvent, headers_of
from schemas import dead_letters as dl


class Refusals:
    def __init__(self, plan: Plan, outputs: Outputs, metrics: WorkerMetrics):
        self.plan = plan
        self.outputs = outputs
        self.metrics = metrics

    async def settle(self, kafka_event: KafkaEvent, outcome: Dropped | DeadLetter | Failed) -> None:
        if isinstance(outcome, Dropped):
            self.metrics.events_filtered += 1
            if outcome.reason == "skipped":
                self.metrics.errors += 1
        elif isinstance(outcome, DeadLetter):
            self.metrics.errors += 1
            await self.dead_letter(kafka_event, outcome.index, outcome.error)
        else:
            self.metrics.errors += 1
            raise ProcessorFailed(f"operations[{outcome.index}]: {outcome.error}")

    async def dead_letter(
        self, kafka_event: KafkaEvent, index: int, error: str, *, reason: str = dl.REASON_ERROR
    ) -> None:
        message = kafka_event.message
        source = Event(
            value=None, timestamp=int(message.timestamp * 1000), partition=message.partition, offset=message.offset
        )
        if message.topic == self.plan.topics.repartition:
            body = orjson.loads(message.value)
            source = Event(**body["event"])
            value = orjson.dumps(body["event"]["value"])
        else:
            value = message.value
        headers = headers_of(message) + dead_letter_headers(self.plan, source, index, error, reason=reason)
        # Stamped with the time of dead-lettering (the source's timestamp is a header): a replayed old event must
        # not fall to the DLQ's time-based retention at once.
        await self.outputs.write(self.plan.topics.dlq, key=message.key, value=value, headers=headers)
        self.metrics.dlq_events += 1

"""Taking over an idempotency key whose owner stopped: answer with what that owner wrote, write only the rest.

A gateway that crashes after Kafka acknowledged a request's records, but before it stored the response under
the request's `Idempotency-Key`, leaves a claim that lapses with its lease. The retry that takes the key over
learns of the lapsed claims (`idempotency.lapsed`) and, before writing, looks in the stream and its dead-letter
stream for records stamped with their request ids (`gateway.kafka.stamped`), from the first lapsed claim's time
(less a margin for clocks) or the oldest timestamp an event of the request carries, whichever is earlier.

Each record found stands for one event of the request: the event with the same key and value bytes (a retry
carries the same body, which the idempotency layer checked, so the events are rebuilt byte for byte; events
alike in key and value are interchangeable). A request of one event wrote at most one record, whatever bytes
it holds (an API may stamp the time it accepted the event into the value). Those events answer with where
their record is; only the others are written. A search that does not end within the produce timeout answers
504 and leaves the claim to lapse, so the next retry searches again rather than writing a second copy.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence

from starlette.requests import Request

from gateway import errors as ge
from gateway import idempotency
from gateway.context import context
from gateway.dead_letters import DeadLettered, Letter
from gateway.kafka import stamped
from gateway.kafka.producer import Ack
from gateway.kafka.stamped import StampedRecord
from gateway.publishing import Outcome, Submission
from schemas import dead_letters as dl

# Claims are stamped by the idempotency topic's leader, records by the gateway (or the client): look this far
# before the claim, for a gateway clock behind the broker's.
CLOCK_MARGIN_MS = 60_000

Check = Callable[[Submission, int], ge.GatewayError | Letter | None]


class SearchTimeout(ge.OperationTimeout):
    """The search for what a lapsed owner wrote did not end in time; the claim is left to lapse (see module)."""

    leaves_claim = True


async def recovered(
    request: Request, topic: str, submissions: Sequence[Submission], now: int
) -> dict[int, Ack | DeadLettered]:
    """For the submissions (by index) a lapsed owner of this request's key already wrote, where they landed;
    empty unless the request took a key over."""
    lapsed = idempotency.lapsed(request)
    request_ids = {claim.request_id.encode() for claim in lapsed if claim.request_id}
    if not request_ids or not submissions:
        return {}
    ctx = context(request)
    claimed = min(claim.claimed_ms for claim in lapsed)
    since = min(claimed - CLOCK_MARGIN_MS, *(s.record.timestamp_ms for s in submissions))
    wait_s = ctx.settings.produce_timeout_ms / 1000
    try:
        async with asyncio.timeout(wait_s):
            found = await stamped.search(ctx.settings, [topic, dl.dlq_topic(topic)], request_ids, since)
    except TimeoutError as exc:
        raise SearchTimeout(
            f"could not learn within {wait_s:g} s what an earlier attempt of this request wrote; retry later",
            retry_after_s=ctx.settings.retry_after_s,
        ) from exc
    check = await ctx.publisher.checks(topic)
    outcomes = match(topic, submissions, found, check, now)
    ctx.metrics.idempotency_takeovers.labels("found" if outcomes else "none").inc()
    return outcomes


def match(
    topic: str, submissions: Sequence[Submission], found: Sequence[StampedRecord], check: Check, now: int
) -> dict[int, Ack | DeadLettered]:
    """Pair found records with the submissions they stand for (pure; see the module for the rule)."""
    pool: defaultdict[tuple[bytes | None, bytes | None], deque[StampedRecord]] = defaultdict(deque)
    for record in sorted(found, key=lambda r: (r.topic != topic, r.partition, r.offset)):
        pool[(record.key, record.value)].append(record)
    outcomes: dict[int, Ack | DeadLettered] = {}
    for index, submission in enumerate(submissions):
        if len(submissions) == 1:  # a request of one event wrote one record: whatever its value bytes hold
            candidates = next((c for c in pool.values() if c), None)
        else:
            candidates = pool.get((submission.record.key, submission.record.value))
        if not candidates:
            continue
        record = candidates.popleft()
        ack = Ack(record.partition, record.offset, record.timestamp_ms)
        if record.topic == topic:
            outcomes[index] = ack
            continue
        verdict = check(submission, now)
        if isinstance(verdict, Letter):
            outcomes[index] = verdict.landed(record.topic, ack)
        else:  # dead-lettered under a schema since replaced: report what the dead letter says
            version = _header(record, dl.SCHEMA_VERSION, "0")
            reason = _header(record, dl.REASON, dl.REASON_SCHEMA)
            outcomes[index] = DeadLettered(ack, record.topic, reason, int(version) if version.isdigit() else 0, ())
    return outcomes


def _header(record: StampedRecord, name: str, default: str) -> str:
    value = next((v for n, v in record.headers if n == name), None)
    return default if value is None else value.decode(errors="replace")


def merged(found: Mapping[int, Outcome], rest: Sequence[int], sent: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes of a whole request: `found` by index, and `sent` for the indexes in `rest`, in order."""
    outcomes: dict[int, Outcome] = dict(found)
    outcomes.update(zip(rest, sent, strict=True))
    return [outcomes[i] for i in range(len(outcomes))]

"""The hand-written Faust agent that `bench.processor` races a kafkagate processor against.

It does what the processor spec of the benchmark says, the way one would write it by hand: parse each event,
keep those whose `amount` is over 1000, repartition them by `userId` through a topic of its own, count them per
user in one-minute tumbling windows of event time (a windowed table), and send every new count to the sink.
Settings: the kafkagate worker's: `acks=all`, in-memory tables with a changelog, earliest offsets; `--linger-ms`
sets the producer linger (Faust's default is 0; `bench.processor` passes the worker's).

    python -m bench.faust_agent --bootstrap HOST:PORT --app-id ID --source TOPIC --sink TOPIC --partitions N
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from typing import Any

import faust
import orjson

WINDOW_S = 60.0


def build(
    bootstrap: str, app_id: str, source: str, sink: str, *, partitions: int, datadir: str, linger_ms: float = 0.0
) -> faust.App:
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=datadir,
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=linger_ms / 1000,  # Faust's default of 0 sends every record in a produce request of its own
        key_serializer="raw",
        value_serializer="raw",
    )
    by_user = app.topic(f"{app_id}-by-user", partitions=partitions, internal=True)
    out = app.topic(sink)
    counts = app.Table("counts", default=int, partitions=partitions).tumbling(WINDOW_S, expires=2 * WINDOW_S)
    counts = counts.relative_to_stream()

    @app.agent(app.topic(source))
    async def accept(stream: Any) -> None:
        async for value in stream:
            event = orjson.loads(value)
            if event["amount"] > 1000:
                await by_user.send(key=event["userId"].encode(), value=value)

    @app.agent(by_user)
    async def count(stream: Any) -> None:
        async for event in stream.events():
            user: bytes = event.key
            counts[user] += 1
            total = counts[user].current()
            await out.send(key=user, value=orjson.dumps({"userId": user.decode(), "count": total}))

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faust_agent", description=__doc__.splitlines()[0])
    for name in ("--bootstrap", "--app-id", "--source", "--sink"):
        parser.add_argument(name, required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--linger-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-faust-") as datadir:
        app = build(
            args.bootstrap,
            args.app_id,
            args.source,
            args.sink,
            partitions=args.partitions,
            datadir=datadir,
            linger_ms=args.linger_ms,
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        faust.Worker(app, loglevel="WARNING", loop=loop, override_logging=False).execute_from_commandline()


if __name__ == "__main__":
    main()

"""Rows per second the lake sink sustains: `python -m bench.lake_sink [--bootstrap HOST:PORT] [--rows N]`.

Sets up a tenant, a published schema and a dataset through the gateway (in-process), writes `rows` raw events
to the tenant's raw stream with a plain producer, then runs the sink (in-process, its default 10,000-row
micro-batches) on an embedded lake in a temporary directory and times it from its start until every row is
committed to Iceberg. Without `--bootstrap` a throwaway broker is started.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
import uuid6
from aiokafka import AIOKafkaProducer

from bench.broker import given_or_throwaway
from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.settings import Settings
from processors.lake.settings import LakeSettings
from processors.lake.sink import LakeSink

_CLASS = "https://ns.azothedge.com/pdm/class/interaction-event"
_DEFINITION = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "amount": {"type": "number"},
        "quantity": {"type": "integer"},
        "paid": {"type": "boolean"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
    "required": ["order_id"],
}


async def _setup(bootstrap: str, lake: LakeSettings) -> tuple[str, str, str]:
    """(raw topic, schema id, schema uri) of a fresh tenant with a dataset, made through the gateway."""
    settings = Settings(bootstrap_servers=bootstrap, auth="off", lake=lake)
    clients = KafkaClients(settings)
    await clients.start()
    await clients.wait_ready(60)
    app = create_app(settings, kafka=clients)
    slug = f"bench{uuid.uuid4().hex[:8]}"
    uri = f"https://bench.test/schema/{uuid.uuid4().hex}"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            tenant = (await client.post("/v1/tenants", json={"slug": slug, "name": slug})).json()
            client.headers["X-Tenant-ID"] = tenant["id"]
            body = {"uri": uri, "title": "bench", "class_uri": _CLASS, "definition": _DEFINITION}
            schema = (await client.post("/v1/schemas", json=body)).json()
            await client.patch(f"/v1/schemas/{schema['id']}", json={"status": "published"})
            made = await client.post("/v1/datasets", json={"slug": "orders", "name": "orders", "schema_uri": uri})
            if made.status_code != 201:
                raise SystemExit(f"could not create the dataset: {made.text}")
    finally:
        await app.state.lake.close()
        await clients.close()
    return f"_t.{slug}.events.raw", schema["id"], uri


async def _produce(bootstrap: str, topic: str, schema_id: str, uri: str, rows: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        pending = []
        for i in range(rows):
            event_id = str(uuid6.uuid7())  # as the gateway makes them: time-ordered
            value = {
                "event_id": event_id,
                "schema_id": schema_id,
                "schema_uri": uri,
                "timestamp": f"2026-05-{1 + i % 28:02d}T12:00:00Z",
                "received_at": "2026-05-29T12:00:00Z",
                "payload": {"order_id": f"o-{i}", "amount": i * 0.5, "quantity": i, "paid": i % 2 == 0},
            }
            pending.append(await producer.send(topic, orjson.dumps(value), key=event_id.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _measure(bootstrap: str, rows: int, directory: Path) -> None:
    lake = LakeSettings(
        catalog_uri=f"sqlite:///{directory / 'catalog.db'}",
        warehouse=f"file://{directory / 'warehouse'}",
        sink_group=f"bench-{uuid.uuid4().hex[:8]}",
    )
    topic, schema_id, uri = await _setup(bootstrap, lake)
    await _produce(bootstrap, topic, schema_id, uri, rows)
    sink = LakeSink(bootstrap, lake.model_copy(update={"sink_tenants": topic.split(".")[1]}))
    task = asyncio.create_task(sink.run())
    # Timed over full micro-batches: the last, partial one would wait for the 30 s flush interval.
    full = rows - lake.flush_rows
    while sink.rows_committed < full and not task.done():  # noqa: ASYNC110 - polling the sink's counter is the point
        await asyncio.sleep(0.05)
    finished, timed = time.monotonic(), sink.rows_committed
    # Stopping commits what it has read; rows it had not read yet stay in Kafka, uncommitted, for the next run.
    sink.request_stop()
    await task
    assert sink.first_read_at is not None  # noqa: S101 - it committed rows, so it read them
    elapsed = finished - sink.first_read_at
    rate = timed / elapsed
    print(f"lake sink: {timed:,} rows in {elapsed:.1f} s (first read to commit) = {rate:,.0f} rows/s")
    print(f"  (embedded lake: SQLite catalog, local Parquet; {lake.flush_rows:,}-row micro-batches, dedupe on)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lake_sink", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="an existing broker (default: start a throwaway one)")
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="kafkagate-lake-bench-") as tmp,
        given_or_throwaway(args.bootstrap, Path(tmp)) as bootstrap,
    ):
        asyncio.run(_measure(bootstrap, args.rows, Path(tmp)))


if __name__ == "__main__":
    main()

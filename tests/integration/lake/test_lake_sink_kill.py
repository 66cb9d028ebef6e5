"""Exactly once across a crash: the sink (its real process, `python -m processors.lake.sink`) SIGKILLs itself
at a fault point just before or just after an Iceberg commit; after a restart every collected event is in the
table exactly once, counted by event_id with DuckDB's own Iceberg reader."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from processors.lake.settings import LakeSettings
from tests.integration.lake.conftest import DuckReader, new_lake_tenant, order, published_dataset, wait_for_rows

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]


def start_sink(bootstrap: str, settings: LakeSettings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")}
    env.update(
        {
            "KAFKAGATE_LAKE_CATALOG_URI": settings.catalog_uri,
            "KAFKAGATE_LAKE_WAREHOUSE": settings.warehouse,
            "KAFKAGATE_LAKE_SINK_GROUP": settings.sink_group,
            "KAFKAGATE_LAKE_SINK_TENANTS": settings.sink_tenants,
            "KAFKAGATE_LAKE_FLUSH_INTERVAL_S": "0.5",
            "KAFKAGATE_LAKE_FLUSH_ROWS": "30",
            **extra,
        }
    )
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - this interpreter, fixed argv
            [sys.executable, "-m", "processors.lake.sink", "--bootstrap", bootstrap],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def collect(client: httpx.AsyncClient, schema_id: str, ids: range) -> None:
    for start in range(ids.start, ids.stop, 25):
        batch = [order(f"o-{i}", schema_id=schema_id) | {"event_id": f"evt-{i:05d}"} for i in range(start, start + 25)]
        responses = await asyncio.gather(*(client.post("/v1/collect", json=body) for body in batch))
        assert all(r.status_code == 202 for r in responses), [r.text for r in responses if r.status_code != 202]


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
async def test_a_sink_killed_at_a_commit_loses_and_doubles_nothing(  # noqa: PLR0917 - fixtures arrive as arguments
    point: str,
    lake_gateway: httpx.AsyncClient,
    lake_settings: LakeSettings,
    tenant_prefix: str,
    kafka_bootstrap: str,
    duck_reader: DuckReader,
    tmp_path: Path,
) -> None:
    _, client = await new_lake_tenant(lake_gateway, tenant_prefix)
    schema = await published_dataset(client, "orders")
    dataset = (await client.get("/v1/datasets/orders")).json()
    await collect(client, schema["id"], range(100))
    log, marker = tmp_path / "sink.log", tmp_path / "fault-marker"
    fault = {"KAFKAGATE_LAKE_FAULT_POINT": point, "KAFKAGATE_LAKE_FAULT_MARKER": str(marker)}
    sink = start_sink(kafka_bootstrap, lake_settings, log, **fault)
    try:
        for _ in range(600):
            if sink.poll() is not None:
                break
            await asyncio.sleep(0.1)
        assert sink.returncode == -9, log.read_text()[-3000:]
        assert marker.exists()
        # The restarted sink (the fault already fired once) picks up where the lake, not the group, says.
        sink = start_sink(kafka_bootstrap, lake_settings, log, **fault)
        await collect(client, schema["id"], range(100, 125))
        await wait_for_rows(client, "orders", 125, timeout_s=60)
        await asyncio.sleep(1.5)  # a duplicate committed late would show now
        ids = [r["event_id"] for r in await duck_reader(dataset["iceberg_namespace"], "orders")]
        assert len(ids) == 125, log.read_text()[-3000:]
        assert sorted(ids) == [f"evt-{i:05d}" for i in range(125)]
    finally:
        if sink.poll() is None:
            sink.terminate()
            sink.wait(30)

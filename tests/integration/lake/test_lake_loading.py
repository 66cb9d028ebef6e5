"""`kafkagate serve` loads the lake stack on the first lake call, not before: after streams, produce, consume
and processors on a real broker, the process maps no compiled module of sqlalchemy, duckdb or pyarrow; creating a
lake tenant (which creates its Iceberg namespace through pyiceberg's SQL catalog) maps sqlalchemy's. Read from
/proc/<pid>/maps, which shows compiled modules only: pyiceberg's own are first used by reads and appends, so
`tests/unit/gateway/test_app_imports.py` checks it (by `sys.modules`) in a process of its own."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.serving import served_gateway, wait_ready

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# A path fragment of a compiled module each package loads with its first import.
MARKERS = {
    "sqlalchemy": "/sqlalchemy/",
    "duckdb": "/_duckdb.",
    "pyarrow": "/pyarrow/",
}


def mapped(process: subprocess.Popen[bytes]) -> set[str]:
    maps = Path(f"/proc/{process.pid}/maps").read_text()
    return {name for name, marker in MARKERS.items() if marker in maps}


async def test_the_lake_stack_is_loaded_by_the_first_lake_call(kafka_bootstrap: str, tmp_path: Path) -> None:
    stream = f"lazy-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "gateway.log"
    env = {
        "KAFKAGATE_LAKE_CATALOG_URI": f"sqlite:///{tmp_path / 'catalog.db'}",
        "KAFKAGATE_LAKE_WAREHOUSE": f"file://{tmp_path / 'warehouse'}",
    }
    with served_gateway(kafka_bootstrap, log_path, env) as (process, base_url):
        await wait_ready(process, base_url, log_path)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            created = await client.post("/api/v1/streams", json={"name": stream, "partitions": 1})
            assert created.status_code == 201, created.text
            events = f"/api/v1/streams/{stream}/events"
            produced = await client.post(events, json={"key": "k", "value": {"n": 1}})
            assert produced.status_code == 201, produced.text
            params = {"consumerGroup": f"g-{stream}", "offset": "earliest", "timeout": 5000}
            consumed = await client.get(events, params=params)
            assert consumed.status_code == 200, consumed.text
            assert [event["value"] for event in consumed.json()["events"]] == [{"n": 1}]
            assert (await client.get("/api/v1/processors")).status_code == 200
            assert mapped(process) == set()

            slug = f"lazy{uuid.uuid4().hex[:8]}"
            tenant = await client.post("/v1/tenants", json={"slug": slug, "name": "Lazy"})
            assert tenant.status_code == 201, tenant.text
            assert mapped(process) == {"sqlalchemy"}

"""Seed 002's quick start, pasted with only the base URL (and the credentials it leaves to the reader) changed,
run with curl against a real `kafkagate serve` and a real view host. The one step that must differ is the view:
the document uploads a WebAssembly counter, which is refused with 415 saying what to send; the CEL counter that
replaces it is then deployed the same way."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from processors.supervisor import Supervisor
from tests.integration.principals import new_key, new_tenant
from tests.integration.serving import served_gateway, wait_ready
from tests.integration.test_logs import views

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
__all__ = ["views"]

ROOT = "walkthrough-root-" + "w" * 32
COUNTER = '{"initial": {"count": 0}, "apply": "{\'count\': state.count + 1}"}'

# Each step as the document has it; `$BASE` stands where https://api.primatomic.com stood.
AUTHENTICATE = """curl -X POST $BASE/auth/token \\
  -H "Content-Type: application/json" \\
  -d '{"api_key": "'"$API_KEY"'"}'"""
CREATE_LOG = """curl -X POST $BASE/logs/my-events \\
  -H "Authorization: Bearer $TOKEN\""""
APPEND = """curl -X POST $BASE/logs/$LOG_ID/append \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/octet-stream" \\
  -d '{"type":"user_signup","user_id":"123"}'"""
DEPLOY_WASM = """curl -X POST $BASE/logs/$LOG_ID/views/counter \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/octet-stream" \\
  --data-binary @counter.wasm"""
DEPLOY_CEL = """curl -X POST $BASE/logs/$LOG_ID/views/counter \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/json" \\
  --data-binary @counter.json"""
STATS = """curl $BASE/logs/$LOG_ID/views/counter/stats \\
  -H "Authorization: Bearer $TOKEN\""""
QUERY = """curl -s -X POST "$BASE/logs/$LOG_ID/views/counter/query?after=1" \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/octet-stream" \\
  --data-binary \"\""""


async def curl(command: str, folder: Path, **env: str) -> tuple[int, Any]:
    """Run `command` in bash; (HTTP status, parsed body)."""
    written = f"{command} -s -o body.out -w '%{{http_code}}'"
    result = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", written],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body = await asyncio.to_thread((folder / "body.out").read_bytes)
    return int(result.stdout), orjson.loads(body)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough is curl commands (.ci/run installs curl)")
async def test_the_documents_walkthrough_with_a_cel_counter(
    kafka_bootstrap: str, tmp_path: Path, views: Supervisor
) -> None:
    log = tmp_path / "gateway.log"
    env = {"KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": ROOT}
    await asyncio.to_thread((tmp_path / "counter.wasm").write_bytes, b"\0asm\x01\0\0\0")
    await asyncio.to_thread((tmp_path / "counter.json").write_text, COUNTER)
    with served_gateway(kafka_bootstrap, log, env) as (process, base):
        await wait_ready(process, base, log)
        async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {ROOT}"}) as root:
            # A tenant of its own: log names are unique per tenant, and the document's is always `my-events`.
            tenant = await new_tenant(root)
            key = await new_key(root, tenant=tenant["slug"])
        status, token = await curl(AUTHENTICATE, tmp_path, BASE=base, API_KEY=key["token"])
        assert status == 200
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        shell = {"BASE": base, "TOKEN": token["access_token"]}
        status, created = await curl(CREATE_LOG, tmp_path, **shell)
        assert status == 200
        assert created["success"] is True
        shell["LOG_ID"] = created["log_id"]
        status, appended = await curl(APPEND, tmp_path, **shell)
        assert (status, appended) == (200, {"success": True, "sequence": 1})
        status, refused = await curl(DEPLOY_WASM, tmp_path, **shell)
        assert status == 415
        assert refused["success"] is False
        assert "application/json" in refused["error"]["message"]
        status, deployed = await curl(DEPLOY_CEL, tmp_path, **shell)
        assert (status, deployed) == (200, {"success": True})
        for _ in range(120):
            status, stats = await curl(STATS, tmp_path, **shell)
            assert status == 200
            if stats["leader_status"] == "ready":
                break
            assert stats["leader_status"] is None
            await asyncio.sleep(0.5)
        assert stats["view_name"] == "counter"
        assert stats["log_name"] == "my-events"
        assert stats["leader_node_id"]
        assert isinstance(stats["created_at"], int)
        status, answer = await curl(QUERY, tmp_path, **shell)
        assert (status, answer) == (200, {"count": 1})
        async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {ROOT}"}) as root:
            assert (await root.delete(f"/logs/{created['log_id']}")).status_code == 200

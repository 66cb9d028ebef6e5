"""`kafkagate serve` as a process: it refuses to start without a strong root token, says loudly when it runs
open, and with auth required answers 401 without a token and 200 with one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.serving import served_gateway, tail, wait_ready

pytestmark = pytest.mark.kafka
KAFKAGATE = str(Path(sys.executable).with_name("kafkagate"))


@pytest.mark.parametrize("token", [None, "short"])
def test_a_gateway_requiring_auth_does_not_start_without_a_strong_root_token(token: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")} | {"KAFKAGATE_AUTH": "required"}
    if token is not None:
        env["KAFKAGATE_ADMIN_TOKEN"] = token
    result = subprocess.run(  # noqa: S603 - the installed console script, fixed argv
        [KAFKAGATE, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "KAFKAGATE_ADMIN_TOKEN" in result.stderr
    assert token is None or token not in result.stderr


async def test_an_open_gateway_says_so_at_startup(kafka_bootstrap: str, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    with served_gateway(kafka_bootstrap, log, {}) as (process, base_url):
        await wait_ready(process, base_url, log)
        assert "THIS GATEWAY IS OPEN" in tail(log)


async def test_a_locked_gateway_wants_a_bearer_token(kafka_bootstrap: str, tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    root = "r" * 40
    with served_gateway(kafka_bootstrap, log, {"KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": root}) as (
        process,
        base_url,
    ):
        await wait_ready(process, base_url, log)
        assert "THIS GATEWAY IS OPEN" not in tail(log)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            assert (await client.get("/api/v1/streams")).status_code == 401
            allowed = await client.get("/api/v1/streams", headers={"authorization": f"Bearer {root}"})
            assert allowed.status_code == 200

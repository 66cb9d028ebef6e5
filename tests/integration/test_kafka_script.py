"""`scripts/kafka.py` as a new machine runs it: install into an empty cache, then `up` prints only the address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import launcher

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_install_into_an_empty_cache_then_up_prints_exactly_the_bootstrap(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_HOME"} | {"KAFKAGATE_CACHE_DIR": str(cache)}
    install = subprocess.run(  # noqa: S603 - our own script, fixed argv
        [sys.executable, str(launcher.KAFKA_SCRIPT), "install"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=800,
    )
    assert install.returncode == 0, install.stderr
    libs = Path(install.stdout.removesuffix("\n"))
    assert install.stdout == f"{libs}\n", f"install printed more than the libs dir: {install.stdout!r}"
    assert libs.is_relative_to(cache)
    assert any(libs.glob("kafka_2.13-*.jar"))

    data_dir = tmp_path / "broker"
    port = launcher.free_port()
    try:
        up = subprocess.run(  # noqa: S603 - our own script, fixed argv
            launcher.up_argv(data_dir, port, launcher.free_port(), timeout_s=90),
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert up.returncode == 0, up.stderr
        assert up.stdout == f"127.0.0.1:{port}\n", f"stdout must be the address alone: {up.stdout!r}"
        assert launcher.parse_bootstrap(up.stdout) == f"127.0.0.1:{port}"
    finally:
        subprocess.run(launcher.down_argv(data_dir), env=env, check=False, timeout=60)  # noqa: S603

"""The lake sink as a service the supervisor keeps alive (`processors.kept_process`)."""

from __future__ import annotations

import sys
from pathlib import Path

from processors.kept_process import KeptProcess

__all__ = ["lake_sink"]


def lake_sink(bootstrap: str, data_dir: Path) -> KeptProcess:
    """The lake sink as the supervisor runs it (settings from the `KAFKAGATE_LAKE_*` environment)."""
    argv = [sys.executable, "-m", "processors.lake.sink", "--bootstrap", bootstrap]
    return KeptProcess("lake sink", argv, data_dir / "lake-sink.log")

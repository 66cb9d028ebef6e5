"""The view host (`processors.views.host`) as a service the supervisor keeps alive beside the processor workers."""

from __future__ import annotations

import sys
from pathlib import Path

from processors.kept_process import KeptProcess


def view_host(bootstrap: str, data_dir: Path) -> KeptProcess:
    """One view host process; its log goes to `data_dir/view-host.log`."""
    argv = [sys.executable, "-m", "processors.views.host", "--bootstrap", bootstrap]
    return KeptProcess("view host", argv, data_dir / "view-host.log")

"""Free loopback ports, picked by the kernel."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago; another process could still take it before we bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

"""The `kafkagate` command line's client commands (streams, produce, tail, groups, processors, keys, tenants).

`gateway.cli.main` hands any command line naming one of `COMMANDS` to `run`; `serve` and `worker` stay there.
This module imports nothing until a command runs, so `kafkagate serve` pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Sequence

COMMANDS = frozenset({"streams", "produce", "tail", "groups", "processors", "keys", "tenants", "auth", "status"})
# Options of the root group that take a value, so `kafkagate --url URL streams list` is recognised as ours.
_VALUE_OPTIONS = frozenset({"--url", "--token", "--output", "-o", "--timeout"})
_HELP = frozenset({"--help", "-h", "--version"})


def handles(argv: Sequence[str]) -> bool:
    """Whether `argv` (without the program name) is a client command, or the top-level help."""
    if not argv:
        return True
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in _HELP:
            return True
        if token in _VALUE_OPTIONS:
            index += 2
            continue
        if token.startswith("--") and "=" in token and token.split("=", 1)[0] in _VALUE_OPTIONS:
            index += 1
            continue
        return token in COMMANDS
    return False


def run(argv: Sequence[str]) -> int:
    """Run one command line; the exit code (`kafkagate.cli.exit_codes`)."""
    from kafkagate.cli.app import run as run_app

    return run_app(list(argv))

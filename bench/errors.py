"""The one error the bench raises for a failed run: it is printed without a traceback."""

from __future__ import annotations


class BenchError(Exception):
    """The environment or a service under test failed; the message says which and where its log is."""

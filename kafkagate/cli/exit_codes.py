"""Exit codes scripts can rely on.

0    success (`tail` and `--watch` stopped with Ctrl-C also exit 0)
1    the gateway refused the request (any error not listed below), or an unexpected failure
2    usage: unknown command or option, missing argument, unreadable input file
3    authentication or authorization: 401 UNAUTHORIZED, 403 FORBIDDEN
4    not found: 404 (STREAM_NOT_FOUND, CONSUMER_GROUP_NOT_FOUND, PROCESSOR_NOT_FOUND, ...)
5    conflict: 409 (STREAM_ALREADY_EXISTS, CONSUMER_GROUP_ACTIVE, ...)
6    partly done: `produce` finished but some events failed or some input lines were not JSON
7    the gateway could not be reached, or kept answering 429/503 until retries ran out
130  interrupted (Ctrl-C) during a command that is not meant to be stopped that way
"""

from __future__ import annotations

from kafkagate.client.errors import ApiError, KafkagateError, TransportError

OK = 0
FAILED = 1
USAGE = 2
AUTH = 3
NOT_FOUND = 4
CONFLICT = 5
PARTIAL = 6
UNREACHABLE = 7
INTERRUPTED = 130


def for_error(error: KafkagateError) -> int:
    if isinstance(error, TransportError):
        return UNREACHABLE
    if isinstance(error, ApiError):
        status = error.status_code
        if status in {401, 403}:
            return AUTH
        if status == 404:
            return NOT_FOUND
        if status == 409:
            return CONFLICT
        if status in {429, 503}:
            return UNREACHABLE
    return FAILED

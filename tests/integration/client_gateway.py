"""A real `kafkagate serve` (auth required) for the client and command-line tests, and a transport that tampers
with what the client sees (never with what the gateway receives)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.integration.serving import served_gateway, wait_ready

ROOT_TOKEN = "kg_client_root_" + "c" * 40


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def gateway_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    env = {"KAFKAGATE_AUTH": "required", "KAFKAGATE_ADMIN_TOKEN": ROOT_TOKEN, "KAFKAGATE_ACCESS_LOG": "false"}
    with served_gateway(kafka_bootstrap, log, env) as (process, url):
        await wait_ready(process, url, log)
        yield url


class Recording(httpx.BaseTransport):
    """The real network transport, recording every request and response; `lose` decides, per request, whether the
    response is thrown away after the gateway produced it (the client then sees a read timeout)."""

    def __init__(self, lose: Callable[[httpx.Request], bool] = lambda _: False) -> None:
        self._inner = httpx.HTTPTransport()
        self._lose = lose
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        if self._lose(request):
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return response

    def close(self) -> None:
        self._inner.close()

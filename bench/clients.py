"""HTTP clients that drive the gateway: a small port with an httpx and an aiohttp implementation.

The client runs on the same two cores as the gateway and the broker, so its own cost per request is part of
every gateway number. httpx's shared connection pool gets much slower as concurrent requests grow (encode/httpx
#3215): 32 concurrent requests through one `AsyncClient` reach only a few hundred requests per second even on
`/healthz`. The httpx client here therefore gives every in-flight request its own single-connection client (a
"lane"). aiohttp (installed with faust-streaming) costs less per request still, and shows how much of the gap to
raw aiokafka is the gateway's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import httpx

from bench.errors import BenchError

CLIENT_NAMES = ("httpx", "aiohttp")
_JSON = {"content-type": "application/json"}
_TIMEOUT_S = 60.0


class Reply(NamedTuple):
    status: int
    content: bytes


class GatewayClient(Protocol):
    name: str

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply: ...

    async def aclose(self) -> None: ...


class HttpxClient:
    """`lanes` single-connection keep-alive clients; a request takes a free one and gives it back."""

    name = "httpx"

    def __init__(self, base_url: str, lanes: int):
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._clients = [httpx.AsyncClient(base_url=base_url, limits=limits, timeout=_TIMEOUT_S) for _ in range(lanes)]
        self._free = list(self._clients)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        if not self._free:
            raise BenchError("more concurrent requests than httpx lanes")
        client = self._free.pop()
        try:
            sent = {**(_JSON if body is not None else {}), **(headers or {})}
            response = await client.request(method, path, content=body, params=params, headers=sent)
        finally:
            self._free.append(client)
        return Reply(response.status_code, response.content)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


class AiohttpClient:
    """One `aiohttp.ClientSession` with up to `lanes` keep-alive connections."""

    name = "aiohttp"

    def __init__(self, base_url: str, lanes: int):
        import aiohttp

        self._session = aiohttp.ClientSession(
            base_url,
            connector=aiohttp.TCPConnector(limit=lanes),
            timeout=aiohttp.ClientTimeout(total=_TIMEOUT_S),
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        options: dict[str, Any] = {
            "params": params,
            "headers": {**(_JSON if body is not None else {}), **(headers or {})},
        }
        if body is not None:
            options.update(data=body)
        async with self._session.request(method, path, **options) as response:
            return Reply(response.status, await response.read())

    async def aclose(self) -> None:
        await self._session.close()


def open_client(name: str, base_url: str, lanes: int) -> GatewayClient:
    """Call inside the running event loop: aiohttp binds its session to the loop that creates it."""
    if name == "httpx":
        return HttpxClient(base_url, lanes)
    if name == "aiohttp":
        try:
            return AiohttpClient(base_url, lanes)
        except ImportError as exc:
            raise BenchError("aiohttp is not installed; use --clients httpx") from exc
    raise BenchError(f"unknown HTTP client {name!r}; choose from {', '.join(CLIENT_NAMES)}")

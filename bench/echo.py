"""The HTTP ceiling: a bare Starlette app under the gateway's own uvicorn settings that parses a JSON body and
answers with a small JSON document, as a produce request would, but without Kafka behind it.

    python -m bench.echo PORT
"""

from __future__ import annotations

import sys

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http_protocol import bounded_head_protocol
from gateway.settings import Settings

_JSON = "application/json"


async def _event(request: Request) -> Response:
    event = orjson.loads(await request.body())
    reply = {"stream": request.path_params["stream"], "partition": 0, "offset": 0, "key": event.get("key")}
    return Response(orjson.dumps(reply), status_code=201, media_type=_JSON)


async def _batch(request: Request) -> Response:
    events = orjson.loads(await request.body())["events"]
    reply = {"results": [{"partition": 0, "offset": i} for i in range(len(events))]}
    return Response(orjson.dumps(reply), media_type=_JSON)


async def _ready(request: Request) -> Response:
    return Response(b'{"status":"ready"}', media_type=_JSON)


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/api/v1/streams/{stream}/events", _event, methods=["POST"]),
            Route("/api/v1/streams/{stream}/events/batch", _batch, methods=["POST"]),
            Route("/readyz", _ready),
        ]
    )


def main(port: int) -> None:
    """uvicorn configured as `gateway.server.run` configures it: uvloop, httptools with bounded heads, no access log."""
    settings = Settings(auth="off")
    config = uvicorn.Config(
        app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.http_keep_alive_s,
        loop="uvloop",
        http=bounded_head_protocol(settings.header_read_timeout_s),
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""The HTTP server of `kafkagate serve`: uvicorn, with a drain on SIGTERM that fits in `shutdown_grace_s`.

On SIGTERM (or Ctrl-C) the server stops accepting connections and closes idle keep-alive ones; the app is told
to drain (long polls answer now); requests in flight get `shutdown_requests_s` to finish, and are cancelled
after that; then the lifespan closes the Kafka clients within `shutdown_close_s` (producers flushed, consumer
members leave their groups). The process exits 0.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from gateway.context import GatewayContext
from gateway.http_protocol import bounded_head_protocol
from gateway.settings import Settings
from processors import gc_tuning

STARTUP_FAILURE = 3


class GatewayServer(uvicorn.Server):
    """uvicorn's server, telling the app to drain once it has stopped accepting connections."""

    def __init__(self, config: uvicorn.Config, on_drain: Callable[[], None]):
        super().__init__(config)
        self._on_drain = on_drain

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # the app's lifespan has started its Kafka clients by now
        gc_tuning.settle()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_drain()
        await super().shutdown(sockets)


def _stop_on_sigterm(server: uvicorn.Server) -> None:
    # uvicorn puts back the handler it found once it has shut down gracefully, and raises the signal again for
    # it. With the default handler, a gateway that drained cleanly would then die by SIGTERM instead of exiting
    # 0. This handler only asks the server to stop, which also covers a SIGTERM before uvicorn installs its own.
    def stop(_signal: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)


def run(app: Starlette, settings: Settings) -> None:
    """Serve `app` (built by `create_app`) until SIGTERM or SIGINT, then drain it and return."""
    context: GatewayContext = app.state.gateway
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        # uvicorn's loggers propagate to the root handler `gateway.log_format` set up, in its format; the
        # gateway writes its own access lines (`gateway.telemetry`), with the route template and request id.
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.http_keep_alive_s,
        timeout_graceful_shutdown=settings.shutdown_requests_s,
        loop="uvloop",
        http=bounded_head_protocol(settings.header_read_timeout_s),  # httptools, with a bound on request heads
    )
    server = GatewayServer(config, on_drain=context.kafka.drain)
    _stop_on_sigterm(server)
    server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)  # as `uvicorn.run` does: the port was taken, or the lifespan failed

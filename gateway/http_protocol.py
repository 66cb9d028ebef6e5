"""The HTTP/1.1 protocol `kafkagate serve` runs: uvicorn's httptools protocol with a bound on the request head.

uvicorn times out idle keep-alive connections only after a response, and cancels even that timer when a byte
arrives: a connection that sends nothing, or a request line and then a header every few seconds, is held open
for ever (slowloris). Here each request head (request line and headers) must be complete within
`head_timeout_s` of the connection opening or of its first byte, else the connection is closed. There is no
request yet, so nothing to answer; the body has its own bound (`body_read_timeout_s`, a 408).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BoundedHeadProtocol(HttpToolsProtocol):
    head_timeout_s: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:  # the head's clock starts once: its first byte does not reset it
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def bounded_head_protocol(head_timeout_s: float) -> type[BoundedHeadProtocol]:
    """The protocol class for uvicorn's `http=`, with the given bound (uvicorn instantiates it per connection)."""
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), {"head_timeout_s": head_timeout_s})

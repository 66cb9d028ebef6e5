"""The gateway's Kafka connections and their lifecycle.

The gateway starts whether or not Kafka is up. A background task connects (and keeps retrying with backoff);
until it has, requests that need Kafka get 503 with `Retry-After` and `/readyz` says not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.errors import BrokerUnavailable
from gateway.kafka.admin import StreamAdmin
from gateway.kafka.groups import GroupAdmin
from gateway.kafka.idempotency_log import IdempotencyLog
from gateway.kafka.producer import EventProducer, ProducerPool
from gateway.kafka.registry import ProcessorRegistry
from gateway.kafka.sessions import SessionManager
from gateway.settings import Settings

log = logging.getLogger(__name__)


class KafkaClients:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pool = ProducerPool(settings)
        self.producer = EventProducer(self.pool, settings)
        self.admin = StreamAdmin(settings)
        self.groups = GroupAdmin(settings, self.admin)
        self.sessions = SessionManager(settings)
        # Started lazily by its first use, which needs admin and producer connected anyway.
        self.processors = ProcessorRegistry(settings, self.admin, self.producer)
        self.idempotency = IdempotencyLog(settings, self.admin)
        self._connector: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.pool.ready and self.admin.connected

    def require_ready(self) -> None:
        if not self.ready:
            raise BrokerUnavailable(
                f"not connected to Kafka at {self.settings.bootstrap_servers} yet",
                retry_after_s=self.settings.retry_after_s,
            )

    async def start(self) -> None:
        self.sessions.start()
        self._connector = asyncio.create_task(self._connect_forever(), name="kafkagate-connect")

    async def _connect_forever(self) -> None:
        backoff_s = self.settings.connect_retry_backoff_ms / 1000
        while True:
            try:
                if not self.admin.connected:
                    await self.admin.start()
                await self.pool.get()
            except Exception as exc:  # noqa: BLE001 - any failure means "retry later"
                log.warning("Kafka at %s not reachable yet: %r", self.settings.bootstrap_servers, exc)
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, 10.0)
                continue
            log.info("connected to Kafka at %s", self.settings.bootstrap_servers)
            self._connected.set()
            # Keep watching: a producer discarded after a fatal error is rebuilt here too.
            backoff_s = self.settings.connect_retry_backoff_ms / 1000
            await self.pool.broken.wait()
            self._connected.clear()

    async def wait_ready(self, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()

    async def close(self) -> None:
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        await self.sessions.close_all()
        await self.processors.close()
        await self.idempotency.close()
        await self.groups.close()
        await self.pool.close()
        await self.admin.close()

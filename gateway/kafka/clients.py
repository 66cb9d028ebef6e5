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
from gateway.kafka.table import ReplicatedTable
from gateway.settings import Settings
from schemas.keys import KEYS_TOPIC, Stored, decode_stored
from schemas.logs import LOGS_TOPIC, VIEW_STATE_TOPIC, Registered, ViewState, decode_registered, decode_view_state
from schemas.processor_state import STATE_TOPIC, Published, decode_published
from schemas.stream_schemas import SCHEMAS_TOPIC, StreamSchemaRecord, decode_stream_schema
from schemas.tenants import TENANTS_TOPIC, TenantRecord, decode_tenant

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
        self.keys: ReplicatedTable[Stored] = ReplicatedTable(
            settings, self.admin, self.producer, KEYS_TOPIC, decode_stored
        )
        self.tenants: ReplicatedTable[TenantRecord] = ReplicatedTable(
            settings, self.admin, self.producer, TENANTS_TOPIC, decode_tenant
        )
        self.schemas: ReplicatedTable[StreamSchemaRecord] = ReplicatedTable(
            settings, self.admin, self.producer, SCHEMAS_TOPIC, decode_stream_schema
        )
        # Seed 002's event logs: the registry of logs and views, and the states view hosts publish.
        self.logs: ReplicatedTable[Registered] = ReplicatedTable(
            settings, self.admin, self.producer, LOGS_TOPIC, decode_registered
        )
        self.view_states: ReplicatedTable[ViewState] = ReplicatedTable(
            settings, self.admin, self.producer, VIEW_STATE_TOPIC, decode_view_state
        )
        # What processor workers publish about their aggregates (GET /api/v1/processors/{id}/state).
        self.processor_state: ReplicatedTable[Published] = ReplicatedTable(
            settings, self.admin, self.producer, STATE_TOPIC, decode_published
        )
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

    def drain(self) -> None:
        """The gateway stopped accepting connections: answer long polls now rather than at their timeout."""
        self.sessions.drain()

    async def close(self) -> None:
        """Flush and stop the producers and leave every consumer group, then close the rest, all within
        `shutdown_close_s`: the process is about to exit, so a step still running then is abandoned (logged)
        rather than allowed to hold the exit past the shutdown grace."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        budget_s = self.settings.shutdown_close_s
        try:
            async with asyncio.timeout(budget_s):
                # Independent: a slow LeaveGroup must not hold back the flush of records already sent.
                flushed, left = await asyncio.gather(
                    self.pool.close(), self.sessions.close_all(), return_exceptions=True
                )
                for step, outcome in (("flushing producers", flushed), ("leaving consumer groups", left)):
                    if isinstance(outcome, Exception):
                        log.warning("%s failed on shutdown: %r", step, outcome)
                await self.processors.close()
                await self.keys.close()
                await self.tenants.close()
                await self.schemas.close()
                await self.logs.close()
                await self.view_states.close()
                await self.processor_state.close()
                await self.idempotency.close()
                await self.groups.close()
                await self.admin.close()
        except TimeoutError:
            log.warning("closing Kafka clients took longer than %.1f s; abandoning the rest", budget_s)

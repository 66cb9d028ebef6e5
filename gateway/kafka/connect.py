"""How the gateway's aiokafka clients connect: one place for the arguments they all share."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer

from gateway.settings import Settings


def client_args(settings: Settings, role: str) -> dict[str, Any]:
    """Bootstrap servers, a client id naming the client's `role`, and the request and metadata timings."""
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": f"{settings.client_id}-{role}",
        "request_timeout_ms": settings.admin_request_timeout_ms,
        "metadata_max_age_ms": settings.metadata_max_age_ms,
    }


def consumer(settings: Settings, role: str, **options: Any) -> AIOKafkaConsumer:
    """A consumer that never commits on its own; `options` are the role's own aiokafka arguments."""
    return AIOKafkaConsumer(**client_args(settings, role), enable_auto_commit=False, **options)

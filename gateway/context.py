"""What a route handler needs from the app: settings and Kafka clients, reached through `request.app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from gateway.kafka.clients import KafkaClients
from gateway.keys import KeyStore
from gateway.metrics import GatewayMetrics
from gateway.publishing import Publisher
from gateway.settings import Settings
from gateway.tenants import TenantStore


@dataclass(slots=True, frozen=True)
class GatewayContext:
    settings: Settings
    kafka: KafkaClients
    keys: KeyStore
    tenants: TenantStore
    publisher: Publisher
    metrics: GatewayMetrics


def context(request: Request) -> GatewayContext:
    ctx: GatewayContext = request.app.state.gateway
    return ctx


def request_id(request: Request) -> str:
    rid: str = request.scope["state"]["request_id"]
    return rid

"""A typed Python client for kafkagate's native API (`/api/v1`), blocking (`Client`) and asyncio (`AsyncClient`).

Both cover every route, retry what is safe to retry (with one `Idempotency-Key` per logical request, so a retry
never writes twice), honour `Retry-After` on 429 and 503, and raise `ApiError` subclasses carrying the gateway's
problem+json (`code`, `error`, `request_id`). `client.producer(stream)` batches; `client.consumer(stream, group)`
iterates at least once. Configuration: arguments, else `KAFKAGATE_URL` and `KAFKAGATE_TOKEN`.
"""

from kafkagate.client.async_client import AsyncClient
from kafkagate.client.batching import BatchOutcome, ProduceStats
from kafkagate.client.consumer import AsyncConsumer, Consumer
from kafkagate.client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    GatewayTimeout,
    KafkagateError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from kafkagate.client.producer import AsyncProducer, Producer
from kafkagate.client.retrying import NO_RETRIES, RetryPolicy
from kafkagate.client.sync_client import Client

__all__ = [
    "NO_RETRIES",
    "ApiError",
    "AsyncClient",
    "AsyncConsumer",
    "AsyncProducer",
    "BadRequest",
    "BatchOutcome",
    "Client",
    "Conflict",
    "Consumer",
    "Forbidden",
    "GatewayTimeout",
    "KafkagateError",
    "NotFound",
    "PayloadTooLarge",
    "ProduceStats",
    "Producer",
    "RateLimited",
    "RequestTimeout",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
    "ValidationFailed",
]

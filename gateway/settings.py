"""Typed gateway settings, read once from `KAFKAGATE_*` environment variables and validated at startup."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.errors import InvalidStreamName
from gateway.names import validate_stream_name
from processors.lake.settings import LakeSettings

MIN_SECRET_CHARS = 32
Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]


class Settings(BaseSettings):
    """Every knob of the gateway. Invalid values stop startup with a message naming the variable.

    Defaults trade a little latency for durability: the producer waits for `acks=all` from an idempotent
    producer, with `producer_linger_ms=5` so concurrent requests share broker round trips.
    """

    model_config = SettingsConfigDict(env_prefix="KAFKAGATE_", extra="forbid", frozen=True)

    bootstrap_servers: str = Field(default="localhost:9092", min_length=1)
    client_id: str = "kafkagate"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Longer than common load-balancer idle timeouts (60 s), so the balancer, not the gateway, closes idle
    # keep-alive connections; otherwise it may reuse one the gateway just closed and fail the request.
    http_keep_alive_s: int = Field(default=75, ge=1)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The whole body must arrive within this, from the moment the route starts reading it (408 otherwise):
    # uvicorn has no read timeout mid-body, so a body that never ends would hold its connection, its in-flight
    # reservation and its task for ever. 30 s lets a full 1 MiB body through at about 35 KB/s.
    body_read_timeout_s: float = Field(default=30.0, gt=0)
    # The request line and headers must arrive within this of the connection opening (or of the next request's
    # first byte) or the connection is closed: uvicorn itself waits for ever (gateway.http_protocol).
    header_read_timeout_s: float = Field(default=10.0, gt=0)
    max_batch_events: int = Field(default=10_000, ge=1)

    producer_linger_ms: int = Field(default=5, ge=0)
    producer_request_timeout_ms: int = Field(default=30_000, ge=1000)
    producer_compression: Compression = "none"
    produce_timeout_ms: int = Field(default=30_000, ge=100, description="upper bound on waiting for acks")

    admin_request_timeout_ms: int = Field(default=15_000, ge=1000)
    # Replication factor of the topics the gateway creates for itself (keys, tenants, schemas, the processor
    # registry, idempotency keys) and of streams an API creates on first use; unset: min(3, brokers). With 3 or
    # more replicas they also get min.insync.replicas=2, so an acknowledged write survives losing a broker.
    internal_replication_factor: int | None = Field(default=None, ge=1, le=32_767)
    metadata_max_age_ms: int = Field(default=30_000, ge=1000)
    connect_retry_backoff_ms: int = Field(default=1_000, ge=50)
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After sent with 503 responses")

    consumer_idle_timeout_ms: int = Field(default=300_000, ge=1000)
    consumer_max_members: int = Field(default=1_000, ge=1)
    consume_max_limit: int = Field(default=10_000, ge=1)
    consume_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    consume_max_timeout_ms: int = Field(default=30_000, ge=0)

    # --- push consume (Server-Sent Events on GET /streams/{stream}/events) ---
    # A comment every this many seconds without events, so proxies and clients see a live connection.
    sse_heartbeat_s: float = Field(default=15.0, gt=0)
    # The most one connection holds between Kafka and its socket: one batch, read only once the last is written.
    sse_buffer_events: int = Field(default=500, ge=1)
    sse_buffer_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Events sent and not yet acknowledged that a reconnect's Last-Event-ID can still resume from exactly; older
    # ones are taken as delivered and committed. More than a 4 MiB socket buffer holds of 200-byte events; at most
    # 24 bytes each per connection (gateway.resume_log).
    sse_resume_window_events: int = Field(default=20_000, ge=1)

    streams_page_size_max: int = Field(default=1000, ge=1)
    # The most partitions a stream may get from this gateway (create, PATCH); the OpenAPI document states it.
    stream_max_partitions: int = Field(default=10_000, ge=1, le=10_000)

    processor_data_dir: Path = Path.home() / ".cache" / "kafkagate" / "processors"

    # --- trust boundary: authentication, tenants ---
    auth: Literal["required", "off"] = "required"
    # The root credential: every scope over every tenant. Required (>= 32 characters) when auth is required.
    admin_token: SecretStr | None = None
    # Signs the JWTs of `POST /auth/token`; generated once and kept in the key store when unset.
    jwt_secret: SecretStr | None = None
    jwt_ttl_s: int = Field(default=3600, ge=60)

    # --- idempotency keys ---
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)

    # --- the Event Intake API (seed 004, `POST /v1/events`) ---
    # The stream intake events go to, in the caller's namespace (`_t.<slug>.events` for a tenant); created on
    # first use with `intake_stream_partitions` partitions (events of one `event_type` share a partition).
    intake_stream: str = "events"
    intake_stream_partitions: int = Field(default=3, ge=1)

    # --- read-after-write: event log views (seed 002, `/logs`) and processor state ---
    # How long `query?after=N` and `GET /api/v1/processors/{id}/state?after=...` wait for the view or processor
    # to reach what `after` names before answering 504.
    read_after_write_wait_ms: int = Field(default=10_000, ge=0, le=120_000)

    # --- quotas and overload ---
    # Per key token buckets (a key's own `rateLimit` overrides these); 0 turns a bucket off.
    rate_limit_requests_per_s: float = Field(default=1000.0, ge=0)
    rate_limit_bytes_per_s: float = Field(default=64 * 1024 * 1024, ge=0)
    max_inflight_produce_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    shutdown_grace_s: int = Field(default=30, ge=1)

    # --- observability ---
    # `json`: one JSON object per log line, carrying the request id, key id and tenant of the request it serves.
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True  # one log line per request (method, route template, status, duration, bytes)
    # Distinct `stream` label values on the per-stream metrics; events of further streams count as `_other`.
    metrics_max_streams: int = Field(default=1000, ge=1)
    # When set, `GET /metrics` wants `Authorization: Bearer <this>`; unset, it is public like /healthz.
    metrics_token: SecretStr | None = None
    # `kafkagate worker` serves the processors' metrics on this port (on KAFKAGATE_HOST); 0 serves none.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

    # The lake (seed 000): catalog, warehouse and sink flushing, from `KAFKAGATE_LAKE_*` (see LakeSettings).
    lake: LakeSettings = Field(default_factory=LakeSettings)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.produce_timeout_ms > self.producer_request_timeout_ms * 4:
            raise ValueError("KAFKAGATE_PRODUCE_TIMEOUT_MS must not exceed 4 x KAFKAGATE_PRODUCER_REQUEST_TIMEOUT_MS")
        if self.consume_max_bytes < self.max_body_bytes:
            raise ValueError("KAFKAGATE_CONSUME_MAX_BYTES must be at least KAFKAGATE_MAX_BODY_BYTES")
        if self.auth == "required":
            token = self.admin_token.get_secret_value() if self.admin_token is not None else ""
            if len(token) < MIN_SECRET_CHARS:
                raise ValueError(
                    f"KAFKAGATE_ADMIN_TOKEN must be set to at least {MIN_SECRET_CHARS} characters when "
                    "KAFKAGATE_AUTH=required (or set KAFKAGATE_AUTH=off to run an open gateway)"
                )
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"KAFKAGATE_JWT_SECRET must be at least {MIN_SECRET_CHARS} characters")
        try:
            validate_stream_name(self.intake_stream)
        except InvalidStreamName as exc:
            raise ValueError(f"KAFKAGATE_INTAKE_STREAM: {exc.detail}") from exc
        if self.metrics_token is not None and len(self.metrics_token.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"KAFKAGATE_METRICS_TOKEN must be at least {MIN_SECRET_CHARS} characters")
        if self.max_inflight_produce_bytes < self.max_body_bytes:
            raise ValueError("KAFKAGATE_MAX_INFLIGHT_PRODUCE_BYTES must be at least KAFKAGATE_MAX_BODY_BYTES")
        return self

    @property
    def shutdown_close_s(self) -> float:
        """Of `shutdown_grace_s`, the part kept for closing Kafka clients (flush producers, leave groups)."""
        return min(10.0, self.shutdown_grace_s / 3)

    @property
    def shutdown_requests_s(self) -> int:
        """Of `shutdown_grace_s`, how long requests in flight may take to finish before they are cancelled:
        what the close step leaves, less half a second for the server's own steps, in whole seconds."""
        return max(0, math.floor(self.shutdown_grace_s - self.shutdown_close_s - 0.5))

    @property
    def producer_max_request_bytes(self) -> int:
        """Largest produce request the client will build; the broker's `max.message.bytes` decides the rest."""
        return self.max_body_bytes + 64 * 1024

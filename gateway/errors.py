"""The gateway's error tree. Every non-2xx response is one of these, rendered as RFC 9457 problem+json.

    GatewayError                       500  1015 INTERNAL_ERROR
    ├── BadRequest                     400  1007 BAD_REQUEST
    │   ├── SerializationError         400  1004 SERIALIZATION_ERROR   (malformed JSON, undecodable data)
    │   ├── InvalidOffset              400  1002 INVALID_OFFSET
    │   ├── InvalidStreamName          400  1009 INVALID_STREAM_NAME
    │   ├── InvalidGroupName           400  1022 INVALID_GROUP_NAME
    │   ├── InvalidTimestamp           400  1023 INVALID_TIMESTAMP     (outside what the stream accepts)
    │   ├── InvalidPartitions          400  1014 INVALID_PARTITIONS
    │   └── InvalidIdempotencyKey      400  1026 INVALID_IDEMPOTENCY_KEY
    ├── Unauthorized                   401  1018 UNAUTHORIZED          (same body whatever the reason)
    ├── Forbidden                      403  1028 FORBIDDEN             (a scope or stream pattern is missing)
    ├── NotFound                       404  1012 NOT_FOUND
    │   ├── StreamNotFound             404  1001 STREAM_NOT_FOUND
    │   ├── PartitionNotFound          404  1002 INVALID_OFFSET        (a partition the stream does not have)
    │   ├── ConsumerGroupNotFound      404  1003 CONSUMER_GROUP_NOT_FOUND
    │   ├── EventNotFound              404  1016 EVENT_NOT_FOUND
    │   ├── ProcessorNotFound          404  1019 PROCESSOR_NOT_FOUND
    │   ├── TenantNotFound             404  1029 TENANT_NOT_FOUND
    │   ├── KeyNotFound                404  1030 KEY_NOT_FOUND
    │   └── StreamSchemaNotFound       404  1033 SCHEMA_NOT_FOUND      (the stream has no schema)
    ├── MethodNotAllowed               405  1013 METHOD_NOT_ALLOWED
    ├── RequestTimeout                 408  1034 REQUEST_TIMEOUT       (retriable; the body did not arrive in time)
    ├── Conflict                       409  1017 CONFLICT
    │   ├── StreamAlreadyExists        409  1008 STREAM_ALREADY_EXISTS
    │   ├── ConsumerGroupActive        409  1020 CONSUMER_GROUP_ACTIVE
    │   ├── TenantAlreadyExists        409  1031 TENANT_ALREADY_EXISTS
    │   └── IdempotencyKeyInUse        409  1025 IDEMPOTENCY_KEY_IN_USE (retriable, Retry-After)
    ├── PayloadTooLarge                413  1010 PAYLOAD_TOO_LARGE
    ├── UnsupportedMediaType           415  1021 UNSUPPORTED_MEDIA_TYPE
    ├── ValidationFailed               422  1007 VALIDATION_ERROR      (lists each bad field)
    │   └── SchemaViolation            422  1032 SCHEMA_VIOLATION      (the value breaks the stream's schema)
    ├── IdempotencyKeyReused           422  1024 IDEMPOTENCY_KEY_REUSED (same key, different request)
    ├── QuotaExceeded                  429  1005 QUOTA_EXCEEDED        (retriable, Retry-After)
    ├── BrokerUnavailable              503  1011 BROKER_UNAVAILABLE    (retriable, Retry-After)
    ├── Overloaded                     503  1027 OVERLOADED            (retriable, Retry-After; in-flight cap)
    └── OperationTimeout               504  1006 TIMEOUT               (retriable; outcome may be unknown)

Each class carries its HTTP status, seed code, symbolic name and whether retrying can help. Dependency
exceptions (aiokafka, pydantic) are translated once at the boundary and re-raised `from` the original.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[int] = 1015
    error: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "Internal error"
    retriable: ClassVar[bool] = False
    # An idempotent request that fails so neither releases its key nor stores the answer: the claim lapses with
    # its lease and a later retry takes the key over (the work may have been done in part).
    leaves_claim: ClassVar[bool] = False
    headers: ClassVar[dict[str, str]] = {}  # response headers every error of this class carries

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        retry_after_s: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.retry_after_s = retry_after_s
        self.response_headers = {**self.headers, **(headers or {})}  # the class's, and this error's (a 405's Allow)


class BadRequest(GatewayError):
    status, code, error, title = 400, 1007, "BAD_REQUEST", "Bad request"


class SerializationError(BadRequest):
    code, error, title = 1004, "SERIALIZATION_ERROR", "Serialization error"


class InvalidOffset(BadRequest):
    code, error, title = 1002, "INVALID_OFFSET", "Invalid offset"


class InvalidStreamName(BadRequest):
    code, error, title = 1009, "INVALID_STREAM_NAME", "Invalid stream name"


class InvalidGroupName(BadRequest):
    code, error, title = 1022, "INVALID_GROUP_NAME", "Invalid consumer group name"


class InvalidTimestamp(BadRequest):
    code, error, title = 1023, "INVALID_TIMESTAMP", "Invalid timestamp"


class InvalidPartitions(BadRequest):
    code, error, title = 1014, "INVALID_PARTITIONS", "Invalid partition change"


class InvalidIdempotencyKey(BadRequest):
    code, error, title = 1026, "INVALID_IDEMPOTENCY_KEY", "Invalid idempotency key"


class Unauthorized(GatewayError):
    status, code, error, title = 401, 1018, "UNAUTHORIZED", "Unauthorized"
    headers: ClassVar[dict[str, str]] = {"www-authenticate": 'Bearer realm="kafkagate"'}


class Forbidden(GatewayError):
    status, code, error, title = 403, 1028, "FORBIDDEN", "Forbidden"


class NotFound(GatewayError):
    status, code, error, title = 404, 1012, "NOT_FOUND", "Not found"


class StreamNotFound(NotFound):
    code, error, title = 1001, "STREAM_NOT_FOUND", "Stream not found"


class PartitionNotFound(NotFound):
    code, error, title = 1002, "INVALID_OFFSET", "Partition not found"


class ConsumerGroupNotFound(NotFound):
    code, error, title = 1003, "CONSUMER_GROUP_NOT_FOUND", "Consumer group not found"


class EventNotFound(NotFound):
    code, error, title = 1016, "EVENT_NOT_FOUND", "Event not found"


class ProcessorNotFound(NotFound):
    code, error, title = 1019, "PROCESSOR_NOT_FOUND", "Processor not found"


class TenantNotFound(NotFound):
    code, error, title = 1029, "TENANT_NOT_FOUND", "Tenant not found"


class KeyNotFound(NotFound):
    code, error, title = 1030, "KEY_NOT_FOUND", "API key not found"


class StreamSchemaNotFound(NotFound):
    code, error, title = 1033, "SCHEMA_NOT_FOUND", "Stream schema not found"


class MethodNotAllowed(GatewayError):
    status, code, error, title = 405, 1013, "METHOD_NOT_ALLOWED", "Method not allowed"


class RequestTimeout(GatewayError):
    """The request body did not arrive within `body_read_timeout_s`; nothing was done, and the connection is
    closed (RFC 9110 section 15.5.9), since the rest of the body may still be on its way."""

    status, code, error, title = 408, 1034, "REQUEST_TIMEOUT", "Request timeout"
    retriable = True
    headers: ClassVar[dict[str, str]] = {"connection": "close"}


class Conflict(GatewayError):
    status, code, error, title = 409, 1017, "CONFLICT", "Conflict"


class StreamAlreadyExists(Conflict):
    code, error, title = 1008, "STREAM_ALREADY_EXISTS", "Stream already exists"


class ConsumerGroupActive(Conflict):
    code, error, title = 1020, "CONSUMER_GROUP_ACTIVE", "Consumer group has active members"


class TenantAlreadyExists(Conflict):
    code, error, title = 1031, "TENANT_ALREADY_EXISTS", "Tenant already exists"


class IdempotencyKeyInUse(Conflict):
    code, error, title = 1025, "IDEMPOTENCY_KEY_IN_USE", "Idempotency key in use"
    retriable = True


class PayloadTooLarge(GatewayError):
    status, code, error, title = 413, 1010, "PAYLOAD_TOO_LARGE", "Payload too large"


class UnsupportedMediaType(GatewayError):
    status, code, error, title = 415, 1021, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class ValidationFailed(GatewayError):
    status, code, error, title = 422, 1007, "VALIDATION_ERROR", "Validation failed"

    def __init__(self, detail: str, errors: list[dict[str, Any]]):
        super().__init__(detail, extra={"errors": errors})
        self.errors = errors


class SchemaViolation(ValidationFailed):
    """An event's value breaks its stream's schema; `errors` holds one entry per violation, each with the JSON
    pointer (RFC 6901) of the offending part of the value as its `field`."""

    code, error, title = 1032, "SCHEMA_VIOLATION", "Schema violation"


class IdempotencyKeyReused(GatewayError):
    status, code, error, title = 422, 1024, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused"


class QuotaExceeded(GatewayError):
    status, code, error, title = 429, 1005, "QUOTA_EXCEEDED", "Quota exceeded"
    retriable = True


class BrokerUnavailable(GatewayError):
    status, code, error, title = 503, 1011, "BROKER_UNAVAILABLE", "Kafka unavailable"
    retriable = True


class Overloaded(GatewayError):
    status, code, error, title = 503, 1027, "OVERLOADED", "Gateway overloaded"
    retriable = True


class OperationTimeout(GatewayError):
    status, code, error, title = 504, 1006, "TIMEOUT", "Operation timed out"
    retriable = True


ALL_ERRORS: tuple[type[GatewayError], ...] = (
    GatewayError,
    BadRequest,
    SerializationError,
    InvalidOffset,
    InvalidStreamName,
    InvalidGroupName,
    InvalidTimestamp,
    InvalidPartitions,
    InvalidIdempotencyKey,
    Unauthorized,
    Forbidden,
    NotFound,
    StreamNotFound,
    PartitionNotFound,
    ConsumerGroupNotFound,
    EventNotFound,
    ProcessorNotFound,
    TenantNotFound,
    KeyNotFound,
    StreamSchemaNotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    StreamAlreadyExists,
    ConsumerGroupActive,
    TenantAlreadyExists,
    IdempotencyKeyInUse,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    SchemaViolation,
    IdempotencyKeyReused,
    QuotaExceeded,
    BrokerUnavailable,
    Overloaded,
    OperationTimeout,
)


def problem_type(error: type[GatewayError]) -> str:
    """A stable URI reference naming the problem type; the README documents each one."""
    return f"https://kafkagate.dev/problems/{error.error.lower().replace('_', '-')}"


def problem_body(exc: GatewayError, *, instance: str, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(type(exc)),
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": instance,
        "code": exc.code,
        "error": exc.error,
        "request_id": request_id,
        "retriable": exc.retriable,
    }
    body.update(exc.extra)
    return body

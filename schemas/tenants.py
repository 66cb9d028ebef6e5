"""Tenants: the create request of `POST /api/v1/tenants` and the tenant document the tenant store keeps.

A slug names the tenant in Kafka (`gateway/tenancy.py`), so it is short, lower case and free of `.` and `_`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

TENANTS_TOPIC = "_kafkagate_tenants"
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug = Field(description="1-40 characters of [a-z0-9-], not starting or ending with '-'")
    name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)


class TenantRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    slug: str
    name: str
    status: Literal["active"] = "active"
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


def decode_tenant(value: bytes) -> TenantRecord:
    """A tenant store record; ValueError when it is not one."""
    try:
        return TenantRecord.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc

"""Lake settings (`KAFKAGATE_LAKE_*`), read by the gateway (datasets, previews) and by the lake sink alike.

The default is the embedded lake: a SQLite-backed SQL catalog and a local warehouse directory under
`~/.cache/kafkagate/lake`, with nothing to set up. Production points the same code at any catalog pyiceberg
supports and at object storage by configuration alone:

    KAFKAGATE_LAKE_CATALOG_URI=postgresql+psycopg2://iceberg:secret@db/iceberg   (SQL catalog on PostgreSQL)
    KAFKAGATE_LAKE_CATALOG_TYPE=rest KAFKAGATE_LAKE_CATALOG_URI=http://catalog:8181  (a REST catalog)
    KAFKAGATE_LAKE_WAREHOUSE=s3://lake/warehouse
    KAFKAGATE_LAKE_CATALOG_PROPERTIES='{"s3.endpoint": "http://minio:9000", "s3.access-key-id": "..."}'
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_HOME = Path.home() / ".cache" / "kafkagate" / "lake"
FaultPoint = Literal["before-commit", "after-commit"]


class LakeSettings(BaseSettings):
    """Flushes trade latency for file size: a dataset's rows are committed every `flush_interval_s` (30 s) or
    once `flush_rows` (10,000) are waiting, whichever comes first; each commit is one Iceberg snapshot."""

    model_config = SettingsConfigDict(env_prefix="KAFKAGATE_LAKE_", extra="forbid", frozen=True)

    catalog_type: Literal["sql", "rest"] = "sql"
    catalog_uri: str = Field(default=f"sqlite:///{_HOME / 'catalog.db'}", min_length=1)
    warehouse: str = Field(default=f"file://{_HOME / 'warehouse'}", min_length=1)
    # Passed to pyiceberg's catalog and FileIO as they are: S3 endpoint and keys, REST credentials, and so on.
    catalog_properties: dict[str, str] = Field(default_factory=dict)

    flush_interval_s: float = Field(default=30.0, gt=0)
    flush_rows: int = Field(default=10_000, ge=1)
    raw_partitions: int = Field(default=3, ge=1, le=1000)
    preview_max_limit: int = Field(default=1000, ge=1)
    # `kafkagate worker` runs the lake sink beside the processors unless this is false.
    sink_enabled: bool = True
    sink_group: str = Field(default="_kafkagate_lake_sink", min_length=1)
    # The tenants (a regular expression over slugs) whose raw streams this sink reads: all by default; a narrower
    # one splits tenants among sinks with separate groups and catalogs.
    sink_tenants: str = Field(default="[a-z0-9-]+", min_length=1)
    # Testing only: the sink SIGKILLs itself once at this point of its first commit, then never again for as long
    # as `fault_marker` exists (it creates the file just before dying).
    fault_point: FaultPoint | None = None
    fault_marker: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LakeSettings:
        if self.fault_point is not None and self.fault_marker is None:
            raise ValueError("KAFKAGATE_LAKE_FAULT_POINT needs KAFKAGATE_LAKE_FAULT_MARKER")
        return self

    @property
    def local_paths(self) -> list[Path]:
        """The directories the embedded catalog and warehouse need (created on first use)."""
        found: list[Path] = []
        if self.catalog_type == "sql" and self.catalog_uri.startswith("sqlite:///"):
            found.append(Path(self.catalog_uri.removeprefix("sqlite:///")).parent)
        if self.warehouse.startswith("file://"):
            found.append(Path(self.warehouse.removeprefix("file://")))
        return found

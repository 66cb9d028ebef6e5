"""Previews: a dataset's latest rows, read from its Iceberg table by DuckDB's own Iceberg reader.

DuckDB's `iceberg` extension (and the `avro` extension it reads manifests with) come from PyPI packages
(`duckdb-extension-iceberg`, `duckdb-extension-avro`) built for the pinned DuckDB version, and are loaded from
their files: DuckDB never downloads an extension at run time (autoinstall and autoload are off). With a warehouse
on S3 the `httpfs` extension is needed too (`pip install 'kafkagate[lake-s3]'`); the S3 settings of
`KAFKAGATE_LAKE_CATALOG_PROPERTIES` become a DuckDB secret.

DuckDB itself is imported by the first preview, in its worker thread: a gateway that serves no preview never
loads it.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import threading
from typing import TYPE_CHECKING, Any

from gateway import errors as ge
from processors.lake.settings import LakeSettings

if TYPE_CHECKING:
    import duckdb

_S3_SECRET_KEYS = {
    "s3.access-key-id": "KEY_ID",
    "s3.secret-access-key": "SECRET",
    "s3.region": "REGION",
    "s3.session-token": "SESSION_TOKEN",
}


def extension_path(name: str) -> str:
    """The extension file a `duckdb-extension-<name>` package ships for this DuckDB version."""
    import duckdb

    package = importlib.resources.files(f"duckdb_extension_{name}")
    return str(package / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension")


def connect(settings: LakeSettings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the Iceberg reader loaded from its package, and nothing fetched from anywhere."""
    import duckdb

    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    names = ["avro", "iceberg"]
    if settings.warehouse.startswith(("s3://", "s3a://")):
        names.append("httpfs")
    for name in names:
        try:
            path = extension_path(name)
        except ModuleNotFoundError as exc:
            raise ge.GatewayError(f"the DuckDB {name} extension is not installed (duckdb-extension-{name})") from exc
        connection.execute(f"LOAD '{path}'")
    connection.execute("SET TimeZone = 'UTC'")
    properties = settings.catalog_properties
    if "httpfs" in names:
        options = [f"{option} '{properties[key]}'" for key, option in _S3_SECRET_KEYS.items() if key in properties]
        endpoint = properties.get("s3.endpoint")
        if endpoint is not None:
            host = endpoint.split("://", 1)[-1].rstrip("/")
            options += [
                f"ENDPOINT '{host}'",
                "URL_STYLE 'path'",
                f"USE_SSL {str(endpoint.startswith('https')).lower()}",
            ]
        connection.execute(f"CREATE SECRET lake (TYPE s3{''.join(', ' + o for o in options)})")
    return connection


class Previewer:
    """One DuckDB database per gateway process; each preview runs on a cursor of its own in a worker thread."""

    def __init__(self, settings: LakeSettings):
        self.settings = settings
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._connection is None:
                self._connection = connect(self.settings)
            return self._connection.cursor()

    def _query(self, metadata_location: str, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
        cursor = self._cursor()
        try:
            result = cursor.execute(
                "SELECT * FROM iceberg_scan(?) ORDER BY timestamp DESC, event_id DESC LIMIT ?",
                [metadata_location, limit],
            )
            names = [column[0] for column in result.description or []]
            rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
        finally:
            cursor.close()
        return names, rows

    def _read(self, metadata_location: str, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
        import duckdb

        try:
            return self._query(metadata_location, limit)
        except duckdb.Error as exc:
            raise ge.GatewayError(f"DuckDB could not read the table: {exc}") from exc

    async def latest(self, metadata_location: str, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
        """(column names, the `limit` latest rows by `timestamp`) of the table whose metadata file is given."""
        return await asyncio.to_thread(self._read, metadata_location, limit)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

"""The gateway's access to the Iceberg catalog: tenants' namespaces, datasets' tables and their current
metadata files. pyiceberg blocks, so every call runs in a worker thread; the catalog is opened on first use.

pyiceberg (and the SQL catalog's sqlalchemy) are imported by that first call, in its worker thread: a gateway
that never serves a lake route never loads them, and the one that does keeps its event loop running meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from gateway import errors as ge
from processors.lake.settings import LakeSettings

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

T = TypeVar("T")


class LakeTables:
    def __init__(self, settings: LakeSettings, catalog: Catalog | None = None):
        self.settings = settings
        self._catalog = catalog
        self._lock = threading.Lock()

    def _open(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                from processors.lake import catalog as lake_catalog

                self._catalog = lake_catalog.open_catalog(self.settings)
            return self._catalog

    async def _call(self, what: str, function: Callable[[Catalog], T]) -> T:
        def run() -> T:
            return function(self._open())

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:
            raise ge.BrokerUnavailable(f"the lake catalog failed to {what}: {exc}", retry_after_s=5) from exc

    async def ensure_namespace(self, tenant_id: str) -> str:
        def create(catalog: Catalog) -> str:
            from processors.lake import catalog as lake_catalog

            return lake_catalog.ensure_namespace(catalog, tenant_id)

        return await self._call("create a namespace", create)

    async def ensure_table(self, tenant_id: str, name: str, composed: dict[str, Any]) -> tuple[str, str]:
        def create(catalog: Catalog) -> tuple[str, str]:
            from processors.lake import catalog as lake_catalog

            namespace = lake_catalog.ensure_namespace(catalog, tenant_id)
            lake_catalog.ensure_table(catalog, namespace, name, composed)
            return namespace, name

        return await self._call("create a table", create)

    async def metadata_location(self, namespace: str, name: str) -> str | None:
        """The table's current metadata file, or None while it has no snapshot (no rows committed yet)."""

        def locate(catalog: Catalog) -> str | None:
            table = catalog.load_table((namespace, name))
            return None if table.current_snapshot() is None else str(table.metadata_location)

        return await self._call("load a table", locate)

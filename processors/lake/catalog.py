"""The Iceberg side of the lake: the catalog from settings, tenants' namespaces and datasets' tables.

A tenant's tables live in the namespace `pulse_<tenant id without dashes>`; a dataset's table is named by its
slug. pyiceberg does the work: its SQL catalog commits a new metadata file by a compare-and-swap on the
table's row (`UPDATE ... WHERE metadata_location = <the one this writer read>`), so of two writers racing on
one table exactly one commit wins and the other gets `CommitFailedException` with nothing changed.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError
from pyiceberg.table import Table
from sqlalchemy.exc import OperationalError

from processors.lake import layout
from processors.lake.settings import LakeSettings

CATALOG_NAME = "kafkagate"
_NAMESPACE_PREFIX = "pulse_"
_OPEN_ATTEMPTS = 3


def namespace_of(tenant_id: str) -> str:
    return _NAMESPACE_PREFIX + tenant_id.replace("-", "").lower()


def open_catalog(settings: LakeSettings) -> Catalog:
    """The catalog the settings name (blocking I/O: call it from a thread in async code)."""
    for path in settings.local_paths:
        path.mkdir(parents=True, exist_ok=True)
    properties = {
        "type": settings.catalog_type,
        "uri": settings.catalog_uri,
        "warehouse": settings.warehouse,
        **settings.catalog_properties,
    }
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return load_catalog(CATALOG_NAME, **properties)
        except OperationalError:
            # SqlCatalog creates its tables on first use with a check-then-create; a gateway and a sink starting
            # together can both see none, and the loser's CREATE TABLE fails. The tables now exist: open again.
            if attempt == _OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def ensure_namespace(catalog: Catalog, tenant_id: str) -> str:
    namespace = namespace_of(tenant_id)
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(namespace, {"kafkagate.tenant": tenant_id})
    return namespace


def ensure_table(catalog: Catalog, namespace: str, name: str, composed: dict[str, Any]) -> Table:
    """The dataset's table, created from the composed schema when it does not exist yet (an existing one is
    used as it is: a dataset whose record was lost and written again finds its rows)."""
    schema = layout.table_schema(composed)
    try:
        return catalog.create_table(
            (namespace, name),
            schema=schema,
            partition_spec=layout.partition_spec(schema),
            properties={"write.parquet.compression-codec": "zstd"},
        )
    except TableAlreadyExistsError:
        return catalog.load_table((namespace, name))

"""Commits a dataset's micro-batch to its Iceberg table, exactly once.

One commit is one Iceberg snapshot: the batch's Parquet files and, in the snapshot summary, the raw stream
offsets the table now covers (`kafkagate.offsets`, merged with the previous snapshot's). Both land in the same
atomic catalog swap or neither does. Before writing, the batch drops events at offsets the table already
covers (a replay after a crash) and events whose `event_id` the table already holds (the same event collected
twice). A commit that loses a race with another writer (`CommitFailedException`) reloads the table and filters
again, so rows the winner wrote are not written twice.

Blocking I/O (pyiceberg, pyarrow): the sink calls it from a worker thread.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual
from pyiceberg.table import Table

from processors.lake import batches, layout
from processors.lake.batches import Pending, TopicPartitionKey
from processors.lake.settings import FaultPoint, LakeSettings

log = logging.getLogger(__name__)

_COMMIT_ATTEMPTS = 5


def fault(settings: LakeSettings, point: FaultPoint) -> None:
    """Testing only: die by SIGKILL here, once (see `LakeSettings.fault_point`)."""
    marker = settings.fault_marker
    if settings.fault_point != point or marker is None or marker.exists():
        return
    marker.touch()
    log.warning("fault point %s: SIGKILL", point)
    os.kill(os.getpid(), signal.SIGKILL)


def committed_offsets(table: Table) -> dict[TopicPartitionKey, int]:
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return {}
    return batches.decode_offsets(snapshot.summary.additional_properties.get(batches.OFFSETS_PROPERTY))


class TableWriter:
    """The sink's handle on one dataset's table."""

    def __init__(self, catalog: Catalog, identifier: tuple[str, str], settings: LakeSettings):
        self.identifier = identifier
        self._catalog = catalog
        self._settings = settings
        self.table = catalog.load_table(identifier)
        self.shape = layout.RowShape.of(self.table.schema())
        self.committed = committed_offsets(self.table)
        self._arrow = self.table.schema().as_arrow()

    def refresh(self) -> None:
        self.table = self._catalog.load_table(self.identifier)
        self.committed = committed_offsets(self.table)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` the table already holds. Scans only data files whose event_id range overlaps the
        batch's (UUIDv7 ids are time-ordered, so a batch of new events touches few files)."""
        if not ids or self.table.current_snapshot() is None:
            return set()
        low, high = min(ids), max(ids)
        scan = self.table.scan(
            row_filter=And(
                GreaterThanOrEqual(term=layout.EVENT_ID, value=low), LessThanOrEqual(term=layout.EVENT_ID, value=high)
            ),
            selected_fields=(layout.EVENT_ID,),
        )
        found = scan.to_arrow().column(layout.EVENT_ID)
        if len(found) == 0:
            return set()
        wanted = pa.array(list(ids), pa.string())
        return set(pc.filter(wanted, pc.is_in(wanted, value_set=found)).to_pylist())

    def commit(self, events: Sequence[Pending], now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
        """Write what of `events` the table lacks, with the offsets they cover; returns the rows written."""
        for attempt in range(1, _COMMIT_ATTEMPTS + 1):
            todo = batches.fresh(events, self.committed)
            present = self.existing_ids([e.event_id for e in todo])
            todo = [e for e in todo if e.event_id not in present]
            if not todo:
                return 0
            ingested = now()
            rows = [{**e.row, "_ingested_at": ingested} for e in todo]
            data = pa.Table.from_pylist(rows, schema=self._arrow)
            offsets = batches.merged(self.committed, batches.covered(todo))
            properties = {batches.OFFSETS_PROPERTY: batches.encode_offsets(offsets)}
            transaction = self.table.transaction()
            transaction.append(data, snapshot_properties=properties)  # writes the Parquet files
            fault(self._settings, "before-commit")
            try:
                self.table = transaction.commit_transaction()
            except CommitFailedException:
                log.info("commit to %s lost a race (attempt %d); reloading", ".".join(self.identifier), attempt)
                self.refresh()
                continue
            fault(self._settings, "after-commit")
            self.committed = offsets
            return len(todo)
        raise CommitFailedException(f"{'.'.join(self.identifier)}: {_COMMIT_ATTEMPTS} commits lost their race")

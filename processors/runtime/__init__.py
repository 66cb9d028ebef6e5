"""Run one compiled processor as a Faust app: the only package that imports faust.

One worker process = one Faust App (`_kafkagate.proc.<processorId>`, which is also its consumer group), so
`parallelism` workers split the source partitions. Topology:

    source ──stage1: decode, before-steps, group key──► <name>.repartition (keyed by group key)
                                   │ (no aggregate)                       │
                                   ▼                                       ▼
                                 sink(s)       stage2: WindowedAggregate over a Faust Table ──► after-steps ──► sink

When the aggregate groups by the untouched record key, stage1 aggregates directly (no repartition hop).
Failing events go to `<name>.dlq` with the value as received. Window maths and state transitions are pure code
(`processors.aggregate_store`); the Table only stores and changelogs them.

Modules: `app` (the Faust app and its stages), `outputs` (every write and the commit guard), `refusals`
(dropped, dead-lettered or failing events), `state` (aggregate state published for queries), `finals`
(`emit: final` once across crashes), `positions` (handled offsets and the stall watchdog), `records`, `codec`,
`faults`.
"""

from processors.runtime.app import ProcessorRuntime

__all__ = ["ProcessorRuntime"]

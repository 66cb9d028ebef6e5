"""The dead-letter record format, shared by the gateway (schema violations at produce time) and the processors
(events a step could not handle). Both write to `<name>.dlq`, a stream like any other.

A dead letter keeps the event's key and value byte for byte, and its own headers first; after them come these,
every value UTF-8 text:

    kafkagate-reason            why it is here: `schema` (gateway: the value broke the stream's schema),
                                `error` (processor: a step failed) or `late` (processor: its window had closed)
    kafkagate-error             a human-readable diagnosis
    kafkagate-source-topic      the Kafka topic the event was on (processor) or was headed for (gateway)
    kafkagate-source-timestamp  the event's own timestamp, epoch ms; the dead letter's record timestamp is the
                                time it was dead-lettered, so retention counts from then
    kafkagate-source-partition  processor only: where the event was read
    kafkagate-source-offset     processor only
    kafkagate-processor         processor only: the processor's name
    kafkagate-operation-index   processor only: the failing step (`-1`: the value was not JSON)
    kafkagate-schema-version    gateway only: the version of the stream schema the value broke
    kafkagate-schema-pointers   gateway only: a JSON array of the RFC 6901 pointers of each violation
                                (`["/amount", "/items/1"]`; `""` is the whole value), at most `MAX_VIOLATIONS`
"""

from __future__ import annotations

REASON = "kafkagate-reason"
ERROR = "kafkagate-error"
SOURCE_TOPIC = "kafkagate-source-topic"
SOURCE_PARTITION = "kafkagate-source-partition"
SOURCE_OFFSET = "kafkagate-source-offset"
SOURCE_TIMESTAMP = "kafkagate-source-timestamp"
PROCESSOR = "kafkagate-processor"
OPERATION_INDEX = "kafkagate-operation-index"
SCHEMA_VERSION = "kafkagate-schema-version"
SCHEMA_POINTERS = "kafkagate-schema-pointers"

REASON_SCHEMA = "schema"
REASON_ERROR = "error"
REASON_LATE = "late"

# Violations reported per event (in a response and in the pointers header): enough to fix an event, and a
# bound on the header and body size when a large array is wrong everywhere.
MAX_VIOLATIONS = 20

SUFFIX = ".dlq"


def dlq_topic(name: str) -> str:
    """The dead-letter stream of a stream or processor (`name` is its Kafka name, so tenancy carries over)."""
    return f"{name}{SUFFIX}"

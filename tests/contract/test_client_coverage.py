"""Every operation of the native API in the OpenAPI document has a call in `kafkagate.client.calls`, so a route
added to the gateway without its client call fails here."""

from __future__ import annotations

import re

from gateway.openapi import OPERATIONS
from kafkagate.client import calls

SAMPLES: list[calls.Call[object]] = [
    calls.health(),
    calls.ready(),
    calls.openapi(),
    calls.metrics_text(),
    calls.access_token("kg_x"),
    calls.create_stream("s", None, None, None, None),
    calls.list_streams(None, None),
    calls.get_stream("s"),
    calls.update_stream("s", 3, None),
    calls.delete_stream("s"),
    calls.put_schema("s", {}, None),
    calls.get_schema("s"),
    calls.delete_schema("s"),
    calls.publish("s", {"value": 1}, None),
    calls.publish_batch("s", [{"value": 1}], None, None, None),
    calls.publish_encoded("s", b'{"events":[]}', None),
    calls.poll("s", "g"),
    calls.get_event("s", "evt_0_0"),
    calls.read_partition("s", 0, None, None, None),
    calls.offsets_at("s", 0),
    calls.list_groups(),
    calls.get_group("g"),
    calls.delete_group("g"),
    calls.commit("g", [("s", 0, 1)], None),
    calls.reset_group("g", "s", "earliest", None, None),
    calls.close_sessions("g"),
    calls.create_processor({}, None),
    calls.list_processors(),
    calls.get_processor("p"),
    calls.replace_processor("p", {}),
    calls.delete_processor("p"),
    calls.pause_processor("p"),
    calls.resume_processor("p"),
    calls.processor_metrics("p"),
    calls.processor_state("p", "k", {0: 1}),
    calls.create_key("k", ["produce"]),
    calls.list_keys(),
    calls.get_key("k"),
    calls.revoke_key("k"),
    calls.create_tenant("t", "T", None),
    calls.list_tenants(),
    calls.get_tenant("t"),
]


def _matches(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path) is not None


def test_every_native_operation_has_a_client_call() -> None:
    # The browser pages (/docs, /console) are for people, not for the client.
    native = [
        op
        for op in OPERATIONS
        if op.envelope is None and not op.path.startswith("/v1/") and op.media_type != "text/html"
    ]
    assert len(native) >= 40
    missing = [
        f"{op.method.upper()} {op.path}"
        for op in native
        if not any(call.method == op.method.upper() and _matches(op.path, call.path) for call in SAMPLES)
    ]
    assert missing == []


def test_the_calls_that_carry_an_idempotency_key_are_the_idempotent_operations() -> None:
    idempotent = {(op.method.upper(), op.path) for op in OPERATIONS if op.idempotent}
    keyed = {
        (op.method.upper(), op.path)
        for op in OPERATIONS
        for call in SAMPLES
        if call.idempotency_key is not None and call.method == op.method.upper() and _matches(op.path, call.path)
    }
    assert keyed == idempotent

"""The event log API (seed 002): logs, appends, views and their queries, as its document has them.

    POST /logs/{log}  (a name)                     create a log          {"success": true, "log_id": "<uuid>"}
    DELETE /logs/{log_id}                          delete it and its views (not in the document)
    POST /logs/{log_id}/append                     append raw bytes      {"success": true, "sequence": N}
    POST /logs/{log_id}/views/{view}               deploy a CEL view     {"success": true}
    DELETE /logs/{log_id}/views/{view}             remove a view (not in the document)
    GET  /logs/{log_id}/views/{view}/stats         leader and progress
    POST /logs/{log_id}/views/{view}/query?after=N the view's answer once it has processed sequence N

An adapter over `gateway.event_logs`; errors answer in the document's envelope (`gateway.seeds.logs_envelope`).
Authentication is the bearer JWT of `POST /auth/token` (or an API key). Scopes: `admin` creates and deletes logs,
`produce` appends, `processors` deploys views, `consume` reads stats and queries. A tenant sees only its own
logs; another tenant's log id is 404, exactly like one that does not exist.

The document's views are WebAssembly components; these are CEL state machines sent as JSON
(`processors.views.language`). A WebAssembly upload is refused with 415 saying what to send instead.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import errors as ge
from gateway import idempotency, takeover
from gateway.authorization import guarded
from gateway.bodies import parse_model, read_raw_body
from gateway.context import context
from gateway.event_logs import EventLogs, leader_ready, validate_name
from gateway.idempotency import IdempotencyKeys
from gateway.kafka.producer import Ack, AckTimeout, OutgoingRecord
from gateway.publishing import Submission
from gateway.record_stamps import stamps
from gateway.responses import JSONResponse
from gateway.seeds.logs_envelope import PREFIX
from gateway.tenancy import namespace
from gateway.timefmt import now_ms
from processors.expressions import ExpressionError
from processors.views.language import ViewError, compile_view
from schemas.logs import LogRecord, ViewDefinition, ViewRecord, log_topic

OCTET_STREAM = "application/octet-stream"
WASM_MAGIC = b"\0asm"
WASM_REFUSED = (
    "WebAssembly views are not run here. Deploy a CEL view instead: Content-Type: application/json with "
    '{"initial": <JSON state>, "apply": "<CEL over state, event, raw, sequence>", '
    '"query": "<CEL over state, input, raw>" (optional)}, e.g. '
    '{"initial": {"count": 0}, "apply": "{\'count\': state.count + 1}"}'
)
REALM = "logs"  # the Idempotency-Key realm of appends
SEQUENCE_HEADER = "x-view-sequence"  # the sequence a query's answer reflects


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _logs(request: Request) -> EventLogs:
    return EventLogs(context(request).kafka)


async def _log(request: Request, parameter: str = "log_id") -> LogRecord:
    context(request).kafka.require_ready()
    return await _logs(request).find(namespace(request), request.path_params[parameter])


async def _view(request: Request) -> tuple[LogRecord, ViewRecord]:
    log = await _log(request)
    view = await _logs(request).view(log, request.path_params["view"])
    assert view is not None  # noqa: S101 - missing_ok is off: a missing view raised NotFound
    return log, view


# --- logs ---------------------------------------------------------------------------------------------------


async def create_log(request: Request) -> Response:
    ctx = context(request)
    name = validate_name("log", request.path_params["log"])
    ctx.kafka.require_ready()
    record = await _logs(request).create(namespace(request), name)
    return JSONResponse({"success": True, "log_id": record.log_id})


async def delete_log(request: Request) -> Response:
    log = await _log(request, "log")
    await _logs(request).delete(log)
    return JSONResponse({"success": True})


async def append(request: Request) -> Response:
    ctx = context(request)
    log = await _log(request)
    if _media(request) != OCTET_STREAM:
        sent = f"got {_media(request)!r}" if _media(request) else "no Content-Type was sent"
        raise ge.UnsupportedMediaType(f"events are raw bytes sent as {OCTET_STREAM}; {sent}")
    raw_key = request.headers.get(idempotency.HEADER)
    key = None if raw_key is None else idempotency.validate_key(raw_key)
    body = await read_raw_body(request, ctx.settings.max_body_bytes)

    async def publish() -> Response:
        now = now_ms()
        record = OutgoingRecord(key=None, value=body, headers=stamps(request), timestamp_ms=now, partition=0)
        submission, topic = Submission(record, None), log_topic(log.log_id)
        found = await takeover.recovered(request, topic, [submission], now)
        try:
            ack = found[0] if found else await ctx.publisher.publish(topic, submission, now)
        except AckTimeout as exc:
            idempotency.settle_later(request, exc.outcome, appended)
            raise
        assert isinstance(ack, Ack)  # noqa: S101 - log topics have no schema, so nothing is dead-lettered
        return appended(ack)

    if key is None:
        return await publish()
    # The key is the header's, but the body is bytes: the header route wrapper reads JSON bodies only.
    keys: IdempotencyKeys = request.app.state.idempotency
    return await keys.handle_key(request, publish, key, body, REALM)


def appended(ack: Ack) -> Response:
    return JSONResponse({"success": True, "sequence": ack.offset + 1})


# --- views --------------------------------------------------------------------------------------------------


async def deploy_view(request: Request) -> Response:
    ctx = context(request)
    log = await _log(request)
    view = validate_name("view", request.path_params["view"])
    media = _media(request)
    if media in {"application/wasm", OCTET_STREAM}:
        raise ge.UnsupportedMediaType(WASM_REFUSED)
    body = await read_raw_body(request, ctx.settings.max_body_bytes)
    if body.startswith(WASM_MAGIC):
        raise ge.UnsupportedMediaType(WASM_REFUSED)
    if media != "application/json":
        sent = f"got {media!r}" if media else "no Content-Type was sent"
        raise ge.UnsupportedMediaType(f"a view is JSON sent as application/json; {sent}. {WASM_REFUSED}")
    definition = parse_model(ViewDefinition, body)
    try:
        compile_view(definition.initial, definition.apply, definition.query)
    except ViewError as exc:
        error = {"field": exc.field, "message": exc.detail, "type": "cel"}
        raise ge.ValidationFailed(f"the view's {exc.field} is invalid: {exc.detail}", [error]) from exc
    await _logs(request).deploy(log, view, definition)
    return JSONResponse({"success": True})


async def delete_view(request: Request) -> Response:
    log, view = await _view(request)
    await _logs(request).remove(log, view)
    return JSONResponse({"success": True})


async def view_stats(request: Request) -> Response:
    log, view = await _view(request)
    state = await _logs(request).state(view)
    ready = leader_ready(state, now_ms())
    body = {
        "view_name": view.view,
        "log_name": log.name,
        "leader_status": "ready" if ready else None,
        "leader_node_id": state.leader if ready and state is not None else None,
        "processed_sequence": 0 if state is None else state.sequence,
        "created_at": view.created_at,
        "apply_errors": 0 if state is None else state.errors,
        "last_apply_error": None if state is None else state.last_error,
    }
    return JSONResponse(body)


def _after(request: Request) -> int | None:
    raw = request.query_params.get("after")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ge.BadRequest(f"after must be a sequence number (0, 1, 2, ...), got {raw!r}")
    return int(raw)


async def query_view(request: Request) -> Response:
    ctx = context(request)
    after = _after(request)
    _, view = await _view(request)
    body = await read_raw_body(request, ctx.settings.max_body_bytes)
    logs = _logs(request)
    if after is None:
        state = await logs.state(view)
    else:
        state = await logs.state_after(view, after, ctx.settings.read_after_write_wait_ms / 1000)
    definition = view.definition
    compiled = compile_view(definition.initial, definition.apply, definition.query)
    current = compiled.initial if state is None else state.state
    try:
        answer = compiled.answer(current, body)
    except (ExpressionError, TypeError) as exc:
        raise ge.BadRequest(f"the view's query failed on this input: {exc}") from exc
    sequence = 0 if state is None else state.sequence
    return JSONResponse(answer, headers={SEQUENCE_HEADER: str(sequence)})


def routes() -> list[Route]:
    log = f"{PREFIX}/{{log_id}}"
    view = f"{log}/views/{{view}}"
    return [
        # One template for both (OpenAPI forbids two that differ only in names): a name to create, an id to delete.
        Route(f"{PREFIX}/{{log}}", guarded("admin", create_log), methods=["POST"]),
        Route(f"{PREFIX}/{{log}}", guarded("admin", delete_log), methods=["DELETE"]),
        Route(f"{log}/append", guarded("produce", append), methods=["POST"]),
        Route(view, guarded("processors", deploy_view), methods=["POST"]),
        Route(view, guarded("processors", delete_view), methods=["DELETE"]),
        Route(f"{view}/stats", guarded("consume", view_stats), methods=["GET"]),
        Route(f"{view}/query", guarded("consume", query_view), methods=["POST"]),
    ]

"""The gateway loads the lake stack only when the lake is used: importing `gateway.app`, building the app and
serving the native API and the other seed APIs leave pyiceberg, sqlalchemy, duckdb, pyarrow (and cel, whose
package imports its own command line) out of the process. Each check runs in a fresh interpreter, since this
test process imports them for other tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
LAZY = ("pyiceberg", "sqlalchemy", "duckdb", "pyarrow", "cel")
TOKEN = "kg_imports_root_" + "r" * 32


def dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def run_python(source: str, extra_env: dict[str, str] | None = None) -> Any:
    """Run `source` in a fresh interpreter from the repository root and decode the JSON it prints last."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KAFKAGATE_")}
    env.update(extra_env or {})
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", source], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def loaded_probe(names: tuple[str, ...]) -> str:
    return f"print(json.dumps(sorted(name for name in {names!r} if name in sys.modules)))"


def test_importing_the_app_loads_no_lake_library() -> None:
    loaded = run_python(f"import json, sys\nimport gateway.app\n{loaded_probe(LAZY)}")
    assert loaded == []


def test_the_probe_sees_a_library_once_loaded() -> None:
    loaded = run_python(f"import json, sys\nimport gateway.app, duckdb\n{loaded_probe(LAZY)}")
    assert loaded == ["duckdb"]


SERVE = textwrap.dedent(
    """
    import asyncio, json, sys

    import httpx

    from gateway.app import create_app
    from gateway.settings import Settings

    CALLS = [
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/openapi.json", None),
        ("GET", "/metrics", None),
        ("GET", "/docs", None),
        ("GET", "/console", None),
        ("GET", "/api/v1/streams", None),
        ("POST", "/api/v1/streams/orders/events", {"value": {"id": 1}}),
        ("GET", "/api/v1/streams/orders/events?consumerGroup=g&timeout=0", None),
        ("GET", "/api/v1/consumers", None),
        ("GET", "/api/v1/processors", None),
        ("GET", "/api/v1/keys", None),
        ("GET", "/api/v1/tenants", None),
        ("POST", "/v1/streams/ingest", {"stream": "orders", "events": [{"id": 1}]}),
        ("POST", "/v1/events", {"type": "order.created", "data": {"id": 1}}),
        ("POST", "/logs/orders/append", {"events": [{"id": 1}]}),
    ]


    async def main() -> None:
        app = create_app(Settings())
        statuses = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"authorization": "Bearer " + sys.argv[1]}
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=headers) as http:
                for method, path, body in CALLS:
                    response = await http.request(method, path, json=body)
                    statuses[f"{method} {path}"] = response.status_code
        names = [name for name in sys.argv[2:] if name in sys.modules]
        print(json.dumps({"statuses": statuses, "loaded": names}))


    asyncio.run(main())
    """
)


def test_a_started_gateway_serving_the_other_apis_loads_no_lake_library() -> None:
    """Without Kafka the API answers 503 after routing, authentication and body checks: every layer a request
    walks before it reaches Kafka runs."""
    source = f"import sys\nsys.argv[1:] = {[TOKEN, *LAZY]!r}\n{SERVE}"
    env = {
        "KAFKAGATE_ADMIN_TOKEN": TOKEN,
        "KAFKAGATE_BOOTSTRAP_SERVERS": dead_address(),
        "KAFKAGATE_SHUTDOWN_GRACE_S": "2",
    }
    found = run_python(source, env)
    statuses: dict[str, int] = found["statuses"]
    assert statuses["GET /healthz"] == 200
    assert statuses["GET /openapi.json"] == 200
    assert statuses["GET /docs"] == 200
    served = {call: status for call, status in statuses.items() if status not in {200, 400, 404, 422, 503}}
    assert served == {}
    assert found["loaded"] == []

"""The browser pages without a browser: public, locked down by their CSP, every file they load served (and
nothing else from the asset folders), and no reference to another origin anywhere in them."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.kafka.clients import KafkaClients
from gateway.pages import console, reference
from gateway.pages.assets import STATIC
from gateway.settings import Settings

PAGES = {"/docs": reference, "/console": console}
# What an HTML page or a module loads: src/href attributes and ES module imports.
LOADS = re.compile(r"""(?:src|href)="(/[^"]+)"|from\s+"\./([^"]+)"|import\s+"\./([^"]+)\"""")
OTHER_ORIGIN = re.compile(r"""(?:https?:)?//(?!www\.w3\.org/2000/svg)[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(bootstrap_servers=dead_address(), auth="required", admin_token="kg_pages_root_" + "p" * 40)
    app = create_app(settings, kafka=KafkaClients(settings))  # never started: the pages need no Kafka
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


@pytest.mark.parametrize("page", sorted(PAGES))
async def test_page_is_public_html_with_a_strict_policy(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_everything_the_pages_load_is_served(client: httpx.AsyncClient) -> None:
    pending, seen = ["/docs", "/console"], set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        if not url.endswith((".html", ".js")) and url not in PAGES:
            continue
        if "swagger-ui" in url:
            continue  # Swagger UI's own bundle: loaded, not read
        base = url.rsplit("/", 1)[0]
        for absolute, relative, bare in LOADS.findall(response.text):
            pending.append(absolute or f"{base}/{relative or bare}")
    # Every console module and the reference script was reached from its page.
    assert {f"/console/assets/{name}" for name in console.FILES} <= seen
    assert {f"/docs/assets/{name}" for name in reference.OWN_FILES} <= seen


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui/swagger-editor-bundle.js",
        "/docs/swagger-ui/swagger-initializer.js",
        "/docs/assets/%2e%2e/%2e%2e/app.py",
        "/console/assets/index.html",
        "/console/assets/nothing.js",
    ],
)
async def test_asset_folders_serve_only_their_listed_files(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"]


async def test_the_api_beside_the_pages_still_wants_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/streams")).status_code == 401


def test_no_page_file_names_another_origin() -> None:
    files = sorted(p for p in STATIC.rglob("*") if p.is_file())
    assert files
    for path in files:
        found = OTHER_ORIGIN.findall(path.read_text(encoding="utf-8"))
        assert found == [], f"{path.relative_to(STATIC)} names {found}"


async def test_assets_are_revalidated_on_every_load(client: httpx.AsyncClient) -> None:
    first = await client.get("/console/assets/app.js")
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["content-type"].startswith("text/javascript")  # ES modules load only with a JS type
    again = await client.get("/console/assets/app.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304

"""`GET /console`: the operator console, a single page of plain ES modules (no build step) over the public API.

The page asks for a bearer token once and keeps it in the tab's `sessionStorage`; every call it makes is an
ordinary API call with that token, so it can do exactly what the token may. Its routes live after the `#`
(`#/streams`, `#/groups`, `#/processors`, `#/tail/<stream>`), so `/console` is the only page.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from gateway.pages.assets import STATIC, Assets, page

FILES = (
    "console.css",
    "favicon.svg",
    "app.js",
    "api.js",
    "charts.js",
    "dom.js",
    "format.js",
    "groups.js",
    "login.js",
    "processors.js",
    "rates.js",
    "streams.js",
    "tail.js",
)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def routes() -> list[BaseRoute]:
    return [
        Route("/console", page(STATIC / "console" / "index.html", CSP), methods=["GET"]),
        Mount("/console/assets", app=Assets(STATIC / "console", FILES)),
    ]

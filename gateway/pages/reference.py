"""`GET /docs`: the API reference, Swagger UI (from the `swagger-ui-py` distribution) over `/openapi.json`.

Swagger UI is loaded from the files that distribution ships (`swagger_ui/static`); the package itself is never
imported (it brings web-framework handlers and templating the gateway does not use). Only the two files the page
needs are served. The page's own script turns the online validator badge off: it would call a public server.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route

from gateway.pages.assets import STATIC, Assets, page

SWAGGER_UI_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
OWN_FILES = ("reference.js",)
# Swagger UI sets inline styles and shows images as data: URIs; scripts and requests stay on this origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def swagger_ui_static() -> Path:
    """The directory of Swagger UI's files inside the installed `swagger-ui-py` distribution."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py distribution is not installed; /docs needs its files")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def routes() -> list[BaseRoute]:
    return [
        Route("/docs", page(STATIC / "docs" / "index.html", CSP), methods=["GET"]),
        Mount("/docs/swagger-ui", app=Assets(swagger_ui_static(), SWAGGER_UI_FILES)),
        Mount("/docs/assets", app=Assets(STATIC / "docs", OWN_FILES)),
    ]

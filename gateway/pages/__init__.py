"""The browser pages the gateway serves beside its API: `/docs` (the API reference, Swagger UI over
`/openapi.json`) and `/console` (an operator console over the public API).

Both are public like `/openapi.json`: a page and its scripts hold no data. Whatever they show comes from the
API, called from the browser with the bearer token the user enters. Every asset is a file of this package or of
the `swagger-ui-py` distribution, served from this process (no CDN), and each page's Content-Security-Policy
lets it load nothing from anywhere else.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.pages import console, reference


def routes() -> list[BaseRoute]:
    return [*reference.routes(), *console.routes()]

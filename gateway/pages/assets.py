"""Serving a page and its files: a fixed set of static files per mount, and the security headers of a page."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Collection
from importlib.resources import files
from os import PathLike
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(str(files("gateway.pages") / "static"))


class Assets(StaticFiles):
    """`StaticFiles` over one directory that answers only for `names` (404 for anything else in it)."""

    def __init__(self, directory: Path, names: Collection[str]):
        super().__init__(directory=directory, check_dir=True)
        self.names = frozenset(names)
        missing = sorted(name for name in self.names if not (directory / name).is_file())
        if missing:
            # A broken install (package data left out) fails at startup, not as a blank page.
            raise RuntimeError(f"page assets missing from {directory}: {', '.join(missing)}")

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path not in self.names:
            return "", None
        return super().lookup_path(path)

    def file_response(
        self, full_path: PathLike[str] | str, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # Revalidated on every load (a 304 while the ETag holds), so a page never runs an upgraded gateway's
        # HTML with a previous version's scripts.
        response.headers["cache-control"] = "no-cache"
        response.headers["x-content-type-options"] = "nosniff"
        return response


def page_response(html: str, csp: str) -> Response:
    """An HTML page that may load only what `csp` allows, never framed, always revalidated."""
    return HTMLResponse(
        html,
        headers={
            "content-security-policy": csp,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-cache",
        },
    )


def page(path: Path, csp: str) -> Callable[[Request], Awaitable[Response]]:
    """A route endpoint answering the HTML file at `path`, read once."""
    html = path.read_text(encoding="utf-8")

    async def endpoint(_: Request) -> Response:
        return page_response(html, csp)

    return endpoint

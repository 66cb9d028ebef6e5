from __future__ import annotations

from tests.integration.conftest import admin, gateway, make_gateway, new_stream

__all__ = ["admin", "gateway", "make_gateway", "new_stream"]

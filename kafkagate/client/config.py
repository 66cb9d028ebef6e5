"""Where the gateway is and which token to send: arguments first, then `KAFKAGATE_URL` and `KAFKAGATE_TOKEN`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_URL = "http://127.0.0.1:8000"  # `kafkagate serve`'s default KAFKAGATE_HOST and KAFKAGATE_PORT
URL_VARIABLE = "KAFKAGATE_URL"
TOKEN_VARIABLE = "KAFKAGATE_TOKEN"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True)
class Connection:
    url: str
    token: str | None

    @classmethod
    def resolve(
        cls, url: str | None = None, token: str | None = None, environ: Mapping[str, str] | None = None
    ) -> Connection:
        env = os.environ if environ is None else environ
        return cls(url or env.get(URL_VARIABLE) or DEFAULT_URL, token or env.get(TOKEN_VARIABLE) or None)

    def headers(self) -> dict[str, str]:
        headers = {"user-agent": "kafkagate-client/0.1"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

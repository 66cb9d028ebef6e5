from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAGATE_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("KAFKAGATE_MAX_BODY_BYTES", "2097152")
    settings = Settings()
    assert settings.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.max_body_bytes == 2097152


def test_defaults_follow_the_contract() -> None:
    settings = Settings()
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.consumer_idle_timeout_ms == 300_000


def test_invalid_values_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAGATE_PORT", "-1")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_inconsistent_values_fail_closed() -> None:
    with pytest.raises(ValidationError, match="KAFKAGATE_CONSUME_MAX_BYTES"):
        Settings(max_body_bytes=4 * 1024 * 1024, consume_max_bytes=1024 * 1024)


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(bootstrap_server="typo")  # type: ignore[call-arg]

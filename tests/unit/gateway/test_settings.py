from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings

TOKEN = "t" * 32


@pytest.fixture(autouse=True)
def _root_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAGATE_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("KAFKAGATE_AUTH", raising=False)


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


def test_auth_is_required_by_default_and_needs_a_strong_root_token(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().auth == "required"
    monkeypatch.delenv("KAFKAGATE_ADMIN_TOKEN")
    with pytest.raises(ValidationError, match="KAFKAGATE_ADMIN_TOKEN"):
        Settings()
    monkeypatch.setenv("KAFKAGATE_ADMIN_TOKEN", "short")
    with pytest.raises(ValidationError, match="KAFKAGATE_ADMIN_TOKEN"):
        Settings()


def test_an_open_gateway_needs_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKAGATE_ADMIN_TOKEN")
    monkeypatch.setenv("KAFKAGATE_AUTH", "off")
    assert Settings().admin_token is None


def test_the_root_token_is_never_printed() -> None:
    assert TOKEN not in repr(Settings())


def test_a_weak_jwt_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKAGATE_JWT_SECRET"):
        Settings(jwt_secret="short")  # type: ignore[arg-type]


@pytest.mark.parametrize("grace_s", [1, 2, 3, 10, 30, 120])
def test_the_shutdown_steps_fit_in_the_grace(grace_s: int) -> None:
    settings = Settings(auth="off", shutdown_grace_s=grace_s)
    assert 0 < settings.shutdown_close_s <= 10
    assert settings.shutdown_requests_s >= 0
    # Half a second stays for uvicorn's own steps between the two.
    assert settings.shutdown_requests_s + settings.shutdown_close_s + 0.5 <= grace_s


def test_observability_defaults_and_their_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert (settings.log_format, settings.access_log, settings.metrics_token) == ("text", True, None)
    assert (settings.metrics_max_streams, settings.worker_metrics_port) == (1000, 0)
    monkeypatch.setenv("KAFKAGATE_LOG_FORMAT", "yaml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()
    monkeypatch.delenv("KAFKAGATE_LOG_FORMAT")
    with pytest.raises(ValidationError, match="KAFKAGATE_METRICS_TOKEN"):
        Settings(metrics_token="short")
    with pytest.raises(ValidationError, match="metrics_max_streams"):
        Settings(metrics_max_streams=0)

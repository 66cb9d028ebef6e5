"""compose.yaml cannot run here (no Docker engine), so check its wiring by reading it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def test_gateway_points_at_the_kafka_service() -> None:
    services = load()["services"]
    kafka, gateway = services["kafka"], services["gateway"]
    assert kafka["image"].startswith("apache/kafka:4.")
    bootstrap = gateway["environment"]["KAFKAGATE_BOOTSTRAP_SERVERS"]
    host, port = bootstrap.split(":")
    assert host == "kafka"
    advertised = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"kafka:{port}" in advertised
    assert gateway["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_kafka_runs_kraft_single_node() -> None:
    env = load()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    assert str(env["KAFKA_NODE_ID"]) in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]


def test_gateway_image_builds_from_the_repository() -> None:
    assert load()["services"]["gateway"]["build"] == "."
    assert (ROOT / "Dockerfile").exists()


def test_processor_worker_runs_beside_the_gateway() -> None:
    services = load()["services"]
    worker = services["worker"]
    assert worker["command"] == ["kafkagate", "worker"]
    assert (
        worker["environment"]["KAFKAGATE_BOOTSTRAP_SERVERS"]
        == services["gateway"]["environment"]["KAFKAGATE_BOOTSTRAP_SERVERS"]
    )


def test_the_composed_gateway_requires_auth_and_a_root_token_from_the_environment() -> None:
    env = load()["services"]["gateway"]["environment"]
    assert env["KAFKAGATE_AUTH"] == "required"
    # `${VAR:?message}`: compose refuses to start without it instead of running an open gateway.
    assert env["KAFKAGATE_ADMIN_TOKEN"].startswith("${KAFKAGATE_ADMIN_TOKEN:?")

"""The node layout and broker configs `scripts/kafka.py` writes: one combined node, or brokers beside a
dedicated controller."""

from __future__ import annotations

from pathlib import Path

from scripts import kafka


def props(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_one_port_is_one_combined_node_in_the_dir_itself(tmp_path: Path) -> None:
    (node,) = kafka.layout(tmp_path, [9092], 9093)
    assert (node.node_id, node.roles, node.dir, node.port) == (1, "broker,controller", tmp_path, 9092)
    config = props(kafka.write_config(node, 1, 9093, {"num.partitions": "1"}))
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert config["offsets.topic.replication.factor"] == "1"
    assert config["num.partitions"] == "1"  # overrides win


def test_three_ports_are_three_brokers_and_a_controller_of_their_own(tmp_path: Path) -> None:
    controller, *brokers = kafka.layout(tmp_path, [9192, 9193, 9194], 9195)
    assert (controller.roles, controller.dir) == ("controller", tmp_path / "controller")
    assert [(b.node_id, b.roles, b.dir.name, b.port) for b in brokers] == [
        (1, "broker", "broker-1", 9192),
        (2, "broker", "broker-2", 9193),
        (3, "broker", "broker-3", 9194),
    ]
    voters = f"{kafka.CONTROLLER_ID}@127.0.0.1:9195"
    control = props(kafka.write_config(controller, 3, 9195, {}))
    assert (control["listeners"], control["controller.quorum.voters"]) == ("CONTROLLER://127.0.0.1:9195", voters)
    assert "advertised.listeners" not in control
    broker = props(kafka.write_config(brokers[1], 3, 9195, {}))
    assert broker["listeners"] == broker["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9193"
    assert broker["controller.quorum.voters"] == voters
    assert broker["log.dirs"] == str(tmp_path / "broker-2" / "data")
    assert (broker["offsets.topic.replication.factor"], broker["transaction.state.log.min.isr"]) == ("3", "2")
    assert (tmp_path / "broker-2" / "ports").read_text() == "9193 9195\n"


def test_every_node_of_a_cluster_shares_one_cluster_id(tmp_path: Path) -> None:
    assert kafka.cluster_id(tmp_path) == kafka.cluster_id(tmp_path)
    assert kafka.node_dirs(tmp_path)[-1] == tmp_path / "controller"

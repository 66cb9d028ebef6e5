#!/usr/bin/env python3
"""Install and run Apache Kafka (KRaft) without Docker: one node, or a cluster of brokers.

    python scripts/kafka.py install                 # jars from Maven Central into the cache dir
    python scripts/kafka.py up   [--dir D --port P --controller-port C]
    python scripts/kafka.py up   --dir D --port P1 --port P2 --port P3    # three brokers and a controller
    python scripts/kafka.py down [--dir D]
    python scripts/kafka.py status [--dir D]

The broker jars come from Maven Central (`org.apache.kafka:kafka_2.13` and its runtime dependencies, fetched by
`mvn dependency:copy-dependencies`) into `~/.cache/kafkagate/kafka-<version>/libs`, or from an existing install
named by `KAFKA_HOME` (its `libs/` folder). `up` formats a KRaft storage dir on first use, starts one combined
broker+controller with a small heap (or, given several ports, one broker per port beside a dedicated
controller: see `layout`), and returns only once every broker accepts a produce request. It is idempotent: nodes
already running from the same dir are reused, so after a node is killed the same `up` starts just that one
again. It prints the bootstrap address (comma-separated for a cluster) as its only line on stdout.

Only the standard library is needed for install/up/down; the readiness probe uses aiokafka when it is importable
and falls back to a metadata request over a raw socket otherwise.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

if __package__:  # imported as scripts.kafka (tests)
    from scripts.kafka_readiness import ready
    from scripts.maven import maven_install
else:  # run as `python scripts/kafka.py`: its folder is on sys.path
    from kafka_readiness import ready
    from maven import maven_install

KAFKA_VERSION = os.environ.get("KAFKAGATE_KAFKA_VERSION", "4.1.1")
LOG4J_VERSION = "2.24.3"
CACHE_DIR = Path(os.environ.get("KAFKAGATE_CACHE_DIR", Path.home() / ".cache" / "kafkagate"))
DEFAULT_DIR = Path(os.environ.get("KAFKAGATE_KAFKA_DIR", CACHE_DIR / "broker-9092"))
HEAP_OPTS = os.environ.get("KAFKA_HEAP_OPTS", "")  # overrides both defaults below
SINGLE_HEAP_OPTS = "-Xms256m -Xmx512m"
CLUSTER_HEAP_OPTS = "-Xms256m -Xmx384m"  # per broker of a cluster: three of them and a controller on a laptop
CONTROLLER_HEAP_OPTS = "-Xms128m -Xmx256m"
CONTROLLER_ID = 100

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kafkagate</groupId><artifactId>kafka-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="{log}" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
"""


def fail(message: str) -> None:
    print(f"kafka.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def libs_dir() -> Path:
    """Return a folder of broker jars, installing them from Maven Central when needed."""
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            fail(f"KAFKA_HOME={home} has no libs/kafka_2.13-*.jar")
        return libs
    return maven_install(
        CACHE_DIR / f"kafka-{KAFKA_VERSION}",
        POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION),
        f"Apache Kafka {KAFKA_VERSION}",
        "Maven (mvn) is required to install Kafka; or set KAFKA_HOME to an Apache Kafka install",
    )


def java() -> str:
    found = shutil.which("java")
    if found is None:
        fail("Java 17+ is required (java not found on PATH)")
    return str(found)


def classpath() -> str:
    return str(libs_dir() / "*")


@dataclass(frozen=True)
class Node:
    """One JVM of a cluster: its id, KRaft roles, state dir and the port it listens on."""

    node_id: int
    roles: str  # "broker,controller", "broker" or "controller"
    dir: Path
    port: int

    @property
    def is_broker(self) -> bool:
        return "broker" in self.roles


def layout(data_dir: Path, ports: list[int], controller_port: int) -> list[Node]:
    """One port: one combined broker+controller in `data_dir` itself. Several ports: a dedicated controller
    (`data_dir/controller`) and one broker per port (`data_dir/broker-<id>`), so killing brokers never costs
    the controller quorum: the controller fences a dead broker and shrinks its partitions' ISRs, which is what
    makes a produce with too few in-sync replicas fail fast with NOT_ENOUGH_REPLICAS."""
    if len(ports) == 1:
        return [Node(1, "broker,controller", data_dir, ports[0])]
    controller = Node(CONTROLLER_ID, "controller", data_dir / "controller", controller_port)
    return [controller, *(Node(i, "broker", data_dir / f"broker-{i}", p) for i, p in enumerate(ports, start=1))]


def write_config(node: Node, brokers: int, controller_port: int, overrides: dict[str, str]) -> Path:
    controller_id = 1 if brokers == 1 else CONTROLLER_ID
    replicas, min_isr = str(min(3, brokers)), str(min(2, brokers))
    listeners = []
    if node.is_broker:
        listeners.append(f"PLAINTEXT://127.0.0.1:{node.port}")
    if "controller" in node.roles:
        listeners.append(f"CONTROLLER://127.0.0.1:{controller_port}")
    props = {
        "process.roles": node.roles,
        "node.id": str(node.node_id),
        "controller.quorum.voters": f"{controller_id}@127.0.0.1:{controller_port}",
        "listeners": ",".join(listeners),
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(node.dir / "data"),
        "num.partitions": "3",
        "default.replication.factor": replicas,
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "3",
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
        "log.segment.bytes": str(64 * 1024 * 1024),
    }
    if node.is_broker:
        props["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{node.port}"
        props["inter.broker.listener.name"] = "PLAINTEXT"
    props.update(overrides)
    node.dir.mkdir(parents=True, exist_ok=True)
    path = node.dir / "server.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    (node.dir / "log4j2.xml").write_text(LOG4J2.format(log=node.dir / "broker.log"))
    (node.dir / "ports").write_text(f"{node.port} {controller_port}\n")
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed node nobody has reaped yet still answers signal 0; a zombie is dead for every purpose here.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def read_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "broker.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        return None
    return pid if pid_alive(pid) else None


def bootstrap_of(data_dir: Path) -> str:
    return (data_dir / "bootstrap").read_text().strip()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def cluster_id(data_dir: Path) -> str:
    """The id every node of `data_dir`'s cluster is formatted with, made on first use."""
    path = data_dir / "cluster.id"
    if not path.exists():
        # A base64 id may start with "-"; it is passed as `--cluster-id=...`, never as a separate argument.
        path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
    return path.read_text().strip()


def format_storage(nodes: list[tuple[Node, Path]], cid: str) -> None:
    """Format the KRaft storage of every node that has none yet, all at once (each is a JVM start)."""
    cp = classpath()
    running = []
    for node, config in nodes:
        if (node.dir / "data" / "meta.properties").exists():
            continue
        with (node.dir / "broker.log").open("a") as out:
            command = [java(), "-cp", cp, "kafka.tools.StorageTool", "format", f"--cluster-id={cid}", "-c", str(config)]
            running.append((node, subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)))
    for node, proc in running:
        if proc.wait() != 0:
            fail(f"formatting storage failed; see {node.dir / 'broker.log'}")


def start(node: Node, config: Path) -> subprocess.Popen[bytes]:
    cp = classpath()
    log = node.dir / "broker.log"
    heap = HEAP_OPTS or {"broker": CLUSTER_HEAP_OPTS, "controller": CONTROLLER_HEAP_OPTS}.get(
        node.roles, SINGLE_HEAP_OPTS
    )
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                java(),
                *heap.split(),
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={node.dir / 'log4j2.xml'}",
                f"-Dkafka.logs.dir={node.dir}",
                "-cp",
                cp,
                "kafka.Kafka",
                str(config),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (node.dir / "broker.pid").write_text(str(proc.pid))
    return proc


def up(data_dir: Path, ports: list[int], controller_port: int, timeout_s: float, overrides: dict[str, str]) -> str:
    """Start every node of the layout that is not running (all of them the first time, a killed one later) and
    wait until the whole cluster serves; nodes already running from `data_dir` are reused."""
    data_dir.mkdir(parents=True, exist_ok=True)
    nodes = layout(data_dir, ports, controller_port)
    bootstrap = ",".join(f"127.0.0.1:{port}" for port in ports)
    cid = cluster_id(data_dir)
    configs: list[tuple[Node, Path]] = []
    for node in nodes:
        if read_pid(node.dir) is not None:
            continue
        if port_open(node.port if node.is_broker else controller_port):
            fail(f"port {node.port} is already in use by another process")
        configs.append((node, write_config(node, len(ports), controller_port, overrides)))
    format_storage(configs, cid)
    started = [(node, start(node, config)) for node, config in configs]
    (data_dir / "bootstrap").write_text(bootstrap + "\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for node, proc in started:
            if proc.poll() is not None:
                fail(f"node {node.node_id} exited with code {proc.returncode}; see {node.dir / 'broker.log'}")
        if ready(ports):
            print(bootstrap)
            return bootstrap
        time.sleep(0.5)
    for _, proc in started:
        proc.kill()
    fail(f"Kafka not ready after {timeout_s:.0f}s; see the broker.log files under {data_dir}")
    return ""


def node_dirs(data_dir: Path) -> list[Path]:
    """The state dirs of `data_dir`'s nodes, brokers before the controller (brokers shut down through it)."""
    return [data_dir, *sorted(data_dir.glob("broker-*")), data_dir / "controller"]


def stop(dirs: list[Path], timeout_s: float) -> None:
    pids = [(d, pid) for d in dirs if (pid := read_pid(d)) is not None]
    for _, pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(pid_alive(pid) for _, pid in pids):
        time.sleep(0.2)
    for d, pid in pids:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        (d / "broker.pid").unlink(missing_ok=True)


def down(data_dir: Path, timeout_s: float = 30) -> None:
    dirs = node_dirs(data_dir)
    stop(dirs[:-1], timeout_s)
    stop(dirs[-1:], timeout_s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="cluster state dir (data, logs, pids)")
    parser.add_argument(
        "--port", type=int, action="append", help="a broker's port; repeat for a cluster (default: one on 9092)"
    )
    parser.add_argument("--controller-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="broker property to add or override (repeat)"
    )
    args = parser.parse_args()
    data_dir: Path = args.dir.resolve()
    if args.command == "install":
        print(libs_dir())
    elif args.command == "up":
        overrides = dict(item.split("=", 1) for item in args.set if "=" in item)
        if len(overrides) != len(args.set):
            fail("--set takes KEY=VALUE")
        ports: list[int] = args.port or [9092]
        if len(set(ports)) != len(ports):
            fail("--port values must differ")
        up(data_dir, ports, args.controller_port or free_port(), args.timeout, overrides)
    elif args.command == "down":
        down(data_dir)
    else:
        running = [(d.name, pid) for d in node_dirs(data_dir) if (pid := read_pid(d)) is not None]
        if not running:
            print("stopped")
            raise SystemExit(3)
        pids = " ".join(f"{name}={pid}" for name, pid in running) if len(running) > 1 else f"pid={running[0][1]}"
        print(f"running {pids} bootstrap={bootstrap_of(data_dir)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Install and run a single-node Apache Kafka (KRaft) without Docker.

    python scripts/kafka.py install                 # jars from Maven Central into the cache dir
    python scripts/kafka.py up   [--dir D --port P --controller-port C]
    python scripts/kafka.py down [--dir D]
    python scripts/kafka.py status [--dir D]

The broker jars come from Maven Central (`org.apache.kafka:kafka_2.13` and its runtime dependencies, fetched by
`mvn dependency:copy-dependencies`) into `~/.cache/kafkagate/kafka-<version>/libs`, or from an existing install
named by `KAFKA_HOME` (its `libs/` folder). `up` formats a KRaft storage dir on first use, starts one combined
broker+controller with a small heap, and returns only once the broker accepts a produce request. It is
idempotent: a broker already running from the same dir is reused.

Only the standard library is needed for install/up/down; the readiness probe uses aiokafka when it is importable
and falls back to a metadata request over a raw socket otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

KAFKA_VERSION = os.environ.get("KAFKAGATE_KAFKA_VERSION", "4.1.1")
LOG4J_VERSION = "2.24.3"
CACHE_DIR = Path(os.environ.get("KAFKAGATE_CACHE_DIR", Path.home() / ".cache" / "kafkagate"))
DEFAULT_DIR = Path(os.environ.get("KAFKAGATE_KAFKA_DIR", CACHE_DIR / "broker-9092"))
HEAP_OPTS = os.environ.get("KAFKA_HEAP_OPTS", "-Xms256m -Xmx512m")

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
    target = CACHE_DIR / f"kafka-{KAFKA_VERSION}"
    libs = target / "libs"
    if (target / ".complete").exists():
        return libs
    if shutil.which("mvn") is None:
        fail("Maven (mvn) is required to install Kafka; or set KAFKA_HOME to an Apache Kafka install")
    target.mkdir(parents=True, exist_ok=True)
    (target / "pom.xml").write_text(POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    print(f"installing Apache Kafka {KAFKA_VERSION} from Maven Central into {libs}", file=sys.stderr)
    # Maven writes to stdout even with -q (ANSI resets among them); stdout is reserved for what this script
    # prints (the libs dir, the bootstrap address), so Maven's output goes to stderr.
    result = subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "-Dstyle.color=never",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        cwd=target,
        stdout=sys.stderr,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        fail(f"mvn failed with exit code {result.returncode}")
    (target / ".complete").write_text(KAFKA_VERSION)
    return libs


def java() -> str:
    found = shutil.which("java")
    if found is None:
        fail("Java 17+ is required (java not found on PATH)")
    return str(found)


def classpath() -> str:
    return str(libs_dir() / "*")


def write_config(data_dir: Path, port: int, controller_port: int, overrides: dict[str, str]) -> Path:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "data"),
        "num.partitions": "3",
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "3",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
        "log.segment.bytes": str(64 * 1024 * 1024),
        **overrides,
    }
    path = data_dir / "server.properties"
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    (data_dir / "log4j2.xml").write_text(LOG4J2.format(log=data_dir / "broker.log"))
    (data_dir / "ports").write_text(f"{port} {controller_port}\n")
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    port = (data_dir / "ports").read_text().split()[0]
    return f"127.0.0.1:{port}"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def metadata_ok(port: int) -> bool:
    """Send a MetadataRequest v12 and check that the reply lists at least one broker."""
    client = b"kafkagate-probe"
    body = struct.pack(">hhi", 3, 12, 1) + struct.pack(">h", len(client)) + client  # api, version, correlation
    body += b"\x00"  # request header tagged fields
    body += b"\x00"  # topics: null compact array
    body += b"\x01"  # allow_auto_topic_creation
    body += b"\x00"  # include_topic_authorized_operations
    body += b"\x00"  # tagged fields
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = sock.recv(4)
            if len(head) < 4:
                return False
            size = struct.unpack(">i", head)[0]
            data = b""
            while len(data) < size:
                chunk = sock.recv(size - len(data))
                if not chunk:
                    return False
                data += chunk
    except OSError:
        return False
    # correlation id (4) + header tagged fields (1) + throttle (4) + brokers compact array length (varint)
    return len(data) > 9 and data[9] > 1


async def produce_probe(bootstrap: str) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic("__kafkagate_readiness", 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000)
    await producer.start()
    try:
        await producer.send_and_wait("__kafkagate_readiness", b"ready")
    finally:
        await producer.stop()


def ready(port: int) -> bool:
    if not metadata_ok(port):
        return False
    try:
        import aiokafka  # noqa: F401
    except ImportError:
        return True
    try:
        asyncio.run(asyncio.wait_for(produce_probe(f"127.0.0.1:{port}"), 15))
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
    return True


def up(data_dir: Path, port: int, controller_port: int, timeout_s: float, overrides: dict[str, str]) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    pid = read_pid(data_dir)
    if pid is not None:
        bootstrap = bootstrap_of(data_dir)
        if ready(int(bootstrap.rsplit(":", 1)[1])):
            print(bootstrap)
            return bootstrap
        fail(f"broker pid {pid} from {data_dir} is running but not ready; see {data_dir / 'broker.log'}")
    if port_open(port):
        fail(f"port {port} is already in use by another process")
    cp = classpath()
    config = write_config(data_dir, port, controller_port, overrides)
    log = data_dir / "broker.log"
    if not (data_dir / "data" / "meta.properties").exists():
        # `--cluster-id=` form: a base64 id may start with "-", which a separate argument would parse as an option.
        cluster_id = uuid.uuid4().bytes
        import base64

        cid = base64.urlsafe_b64encode(cluster_id).decode().rstrip("=")
        with log.open("a") as out:
            result = subprocess.run(
                [java(), "-cp", cp, "kafka.tools.StorageTool", "format", f"--cluster-id={cid}", "-c", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            fail(f"formatting storage failed; see {log}")
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                java(),
                *HEAP_OPTS.split(),
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={data_dir / 'log4j2.xml'}",
                f"-Dkafka.logs.dir={data_dir}",
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
    (data_dir / "broker.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"broker exited with code {proc.returncode}; see {log}")
        if ready(port):
            bootstrap = f"127.0.0.1:{port}"
            print(bootstrap)
            return bootstrap
        time.sleep(0.5)
    proc.kill()
    fail(f"broker not ready after {timeout_s:.0f}s; see {log}")
    return ""


def down(data_dir: Path, timeout_s: float = 30) -> None:
    pid = read_pid(data_dir)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    (data_dir / "broker.pid").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="broker state dir (data, logs, pid)")
    parser.add_argument("--port", type=int, default=9092)
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
        up(data_dir, args.port, args.controller_port or free_port(), args.timeout, overrides)
    elif args.command == "down":
        down(data_dir)
    else:
        pid = read_pid(data_dir)
        if pid is None:
            print("stopped")
            raise SystemExit(3)
        print(f"running pid={pid} bootstrap={bootstrap_of(data_dir)}")


if __name__ == "__main__":
    main()

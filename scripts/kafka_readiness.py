"""When a Kafka cluster started by `scripts/kafka.py` serves: every broker lists all of them, and a produce with
`acks=all` succeeds.

Only the standard library is needed; the produce probe uses aiokafka when it is importable and the check falls
back to the metadata request over a raw socket otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct


def metadata_ok(port: int, brokers: int) -> bool:
    """Send a MetadataRequest v12 and check that the reply lists at least `brokers` brokers."""
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
    # correlation id (4) + header tagged fields (1) + throttle (4) + brokers compact array length (varint: N + 1)
    return len(data) > 9 and data[9] > brokers


async def produce_probe(bootstrap: str, replicas: int) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic("__kafkagate_readiness", 1, replicas)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000)
    await producer.start()
    try:
        await producer.send_and_wait("__kafkagate_readiness", b"ready")
    finally:
        await producer.stop()


def ready(ports: list[int]) -> bool:
    """Every broker answers metadata listing all of them, and a produce with acks=all succeeds."""
    if not all(metadata_ok(port, len(ports)) for port in ports):
        return False
    try:
        import aiokafka  # noqa: F401
    except ImportError:
        return True
    bootstrap = ",".join(f"127.0.0.1:{port}" for port in ports)
    try:
        asyncio.run(asyncio.wait_for(produce_probe(bootstrap, min(3, len(ports))), 15))
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
    return True

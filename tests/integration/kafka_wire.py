"""An independent oracle for topic ids: a Metadata v12 request encoded by hand and sent over a plain socket,
sharing no code with the gateway's adapter (gateway/kafka/metadata.py) nor with aiokafka's protocol classes."""

from __future__ import annotations

import asyncio
import struct
import uuid


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def int16(self) -> int:
        return int(struct.unpack(">h", self.take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def uvarint(self) -> int:
        shift = result = 0
        while True:
            byte = self.take(1)[0]
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def compact_string(self) -> str | None:
        length = self.uvarint() - 1
        return None if length < 0 else self.take(length).decode()

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


async def topic_id(bootstrap: str, topic: str) -> uuid.UUID:
    """The id Kafka reports for `topic` (Metadata v12, asked of the bootstrap broker)."""
    host, port = bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)
    client_id = b"oracle"
    header = struct.pack(">hhih", 3, 12, 7, len(client_id)) + client_id + _uvarint(0)
    name = topic.encode()
    body = _uvarint(2) + bytes(16) + _uvarint(len(name) + 1) + name + _uvarint(0) + b"\x00\x00" + _uvarint(0)
    message = header + body
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(struct.pack(">i", len(message)) + message)
        await writer.drain()
        (size,) = struct.unpack(">i", await reader.readexactly(4))
        response = _Reader(await reader.readexactly(size))
    finally:
        writer.close()
        await writer.wait_closed()
    assert response.int32() == 7  # correlation id
    response.skip_tags()
    response.int32()  # throttle_time_ms
    for _ in range(response.uvarint() - 1):  # brokers
        response.int32()
        response.compact_string()
        response.int32()
        response.compact_string()
        response.skip_tags()
    response.compact_string()  # cluster_id
    response.int32()  # controller_id
    assert response.uvarint() - 1 == 1  # one topic
    error_code = response.int16()
    assert error_code == 0, f"Kafka answered error {error_code} for {topic!r}"
    assert response.compact_string() == topic
    return uuid.UUID(bytes=response.take(16))

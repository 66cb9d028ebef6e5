"""Intake event ids: `evt_` + 24 Crockford base32 characters that locate the event in the intake stream.

    evt_<24 characters>  =  base32(check (2) | mask(version (1) | partition (4) | offset (8)))
                            payload fields big-endian; check = BLAKE2s(payload)[:2];
                            mask = XOR with BLAKE2s(check)[:13]

The id carries the record's position, so any gateway resolves it, before or after a restart, by reading that
one record: no index, no database. The stream is not in the id: it is the caller's own intake stream, so an
id can only ever name an event of the caller's namespace. The check bytes make a mistyped or made-up id fail
to decode (it is answered 404 without a read), and the mask spreads them over the whole id, so neighbouring
events do not get ids that read as counters. Masking is not encryption and the position is not a secret:
isolation comes from the namespace. Only the canonical spelling decodes (upper case), so one event has exactly
one id.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

PREFIX = "evt_"
VERSION = 1
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_BYTES = 15  # 120 bits: exactly 24 base32 characters
ID_CHARS = len(PREFIX) + _BYTES * 8 // 5
MAX_PARTITION = 2**31 - 1
MAX_OFFSET = 2**63 - 1


class EventPosition(NamedTuple):
    partition: int
    offset: int


_PAYLOAD_BYTES = 13
_CHECK_BYTES = _BYTES - _PAYLOAD_BYTES


def _check(payload: bytes) -> bytes:
    return hashlib.blake2s(payload, digest_size=_CHECK_BYTES, person=b"kgevt").digest()


def _mask(check: bytes, data: bytes) -> bytes:
    keystream = hashlib.blake2s(check, digest_size=_PAYLOAD_BYTES, person=b"kgmask").digest()
    return bytes(a ^ b for a, b in zip(data, keystream, strict=True))


def encode(partition: int, offset: int) -> str:
    if not (0 <= partition <= MAX_PARTITION and 0 <= offset <= MAX_OFFSET):
        raise ValueError(f"no event id for partition {partition}, offset {offset}")
    payload = bytes([VERSION]) + partition.to_bytes(4, "big") + offset.to_bytes(8, "big")
    check = _check(payload)
    number = int.from_bytes(check + _mask(check, payload), "big")
    chars = [ALPHABET[(number >> shift) & 31] for shift in range(_BYTES * 8 - 5, -1, -5)]
    return PREFIX + "".join(chars)


def decode(event_id: str) -> EventPosition | None:
    """The position `event_id` names, or None when it is not an intake event id (anything at all)."""
    if len(event_id) != ID_CHARS or not event_id.startswith(PREFIX):
        return None
    number = 0
    for char in event_id[len(PREFIX) :]:
        value = _VALUES.get(char)
        if value is None:
            return None
        number = number << 5 | value
    raw = number.to_bytes(_BYTES, "big")
    check = raw[:_CHECK_BYTES]
    payload = _mask(check, raw[_CHECK_BYTES:])
    if payload[0] != VERSION or check != _check(payload):
        return None
    partition = int.from_bytes(payload[1:5], "big")
    offset = int.from_bytes(payload[5:13], "big")
    if partition > MAX_PARTITION or offset > MAX_OFFSET:
        return None
    return EventPosition(partition, offset)

"""Intake event ids: opaque, fixed-length, round-trip, and anything else decodes to nothing (a 404, not a 500)."""

from __future__ import annotations

import random
import re

import pytest

from gateway.seeds.intake_ids import ALPHABET, MAX_OFFSET, MAX_PARTITION, EventPosition, decode, encode

LOOKS_LIKE_THE_DOCUMENT = re.compile(r"evt_[0-9A-Z]{22,26}")


@pytest.mark.parametrize(
    ("partition", "offset"), [(0, 0), (0, 1), (2, 17), (11, 123_456_789), (MAX_PARTITION, MAX_OFFSET)]
)
def test_round_trip(partition: int, offset: int) -> None:
    event_id = encode(partition, offset)
    assert LOOKS_LIKE_THE_DOCUMENT.fullmatch(event_id)
    assert len(event_id) == len("evt_") + 24
    assert decode(event_id) == EventPosition(partition, offset)


def test_neighbouring_events_do_not_read_as_counters() -> None:
    ids = [encode(0, offset)[4:] for offset in range(50)]
    assert len(set(ids)) == 50
    # No shared prefix or suffix that would give the position away at a glance.
    assert len({event_id[:4] for event_id in ids}) > 40
    assert len({event_id[-4:] for event_id in ids}) > 40
    assert all("_" not in event_id for event_id in ids)


@pytest.mark.parametrize(("partition", "offset"), [(-1, 0), (0, -1), (MAX_PARTITION + 1, 0), (0, MAX_OFFSET + 1)])
def test_positions_outside_kafkas_ranges_have_no_id(partition: int, offset: int) -> None:
    with pytest.raises(ValueError, match="no event id"):
        encode(partition, offset)


VALID = encode(3, 42)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "evt_",
        "evt_0_0",
        "evt_2_17",
        "evt_01HZYXABCDEF1234567890",  # the document's sample id
        VALID.lower(),
        VALID[:-1],
        VALID + "0",
        "abc_" + VALID[4:],
        VALID[:10] + "U" + VALID[11:],  # U is not in Crockford's alphabet
        VALID[:10] + "é" + VALID[11:],
        "evt_" + "Z" * 24,
        "../" + VALID,
    ],
)
def test_anything_else_decodes_to_nothing(garbage: str) -> None:
    assert decode(garbage) is None


def test_changed_characters_are_refused() -> None:
    for i in range(4, len(VALID)):
        for char in ALPHABET:
            if char != VALID[i]:
                assert decode(VALID[:i] + char + VALID[i + 1 :]) is None


def test_random_ids_almost_never_decode() -> None:
    rng = random.Random(4)
    made_up = ("evt_" + "".join(rng.choice(ALPHABET) for _ in range(24)) for _ in range(20_000))
    assert sum(decode(event_id) is not None for event_id in made_up) < 5

"""Fault points: unarmed they do nothing; armed with ``raise:<name>`` they raise once and disarm."""

from __future__ import annotations

from pathlib import Path

import pytest

from processors.faults import InjectedFault, fault_point


def test_nothing_happens_without_a_fault_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKAGATE_FAULT_FILE", raising=False)
    fault_point("aggregate")


def test_a_point_armed_for_another_name_stays_armed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fault = tmp_path / "fault"
    fault.write_text("raise:final-before-send")
    monkeypatch.setenv("KAFKAGATE_FAULT_FILE", str(fault))
    fault_point("aggregate")
    assert fault.read_text() == "raise:final-before-send"


def test_a_raise_point_raises_once_and_disarms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fault = tmp_path / "fault"
    fault.write_text("raise:aggregate\n")
    monkeypatch.setenv("KAFKAGATE_FAULT_FILE", str(fault))
    with pytest.raises(InjectedFault, match="aggregate"):
        fault_point("aggregate")
    assert not fault.exists()
    fault_point("aggregate")  # disarmed: the restarted worker runs on

"""What a chaos test reports: its figures printed (shown by `pytest -s` and in `-rA` output) and written to
`tests/chaos/results/<test>.json`, so the README's figures come from one command."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Figures:
    """Counts of one chaos run. `answers` counts every HTTP answer by status and problem code ("201", "503
    BROKER_UNAVAILABLE"); transport failures (a killed gateway) count as "connection error"."""

    test: str
    started: float = field(default_factory=time.monotonic)
    logical_requests: int = 0
    acknowledged: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)

    def note(self, what: str) -> None:
        """A step of the run, printed with its time (seen with `pytest -s`, and in the report of a failure)."""
        print(f"[{time.monotonic() - self.started:6.1f} s] {self.test}: {what}", flush=True)

    def count(self, response: httpx.Response | None) -> None:
        if response is None:
            self.answers["connection error"] += 1
        elif response.is_success:
            self.answers[str(response.status_code)] += 1
        else:
            code = response.json().get("error", "?") if response.content else "?"
            self.answers[f"{response.status_code} {code}"] += 1

    @property
    def non_2xx(self) -> dict[str, int]:
        return {answer: n for answer, n in sorted(self.answers.items()) if not answer.startswith("2")}

    def report(self) -> dict[str, Any]:
        document = {
            "test": self.test,
            "logical_requests": self.logical_requests,
            "acknowledged": self.acknowledged,
            "answers": dict(sorted(self.answers.items())),
            "non_2xx": self.non_2xx,
            "seconds": round(time.monotonic() - self.started, 1),
            **self.extra,
        }
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{self.test}.json").write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nchaos figures {json.dumps(document)}")
        return document


def table(results: list[dict[str, Any]]) -> str:
    """The latest figures of every chaos test as a markdown table."""
    lines = [
        "| test | logical requests | acknowledged | non-2xx answers | lost | duplicates | notes |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    skip = {"test", "logical_requests", "acknowledged", "answers", "non_2xx", "lost", "duplicates"}
    for r in results:
        non_2xx = ", ".join(f"{answer}: {n}" for answer, n in r["non_2xx"].items()) or "none"
        notes = ", ".join(f"{k}={v}" for k, v in r.items() if k not in skip)
        lines.append(
            f"| {r['test']} | {r['logical_requests']} | {r['acknowledged']} | {non_2xx} | {r.get('lost', '-')} "
            f"| {r.get('duplicates', '-')} | {notes} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    found = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*.json"))]
    print(table(found) if found else f"no results in {RESULTS_DIR}; run `make chaos` first")

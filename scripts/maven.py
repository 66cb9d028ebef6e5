"""Installing jars from Maven Central: the runtime dependencies of a small POM, copied into a cache folder once.
`scripts/kafka.py` installs the broker this way and `scripts/kafka_tools.py` Kafka's own tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _fail(message: str) -> None:
    print(f"maven: {message}", file=sys.stderr)
    raise SystemExit(1)


def maven_install(target: Path, pom: str, what: str, no_maven: str) -> Path:
    """`target/libs`: the runtime dependencies `pom` names, copied from Maven Central once (`.complete` marks a
    finished install, so an interrupted one starts again)."""
    libs = target / "libs"
    if (target / ".complete").exists():
        return libs
    if shutil.which("mvn") is None:
        _fail(no_maven)
    target.mkdir(parents=True, exist_ok=True)
    (target / "pom.xml").write_text(pom)
    print(f"installing {what} from Maven Central into {libs}", file=sys.stderr)
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
        _fail(f"mvn failed with exit code {result.returncode}")
    (target / ".complete").write_text(pom)
    return libs

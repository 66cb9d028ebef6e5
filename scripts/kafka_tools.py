#!/usr/bin/env python3
"""Install and run Kafka's own command-line tools (`org.apache.kafka:kafka-tools`), for the benchmark's Java baseline.

    python scripts/kafka_tools.py install            # jars from Maven Central into the cache dir
    python scripts/kafka_tools.py producer-perf ...  # org.apache.kafka.tools.ProducerPerformance, args passed on

The jars come from Maven Central like the broker's (`scripts/kafka.py`): `mvn dependency:copy-dependencies` of
`kafka-tools` at the broker's version, into `~/.cache/kafkagate/kafka-tools-<version>/libs`, once. Only the
standard library is needed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `scripts.kafka` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.kafka import CACHE_DIR, KAFKA_VERSION, LOG4J_VERSION, fail, java
from scripts.maven import maven_install

PRODUCER_PERFORMANCE = "org.apache.kafka.tools.ProducerPerformance"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kafkagate</groupId><artifactId>kafka-tools-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def tools_dir() -> Path:
    """A folder of kafka-tools jars and their runtime dependencies, installed from Maven Central when needed."""
    return maven_install(
        CACHE_DIR / f"kafka-tools-{KAFKA_VERSION}",
        POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION),
        f"Apache Kafka tools {KAFKA_VERSION}",
        "Maven (mvn) is required to install Kafka's tools",
    )


def producer_performance_argv(arguments: list[str], heap: str = "-Xmx256m") -> list[str]:
    """The java command line of `ProducerPerformance` with `arguments` (its own flags, e.g. `--topic`)."""
    return [java(), heap, "-cp", str(tools_dir() / "*"), PRODUCER_PERFORMANCE, *arguments]


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("install", "producer-perf"):
        fail("usage: kafka_tools.py install | producer-perf ARGS...")
    if sys.argv[1] == "install":
        print(tools_dir())
        return
    raise SystemExit(subprocess.run(producer_performance_argv(sys.argv[2:]), check=False).returncode)


if __name__ == "__main__":
    main()

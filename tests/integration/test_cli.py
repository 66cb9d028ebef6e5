"""The `kafkagate` command line against a real `kafkagate serve` on the real broker: its JSON output, its exit
codes, and two interactive commands driven under a pseudo-terminal (`tail` stopped with Ctrl-C, `produce` with
its progress bar). What `produce` wrote is read back with a plain aiokafka consumer.

Most commands run in-process (`kafkagate.cli.run`, what the console script calls), which saves an interpreter
start per command; the terminal tests, `--watch` and a few exit codes go through the installed console script."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from kafkagate.cli import run
from kafkagate.client import Client
from scripts.launcher import free_port
from tests.integration.client_gateway import ROOT_TOKEN, gateway_url, unique
from tests.integration.conftest import read_all
from tests.integration.terminal import Terminal

pytestmark = pytest.mark.kafka
__all__ = ["gateway_url"]  # the fixture, imported for pytest
KAFKAGATE = str(Path(sys.executable).with_name("kafkagate"))


def environment(url: str, token: str | None = ROOT_TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")}
    env |= {"KAFKAGATE_URL": url, "TERM": "xterm-256color", "COLUMNS": "160"}
    if token is not None:
        env["KAFKAGATE_TOKEN"] = token
    return env


def kafkagate(
    url: str, *args: str, token: str | None = ROOT_TOKEN, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - the installed console script, fixed argv
        [KAFKAGATE, *args], env=environment(url, token), input=stdin, capture_output=True, timeout=120, check=False
    )


def watch_metrics(url: str, processor: str, refreshes: int) -> tuple[list[Any], int]:
    """`processors metrics --watch -o json`: the first `refreshes` lines, then SIGINT (Ctrl-C); the exit code."""
    watch = subprocess.Popen(  # noqa: S603 - the installed console script, fixed argv
        [KAFKAGATE, "processors", "metrics", processor, "--watch", "--interval", "0.3", "-o", "json"],
        env=environment(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert watch.stdout is not None
        lines = [orjson.loads(watch.stdout.readline()) for _ in range(refreshes)]
        watch.send_signal(signal.SIGINT)
        return lines, watch.wait(timeout=30)
    finally:
        if watch.poll() is None:
            watch.kill()
        watch.communicate()


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """`kafkagate ARGS` in this process, against `url`, with `stdin` as standard input."""

    def invoke(url: str, *args: str, token: str | None = ROOT_TOKEN, stdin: bytes = b"") -> Ran:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsysbinary.readouterr()
        options = ["--url", url] + ([] if token is None else ["--token", token])
        code = run([*options, *args])
        out, err = capsysbinary.readouterr()
        return Ran(code, out, err)

    return invoke


def tail_groups(client: Client) -> set[str]:
    return {g.group_id for g in client.groups.list().consumer_groups if g.group_id.startswith("kafkagate-tail-")}


def json_of(result: Ran | subprocess.CompletedProcess[bytes]) -> Any:
    assert result.returncode == 0, result.stderr.decode()
    return orjson.loads(result.stdout)


async def test_streams_commands_and_their_exit_codes(gateway_url: str, cli: Callable[..., Ran]) -> None:
    name = unique("cli")
    created = json_of(cli(gateway_url, "streams", "create", name, "-p", "2", "-c", "retentionMs=3600000", "-o", "json"))
    assert (created["name"], created["partitions"], created["config"]["retentionMs"]) == (name, 2, 3600000)
    assert name in {s["name"] for s in json_of(cli(gateway_url, "--output", "json", "streams", "list"))["streams"]}
    described = json_of(cli(gateway_url, "streams", "describe", name, "-o", "json"))
    assert [p["partition"] for p in described["partitionDetails"]] == [0, 1]
    table = cli(gateway_url, "streams", "describe", name)
    assert table.returncode == 0
    assert "PARTITION" in table.stdout.decode()

    again = cli(gateway_url, "streams", "create", name)
    assert again.returncode == 5
    assert "STREAM_ALREADY_EXISTS" in again.stderr.decode()
    assert "request_id req_" in again.stderr.decode()
    missing = cli(gateway_url, "streams", "describe", unique("missing"), "-o", "json")
    assert missing.returncode == 4
    assert orjson.loads(missing.stderr)["code"] == 1001
    assert cli(gateway_url, "streams", "list", token="kg_wrong_" + "w" * 40).returncode == 3
    assert kafkagate(f"http://127.0.0.1:{free_port()}", "streams", "list").returncode == 7
    assert cli(gateway_url, "streams", "create").returncode == 2
    assert cli(gateway_url, "streams", "list", "--no-such-flag").returncode == 2

    assert json_of(cli(gateway_url, "streams", "delete", name, "-o", "json"))["streamName"] == name
    assert cli(gateway_url, "streams", "describe", name).returncode == 4


async def test_produce_reads_ndjson_and_counts_failures_by_code(
    gateway_url: str, kafka_bootstrap: str, cli: Callable[..., Ran]
) -> None:
    name = unique("cli")
    assert cli(gateway_url, "streams", "create", name, "-p", "1").returncode == 0
    lines = [orjson.dumps({"value": {"n": i}, "key": f"k{i % 3}"}) for i in range(300)]
    lines.insert(10, b"{not json")
    lines.insert(20, orjson.dumps({"value": {"n": -1}, "partition": 7}))  # the stream has one partition
    result = cli(
        gateway_url, "produce", name, "-", "--envelope", "--batch-size", "64", "-o", "json", stdin=b"\n".join(lines)
    )
    assert result.returncode == 6, result.stderr.decode()
    summary = orjson.loads(result.stdout)
    assert summary["published"] == 300
    assert summary["failed"] == {"INVALID_JSON": 1, "VALIDATION_ERROR": 1}
    assert "line 11" in result.stderr.decode()
    landed = await read_all(kafka_bootstrap, name, 300)
    assert sorted(orjson.loads(r.value)["n"] for r in landed) == list(range(300)), "each event once"
    assert {r.key for r in landed} == {b"k0", b"k1", b"k2"}

    clean = cli(gateway_url, "produce", name, "-o", "json", stdin=b'{"n": 1}\n\n{"n": 2}\n')
    assert json_of(clean)["published"] == 2
    assert cli(gateway_url, "produce", unique("missing"), stdin=b"1\n").returncode == 4


async def test_tail_under_a_terminal_prints_events_as_they_arrive_and_stops_on_ctrl_c(gateway_url: str) -> None:
    name = unique("cli")
    with Client(gateway_url, ROOT_TOKEN) as client:
        client.streams.create(name, partitions=2)
        client.events.publish(name, {"first": True}, key="before")
        before = tail_groups(client)
        terminal = Terminal([KAFKAGATE, "tail", name, "--from", "earliest"], environment(gateway_url))
        try:
            terminal.expect(r'"first":true', timeout_s=30)
            client.events.publish_batch(name, [{"value": {"live": i}, "key": "after"} for i in range(3)])
            screen = terminal.expect(r'"live":2', timeout_s=30)
            assert "after" in screen
            terminal.type(b"\x03")  # Ctrl-C, through the terminal's line discipline
            assert terminal.wait(timeout_s=30) == 0
        finally:
            terminal.close()
        assert tail_groups(client) == before, "the throwaway group was deleted"


async def test_produce_under_a_terminal_shows_progress_and_a_summary(gateway_url: str, tmp_path: Path) -> None:
    name = unique("cli")
    source = tmp_path / "events.ndjson"
    source.write_bytes(b"\n".join(orjson.dumps({"n": i}) for i in range(3000)) + b"\n")
    with Client(gateway_url, ROOT_TOKEN) as client:
        client.streams.create(name, partitions=3)
        terminal = Terminal([KAFKAGATE, "produce", name, str(source), "--batch-size", "200"], environment(gateway_url))
        try:
            assert terminal.wait(timeout_s=60) == 0, terminal.screen
        finally:
            terminal.close()
        assert "events/s" in terminal.screen, terminal.screen
        assert "3,000 events in" in terminal.screen
        assert "published" in terminal.screen
        assert client.streams.get(name).total_messages == 3000


async def test_groups_processors_keys_and_tenants_commands(
    gateway_url: str, tmp_path: Path, cli: Callable[..., Ran]
) -> None:
    name, group = unique("cli"), unique("group")
    assert cli(gateway_url, "streams", "create", name, "-p", "1").returncode == 0
    assert cli(gateway_url, "produce", name, stdin=b"1\n2\n3\n").returncode == 0
    printed = cli(gateway_url, "tail", name, "-g", group, "--from", "earliest", "-n", "3", "-o", "json")
    assert [e["value"] for e in map(orjson.loads, printed.stdout.splitlines())] == [1, 2, 3]
    assert group in {g["groupId"] for g in json_of(cli(gateway_url, "groups", "list", "-o", "json"))["consumerGroups"]}
    described = json_of(cli(gateway_url, "groups", "describe", group, "-o", "json"))
    assert [(o["committedOffset"], o["lag"]) for o in described["offsets"]] == [(3, 0)]
    with Client(gateway_url, ROOT_TOKEN) as client:
        client.groups.close_sessions(group)
    reset = json_of(
        cli(gateway_url, "groups", "reset", group, "-s", name, "--to", "offset", "--offset", "1", "-o", "json")
    )
    assert [o["offset"] for o in reset["offsets"]] == [1]
    assert cli(gateway_url, "groups", "reset", group, "-s", name, "--to", "offset").returncode == 2

    spec = tmp_path / "spec.json"
    processor_name = unique("proc")
    document = {
        "name": processor_name,
        "source": name,
        "operations": [{"type": "filter", "predicate": "value > 1"}],
        "sink": unique("sink"),
    }
    spec.write_bytes(orjson.dumps(document))
    applied = json_of(cli(gateway_url, "processors", "apply", str(spec), "-o", "json"))
    assert applied["version"] == 1
    assert json_of(cli(gateway_url, "processors", "apply", str(spec), "-o", "json"))["version"] == 1
    listed = json_of(cli(gateway_url, "processors", "list", "-o", "json"))["processors"]
    assert processor_name in {p["name"] for p in listed}
    by_name = json_of(cli(gateway_url, "processors", "describe", processor_name, "-o", "json"))
    assert by_name["processorId"] == applied["processorId"]
    metrics = json_of(cli(gateway_url, "processors", "metrics", processor_name, "-o", "json"))
    assert metrics["processorId"] == applied["processorId"]
    assert "eventsIn" in metrics["metrics"]
    refreshes, code = watch_metrics(gateway_url, processor_name, refreshes=2)
    assert {r["processorId"] for r in refreshes} == {applied["processorId"]}
    assert code == 0, "stopping --watch with Ctrl-C is a success"
    assert cli(gateway_url, "processors", "pause", processor_name).returncode == 0
    assert (
        json_of(cli(gateway_url, "processors", "delete", applied["processorId"], "-o", "json"))["status"] == "deleted"
    )
    assert cli(gateway_url, "processors", "describe", applied["processorId"]).returncode == 4

    slug = unique("t").lower()
    tenant = json_of(cli(gateway_url, "tenants", "create", slug, "--name", "CLI", "-m", "team=qa", "-o", "json"))
    assert tenant["metadata"] == {"team": "qa"}
    assert json_of(cli(gateway_url, "tenants", "describe", slug, "-o", "json"))["id"] == tenant["id"]
    assert slug in cli(gateway_url, "tenants", "list").stdout.decode()
    key = json_of(
        cli(gateway_url, "keys", "create", "ops", "-s", "admin", "-s", "consume", "--tenant", slug, "-o", "json")
    )
    assert key["token"].startswith("kg_")
    assert key["keyId"] in {k["keyId"] for k in json_of(cli(gateway_url, "keys", "list", "-o", "json"))["keys"]}
    access = json_of(cli(gateway_url, "auth", "token", "--api-key", key["token"], "-o", "json"))
    assert json_of(cli(gateway_url, "streams", "list", "-o", "json", token=access["access_token"]))["streams"] == []
    assert cli(gateway_url, "tenants", "create", unique("x"), "--name", "n", token=key["token"]).returncode == 3
    assert json_of(cli(gateway_url, "keys", "revoke", key["keyId"], "-o", "json"))["status"] == "revoked"
    assert cli(gateway_url, "streams", "list", token=key["token"]).returncode == 3
    assert json_of(cli(gateway_url, "status", "-o", "json"))["status"] == "ready"

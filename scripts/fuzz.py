"""schemathesis against a live gateway, the way a new user runs it: `st run <url>/openapi.json` with the root token.

    python -m scripts.fuzz                      180 s against a throwaway broker (`make fuzz`)
    python -m scripts.fuzz --seconds 600        longer
    python -m scripts.fuzz --bootstrap HOST:PORT   against a broker that is already running
    python -m scripts.fuzz --seed 7             any argument it does not know goes to `st run` (repeat a run)

It starts a broker of its own (unless `--bootstrap`), `kafkagate serve` with a fresh root token and
`kafkagate worker` (so processors the fuzzer creates really run), waits for `/readyz`, creates the tenant the lake
API's requests act for (`fuzz-lake`), then runs `st run` from the repository root for `--seconds` (its
`--max-time`; `schemathesis.toml` there sizes the phases, names that tenant and loads the hooks of
`tests/contract/fuzz_hooks.py`). schemathesis prints its phases, failures, warnings and summary; this script then
prints one line per warning kind schemathesis reported (or `warnings: none`), says so if the gateway stopped
during the run, prints where the gateway's log is, and exits with schemathesis's status. Everything it started is
stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from scripts import launcher

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Long polls wait at most this (the document then says so, and the fuzzer stays within it).
CONSUME_MAX_TIMEOUT_MS = 200
# Streams of thousands of partitions take a loaded broker longer than a request may wait, and prove nothing more.
STREAM_MAX_PARTITIONS = 4
_WARNING = re.compile(r"^\s*⚠️\s*(.+)$")
# The tenant the lake API's requests act for (`X-Tenant-ID`, set in schemathesis.toml); created before the run.
LAKE_TENANT = "fuzz-lake"


@contextmanager
def broker(bootstrap: str | None, work: Path) -> Iterator[str]:
    if bootstrap is not None:
        yield bootstrap
        return
    data_dir = work / "broker"
    argv = launcher.up_argv(data_dir, launcher.free_port(), launcher.free_port())
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"could not start Kafka:\n{result.stderr}")
    try:
        yield launcher.parse_bootstrap(result.stdout)
    finally:
        subprocess.run(launcher.down_argv(data_dir), capture_output=True, check=False)


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_ready(url: str, gateway: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            raise SystemExit(f"the gateway exited with {gateway.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - our loopback URL
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the gateway was not ready after {timeout_s} s; see {log}")


def create_lake_tenant(url: str, token: str) -> None:
    """The tenant schemathesis.toml names in every lake request (the root must name an existing one)."""
    body = json.dumps({"slug": LAKE_TENANT, "name": "make fuzz"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{url}/v1/tenants", data=body, headers=headers, method="POST")  # noqa: S310 - our loopback URL
    try:
        urllib.request.urlopen(request, timeout=60).close()  # noqa: S310 - our loopback URL
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # a broker given with --bootstrap may have it from an earlier run
            raise SystemExit(f"could not create the lake tenant {LAKE_TENANT!r}: {exc.code} {exc.read()!r}") from None


def warnings_of(output: str) -> list[str]:
    """The warning kinds in schemathesis's summary (`⚠️ Missing test data: ...` lines)."""
    return [match.group(1).strip() for line in output.splitlines() if (match := _WARNING.match(line))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.fuzz",
        description=__doc__.splitlines()[0],
        epilog="Any other argument goes to `st run` as given: `--seed 7` repeats a run, `--phases stateful` runs one.",
    )
    parser.add_argument("--seconds", type=int, default=180, help="schemathesis's time budget (--max-time)")
    parser.add_argument("--bootstrap", help="an existing broker (default: start a throwaway one)")
    parser.add_argument("--workers", default="1", help="schemathesis workers (1-64 or auto)")
    parser.add_argument("--work-dir", type=Path, help="where logs and reports go (default: a new temp dir)")
    args, st_args = parser.parse_known_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="kafkagate-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    token = "kg_fuzz_root_" + secrets.token_hex(24)
    port = launcher.free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        bootstrap = stack.enter_context(broker(args.bootstrap, work))
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAGATE_")}
        env.update(
            KAFKAGATE_BOOTSTRAP_SERVERS=bootstrap,
            KAFKAGATE_HOST="127.0.0.1",
            KAFKAGATE_PORT=str(port),
            KAFKAGATE_AUTH="required",
            KAFKAGATE_ADMIN_TOKEN=token,
            KAFKAGATE_CONSUME_MAX_TIMEOUT_MS=str(CONSUME_MAX_TIMEOUT_MS),
            KAFKAGATE_STREAM_MAX_PARTITIONS=str(STREAM_MAX_PARTITIONS),
        )
        gateway_log = work / "gateway.log"
        gateway = stack.enter_context(process([str(BIN / "kafkagate"), "serve"], env, gateway_log))
        stack.enter_context(process([str(BIN / "kafkagate"), "worker"], env, work / "worker.log"))
        wait_ready(url, gateway, gateway_log)
        create_lake_tenant(url, token)
        print(f"fuzzing {url} (Kafka at {bootstrap}) for {args.seconds} s; logs and reports in {work}", flush=True)
        st = [str(BIN / "st"), "run", f"{url}/openapi.json", "--header", f"Authorization: Bearer {token}"]
        st += ["--max-time", str(args.seconds), "--workers", args.workers, "--request-timeout", "15"]
        st += ["--report", "ndjson,junit", "--report-dir", str(work / "reports"), *st_args]
        code, output = tee(st, env={**os.environ, "PYTHONPATH": str(ROOT)})
        found = warnings_of(output)
        print("\n".join(f"warning: {w}" for w in found) if found else "warnings: none")
        if gateway.poll() is not None:
            # schemathesis then reports the server as unavailable; a signal from outside shows as a negative code.
            print(f"the gateway stopped during the run (exit code {gateway.returncode}); see its log")
        print(f"gateway log: {gateway_log}")
        return code


def tee(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `argv` from the repository root, showing its output as it comes; return its status and output."""
    lines: list[str] = []
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as child:
        assert child.stdout is not None  # noqa: S101 - PIPE was asked for
        for line in child.stdout:
            sys.stdout.write(line)
            lines.append(line)
    return child.returncode, "".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

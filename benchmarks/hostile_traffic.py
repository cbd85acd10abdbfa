"""A node under anonymous bogus federation traffic: audit rows, database bytes and server
memory added per 1,000 refused requests, and the memory a body of `[{},{},...]` costs;
today's code (this checkout) beside the code before the fix, in the same run.

    .venv/bin/python benchmarks/hostile_traffic.py [--requests 1000] [--bomb-mib 8]
                                                   [--baseline-ref REF]

The baseline is the commit before `src/liaison/federation/refusals.py` was added (or
REF), exported with `git archive` and run from there with the same interpreter and
libraries. Each variant gets a new SQLite node (`liaison init`) and one `liaison serve`
process. First the requests, one after the other, from one address, without a login: a
third not JSON, a third envelopes signed by an unknown node with a 2,000-character name,
a third malformed envelopes (resident memory, VmRSS, before and after); then four
concurrent bombs from another address (peak memory, VmHWM, around them).
Writes benchmarks/results/hostile_traffic.json and the "Hostile federation traffic"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation import free_port, wait_healthy  # benchmarks/federation.py
from liaison.federation import envelope as env

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "hostile_traffic.json"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SECTION = "## Hostile federation traffic"
PASSWORD = "admin password 1"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def baseline_ref() -> str:
    added = _git(
        "log", "--diff-filter=A", "--format=%H", "--", "src/liaison/federation/refusals.py"
    ).splitlines()
    return f"{added[-1]}^" if added else "HEAD"


def export_source(ref: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _bogus_bodies(count: int) -> list[bytes]:
    stranger = Ed25519PrivateKey.generate()
    bodies = []
    for index in range(count):
        kind = index % 3
        if kind == 0:
            bodies.append(b"{not json " + str(index).encode())
        elif kind == 1:
            sealed = env.seal(
                stranger, sender="X" * 2000, recipient="US", kind="batch", body={"records": []}
            )
            bodies.append(json.dumps(sealed.to_json()).encode())
        else:
            bodies.append(json.dumps({"sender": f"node-{index}", "records": [{}] * 10}).encode())
    return bodies


class Node:
    def __init__(self, source: Path, folder: Path) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(source)}
        self.directory = folder / "node"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-c", "from liaison.cli import main; main()"]
        init = ["init", str(self.directory), "--name", "US", "--admin-user", "admin"]
        subprocess.run(
            [*command, *init, "--admin-password-stdin", "--base-url", self.base_url],
            input=PASSWORD + "\n",
            text=True,
            env=self.env,
            capture_output=True,
            check=True,
        )
        self.process = subprocess.Popen(
            [*command, "serve", str(self.directory), "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_healthy(self.base_url, "the node")

    def database_bytes(self) -> int:
        """The database file's size once the write-ahead log is checkpointed into it (the
        log itself is reused, so its size says nothing about what was kept)."""
        with sqlite3.connect(self.directory / "liaison.db") as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (self.directory / "liaison.db").stat().st_size

    def scalar(self, sql: str) -> Any:
        with sqlite3.connect(self.directory / "liaison.db") as connection:
            return connection.execute(sql).fetchone()[0]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(source: Path, requests: int, bomb_mib: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        node = Node(source, Path(folder))
        try:
            pid = node.process.pid
            httpx.post(f"{node.base_url}/federation/v1/inbox", content=b"warm-up", timeout=30)
            audit_before = node.scalar("select count(*) from audit_entries")
            bytes_before, rss_before = node.database_bytes(), _proc_kib(pid, "VmRSS")
            statuses: Counter[int] = Counter()
            bodies = _bogus_bodies(requests)
            started = time.perf_counter()
            with httpx.Client(base_url=node.base_url, timeout=60) as client:
                for body in bodies:
                    statuses[client.post("/federation/v1/inbox", content=body).status_code] += 1
            elapsed = time.perf_counter() - started
            figures: dict[str, Any] = {
                "requests": requests,
                "seconds": round(elapsed, 2),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "audit_rows_added": node.scalar("select count(*) from audit_entries")
                - audit_before,
                "database_bytes_added": node.database_bytes() - bytes_before,
                "rss_kib_before": rss_before,
                "rss_kib_after": _proc_kib(pid, "VmRSS"),
            }
            bomb = b"[" + b",".join([b"{}"] * (bomb_mib * 1024 * 1024 // 3)) + b"]"
            peak_before = _proc_kib(pid, "VmHWM")
            bomb_statuses: list[int] = []

            def send_bomb() -> None:
                # From another loopback address: not the one the flood got turned away.
                other = httpx.HTTPTransport(local_address="127.0.0.2")
                with httpx.Client(transport=other, timeout=300) as client:
                    response = client.post(f"{node.base_url}/federation/v1/inbox", content=bomb)
                bomb_statuses.append(response.status_code)

            threads = [threading.Thread(target=send_bomb) for _ in range(4)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            bomb_figures = {
                "bytes": len(bomb),
                "concurrent": 4,
                "seconds": round(time.perf_counter() - started, 2),
                "statuses": sorted(bomb_statuses),
                "peak_rss_kib_before": peak_before,
                "peak_rss_kib_after": _proc_kib(pid, "VmHWM"),
            }
            figures["bomb"] = bomb_figures
            try:
                figures["refusal_windows"] = node.scalar(
                    "select count(*) || ' window(s), ' || sum(refused) || ' refused, ' "
                    "|| sum(throttled) || ' turned away' from federation_refusal_windows"
                )
            except sqlite3.OperationalError:
                figures["refusal_windows"] = None  # the baseline has no such table
            return figures
        finally:
            node.stop()


def write_markdown(result: dict[str, Any]) -> None:
    m = result["machine"]
    rows = []
    for label, key in (("before the fix", "baseline"), ("this code", "current")):
        f = result[key]
        growth = (f["rss_kib_after"] - f["rss_kib_before"]) / 1024
        bomb = f["bomb"]
        peak = (bomb["peak_rss_kib_after"] - bomb["peak_rss_kib_before"]) / 1024
        rows.append(
            f"| {label} | {f['audit_rows_added']} | {f['database_bytes_added'] / 1024:,.0f} KiB "
            f"| {f['rss_kib_before'] / 1024:,.0f} → {f['rss_kib_after'] / 1024:,.0f} MiB "
            f"({growth:+,.1f}) | {f['seconds']:.1f} s | "
            + ", ".join(f"{n}×{s}" for s, n in f["statuses"].items())
            + f" | +{peak:,.0f} MiB ({', '.join(map(str, bomb['statuses']))}) |"
        )
    current = result["current"]
    lines = [
        SECTION,
        "",
        "(written by `benchmarks/hostile_traffic.py`; raw figures in "
        "`benchmarks/results/hostile_traffic.json`)",
        "",
        f"Run of {result['date']} on {m['cpu']}, {m['cores']} cores, {m['system']}, "
        f"Python {m['python']}. One SQLite node (`liaison serve`, one process) per variant; "
        f"{result['requests']:,} anonymous bogus requests to `/federation/v1/inbox`, one "
        "after the other from one address (a third not JSON, a third signed by an unknown "
        "node with a 2,000-character name, a third malformed envelopes); then, from another "
        f"address, four concurrent bodies of `[{{}},{{}},...]` of {result['bomb_mib']} MiB "
        "each. Baseline: "
        f"the code before the fix (`{result['baseline_ref']}`), same run, same machine.",
        "",
        f"| code | audit rows added per {result['requests']:,} | database growth | server "
        "memory (VmRSS) | time | answers | peak memory added by the 4 bombs (answers) |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
        f"With this code the refusals are counted in one row per address "
        f"({current['refusal_windows']}); the audit trail gets one entry for the window when "
        "it closes (10 minutes by default). Past 20 refusals the address is answered 429 "
        "before its body is read. The bombs are refused on their size (413, 64 KiB without "
        "a peer's name) before parsing; a peer's name lets a body up to the batch limit in, "
        "bounded by the JSON-object count (65,536) and by 4 concurrent unverified requests.",
        "The machine is shared with other work; memory figures are exact, times are not.",
    ]
    section = "\n".join(lines) + "\n"
    text = BENCHMARKS_MD.read_text(encoding="utf-8")
    # This section up to the next one (or the end), replaced; appended if absent.
    ours = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if ours.search(text):
        text = ours.sub(lambda _: section + "\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--bomb-mib", type=int, default=8)
    parser.add_argument("--baseline-ref", default=None)
    args = parser.parse_args()
    ref = args.baseline_ref or baseline_ref()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": dict(
            cpu=platform.processor() or platform.machine(),
            cores=os.cpu_count(),
            system=platform.platform(terse=True),
            python=platform.python_version(),
        ),
        "requests": args.requests,
        "bomb_mib": args.bomb_mib,
        "baseline_ref": _git("rev-parse", "--short", ref),
    }
    with tempfile.TemporaryDirectory() as folder:
        result["baseline"] = measure(export_source(ref, Path(folder)), args.requests, args.bomb_mib)
    result["current"] = measure(ROOT / "src", args.requests, args.bomb_mib)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_markdown(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

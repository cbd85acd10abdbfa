"""Hotline delivery from a node on several server processes (PostgreSQL): the federation
benchmark (benchmarks/federation.py, same harness and measures) with the sending node US
served by one plain process (`liaison serve`, the baseline) and by 1, 2 and 4 worker
processes (`liaison serve --workers N`: events and wake-ups through LISTEN/NOTIFY, one
delivering process per peer by advisory lock); CN is one process throughout.

    .venv/bin/python benchmarks/federation_workers.py [--seconds 4] [--rates 50,100,150,200]
                                                      [--workers 1,2,4]

The same pair of nodes and databases serve every mode in turn (US restarted in each), so
the modes differ only by how US is served. CPU: process time of US (its supervisor, its
workers and their children) and of CN per delivered message, and how busy the machine's
cores were during the rate (all processes: both nodes, PostgreSQL, the client).

Writes benchmarks/results/federation_workers.json and the "Federation on several
processes" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from federation import (
    SENDER_THREADS,
    Node,
    drop_postgres_databases,
    http_floor,
    machine,
    postgres_databases,
    run_rate,
    saturation,
    wait_healthy,
    warmed_up,
)
from liaison.cli.peer import accept, invite

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "federation_workers.json"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SECTION = "## Federation on several processes"
ONE_PROCESS = 0  # the mode "plain `liaison serve`"
STARTUP_SECONDS = 300


def descendants(pid: int) -> list[int]:
    """pid and every process below it, alive now (Linux /proc)."""
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found += descendants(int(child))
    return found


def process_cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


class ServedNode(Node):
    """A benchmark node whose server runs in one of the modes."""

    mode = ONE_PROCESS

    def spawn(self) -> None:
        if self.mode == ONE_PROCESS:
            super().spawn()
            return
        launch = (
            "from liaison.node import serve_workers; "
            f"serve_workers({str(self.directory)!r}, '127.0.0.1', {self.port}, {self.mode})"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", launch], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        """Until every worker has answered (they start one by one; minutes on a loaded
        machine, where the harness's one minute is not enough)."""
        wait_healthy(self.base_url, f"node {self.name}", seconds=STARTUP_SECONDS)
        answered: set[str] = set()
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(answered) < max(self.mode, 1):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(answered)} workers of {self.name} started")
            response = httpx.get(f"{self.base_url}/healthz", timeout=5)
            answered.add(response.headers.get("X-Liaison-Worker", ""))

    def cpu_seconds(self) -> float:
        """The process time of the server and every process it started (workers, pools)."""
        assert self.process is not None
        return sum(process_cpu(pid) for pid in descendants(self.process.pid))


def label(mode: int) -> str:
    return "one process" if mode == ONE_PROCESS else f"{mode} worker{'s' * (mode > 1)}"


def run_mode(
    us: ServedNode, cn: ServedNode, mode: int, rates: list[float], seconds: float
) -> dict[str, Any]:
    us.stop()
    us.mode = mode
    us.spawn()
    us.wait_ready()
    sender, thread_id, arrivals = warmed_up(us, cn)
    us_client = us.client()
    floor = http_floor(us_client)
    results = []
    for rate in rates:
        cpu_before = (us.cpu_seconds(), cn.cpu_seconds())
        busy_before = machine_busy()
        load = os.getloadavg()[0]
        result = run_rate(sender, thread_id, arrivals, rate, seconds)
        busy_after = machine_busy()
        delivered = max(result["delivered"], 1)
        result["cpu_ms_per_message_us"] = round(
            (us.cpu_seconds() - cpu_before[0]) * 1000 / delivered, 1
        )
        result["cpu_ms_per_message_cn"] = round(
            (cn.cpu_seconds() - cpu_before[1]) * 1000 / delivered, 1
        )
        result["machine_busy_percent"] = round(
            100 * (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1e-9)
        )
        result["load_average"] = round(load, 2)
        print(f"{label(mode)} {rate:>6} msg/s: {result}", file=sys.stderr, flush=True)
        results.append(result)
    us_client.close()
    return {"mode": label(mode), "workers": mode, "http_floor": floor, "rates": results}


def run(rates: list[float], seconds: float, modes: list[int]) -> list[dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="liaison-bench-workers-"))
    databases = postgres_databases(2)
    us = ServedNode(root, "US", "DEA Special Operations", databases[0])
    cn = ServedNode(root, "CN", "NNCC Liaison Office", databases[1])
    try:
        us.spawn()
        cn.spawn()
        us.wait_ready()
        cn.wait_ready()
        accept(cn.directory, invite(us.directory))
        return [run_mode(us, cn, mode, rates, seconds) for mode in modes]
    finally:
        us.stop()
        cn.stop()
        drop_postgres_databases(databases)
        shutil.rmtree(root, ignore_errors=True)


def cores_paragraph(result: dict[str, Any]) -> list[str]:
    """What more cores would give, from the CPU figures of this run."""
    modes = result["modes"]
    cost = {
        mode["mode"]: min(run["cpu_ms_per_message_us"] for run in mode["rates"]) for mode in modes
    }
    busiest = max(run["machine_busy_percent"] for mode in modes for run in mode["rates"])
    best = {mode["mode"]: max(run["throughput"] for run in mode["rates"]) for mode in modes}
    costs = ", ".join(f"{name} {ms:g} ms" for name, ms in cost.items())
    bests = ", ".join(f"{name} {rate:g} msg/s" for name, rate in best.items())
    one = cost[modes[0]["mode"]]
    ratios = ", ".join(f"{name} {ms / one:.2f}" for name, ms in list(cost.items())[1:])
    return [
        f"What more cores would give. US's CPU per delivered message (lowest over the "
        f"rates): {costs} (against one process: {ratios}); highest throughput: {bests}. "
        f"The machine's cores were up to {busiest} % busy, so on these {os.cpu_count()} "
        "cores the processes take turns on the same CPUs and more workers cannot add "
        "throughput here; throughput and latency then mostly measure the other work on "
        "the machine, and the CPU columns are what the node's work costs. What more "
        "workers may add is CPU per message: N processes competing for the same cores "
        "(switches, cold caches, N interpreters' memory). Each commit's NOTIFY still wakes every "
        "process, but a process that holds no peer's lock now returns at once (no query: "
        "tests/federation/test_peer_locks.py counts the statements), the holder keeps its "
        "lock instead of taking it again every round, and the periodic work (refusal "
        "windows, checkpoints, pruning) is done by one process every poll interval, not "
        "by every process on every wake-up. With a core per worker, each "
        f"worker would serve its share of the API at about 1000 / {one:g} ≈ "
        f"{1000 / one:.0f} messages per second (one process's cost above), so N workers "
        "on N cores scale the API side about N-fold until PostgreSQL (one commit per "
        "message, fsync) or the delivery to one peer becomes the limit: a peer's stream "
        "is sent by one process at a time (its advisory lock), in signed batches of up "
        "to 100 records, which costs that process a fraction of a message's API cost "
        "per record. A process keeps the peers' locks it takes, and the first to try takes "
        "every peer nobody holds: several peers are served by one process, not spread "
        "over the processes.",
        "",
    ]


def write_markdown(result: dict[str, Any]) -> None:
    lines = [
        SECTION,
        "",
        "(written by `benchmarks/federation_workers.py`; raw figures in "
        "`benchmarks/results/federation_workers.json`)",
        "",
        f"Run of {result['date']} on {result['machine']}, Python {result['python']}, "
        "PostgreSQL for both nodes. The Federation harness above (same client, same "
        f"measures, {result['seconds']:g} s per offered rate, open loop, {SENDER_THREADS} "
        "client threads), with the sending node US served by one plain `liaison serve` "
        "process (the baseline) and by `liaison serve --workers N`; CN is one process. "
        "CPU ms per message: process time of US (supervisor, workers and their children) "
        "and of CN per delivered message. Machine busy: share of all cores' time in use "
        "during the rate (both nodes, PostgreSQL, the client, and other work on the machine).",
        "",
        "| US served by | offered msg/s | throughput msg/s | delivered | latency p50 ms | "
        "latency p99 ms | POST alone p50 / p99 ms | CPU ms per message US / CN | "
        "machine busy % | load average |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode in result["modes"]:
        for run in mode["rates"]:
            lines.append(
                f"| {mode['mode']} | {run['offered_rate']:g} | {run['throughput']:g} | "
                f"{run['delivered']}/{run['messages']} | {run['latency_p50_ms']} | "
                f"{run['latency_p99_ms']} | {run['post_p50_ms']} / {run['post_p99_ms']} | "
                f"{run['cpu_ms_per_message_us']} / {run['cpu_ms_per_message_cn']} | "
                f"{run['machine_busy_percent']} | {run['load_average']} |"
            )
    lines.append("")
    lines.append(
        "Saturation (first rate not kept up with, as in Federation): "
        + "; ".join(f"{mode['mode']}: **{saturation(mode['rates'])}**" for mode in result["modes"])
        + "."
    )
    lines.append("")
    lines += cores_paragraph(result)
    text = BENCHMARKS_MD.read_text(encoding="utf-8")
    section = "\n".join(lines) + "\n"
    if SECTION in text:
        begin = text.index(SECTION)
        following = text.find("\n## ", begin + 1)
        end = following + 1 if following != -1 else len(text)
        text = text[:begin] + section + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS_MD.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="50,100,150,200")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="Rewrite the BENCHMARKS.md section from the last results file, without running.",
    )
    args = parser.parse_args()
    if args.markdown_only:
        write_markdown(json.loads(RESULTS.read_text(encoding="utf-8")))
        return
    modes = [ONE_PROCESS, *(int(w) for w in args.workers.split(","))]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "seconds": args.seconds,
        "load_before": f"{os.getloadavg()[0]:.2f}",
        "modes": run([float(r) for r in args.rates.split(",")], args.seconds, modes),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_markdown(result)
    print(f"wrote {RESULTS} and the {SECTION!r} section of {BENCHMARKS_MD}", file=sys.stderr)


if __name__ == "__main__":
    main()

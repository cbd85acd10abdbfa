"""Hotline delivery between two nodes on loopback: end-to-end latency and throughput.

    .venv/bin/python benchmarks/federation.py [--seconds 4] [--rates 10,25,50,100,200,400]
                                              [--backends sqlite,postgresql]

Two real nodes (`liaison serve` processes, US and CN) are created and peered on each
backend. A US officer posts messages into one thread through the API at a fixed offered
rate (open loop: message i is due at i/rate, sent by a pool of client threads); a CN
officer's browser-style event stream (SSE, /api/v1/events) reports each message as it
is applied on CN. Latency is from the moment the message was due to be sent to the
moment the CN event arrives, matched by the message's global id; this includes the
write on US, the outbox, signing, HTTP, verification, the one-transaction apply on CN
and the event fan-out. "Transport" is the part after the US POST returned (the
federation alone, without the local write). Each rate runs for --seconds and then
waits (bounded) for the stragglers.

Baselines measured in the same run, on the same nodes: the HTTP round trip of
`GET /healthz` on CN (loopback and server floor), and the latency of the US POST alone (the
local write, without delivery).

Writes benchmarks/results/federation.json and the "Federation" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from liaison.cli.peer import accept, invite
from liaison.node import add_node_user, create_node

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "federation.json"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
POSTGRES_SERVER = os.environ.get(
    "LIAISON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench password 1"
SENDER_THREADS = int(os.environ.get("BENCH_SENDER_THREADS", "16"))
DRAIN_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def wait_healthy(base_url: str, what: str, seconds: float = 60) -> None:
    """Until `liaison serve` at base_url answers /healthz; RuntimeError naming `what` after."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class Node:
    def __init__(self, root: Path, name: str, agency: str, database_url: str | None) -> None:
        self.name, self.port = name, free_port()
        self.directory = root / name.lower()
        create_node(
            self.directory,
            name,
            "admin",
            PASSWORD,
            database_url,
            agency=agency,
            base_url=self.base_url,
        )
        add_node_user(self.directory, "officer", PASSWORD, "officer", agency)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        command = [sys.executable, "-c", "from liaison.cli import main; main()"]
        command += ["serve", str(self.directory), "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        wait_healthy(self.base_url, f"node {self.name}")

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.base_url, timeout=30)
        token = client.post(
            "/api/v1/auth/token", json={"username": "officer", "password": PASSWORD}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    def cpu_seconds(self) -> float:
        """User + system CPU time the node's process has used so far (Linux /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Arrivals:
    """Listens to CN's event stream; records when each message (by global id) arrived."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.times: dict[str, float] = {}
        self.connected = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()
        if not self.connected.wait(30):
            raise RuntimeError("the event stream did not open")

    def _listen(self) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the node stops at the end of the run
            self._read_stream()

    def _read_stream(self) -> None:
        event = None
        with self.client.stream("GET", "/api/v1/events", timeout=None) as response:
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "message":
                    moment = time.monotonic()
                    global_id = json.loads(line[6:]).get("global_id")
                    if global_id:
                        with self.lock:
                            self.times.setdefault(global_id, moment)

    def count(self, global_ids: list[str]) -> int:
        with self.lock:
            return sum(1 for g in global_ids if g in self.times)


def http_floor(client: httpx.Client, samples: int = 300) -> dict[str, float]:
    timings = []
    for _ in range(samples):
        start = time.monotonic()
        client.get("/healthz")
        timings.append((time.monotonic() - start) * 1000)
    return {"p50_ms": percentile(timings, 0.5), "p99_ms": percentile(timings, 0.99)}


class Sender:
    """Posts messages over keep-alive connections, one per client thread.

    The standard library's http.client costs a fraction of httpx's CPU per request; the
    load generator shares the cores with both nodes, so it should take as little as it can.
    """

    def __init__(self, node: Node, token: str) -> None:
        self.port = node.port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        """This client thread's keep-alive connection."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.connection = connection
        return connection

    def post(self, path: str, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        connection = self.connection()
        connection.request("POST", path, json.dumps(document), self.headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())


def warmed_up(us: Node, cn: Node) -> tuple[Sender, int, Arrivals]:
    """A sender on US, the thread it writes to and CN's arrivals, after a warm-up second at
    20 messages/s that is not reported."""
    us_client = us.client()
    sender = Sender(us, us_client.headers["Authorization"].removeprefix("Bearer "))
    thread = us_client.post(
        "/api/v1/threads",
        json={"peer": "CN", "subject": "benchmark", "kind": "note", "body": "warm-up"},
    ).json()
    arrivals = Arrivals(cn.client())
    run_rate(sender, thread["id"], arrivals, 20, 1.0)
    return sender, int(thread["id"]), arrivals


def run_rate(
    us: Sender, thread_id: int, arrivals: Arrivals, rate: float, seconds: float
) -> dict[str, Any]:
    total = max(1, int(rate * seconds))
    sends: list[tuple[str, float, float]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def send(index: int, due: float) -> None:
        status, answer = us.post(
            f"/api/v1/threads/{thread_id}/messages", {"body": f"benchmark {rate}/s #{index}"}
        )
        end = time.monotonic()
        with lock:
            if status == 201:
                sends.append((answer["global_id"], due, end))
            else:
                failures.append(f"HTTP {status}")

    begin = time.monotonic()
    with ThreadPoolExecutor(SENDER_THREADS) as pool:
        for index in range(total):
            due = begin + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index, due)
    send_span = time.monotonic() - begin
    ids = [g for g, _s, _e in sends]
    deadline = time.monotonic() + DRAIN_SECONDS
    while arrivals.count(ids) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.02)
    with arrivals.lock:
        # From the moment the message was due, so a client falling behind counts against
        # the latency instead of hiding it (no coordinated omission).
        latencies = [
            (arrivals.times[g] - due) * 1000 for g, due, _e in sends if g in arrivals.times
        ]
        transport = [(arrivals.times[g] - e) * 1000 for g, _d, e in sends if g in arrivals.times]
        last_arrival = max((arrivals.times[g] for g in ids if g in arrivals.times), default=begin)
    post_ms = [(e - due) * 1000 for _g, due, e in sends]
    delivered = len(latencies)
    return {
        "offered_rate": rate,
        "messages": total,
        "sent": len(sends),
        "send_failures": len(failures),
        "achieved_send_rate": round(len(sends) / send_span, 1),
        "delivered": delivered,
        "throughput": round(delivered / max(last_arrival - begin, 1e-9), 1),
        "latency_p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "latency_p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "latency_max_ms": round(max(latencies), 1) if latencies else None,
        "transport_p50_ms": round(percentile(transport, 0.5), 1) if transport else None,
        "transport_p99_ms": round(percentile(transport, 0.99), 1) if transport else None,
        "post_p50_ms": round(percentile(post_ms, 0.5), 1) if post_ms else None,
        "post_p99_ms": round(percentile(post_ms, 0.99), 1) if post_ms else None,
    }


def postgres_databases(count: int) -> list[str]:
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    names = [f"liaison_bench_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with server.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = sa.engine.make_url(POSTGRES_SERVER)
    return [url.set(database=name).render_as_string(hide_password=False) for name in names]


def drop_postgres_databases(urls: list[str]) -> None:
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for url in urls:
            name = sa.engine.make_url(url).database
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def run_backend(backend: str, rates: list[float], seconds: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"liaison-bench-{backend}-"))
    databases = postgres_databases(2) if backend == "postgresql" else [None, None]
    us = Node(root, "US", "DEA Special Operations", databases[0])
    cn = Node(root, "CN", "NNCC Liaison Office", databases[1])
    try:
        us.spawn()
        cn.spawn()
        us.wait_ready()
        cn.wait_ready()
        accept(cn.directory, invite(us.directory))
        cn_client = cn.client()
        sender, thread_id, arrivals = warmed_up(us, cn)
        floor = http_floor(cn_client)
        results = []
        for rate in rates:
            cpu_before = (us.cpu_seconds(), cn.cpu_seconds())
            # Other work on the machine takes the same cores: recorded beside each rate.
            load = os.getloadavg()[0]
            result = run_rate(sender, thread_id, arrivals, rate, seconds)
            delivered = max(result["delivered"], 1)
            result["cpu_ms_per_message_us"] = round(
                (us.cpu_seconds() - cpu_before[0]) * 1000 / delivered, 1
            )
            result["cpu_ms_per_message_cn"] = round(
                (cn.cpu_seconds() - cpu_before[1]) * 1000 / delivered, 1
            )
            result["load_average"] = round(load, 2)
            print(f"{backend} {rate:>6} msg/s: {result}", file=sys.stderr, flush=True)
            results.append(result)
        return {"backend": backend, "http_floor": floor, "rates": results}
    finally:
        us.stop()
        cn.stop()
        if backend == "postgresql":
            drop_postgres_databases([url for url in databases if url])
        shutil.rmtree(root, ignore_errors=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def saturation(runs: list[dict[str, Any]]) -> str:
    """The first offered rate the pair did not keep up with (delivery or p99 under 1 s)."""
    for run in runs:
        kept_up = (
            run["delivered"] == run["messages"]
            and run["achieved_send_rate"] >= 0.9 * run["offered_rate"]
            and run["throughput"] >= 0.9 * run["offered_rate"]
            and (run["latency_p99_ms"] or 1e9) < 1000
        )
        if not kept_up:
            return f"{run['offered_rate']:g} msg/s"
    return f"not reached at {runs[-1]['offered_rate']:g} msg/s"


def before_after(before: dict[str, Any], sqlite: dict[str, Any]) -> list[str]:
    """The same rates on SQLite served by the earlier code, in the same run."""
    now = {run["offered_rate"]: run for run in sqlite["rates"]}
    lines = [
        f"Before/after, same run, SQLite: nodes created and served by {before['label']} "
        "(run first) and by this code (same client, same method).",
        "",
        "| offered msg/s | code | throughput msg/s | latency p50 ms | latency p99 ms | "
        "CPU ms per message US / CN | load average |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in before["sqlite"]["rates"]:
        pairs = [(before["label"], run), ("this code", now.get(run["offered_rate"]))]
        for label, row in pairs:
            if row is None:
                continue
            lines.append(
                f"| {row['offered_rate']:g} | {label} | {row['throughput']:g} | "
                f"{row['latency_p50_ms']} | {row['latency_p99_ms']} | "
                f"{row['cpu_ms_per_message_us']} / {row['cpu_ms_per_message_cn']} | "
                f"{row.get('load_average', '')} |"
            )
    lines.append("")
    return lines


def write_markdown(result: dict[str, Any]) -> None:
    lines = [
        "## Federation",
        "",
        "(written by `benchmarks/federation.py`; raw figures in "
        "`benchmarks/results/federation.json`)",
        "",
        f"Run of {result['date']} on {result['machine']}, Python {result['python']}. Two nodes "
        "(`liaison serve`, one process each) on loopback on this one machine, with the "
        f"benchmark client; {result['seconds']:g} s per offered rate, open loop, "
        f"{SENDER_THREADS} client threads. Latency: from the moment the US officer's "
        "`POST /api/v1/threads/{id}/messages` was due to the CN officer's Server-Sent Event "
        "for that message (write, outbox, signed batch, HTTP, verify, one-transaction apply, "
        "fan-out). Transport: from the end of that POST to the event (federation alone). "
        "POST alone: from due time to the POST's answer (the local write).",
        "",
    ]
    for backend in result["backends"]:
        floor = backend["http_floor"]
        lines += [
            f"### {backend['backend']}",
            "",
            f"Baseline, same run: `GET /healthz` round trip p50 {floor['p50_ms']:.1f} ms, "
            f"p99 {floor['p99_ms']:.1f} ms. Saturation (first rate not kept up with): "
            f"**{saturation(backend['rates'])}**; highest throughput "
            f"{max(run['throughput'] for run in backend['rates']):g} msg/s.",
            "",
            "| offered msg/s | sent msg/s | delivered | throughput msg/s | latency p50 ms | "
            "latency p99 ms | transport p50 / p99 ms | POST alone p50 / p99 ms | "
            "CPU ms per message US / CN | load average |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for run in backend["rates"]:
            lines.append(
                f"| {run['offered_rate']:g} | {run['achieved_send_rate']:g} | "
                f"{run['delivered']}/{run['messages']} | {run['throughput']:g} | "
                f"{run['latency_p50_ms']} | {run['latency_p99_ms']} | "
                f"{run['transport_p50_ms']} / {run['transport_p99_ms']} | "
                f"{run['post_p50_ms']} / {run['post_p99_ms']} | "
                f"{run['cpu_ms_per_message_us']} / {run['cpu_ms_per_message_cn']} | "
                f"{run.get('load_average', '')} |"
            )
        lines.append("")
    sqlite = next((b for b in result["backends"] if b["backend"] == "sqlite"), None)
    at_100 = (
        next((r for r in sqlite["rates"] if r["offered_rate"] == 100), None) if sqlite else None
    )
    if at_100 is not None:
        met = at_100["latency_p99_ms"] is not None and at_100["latency_p99_ms"] < 200
        lines.append(
            f"Goal: p99 under 200 ms at 100 msg/s on SQLite: **{'met' if met else 'not met'}** "
            f"(p99 {at_100['latency_p99_ms']} ms)."
        )
        lines.append("")
    if sqlite is not None:
        # The sender's cost per message once batches form (the rates at or above 50 msg/s).
        loaded = [r for r in sqlite["rates"] if r["offered_rate"] >= 50] or sqlite["rates"]
        us_cpu = min(r["cpu_ms_per_message_us"] for r in loaded)
        lines.append(
            "Where it saturates: past the rate above, messages queue in front of the US API "
            "(the POST column grows first) and the delivery worker, which runs in the same "
            "process, falls behind with it (transport column). The limit is the sending "
            "node's one server process: Python runs it on at most one core at a time, and "
            "each message costs it the CPU in the US column (API request and authentication, "
            "the write with its audit entry and outbox row, then its share of a signed "
            f"batch); at {us_cpu:g} ms a message on SQLite that process alone would top out "
            f"near {1000 / us_cpu:.0f} messages per second on a core of its own, and here it "
            "shares two cores with the receiving node, the benchmark client and whatever "
            "else runs on the machine (load average column). On PostgreSQL the database "
            "server and the driver take their share of the same two cores as well."
        )
        lines.append("")
    lines.append(
        f"Both nodes, the benchmark client and its {SENDER_THREADS} threads share "
        f"{os.cpu_count()} cores (load average {result['load_before']} when the run "
        "started), so the figures include CPU contention a real "
        "deployment (one node per country, on its own machine) would not have. The CPU "
        "columns (process time of each node per delivered message: on US the API request, "
        "the write, the audit entry and the delivery; on CN the verification, the apply, "
        "the audit entry and the event) tell what one core per node would sustain."
    )
    lines.append("")
    if "before" in result and sqlite is not None:
        lines += before_after(result["before"], sqlite)
    text = BENCHMARKS_MD.read_text(encoding="utf-8")
    begin = text.index("## Federation")
    following = text.find("\n## ", begin + 1)
    end = following + 1 if following != -1 else len(text)
    BENCHMARKS_MD.write_text(text[:begin] + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")


def run_before(args: argparse.Namespace) -> dict[str, Any]:
    """The SQLite series again, in a child process that imports the earlier code."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "before.json"
        command = [sys.executable, __file__, "--backends", "sqlite", "--seconds"]
        command += [str(args.seconds), "--rates", args.before_rates, "--output", str(output)]
        environment = {**os.environ, "PYTHONPATH": args.before_src}
        subprocess.run(command, env=environment, check=True)
        backends: list[dict[str, Any]] = json.loads(output.read_text())["backends"]
        return backends[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="10,25,50,100,200,400")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--before-src",
        help="src/ of an earlier checkout (e.g. from `git archive`): this script runs again "
        "with it on PYTHONPATH (nodes created and served by that code), on SQLite at "
        "--before-rates, in the same run, for a before/after table.",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    parser.add_argument("--before-rates", default="75,100")
    parser.add_argument("--before-label", default="the earlier code")
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="Rewrite the BENCHMARKS.md section from the last results file, without running.",
    )
    args = parser.parse_args()
    if args.markdown_only:
        write_markdown(json.loads(RESULTS.read_text(encoding="utf-8")))
        return
    rates = [float(r) for r in args.rates.split(",")]
    # The earlier code first, so that it does not run on a machine warmed up by this one.
    before = run_before(args) if args.before_src else None
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "seconds": args.seconds,
        "load_before": f"{os.getloadavg()[0]:.2f}",
        "backends": [run_backend(b, rates, args.seconds) for b in args.backends.split(",")],
    }
    if before is not None:
        result["before"] = {"label": args.before_label, "sqlite": before}
    if args.output != RESULTS:  # the inner run of --before-src: figures only
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_markdown(result)
    print(f"wrote {RESULTS} and the Federation section of {BENCHMARKS_MD}", file=sys.stderr)


if __name__ == "__main__":
    main()

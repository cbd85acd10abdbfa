"""Load and soak: two real nodes on loopback, mixed hotline traffic at a steady rate.

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--rate 20] [--backend sqlite]

Two `liaison serve` processes (US, CN) are created and peered. For --seconds (bounded:
at most 3600) operations are started at --rate per second (open loop: operation i is due
at i/rate, so a slow node counts against latency instead of slowing the load), drawn in a
fixed mix: US opens a thread (5 %), US posts a message (40 %), CN replies in a thread it
received (25 %), CN lists its threads (15 %), US reads a thread's messages (15 %). Every
write is a real federated record (hotline.thread, hotline.message both ways).

Reported per operation: count, errors, latency p50/p95/p99/max (from the moment it was
due), beside the round trip of GET /healthz measured one at a time before the load
(the loopback and server floor). Per node: resident memory (VmRSS) at the start of the
load, at its middle and at its end, and CPU seconds used. At the end the harness waits
(bounded) until every message written on one node is on the other, and reports how many
arrived.

Writes benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress

from federation import (
    Node,
    Sender,
    drop_postgres_databases,
    percentile,
    postgres_databases,
)
from liaison.cli.peer import accept, invite

RESULTS = Path(__file__).resolve().parent / "results"
MIX = (
    ("us_open_thread", 0.05),
    ("us_post_message", 0.40),
    ("cn_reply", 0.25),
    ("cn_list_threads", 0.15),
    ("us_read_thread", 0.15),
)
MAX_SECONDS = 3600
THREADS = 16


def rss_kib(node: Node) -> int:
    assert node.process is not None
    for line in Path(f"/proc/{node.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Client(Sender):
    """Keep-alive connections per client thread that survive the server closing an idle one
    (uvicorn does after 5 s): a request that could not be sent is sent again on a new
    connection; a connection that failed later is dropped, and the failure counted."""

    def call(self, method: str, path: str, document: Any = None) -> tuple[int, Any]:
        body = None if document is None else json.dumps(document)
        try:
            connection = self.connection()
            connection.request(method, path, body, self.headers)
        except (OSError, http.client.HTTPException):
            # Not sent: the server had closed the idle connection. Once more, anew.
            self.local.connection = None
            connection = self.connection()
            connection.request(method, path, body, self.headers)
        try:
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        except Exception:
            connection.close()
            self.local.connection = None
            raise


def token(node: Node) -> str:
    client = node.client()
    try:
        return str(client.headers["Authorization"].split(" ", 1)[1])
    finally:
        client.close()


def count_messages(node: Node, owner: str) -> int:
    engine = sa.create_engine(load_url(node))
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("select count(*) from hotline_messages where owner_node = :o"), {"o": owner}
        ).scalar_one()
    engine.dispose()
    return int(value)


def load_url(node: Node) -> str:
    from liaison.config import load_node

    return load_node(node.directory).database_url


def run(seconds: float, rate: float, backend: str) -> dict[str, Any]:
    seconds = min(seconds, MAX_SECONDS)
    databases = postgres_databases(2) if backend == "postgresql" else [None, None]
    root = Path(tempfile.mkdtemp(prefix="liaison-soak-"))
    us = Node(root, "US", "DEA Special Operations", databases[0])
    cn = Node(root, "CN", "NNCC Liaison Office", databases[1])
    try:
        for node in (us, cn):
            node.spawn()
        for node in (us, cn):
            node.wait_ready()
        accept(cn.directory, invite(us.directory))
        us_client, cn_client = Client(us, token(us)), Client(cn, token(cn))
        threads: list[int] = []  # US thread ids
        cn_threads: list[int] = []
        lock = threading.Lock()
        timings: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        reasons: dict[str, Counter[str]] = defaultdict(Counter)
        written = {"US": 0, "CN": 0}
        rng = random.Random(15)
        names, weights = zip(*MIX, strict=True)

        def open_thread() -> int:
            status, answer = us_client.call(
                "POST",
                "/api/v1/threads",
                {
                    "peer": "CN",
                    "subject": "soak",
                    "priority": "routine",
                    "kind": "note",
                    "body": "first",
                },
            )
            if status != 201:
                raise RuntimeError(f"HTTP {status}")
            with lock:
                threads.append(int(answer["id"]))
                written["US"] += 1
            return int(answer["id"])

        def operation(name: str, due: float, pick: float) -> None:
            try:
                if name == "us_open_thread" or not threads:
                    open_thread()
                elif name == "us_post_message":
                    thread = threads[int(pick * len(threads))]
                    status, _ = us_client.call(
                        "POST", f"/api/v1/threads/{thread}/messages", {"body": "soak message"}
                    )
                    if status != 201:
                        raise RuntimeError(f"HTTP {status}")
                    with lock:
                        written["US"] += 1
                elif name == "cn_reply":
                    if not cn_threads:
                        status, listed = cn_client.call("GET", "/api/v1/threads")
                        cn_threads.extend(int(t["id"]) for t in listed)
                    if cn_threads:
                        thread = cn_threads[int(pick * len(cn_threads))]
                        status, _ = cn_client.call(
                            "POST", f"/api/v1/threads/{thread}/messages", {"body": "soak reply"}
                        )
                        if status != 201:
                            raise RuntimeError(f"HTTP {status}")
                        with lock:
                            written["CN"] += 1
                elif name == "cn_list_threads":
                    status, listed = cn_client.call("GET", "/api/v1/threads")
                    if status != 200:
                        raise RuntimeError(f"HTTP {status}")
                    with lock:
                        known = set(cn_threads)
                        cn_threads.extend(int(t["id"]) for t in listed if t["id"] not in known)
                else:
                    thread = threads[int(pick * len(threads))]
                    status, _ = us_client.call("GET", f"/api/v1/threads/{thread}/messages")
                    if status != 200:
                        raise RuntimeError(f"HTTP {status}")
            except Exception as error:  # counted and reported; the load goes on
                with lock:
                    errors[name] += 1
                    reasons[name][f"{type(error).__name__}: {error}"[:120]] += 1
                return
            with lock:
                timings[name].append((time.monotonic() - due) * 1000)

        open_thread()
        # Baseline in the same run: the HTTP round trip of GET /healthz, one at a time.
        floor = []
        for _ in range(200):
            start = time.monotonic()
            us_client.call("GET", "/healthz")
            floor.append((time.monotonic() - start) * 1000)
        memory: dict[str, dict[str, int]] = {n.name: {"start_kib": rss_kib(n)} for n in (us, cn)}
        cpu_before = {n.name: n.cpu_seconds() for n in (us, cn)}
        total = int(rate * seconds)
        begin = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool, Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("soak", total=total)
            for index in range(total):
                due = begin + index / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if index == total // 2:
                    for node in (us, cn):
                        memory[node.name]["middle_kib"] = rss_kib(node)
                name = rng.choices(names, weights)[0]
                pool.submit(operation, name, due, rng.random())
                bar.advance(task)
        span = time.monotonic() - begin
        for node in (us, cn):
            memory[node.name]["end_kib"] = rss_kib(node)
            memory[node.name]["growth_kib"] = (
                memory[node.name]["end_kib"] - memory[node.name]["start_kib"]
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            arrived = {"CN": count_messages(cn, "US"), "US": count_messages(us, "CN")}
            if arrived["CN"] >= written["US"] and arrived["US"] >= written["CN"]:
                break
            time.sleep(0.5)
        return {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": backend,
            "seconds": round(span, 1),
            "offered_rate": rate,
            "baseline_healthz_ms": {
                "p50": round(percentile(floor, 0.5), 2),
                "p99": round(percentile(floor, 0.99), 2),
            },
            "operations": {
                name: {
                    "count": len(timings[name]) + errors[name],
                    "errors": errors[name],
                    "p50_ms": round(percentile(timings[name], 0.5), 1) if timings[name] else None,
                    "p95_ms": round(percentile(timings[name], 0.95), 1) if timings[name] else None,
                    "p99_ms": round(percentile(timings[name], 0.99), 1) if timings[name] else None,
                    "max_ms": round(max(timings[name]), 1) if timings[name] else None,
                    "error_reasons": dict(reasons[name].most_common(3)),
                }
                for name in names
            },
            "written": written,
            "arrived": {"on CN from US": arrived["CN"], "on US from CN": arrived["US"]},
            "memory": memory,
            "cpu_seconds": {
                n.name: round(n.cpu_seconds() - cpu_before[n.name], 1) for n in (us, cn)
            },
        }
    finally:
        us.stop()
        cn.stop()
        if backend == "postgresql":
            drop_postgres_databases([d for d in databases if d])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    options = parser.parse_args()
    result = run(options.seconds, options.rate, options.backend)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

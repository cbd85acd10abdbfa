"""A node on several server processes (`liaison serve DIR --workers N`): two real nodes.

US runs two worker processes on PostgreSQL; CN runs one. Answers of a several-process
node name their process (X-Liaison-Worker), so a test can hold an event stream on each.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from federation.nodes import NodeProcess, Pair, make_node, start_pair, wait_until
from liaison.federation.peer_locks import DELIVERY_LOCK_CLASS, LOCK_APPLICATION
from liaison.web.app import WORKER_HEADER

ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class EventStream:
    """GET /api/v1/events on one connection, read by a thread; events land in `events`."""

    def __init__(self, node: NodeProcess, token: str) -> None:
        self.client = httpx.Client(base_url=node.base_url, timeout=httpx.Timeout(30, read=None))
        self.token = token
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.connected = threading.Event()
        self.worker = ""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(30), "the event stream did not open"

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with self.client.stream("GET", "/api/v1/events", headers=headers) as response:
                assert response.status_code == 200
                self.worker = response.headers[WORKER_HEADER]
                name = ""
                for line in response.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    elif line.startswith("event: "):
                        name = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        self.events.put((name, json.loads(line.removeprefix("data: "))))
        except httpx.HTTPError:
            pass  # closed by the test

    def next(self, name: str, timeout: float = 30) -> dict[str, Any]:
        """The next event called `name` (others are skipped)."""
        while True:
            try:
                event, data = self.events.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {name!r} event on the stream of worker {self.worker}")
            if event == name:
                return data

    def close(self) -> None:
        self.client.close()
        self._thread.join(10)


def streams_on_each_worker(node: NodeProcess, token: str, workers: int) -> list[EventStream]:
    """One open stream per worker process (new connections land on any; extras closed)."""
    held: dict[str, EventStream] = {}
    for _ in range(100):
        stream = EventStream(node, token)
        if stream.worker in held:
            stream.close()
        else:
            held[stream.worker] = stream
        if len(held) == workers:
            return list(held.values())
    pytest.fail(f"connections reached only the workers {sorted(held)}")


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    started = start_pair(
        tmp_path,
        database_url,
        second_database_url,
        us_env={"LIAISON_FEDERATION_BATCH_SIZE": "3"},
        us_workers=2,
    )
    yield started
    started.close()


def _token(node: NodeProcess) -> str:
    client = node.client()
    token = str(client.headers["Authorization"]).removeprefix("Bearer ")
    client.close()
    return token


def _open_thread(client: httpx.Client, subject: str, body: str) -> dict[str, Any]:
    fields = {"peer": "US", "subject": subject, "priority": "routine", "kind": "note"}
    response = client.post("/api/v1/threads", json={**fields, "body": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


@ON_POSTGRES
def test_an_event_committed_by_one_process_reaches_the_streams_of_every_other(
    pair: Pair,
) -> None:
    streams = streams_on_each_worker(pair.us, _token(pair.us), 2)
    try:
        assert {s.worker for s in streams} == {str(p) for p in _us_workers(pair.us)}
        cn = pair.cn.client()
        sent = _open_thread(cn, "Consignment 7", "first")
        # The batch from CN was applied by one US process; both streams hear of it.
        [first, second] = [stream.next("thread") for stream in streams]
        assert first == second and first["incoming"] is True
        reply = cn.post(f"/api/v1/threads/{sent['id']}/messages", json={"body": "second"})
        assert reply.status_code == 201, reply.text
        messages = [stream.next("message") for stream in streams]
        assert messages[0] == messages[1] and messages[0]["thread"] == first["thread"]
        cn.close()
    finally:
        for stream in streams:
            stream.close()


def _us_workers(node: NodeProcess) -> list[int]:
    """The pids of the supervisor's worker processes (its children running the app)."""
    assert node.process is not None
    children = Path(f"/proc/{node.process.pid}/task/{node.process.pid}/children").read_text()
    pids = [int(pid) for pid in children.split()]
    return [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _lock_holder(node: NodeProcess, peer: str) -> int | None:
    """The pid of the process holding the delivery lock of `peer`, if one does now."""
    name = node.scalar(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "JOIN peers p ON p.id = l.objid::int "
        "WHERE l.locktype = 'advisory' AND l.classid = :class_id AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND p.name = :peer",
        class_id=DELIVERY_LOCK_CLASS,
        peer=peer,
    )
    return int(name.removeprefix(f"{LOCK_APPLICATION}:")) if name else None


@ON_POSTGRES
def test_kill_9_of_the_lock_holder_mid_stream_another_process_delivers_every_record_once_in_order(
    pair: Pair,
) -> None:
    us = pair.us.client()
    response = us.post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "Shipment series",
            "priority": "routine",
            "kind": "note",
            "body": "0",
        },
    )
    assert response.status_code == 201, response.text
    thread = response.json()
    wait_until(lambda: _acked(pair.us) == _last_seq(pair.us), "the thread to reach CN")
    pair.cn.stop()  # records pile up meanwhile: a long stream to deliver in batches of 3
    count = 90
    for number in range(1, count + 1):
        posted = us.post(f"/api/v1/threads/{thread['id']}/messages", json={"body": str(number)})
        assert posted.status_code == 201, posted.text
    us.close()
    pair.cn.start()

    holder = wait_until(
        lambda: _lock_holder(pair.us, "CN") if _acked(pair.us) < _last_seq(pair.us) else None,
        "a US process to be delivering to CN",
        interval=0.005,
    )
    acked_before = _acked(pair.us)
    os.kill(holder, signal.SIGKILL)
    assert acked_before < _last_seq(pair.us), "the kill came after the stream was delivered"

    wait_until(lambda: _acked(pair.us) == _last_seq(pair.us), "the rest of the stream to CN")
    cn = pair.cn.client()
    received = wait_until(
        lambda: next(
            (t for t in cn.get("/api/v1/threads").json() if t["global_id"] == thread["global_id"]),
            None,
        ),
        "the thread on CN",
    )
    bodies = [m["body"] for m in cn.get(f"/api/v1/threads/{received['id']}/messages").json()]
    cn.close()
    # Every record once, in the order written; another process finished the stream.
    assert bodies == [str(number) for number in range(count + 1)]
    applied = pair.cn.scalar(
        "SELECT i.last_applied_seq FROM peer_inbound i JOIN peers p ON p.id = i.peer_id "
        "WHERE p.name = 'US'"
    )
    assert applied == _last_seq(pair.us)
    wait_until(lambda: len(_us_workers(pair.us)) == 2, "the supervisor to replace the worker")
    assert holder not in _us_workers(pair.us)


def _acked(node: NodeProcess) -> int:
    return int(
        node.scalar(
            "SELECT coalesce(d.acked_seq, 0) FROM peers p "
            "LEFT JOIN peer_delivery d ON d.peer_id = p.id WHERE p.name = 'CN'"
        )
    )


def _last_seq(node: NodeProcess) -> int:
    return int(node.scalar("SELECT last_seq FROM peers WHERE name = 'CN'"))


METRICS_TOKEN = "scraper-token-0123456789"


def _healthz_counted(node: NodeProcess) -> tuple[float, int]:
    """One scrape: GET /healthz answers counted, and how often the node's audit chain
    length appears in it."""
    answer = httpx.get(
        f"{node.base_url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    counted, chains = 0.0, 0
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "liaison_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/healthz",
                "status": "200",
            }:
                counted += sample.value
            chains += sample.name == "liaison_audit_chain_length"
    return counted, chains


@ON_POSTGRES
def test_a_scrape_of_any_worker_counts_the_requests_that_every_worker_served(
    tmp_path: Path, database_url: str
) -> None:
    node = make_node(tmp_path, "US", database_url, {"LIAISON_METRICS_TOKEN": METRICS_TOKEN}, 2)
    node.start()
    try:
        before, _ = _healthz_counted(node)
        served: dict[str, int] = {}
        while len(served) < 2 or sum(served.values()) < 20:
            assert sum(served.values()) < 500, f"requests reached only the workers {served}"
            answer = httpx.get(f"{node.base_url}/healthz", timeout=30)  # a new connection each
            assert answer.status_code == 200
            worker = answer.headers[WORKER_HEADER]
            served[worker] = served.get(worker, 0) + 1
        for _ in range(4):  # scrapes land on either worker: each counts them all
            after, chains = _healthz_counted(node)
            assert after - before == sum(served.values())
            assert chains == 1  # the database's figures are read once, not per process
        assert any((node.directory / "run" / "metrics").iterdir())
    finally:
        node.close()


def test_a_sqlite_node_refuses_several_processes(tmp_path: Path) -> None:
    node = make_node(tmp_path, "US")
    refused = subprocess.run(
        [
            *(sys.executable, "-c", "from liaison.cli import main; main()"),
            *("serve", str(node.directory), "--port", str(node.port), "--workers", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "a node on SQLite runs as one process" in refused.stderr
    assert "need PostgreSQL" in refused.stderr

"""Identification in worker processes, against a real `liaison serve`: a worker that crashes
(a real SIGSEGV) or runs past the time limit costs only its query; the server keeps
answering and the next identification works."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from federation.nodes import make_node, wait_until
from liaison.config import NodeConfig

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
# Allowed by the raised atom limit below; drawing its 1,500-carbon acyl chain takes well over
# the time limit, so it keeps a worker busy long enough to be found and killed.
SLOW = "C" * 1500 + "C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def _workers(serve: int) -> list[int]:
    """The engine workers: forked by the server (same command line), or, once replaced, by
    its forkserver."""
    return [
        pid
        for pid in _descendants(serve)
        if (_parent(pid) == serve and b"multiprocessing" not in _cmdline(pid))
        or b"forkserver" in _cmdline(_parent(pid))
    ]


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _serve_pid(node: NodeConfig) -> int:
    """The `liaison serve` process of the node (its forked workers share its command line)."""
    matches = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            argv = _cmdline(int(entry.name)).split(b"\0")
            if b"serve" in argv and str(node.directory).encode() in argv:
                matches.add(int(entry.name))
    for pid in matches:
        if _parent(pid) not in matches:
            return pid
    raise AssertionError("no liaison serve process for the node")


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
    except OSError:
        return False


def _identify(base_url: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/api/v1/substances/identify",
        headers=headers,
        json={"query": query, "jurisdictions": ["US"]},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def _healthz_answers_during(thread: threading.Thread, base_url: str) -> int:
    answered = 0
    while thread.is_alive():
        assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
        answered += 1
        time.sleep(0.05)
    return answered


@pytest.fixture
def chem_limits(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("LIAISON_CHEM_MAX_ATOMS", "5000")
    monkeypatch.setenv("LIAISON_CHEM_WORKERS", "1")
    monkeypatch.setenv("LIAISON_CHEM_SECONDS", str(request.param))


@pytest.fixture
def bearer(served_node: str, accounts: Accounts) -> Iterator[dict[str, str]]:
    with httpx.Client(base_url=served_node) as client:
        yield accounts.bearer(client, "anna")


@pytest.mark.parametrize("chem_limits", [120], indirect=True)
def test_a_worker_killed_by_sigsegv_costs_only_its_query(
    chem_limits: None, served_node: str, bearer: dict[str, str], node: NodeConfig
) -> None:
    before = _identify(served_node, bearer, FENTANYL)  # the worker is warm and known
    assert before["verdicts"]["US"]["status"] == "controlled"
    results: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: results.append(_identify(served_node, bearer, SLOW)))
    thread.start()
    serve = _serve_pid(node)
    killed = None
    while killed is None and thread.is_alive():
        busy = [pid for pid in _workers(serve) if _running(pid)]
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGSEGV)
    _healthz_answers_during(thread, served_node)  # each /healthz answers 200 meanwhile
    thread.join()
    assert killed is not None
    crashed = results[0]
    assert crashed["verdicts"]["US"]["status"] == "invalid"
    assert crashed["error"] == (
        "identification failed: the worker was killed by SIGSEGV; nothing was judged"
    )
    assert killed not in _descendants(serve)
    after = _identify(served_node, bearer, FENTANYL)
    assert after["verdicts"]["US"]["status"] == "controlled"


@pytest.mark.parametrize("chem_limits", [2], indirect=True)
def test_a_query_past_the_time_limit_is_invalid_and_the_server_keeps_answering(
    chem_limits: None, served_node: str, bearer: dict[str, str]
) -> None:
    results: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: results.append(_identify(served_node, bearer, SLOW)))
    thread.start()
    assert _healthz_answers_during(thread, served_node) > 0
    thread.join()
    assert results[0]["error"] == (
        "identification timed out after 2 s (limit seconds=2); nothing was judged"
    )
    assert _identify(served_node, bearer, FENTANYL)["verdicts"]["US"]["status"] == "controlled"


def test_the_workers_die_with_a_server_killed_outright(tmp_path: Path) -> None:
    node = make_node(tmp_path, "CN", env={"LIAISON_CHEM_WORKERS": "2"})
    node.start()
    try:
        assert node.process is not None
        serve = node.process.pid
        client = node.client()
        first = wait_until(lambda: _workers(serve), "the first workers")
        os.kill(first[0], signal.SIGKILL)  # its replacement comes from the forkserver
        wait_until(lambda: not _alive(first[0]), "the killed worker to exit")
        answer = client.post(
            "/api/v1/substances/identify", json={"query": FENTANYL, "jurisdictions": ["US"]}
        )
        client.close()
        assert answer.json()["results"][0]["verdicts"]["US"]["status"] == "controlled"
        family = _descendants(serve)
        assert any(b"forkserver" in _cmdline(_parent(pid)) for pid in _workers(serve))
        node.kill()  # kill -9: the server runs no clean-up
        wait_until(
            lambda: not [pid for pid in family if _alive(pid)],
            "the server's workers and forkserver to exit after it was killed",
        )
    finally:
        node.close()


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for init to reap it."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"

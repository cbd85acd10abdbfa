"""Two real nodes for the tests: `liaison serve` processes on free loopback ports, peered.

Each node has an admin and an officer in the node's default agency (the agency hotline
threads from the peer are addressed to), and CN also has an officer of another agency
who must not see them. Federation runs with short poll and backoff intervals so the
tests wait on conditions (polling with a timeout), never on fixed sleeps. The server
processes are forked from a launcher that imported the server's code once (node_launcher.py).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import sqlalchemy as sa

from liaison.cli.peer import accept, invite
from liaison.config import load_node
from liaison.node import add_node_user, create_node
from liaison.store import Database
from support import MIGRATED_TEMPLATES, free_port

ADMIN_PASSWORD = "admin password 1"
OFFICER_PASSWORD = "officer password 1"
AGENCIES = {"US": "DEA Special Operations", "CN": "NNCC Liaison Office"}
OTHER_AGENCY = "CN Customs Anti-Smuggling"
FAST_FEDERATION = {
    "LIAISON_FEDERATION_POLL_SECONDS": "0.5",
    "LIAISON_FEDERATION_BACKOFF_BASE_SECONDS": "0.05",
    "LIAISON_FEDERATION_BACKOFF_CAP_SECONDS": "0.4",
    "LIAISON_FEDERATION_REQUEST_TIMEOUT_SECONDS": "5",
}


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.05
) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class ServerProcess(Protocol):
    """What the harness does with a node's server process (a Popen is one)."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


class NodeLauncher:
    """The test process's node_launcher.py (started when first needed, ended at exit)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._process is None:
                script = Path(__file__).with_name("node_launcher.py")
                self._process = subprocess.Popen(
                    [sys.executable, str(script)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                atexit.register(self.close)
            requests, answers = self._process.stdin, self._process.stdout
            assert requests is not None and answers is not None
            requests.write(json.dumps(request) + "\n")
            requests.flush()
            line = answers.readline()
            if not line:
                raise RuntimeError(f"the node launcher ended ({self._process.wait()})")
            return dict(json.loads(line))

    def serve(self, arguments: list[str], env: dict[str, str], log: Path) -> ForkedServer:
        answer = self.ask({"serve": arguments, "env": env, "log": str(log)})
        return ForkedServer(int(answer["pid"]), self)

    def close(self) -> None:
        """End the launcher (and so its accounting of the nodes' CPU, which it reaped)."""
        with self._lock:
            if self._process is not None:
                self._process.communicate(timeout=30)
                self._process = None


LAUNCHER = NodeLauncher()


@dataclass
class ForkedServer:
    """A server process the launcher forked: the part of Popen's interface the harness uses."""

    pid: int
    launcher: NodeLauncher
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.launcher.ask({"ended": self.pid})["code"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"liaison serve (pid {self.pid})", timeout or 0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # never a signal to a reaped pid (it may be someone's now)
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@dataclass
class NodeProcess:
    """A node directory and the `liaison serve` process running it (when running)."""

    name: str
    directory: Path
    port: int
    env: dict[str, str]
    log: Path
    workers: int = 1  # server processes (`serve --workers`)
    process: ServerProcess | None = None
    _database: Database | None = field(default=None, repr=False)
    # Python run before the CLI in the node's process (a test's stand-in for another version).
    prelude: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.spawn()
        self.wait_healthy()

    def spawn(self) -> None:
        assert self.process is None, f"{self.name} is already running"
        arguments = ["serve", str(self.directory), "--port", str(self.port)]
        arguments += ["--workers", str(self.workers)]
        env = {**os.environ, **self.env}
        if not self.prelude:
            self.process = LAUNCHER.serve(arguments, env, self.log)
            return
        # Code to run before the CLI needs an interpreter of its own.
        command = [sys.executable, "-c", f"{self.prelude}\nfrom liaison.cli import main; main()"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command + arguments, stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def wait_healthy(self) -> None:
        """Until the node answers; with several workers, until each of them has answered
        (they start one by one, each in an interpreter of its own: slow on a busy machine)."""
        answered: set[str] = set()
        wait_until(
            lambda: self._healthy(answered),
            f"node {self.name} to answer on {self.base_url}",
            timeout=60 * self.workers,
        )

    def _healthy(self, answered: set[str]) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"node {self.name} exited:\n{self.log.read_text()[-3000:]}")
        try:
            response = httpx.get(f"{self.base_url}/healthz", timeout=1)
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            return False
        answered.add(response.headers.get("X-Liaison-Worker", ""))
        return len(answered) >= self.workers

    def kill(self) -> None:
        """kill -9: no shutdown handler runs, in-flight transactions are simply lost."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self, username: str = "officer") -> httpx.Client:
        password = ADMIN_PASSWORD if username == "admin" else OFFICER_PASSWORD
        client = httpx.Client(base_url=self.base_url, timeout=30)
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return client

    def database(self) -> Database:
        if self._database is None:
            self._database = Database(load_node(self.directory).database_url)
        return self._database

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value read straight from the node's database (what is committed there)."""
        with self.database().engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def close(self) -> None:
        self.stop()
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def move_to(self, directory: Path) -> None:
        """Run the node from another directory (e.g. one `liaison restore` wrote); stopped."""
        self.close()
        self.directory = directory


def make_node(
    root: Path,
    name: str,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> NodeProcess:
    port = free_port()
    directory = root / name.lower()
    with MIGRATED_TEMPLATES.instead_of_migrations():
        create_node(
            directory,
            name,
            "admin",
            ADMIN_PASSWORD,
            database_url,
            agency=AGENCIES.get(name, f"{name} agency"),
            base_url=f"http://127.0.0.1:{port}",
        )
    add_node_user(
        directory, "officer", OFFICER_PASSWORD, "officer", AGENCIES.get(name, f"{name} agency")
    )
    if name == "CN":
        add_node_user(directory, "outsider", OFFICER_PASSWORD, "officer", OTHER_AGENCY)
    return NodeProcess(
        name,
        directory,
        port,
        {**FAST_FEDERATION, **(env or {})},
        root / f"{name.lower()}.log",
        workers,
    )


def peer(inviting: NodeProcess, accepting: NodeProcess) -> None:
    """The CLI handshake: invite on one node (running), accept on the other."""
    accept(accepting.directory, invite(inviting.directory))


@dataclass
class Pair:
    us: NodeProcess
    cn: NodeProcess

    def close(self) -> None:
        self.us.close()
        self.cn.close()


def start_pair(
    root: Path,
    us_database: str | None = None,
    cn_database: str | None = None,
    us_env: dict[str, str] | None = None,
    cn_env: dict[str, str] | None = None,
    us_workers: int = 1,
) -> Pair:
    """Two running, peered nodes; if any step fails, the nodes it started are stopped."""
    pair = Pair(
        make_node(root, "US", us_database, us_env, us_workers),
        make_node(root, "CN", cn_database, cn_env),
    )
    try:
        for node in (pair.us, pair.cn):
            node.spawn()  # both start up at the same time
        for node in (pair.us, pair.cn):
            node.wait_healthy()
        peer(pair.us, pair.cn)
    except BaseException:  # pytest.fail raises Failed, a BaseException; so does Ctrl-C
        pair.close()
        raise
    return pair

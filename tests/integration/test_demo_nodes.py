"""`liaison demo`: two real nodes created, started, peered, seeded; reused; stopped by Ctrl-C.

Seeding is most of a demo's cost (two years of incidents, a year of notifications, a
synthetic registry), so the module seeds one demo directory and every test starts it from
there: the first as a fresh set-up, the others as a user's later `liaison demo` reuses it.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from liaison.cli.peer import peer_list
from liaison.config import load_node
from liaison.demo.nodes import CREDENTIALS_FILE
from liaison.node import open_node
from liaison.services.accounts import user_named
from liaison.store import Database
from liaison.store.database import alembic_config, head_revision
from liaison.store.hotline_tables import HotlineThread
from liaison.store.notification_tables import PenNotification
from liaison.store.screening import ScreeningRun
from liaison.store.verification_tables import VerificationCase, VerificationEvent
from support import free_port

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
# The tests share the seeded directory, so they run in one worker, in order.
pytestmark = pytest.mark.xdist_group("demo_nodes")


@dataclass(frozen=True)
class DemoSite:
    """Where the demo runs (its reports land there) and its nodes' directory and ports."""

    cwd: Path
    us_port: int
    cn_port: int

    @property
    def directory(self) -> Path:
        return self.cwd / "demo-nodes"

    def argv(self, *extra: str) -> list[str]:
        """`liaison demo` in this site (the ports apply when it creates the nodes)."""
        return [
            sys.executable,
            "-m",
            "liaison",
            "demo",
            "--directory",
            str(self.directory),
            "--us-port",
            str(self.us_port),
            "--cn-port",
            str(self.cn_port),
            *extra,
        ]


def set_up_demo(site: DemoSite) -> subprocess.CompletedProcess[str]:
    """`liaison demo --no-wait`: set up, start, peer, seed, stop; it must succeed."""
    result = subprocess.run(
        site.argv("--no-wait"),
        cwd=site.cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def thread_count(node_dir: Path) -> int:
    database = Database(load_node(node_dir).database_url)
    try:
        with database.session() as session:
            return session.execute(sa.select(sa.func.count(HotlineThread.id))).scalar_one()
    finally:
        database.dispose()


def screening_runs(node_dir: Path) -> int:
    database = Database(load_node(node_dir).database_url)
    try:
        with database.session() as session:
            return session.execute(sa.select(sa.func.count(ScreeningRun.id))).scalar_one()
    finally:
        database.dispose()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def pen_count(node_dir: Path) -> int:
    database = Database(load_node(node_dir).database_url)
    try:
        with database.session() as session:
            return session.execute(sa.select(sa.func.count(PenNotification.id))).scalar_one()
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    return DemoSite(tmp_path_factory.mktemp("demo"), free_port(), free_port())


@pytest.fixture(scope="module")
def first_run(site: DemoSite) -> subprocess.CompletedProcess[str]:
    """The demo's first run in `site`: it creates, peers and seeds both nodes."""
    return set_up_demo(site)


def test_demo_sets_up_two_peered_seeded_nodes_and_reuses_them(
    site: DemoSite, first_run: subprocess.CompletedProcess[str]
) -> None:
    directory, us_port, cn_port, first = site.directory, site.us_port, site.cn_port, first_run
    assert "Created node US" in first.stdout and "Created node CN" in first.stdout
    assert "Peered US and CN" in first.stdout and "Seeded" in first.stdout
    assert f"http://127.0.0.1:{us_port}/" in first.stdout
    assert f"http://127.0.0.1:{cn_port}/" in first.stdout
    assert (site.cwd / "reports" / "import_manifest.html").is_file()

    credentials = directory / CREDENTIALS_FILE
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    users = dict(line.split(" ", 1) for line in credentials.read_text().splitlines())
    assert set(users) == {
        f"{node}-{role}"
        for node in ("us", "cn")
        for role in (
            "admin", "officer", "analyst", "auditor", "regulator",
            "immigration_officer", "verifier", "supervisor",
        )
    }  # fmt: skip
    for password in users.values():
        assert password in first.stdout  # printed so a person can log in

    assert [(p.name, p.status) for p in peer_list(directory / "US")] == [("CN", "active")]
    # Verification cases from US on both nodes, one confirmed by CN, one held.
    for node_dir in (directory / "US", directory / "CN"):
        with open_node(node_dir) as (_config, database), database.session() as session:
            statuses = sorted(session.scalars(sa.select(VerificationCase.status)))
            assert statuses == ["confirmed", "requested", "requested"], node_dir
            held = session.scalar(
                sa.select(sa.func.count()).where(VerificationEvent.kind == "hold")
            )
            assert held == 1
    assert [(p.name, p.status) for p in peer_list(directory / "CN")] == [("US", "active")]
    # Each node shows its own time; the CN officers read Chinese.
    cn = load_node(directory / "CN")
    assert (load_node(directory / "US").time_zone, cn.time_zone) == (
        "America/New_York",
        "Asia/Shanghai",
    )
    cn_database = Database(cn.database_url)
    with cn_database.session() as session:
        assert user_named(session, "cn-officer").language == "zh-CN"
    cn_database.dispose()
    seeded = (thread_count(directory / "US"), thread_count(directory / "CN"))
    assert seeded[0] >= 2 and seeded[0] == seeded[1]  # each side opened one, both replicated
    # The CN officer has the GBK seizure list screened, with what it was judged by.
    assert "Screened seizure_list_gbk.csv" in first.stdout
    assert screening_runs(directory / "CN") == 1
    notified = (pen_count(directory / "US"), pen_count(directory / "CN"))
    assert notified[0] >= 60 and notified[0] == notified[1]  # a year both ways, replicated

    # The US node as an earlier version of Liaison left it: one migration behind.
    database = Database(load_node(directory / "US").database_url)
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    behind = database.current_revision()
    database.dispose()
    assert behind != head_revision()

    second = set_up_demo(site)
    assert "Reusing node US" in second.stdout and "Reusing node CN" in second.stdout
    assert "Peered" not in second.stdout and "Seeded" not in second.stdout
    assert f"Upgraded its database from {behind} to {head_revision()}" in second.stdout
    assert Database(load_node(directory / "US").database_url).is_at_head()
    assert (thread_count(directory / "US"), thread_count(directory / "CN")) == seeded
    assert "Screened seizure_list_gbk.csv" not in second.stdout
    assert screening_runs(directory / "CN") == 1
    # CN's notifications are kept, so none are seeded again (US's went with the downgrade
    # of the revision that made their table).
    assert pen_count(directory / "CN") == notified[1]
    assert dict(line.split(" ", 1) for line in credentials.read_text().splitlines()) == users


def start_demo_in_foreground(site: DemoSite) -> tuple[subprocess.Popen[str], list[str]]:
    """The demo running until Ctrl-C, both nodes answering; returns it and its output."""
    process = subprocess.Popen(
        site.argv(),
        cwd=site.cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Started with SIGINT ignored, as from a background job or a test runner's worker
        # (the demo once inherited that and never stopped on Ctrl-C).
        preexec_fn=_ignore_interrupts,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if "Press Ctrl-C" in line:
            break
    if not (port_open(site.us_port) and port_open(site.cn_port)):
        process.kill()
        raise AssertionError("".join(output))
    return process, output


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def assert_ports_close(ports: tuple[int, int], within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    while any(port_open(port) for port in ports) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(port_open(port) for port in ports)


def test_demo_runs_in_the_foreground_until_ctrl_c_then_stops_both_nodes(
    site: DemoSite, first_run: subprocess.CompletedProcess[str]
) -> None:
    process, output = start_demo_in_foreground(site)
    try:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, "".join(output) + rest
    assert "Both nodes stopped." in rest
    assert_ports_close((site.us_port, site.cn_port), within_seconds=10)


def test_nodes_stop_when_the_demo_is_killed_outright(
    site: DemoSite, first_run: subprocess.CompletedProcess[str]
) -> None:
    process, _ = start_demo_in_foreground(site)
    process.kill()  # no chance to stop its nodes itself
    process.wait()
    assert_ports_close((site.us_port, site.cn_port), within_seconds=30)

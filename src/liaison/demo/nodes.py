"""Second act of the demo: a US node (port 8001) and a CN node (port 8002) are created in
`demo-nodes/` (or reused from an earlier run), started, peered, seeded with a short
hotline exchange, and run in the foreground until Ctrl-C stops both.
"""

from __future__ import annotations

import dataclasses
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import InstrumentedAttribute

from liaison.audit import Actor
from liaison.cli.peer import accept, invite, peer_list
from liaison.config import NODE_FILE, load_node
from liaison.demo.conversation import seed_demo_conversation
from liaison.demo.incidents import seed_demo_incidents
from liaison.demo.notifications import seed_demo_notifications
from liaison.demo.screening import SEIZURE_LIST, seed_demo_screening
from liaison.demo.verifications import seed_demo_verifications
from liaison.errors import LiaisonError
from liaison.lifetime import die_with_parent
from liaison.node import add_node_user, create_node, open_node, upgrade_node_database
from liaison.runtime import node_record_types
from liaison.services.accounts import set_preferences, user_named
from liaison.store import Database
from liaison.store.hotline_tables import HotlineThread
from liaison.store.incident_tables import Incident
from liaison.store.notification_tables import PenNotification


@dataclass(frozen=True)
class DemoNode:
    name: str
    port: int
    agency: str
    time_zone: str  # the node's, for users who chose none
    language: str  # the demo users' interface language


DEMO_NODES = (
    DemoNode("US", 8001, "DEA Special Operations", "America/New_York", "en"),
    DemoNode("CN", 8002, "NNCC Liaison Office", "Asia/Shanghai", "zh-CN"),
)
DEMO_ROLES = (
    "admin",
    "officer",
    "analyst",
    "auditor",
    "regulator",
    "immigration_officer",
    "verifier",
    "supervisor",
)
# The precursor authorities that lodge and answer pre-export notifications (demo names).
REGULATOR_AGENCIES = {
    "US": "DEA Diversion Control (demo)",
    "CN": "CN Precursor Control Office (demo)",
}
CREDENTIALS_FILE = "credentials.txt"
READY_TIMEOUT_SECONDS = 60.0


def demo_username(node: DemoNode, role: str) -> str:
    return f"{node.name.lower()}-{role}"


def _read_credentials(directory: Path) -> dict[str, str]:
    path = directory / CREDENTIALS_FILE
    if not path.exists():
        return {}
    pairs = (line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {username: password for username, password in pairs}


def ensure_demo_nodes(
    directory: Path, nodes: tuple[DemoNode, ...], console: Console
) -> dict[str, str]:
    """Create the demo nodes that do not exist yet; return every demo username -> password.

    Passwords are generated on first creation (never shipped in the repository) and kept
    in DIR/credentials.txt, readable only by its owner, so a second run reuses the nodes.
    """
    directory.mkdir(parents=True, exist_ok=True)
    credentials = _read_credentials(directory)
    for node in nodes:
        node_dir = directory / node.name
        fresh = not (node_dir / NODE_FILE).exists()
        if not fresh:
            console.print(f"Reusing node {node.name} in {node_dir}")
            # Nodes made by an earlier version of Liaison are brought to its migrations.
            before, after = upgrade_node_database(node_dir)
            if before != after:
                console.print(f"Upgraded its database from {before} to {after}")
        else:
            admin = demo_username(node, "admin")
            credentials[admin] = secrets.token_urlsafe(12)
            create_node(
                node_dir,
                node.name,
                admin,
                credentials[admin],
                agency=node.agency,
                base_url=f"http://127.0.0.1:{node.port}",
                time_zone=node.time_zone,
            )
            console.print(f"Created node {node.name} in {node_dir}")
        added = [demo_username(node, "admin")] if fresh else []
        # Roles added by a later version of the demo get their user on a reused node too.
        for role in DEMO_ROLES[1:]:
            username = demo_username(node, role)
            if username in credentials and not fresh:
                continue
            credentials[username] = secrets.token_urlsafe(12)
            agency = REGULATOR_AGENCIES.get(node.name) if role == "regulator" else None
            add_node_user(node_dir, username, credentials[username], role, agency)
            added.append(username)
        if added:
            _set_demo_language(node_dir, node, added)
        path = directory / CREDENTIALS_FILE
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(
            "".join(f"{user} {password}\n" for user, password in sorted(credentials.items())),
            encoding="utf-8",
        )
    return credentials


def _set_demo_language(node_dir: Path, node: DemoNode, usernames: list[str]) -> None:
    """The CN node's officers read Chinese: the demo users get the node's language."""
    database = Database(load_node(node_dir).database_url)
    try:
        with database.session() as session:
            for username in usernames:
                user = user_named(session, username)
                set_preferences(session, user, Actor.system(), language=node.language)
            session.commit()
    finally:
        database.dispose()


def _port_of(node_dir: Path) -> int:
    port = httpx.URL(load_node(node_dir).base_url).port
    if port is None:
        raise LiaisonError(f"the base URL of the node in {node_dir} has no port")
    return port


def _stop_with_parent() -> None:
    """In the node process: be interrupted if the demo dies without stopping it.

    The nodes run in their own session, so nothing else would stop them if the demo were
    killed outright; they would keep their ports and block the next demo.
    """
    die_with_parent(signal.SIGINT)


def start_node_process(node_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """`liaison serve` for the node in its own process group, so Ctrl-C is ours to hand on."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "liaison",
                "serve",
                str(node_dir),
                "--port",
                str(_port_of(node_dir)),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent,
        )


def wait_until_ready(node_dir: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    url = f"http://127.0.0.1:{_port_of(node_dir)}/readyz"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
            raise LiaisonError(
                f"the node in {node_dir} stopped while starting (is port {_port_of(node_dir)} "
                f"taken?); last lines of {log}:\n" + "\n".join(tail)
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise LiaisonError(
        f"the node in {node_dir} did not answer {url} within {READY_TIMEOUT_SECONDS:.0f} s"
    )


def stop_node_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _peered(node_dir: Path, peer_name: str) -> bool:
    return any(
        state.name == peer_name and state.status == "active" for state in peer_list(node_dir)
    )


def _has_rows(node_dir: Path, column: InstrumentedAttribute[int]) -> bool:
    """Whether the node already holds what a seeding step writes (its table has a row)."""
    with open_node(node_dir) as (_node, database), database.session() as session:
        return session.execute(sa.select(sa.func.count(column))).scalar_one() > 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_node_demo(
    directory: Path, console: Console, *, ports: tuple[int, int] = (8001, 8002), stay: bool = True
) -> None:
    """Create or reuse both nodes, start them, peer and seed them, print how to log in.

    `ports` apply when the nodes are created; reused nodes keep the port of their base URL.
    With `stay`, run until Ctrl-C (or until a node stops), then stop both cleanly.
    """
    us, cn = (
        dataclasses.replace(node, port=port) for node, port in zip(DEMO_NODES, ports, strict=True)
    )
    credentials = ensure_demo_nodes(directory, (us, cn), console)
    us_dir, cn_dir = directory / us.name, directory / cn.name
    record_types = node_record_types()  # what both nodes share, for every seeding below
    processes: list[subprocess.Popen[bytes]] = []
    if stay:
        # Ctrl-C stops the demo even when whatever started it ignores SIGINT (a background
        # job, a test runner's worker): an ignored signal is inherited, a handler is not, so
        # the nodes started below get the default again and stop on the SIGINT sent them.
        signal.signal(signal.SIGINT, _interrupt)
        # `kill` (SIGTERM) stops the demo as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        for node_dir in (us_dir, cn_dir):
            log = directory / f"{node_dir.name}.log"
            process = start_node_process(node_dir, log)
            processes.append(process)
            wait_until_ready(node_dir, process, log)
        if not _peered(cn_dir, us.name):
            accept(cn_dir, invite(us_dir))
            console.print(f"Peered {us.name} and {cn.name} (signed handshake over HTTP)")
        if not _has_rows(us_dir, HotlineThread.id):
            seed_demo_conversation(
                us_dir,
                cn_dir,
                us_username=demo_username(us, "officer"),
                cn_username=demo_username(cn, "officer"),
                record_types=record_types,
            )
            console.print("Seeded a hotline exchange between the two officers")
        # Either node's incidents mean it was seeded (a downgrade may have emptied one).
        if not (_has_rows(us_dir, Incident.id) or _has_rows(cn_dir, Incident.id)):
            with console.status("Seeding incidents on both nodes ..."):
                written = seed_demo_incidents(
                    us_dir,
                    cn_dir,
                    us_username=demo_username(us, "officer"),
                    cn_username=demo_username(cn, "officer"),
                    record_types=record_types,
                )
            console.print(f"Seeded {written} incidents over two years, some shared")
        if seed_demo_screening(cn_dir, demo_username(cn, "officer")):
            console.print(
                f"Screened {SEIZURE_LIST.name} (a GBK CSV, as Excel on Chinese Windows saves "
                f"it) for the {cn.name} officer: see My desk, or screen it yourself"
            )
        if not (_has_rows(us_dir, PenNotification.id) or _has_rows(cn_dir, PenNotification.id)):
            lodged = seed_demo_notifications(
                us_dir,
                cn_dir,
                us_username=demo_username(us, "regulator"),
                cn_username=demo_username(cn, "regulator"),
                record_types=record_types,
            )
            console.print(f"Seeded {lodged} pre-export notifications over a year, both ways")
        with console.status("Seeding verification cases (synthetic registry on CN) ..."):
            seed_demo_verifications(
                us_dir,
                cn_dir,
                us_username=demo_username(us, "immigration_officer"),
                cn_username=demo_username(cn, "verifier"),
                record_types=record_types,
            )
        _print_logins(console, directory, (us, cn), credentials)
        if stay:
            console.print("Both nodes are running. Press [bold]Ctrl-C[/] to stop them.")
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            console.print("[bold red]A node stopped[/]; stopping the other.")
    except KeyboardInterrupt:
        console.print("Stopping both nodes ...")
    finally:
        stop_node_processes(processes)
        if processes:
            console.print("Both nodes stopped.")


def _print_logins(
    console: Console, directory: Path, nodes: tuple[DemoNode, ...], credentials: dict[str, str]
) -> None:
    table = Table(title="Demo nodes: log into both in two browser windows")
    for column in ("node", "URL", "username", "role", "password"):
        table.add_column(column)
    for node in nodes:
        url = f"http://127.0.0.1:{_port_of(directory / node.name)}/"
        for role in DEMO_ROLES:
            username = demo_username(node, role)
            table.add_row(
                node.name, url, username, role, credentials.get(username, "(see credentials)")
            )
    console.print(table)
    console.print(
        f"Credentials are kept in {directory / CREDENTIALS_FILE}; "
        f"server logs in {directory}/*.log. "
        "Open the Hotline page as the officers and post a message: it appears on the other "
        "node without a reload. Screen a file with the seizure list in GBK, "
        f"{SEIZURE_LIST}, or the import manifest; the API takes the same files at "
        "POST /api/v1/substances/screen. "
        "Verifications: us-immigration_officer opens cases, cn-verifier decides them (one "
        "is held: asylum), the supervisors lift holds. The Cooperation page shows the same "
        "figures on both nodes, charted beside the tariff measures and the legal events."
    )

"""Second act of the demo: a US node (port 8001) and a CN node (port 8002) are created in
`demo-nodes/` (or reused from an earlier run), started, peered, seeded with a short
hotline exchange, and run in the foreground until Ctrl-C stops both.
"""

from __future__ import annotations

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

from liaison.cli.peer import accept, invite, peer_list
from liaison.config import NODE_FILE, load_node
from liaison.demo.conversation import seed_demo_conversation
from liaison.demo.verifications import seed_demo_verifications
from liaison.errors import LiaisonError
from liaison.lifetime import die_with_parent
from liaison.node import add_node_user, create_node, open_node, upgrade_node_database
from liaison.runtime import node_record_types
from liaison.store.hotline_tables import HotlineThread


@dataclass(frozen=True)
class DemoNode:
    name: str
    port: int
    agency: str


DEMO_NODES = (
    DemoNode("US", 8001, "DEA Special Operations"),
    DemoNode("CN", 8002, "NNCC Liaison Office"),
)
DEMO_ROLES = (
    "admin",
    "officer",
    "analyst",
    "auditor",
    "immigration_officer",
    "verifier",
    "supervisor",
)
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
        if (node_dir / NODE_FILE).exists():
            console.print(f"Reusing node {node.name} in {node_dir}")
            # Nodes made by an earlier version of Liaison are brought to its migrations.
            before, after = upgrade_node_database(node_dir)
            if before != after:
                console.print(f"Upgraded its database from {before} to {after}")
            # ... and get the accounts of roles added since.
            added = {
                demo_username(node, role): secrets.token_urlsafe(12)
                for role in DEMO_ROLES
                if demo_username(node, role) not in credentials
            }
            for username, password in added.items():
                add_node_user(node_dir, username, password, username.split("-", 1)[1])
            if added:
                credentials.update(added)
                _write_credentials(directory, credentials)
            continue
        accounts = {demo_username(node, role): secrets.token_urlsafe(12) for role in DEMO_ROLES}
        create_node(
            node_dir,
            node.name,
            demo_username(node, "admin"),
            accounts[demo_username(node, "admin")],
            agency=node.agency,
            base_url=f"http://127.0.0.1:{node.port}",
        )
        for role in DEMO_ROLES[1:]:
            add_node_user(
                node_dir, demo_username(node, role), accounts[demo_username(node, role)], role
            )
        credentials.update(accounts)
        _write_credentials(directory, credentials)
        console.print(f"Created node {node.name} in {node_dir}")
    return credentials


def _write_credentials(directory: Path, credentials: dict[str, str]) -> None:
    path = directory / CREDENTIALS_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(
        "".join(f"{user} {password}\n" for user, password in sorted(credentials.items())),
        encoding="utf-8",
    )


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


def _has_threads(node_dir: Path) -> bool:
    with open_node(node_dir) as (_node, database), database.session() as session:
        return session.execute(sa.select(sa.func.count(HotlineThread.id))).scalar_one() > 0


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
        DemoNode(node.name, port, node.agency) for node, port in zip(DEMO_NODES, ports, strict=True)
    )
    credentials = ensure_demo_nodes(directory, (us, cn), console)
    us_dir, cn_dir = directory / us.name, directory / cn.name
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for node_dir in (us_dir, cn_dir):
            log = directory / f"{node_dir.name}.log"
            process = start_node_process(node_dir, log)
            processes.append(process)
            wait_until_ready(node_dir, process, log)
        if not _peered(cn_dir, us.name):
            accept(cn_dir, invite(us_dir))
            console.print(f"Peered {us.name} and {cn.name} (signed handshake over HTTP)")
        if not _has_threads(us_dir):
            seed_demo_conversation(
                us_dir,
                cn_dir,
                us_username=demo_username(us, "officer"),
                cn_username=demo_username(cn, "officer"),
                record_types=node_record_types(),
            )
            console.print("Seeded a hotline exchange between the two officers")
        with console.status("Seeding verification cases (synthetic registry on CN) ..."):
            seed_demo_verifications(
                us_dir,
                cn_dir,
                us_username=demo_username(us, "immigration_officer"),
                cn_username=demo_username(cn, "verifier"),
                record_types=node_record_types(),
            )
        _print_logins(console, directory, (us, cn), credentials)
        if stay:
            # `kill` (SIGTERM) stops the demo as cleanly as Ctrl-C does.
            signal.signal(signal.SIGTERM, _interrupt)
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
        "node without a reload. Verifications: us-immigration_officer opens cases, "
        "cn-verifier decides them (one is held: asylum), the supervisors lift holds."
    )

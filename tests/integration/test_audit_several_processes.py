"""The audit chain written by several processes at once (a node on `serve --workers N`)
stays one unbroken chain: `liaison audit verify` passes, on both backends."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from liaison.config import NodeConfig
from liaison.store import Database

WRITERS = 4
ENTRIES_EACH = 40

# Each writer appends entries one transaction at a time, as a request handler does; all
# start together on a signal file so their transactions overlap.
WRITER = """
import sys, time
from pathlib import Path
from liaison.audit import Actor, UsersListed, record
from liaison.config import load_node
from liaison.store import Database

directory, name, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
database = Database(load_node(directory).database_url)
while not start.exists():
    time.sleep(0.01)
for number in range(count):
    with database.session() as session:
        record(session, Actor.system(name), UsersListed(count=number))
        session.commit()
database.dispose()
"""


def test_concurrent_writers_in_several_processes_keep_the_chain_verifiable(
    node: NodeConfig, tmp_path: Path, liaison_argv: Callable[..., list[str]]
) -> None:
    database = Database(node.database_url)
    with database.engine.connect() as connection:
        before = connection.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one()
    start = tmp_path / "start"
    writers = [
        subprocess.Popen(
            [
                *(sys.executable, "-c", WRITER, str(node.directory)),
                *(f"writer-{n}", str(ENTRIES_EACH), str(start)),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    start.touch()
    for writer in writers:
        _, errors = writer.communicate(timeout=300)
        assert writer.returncode == 0, errors

    with database.engine.connect() as connection:
        seqs = (
            connection.execute(sa.text("SELECT seq FROM audit_entries ORDER BY seq"))
            .scalars()
            .all()
        )
        written = connection.execute(
            sa.text(
                "SELECT actor, count(*) FROM audit_entries WHERE actor LIKE 'writer-%' "
                "GROUP BY actor"
            )
        ).all()
    database.dispose()
    assert list(seqs) == list(range(1, before + WRITERS * ENTRIES_EACH + 1))
    assert dict(written) == {f"writer-{n}": ENTRIES_EACH for n in range(WRITERS)}

    verified = subprocess.run(
        liaison_argv("audit", "verify", str(node.directory)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{before + WRITERS * ENTRIES_EACH} entries" in verified.stdout

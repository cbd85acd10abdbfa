"""Helpers shared by the test packages (importable as `support`: pytest puts tests/ on the path)."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

# The shared reference folder beside the checkout (absent on a bare clone), and its test
# corpus: the shared file when it is there, else the copy shipped with the tests.
REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
_SHARED_SUBSTANCES = REFERENCE_DIR / "substances.csv"
REFERENCE_SUBSTANCES = (
    _SHARED_SUBSTANCES
    if _SHARED_SUBSTANCES.exists()
    else Path(__file__).resolve().parent / "unit" / "chem" / "reference_substances.csv"
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from liaison.chem.models import Basis, Verdict
    from liaison.config import NodeConfig
    from liaison.federation.context import LocalNode
    from liaison.store import Database


def free_port() -> int:
    """A loopback port nobody listens on right now (tests run in parallel: never a fixed port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_stopped_peer(database_url: str, public_key: str, name: str = "CN") -> None:
    """Make `name` an active peer of the node's database, at an address where nothing
    listens (nothing is delivered during the test)."""
    from liaison.store import Database
    from liaison.store.federation_tables import Peer

    database = Database(database_url)
    with database.session() as session:
        session.add(
            Peer(
                name=name,
                base_url="http://127.0.0.1:9",
                public_key=public_key,
                default_agency="NNCC",
                status="active",
                last_seq=0,
            )
        )
        session.commit()
    database.dispose()


def batch_from_cn(
    database: Database, node: LocalNode, cn_key: Ed25519PrivateKey, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Apply a batch signed by CN on `node`, as its inbox endpoint would; the ack's body."""
    from liaison.federation import envelope as env
    from liaison.federation.inbox import receive_batch
    from liaison.runtime import node_record_types

    document = env.seal(
        cn_key, sender="CN", recipient=node.name, kind="batch", body={"records": records}
    ).to_json()
    with database.session() as session:
        answer = receive_batch(session, node, node_record_types(), document, address="127.0.0.1")
        return dict(answer["body"])


@dataclass
class UsNode:
    """US in-process, with CN a peer known only by its key (nothing is delivered to it)."""

    config: NodeConfig
    node: LocalNode
    database: Database
    cn_key: Ed25519PrivateKey


@contextmanager
def us_with_stopped_cn(
    directory: Path,
    database_url: str,
    agency: str | None = None,
    users: Iterable[tuple[str, str, str, str]] = (),
) -> Iterator[UsNode]:
    """Create node US in `directory` with `users` (name, password, role, agency) and CN
    as a stopped peer; its database is disposed of on exit."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from liaison.federation import envelope as env
    from liaison.federation.context import LocalNode
    from liaison.node import add_node_user, create_node
    from liaison.store import Database

    with MIGRATED_TEMPLATES.instead_of_migrations():
        config = create_node(
            directory, "US", "admin", "admin password 1", database_url, agency=agency
        )
    for user in users:
        add_node_user(directory, *user)
    cn_key = Ed25519PrivateKey.generate()
    add_stopped_peer(config.database_url, env.public_key_text(cn_key.public_key()))
    database = Database(config.database_url)
    try:
        yield UsNode(config, LocalNode.from_config(config), database, cn_key)
    finally:
        database.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server of `server_url` (its URL), dropped
    on exit."""
    import sqlalchemy as sa

    name = f"liaison_test_{uuid.uuid4().hex[:12]}"
    url = sa.engine.make_url(server_url)
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        server.dispose()  # no connection to the server stays open while the test runs
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def small_rule_book(directory: Path, keep: Iterable[str]) -> Path:
    """A rule directory in `directory` holding only the shipped rules whose ids are in `keep`,
    verbatim, under each jurisdiction file's own header (each rule is one `[[entry]]`,
    `[[family]]`... block); the other files are copied whole.

    Tests that edit a book to provoke one check load this instead of a copy of the whole
    book: loading standardises every structure, seconds for the 700-odd shipped rules.
    """
    from liaison.chem.rulebook import JURISDICTION_FILES, RULES_DIR

    wanted = set(keep)
    directory.mkdir(parents=True)
    for path in RULES_DIR.iterdir():
        if path.name not in JURISDICTION_FILES:
            shutil.copy(path, directory / path.name)
            continue
        header, *rules = re.split(r"(?m)^(?=\[\[)", path.read_text(encoding="utf-8"))
        kept = [rule for rule in rules if _rule_id(rule) in wanted]
        wanted -= {_rule_id(rule) for rule in kept}
        (directory / path.name).write_text(header + "".join(kept), encoding="utf-8")
    assert not wanted, f"no shipped rule has the id {sorted(wanted)}"
    return directory


def _rule_id(block: str) -> str:
    found = re.search(r'(?m)^id = "([^"]+)"', block)
    return found.group(1) if found else ""


class MigratedTemplates:
    """A database per backend migrated to the head once in the test process (the real
    migrations), copied for each new node of the harness instead of migrating it again:
    every migration from empty costs far more than a SQLite file copy or PostgreSQL's
    `CREATE DATABASE … TEMPLATE`. Tests of the migrations call `Database.upgrade` and
    `create_node` themselves and still run them all."""

    def __init__(self) -> None:
        self._sqlite: Path | None = None
        self._postgres: dict[str, str] = {}  # server URL -> the template database's name

    @contextmanager
    def instead_of_migrations(self) -> Iterator[None]:
        """Within: migrating an empty database to the head copies the template into it."""
        from liaison.store import Database

        migrate = Database.upgrade

        def upgrade(database: Database, revision: str = "head") -> None:
            on_disk = database.sqlite_file is not None or not database.url.startswith("sqlite")
            if revision != "head" or not on_disk or database.current_revision() is not None:
                migrate(database, revision)
                return
            database.dispose()  # no connection to the empty database may stay open
            if database.sqlite_file is not None:
                self._copy_sqlite(database.sqlite_file, migrate)
            else:
                self._copy_postgres(database.url, migrate)

        with mock.patch.object(Database, "upgrade", upgrade):
            yield

    def _copy_sqlite(self, target: Path, migrate: Callable[[Database, str], None]) -> None:
        from liaison.store import Database

        if self._sqlite is None:
            template = Path(tempfile.mkdtemp(prefix="liaison-template-")) / "liaison.db"
            database = Database(f"sqlite:///{template}")
            migrate(database, "head")
            database.dispose()  # the last connection's close folds the WAL into the file
            self._sqlite = template
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(self._sqlite, target)
        target.chmod(0o600)  # as `Database.upgrade` makes it: password hashes live here

    def _copy_postgres(self, url: str, migrate: Callable[[Database, str], None]) -> None:
        import sqlalchemy as sa

        from liaison.store import Database

        target = sa.engine.make_url(url)
        server_url = target.set(database="postgres").render_as_string(hide_password=False)
        server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        try:
            if server_url not in self._postgres:
                name = f"liaison_template_{uuid.uuid4().hex[:12]}"
                with server.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                database = Database(target.set(database=name).render_as_string(False))
                migrate(database, "head")
                database.dispose()  # a template is copied only while nobody is connected
                self._postgres[server_url] = name
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
                connection.execute(
                    sa.text(
                        f'CREATE DATABASE "{target.database}" '
                        f'TEMPLATE "{self._postgres[server_url]}"'
                    )
                )
        finally:
            server.dispose()

    def drop(self) -> None:
        """Remove the templates (at the end of the session)."""
        import sqlalchemy as sa

        if self._sqlite is not None:
            shutil.rmtree(self._sqlite.parent, ignore_errors=True)
            self._sqlite = None
        for server_url, name in self._postgres.items():
            server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
        self._postgres.clear()


# One set of templates per test process (each xdist worker makes its own).
MIGRATED_TEMPLATES = MigratedTemplates()


# The Chinese lists as cn.toml names them.
CN_NARCOTIC = "麻醉药品品种目录 (catalogue of narcotic drugs)"
CN_CATEGORY_I = "精神药品品种目录 第一类 (catalogue of psychotropic substances, category I)"
CN_CATEGORY_II = "精神药品品种目录 第二类 (catalogue of psychotropic substances, category II)"
CN_SUPPLEMENTARY = (
    "非药用类麻醉药品和精神药品管制品种增补目录 "
    "(supplementary list of non-medical narcotic drugs and psychotropic substances)"
)


def cn_verdict(query: str, as_of: date) -> Verdict:
    """China's verdict on `query` on `as_of`."""
    from liaison.chem import identify  # the engine only for the tests that ask it

    return identify(query, as_of=as_of, jurisdictions=["CN"]).verdicts["CN"]


def cn_rule_ids(query: str, as_of: date) -> set[str]:
    """The ids of the CN rules China's verdict on `query` on `as_of` rests on."""
    return {basis.rule_id for basis in cn_verdict(query, as_of).basis}


def basis_by_rule(code: str, query: str, as_of: date) -> dict[str, Basis]:
    """Rule id -> basis of jurisdiction `code`'s verdict on `query` on `as_of`."""
    from liaison.chem import identify

    verdict = identify(query, as_of=as_of, jurisdictions=[code]).verdicts[code]
    return {basis.rule_id: basis for basis in verdict.basis}


def first_day_basis(code: str, query: str, rule_id: str, day: date) -> Basis:
    """The basis `rule_id` gives `query` in jurisdiction `code` on `day`, after checking it
    gives none the day before: a listing that begins on `day`."""
    assert rule_id not in basis_by_rule(code, query, day - timedelta(days=1))
    return basis_by_rule(code, query, day)[rule_id]

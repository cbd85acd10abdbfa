"""Shared test plumbing: which databases the database suite runs against.

Tests that concern the database take the `database_url` fixture and run once on
SQLite and once on the local PostgreSQL. PostgreSQL is found through
LIAISON_TEST_POSTGRES_URL (a server URL whose database is used only to create and
drop a fresh database per test module). `.ci/run` sets LIAISON_REQUIRE_POSTGRES=1,
which turns a missing server into a failure instead of a notice.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import NodeId

from support import MIGRATED_TEMPLATES, postgres_database

POSTGRES_SERVER_URL = os.environ.get(
    "LIAISON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("LIAISON_REQUIRE_POSTGRES") == "1"
# Cheap argon2 for the suite, set before any test module imports liaison (`liaison serve`
# subprocesses inherit it). Production keeps the default cost; hashes carry their parameters.
os.environ.setdefault("LIAISON_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("LIAISON_PASSWORD_HASH_MEMORY_KIB", "1024")
# The compiled rule book (liaison.chem.compiled) is kept out of the user's own cache.
os.environ.setdefault(
    "LIAISON_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"liaison-test-cache-{os.getuid()}")
)

TESTS = Path(__file__).resolve().parent
_postgres_state: dict[str, str | bool] = {}


def postgres_available() -> bool:
    """True when the PostgreSQL server answers; the reason it does not is kept for the summary."""
    if "available" not in _postgres_state:
        try:
            import sqlalchemy as sa

            engine = sa.create_engine(POSTGRES_SERVER_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sa.text("select 1"))
            engine.dispose()
            _postgres_state["available"] = True
        except Exception as error:  # any failure to connect means the suite cannot run
            _postgres_state["available"] = False
            _postgres_state["reason"] = str(error).splitlines()[0]
    return bool(_postgres_state["available"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend; the test migrates it as a node would."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'liaison.db'}"
        return
    if not postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but unreachable: {_postgres_state['reason']}")
        pytest.skip("PostgreSQL server not reachable")
    with postgres_database(POSTGRES_SERVER_URL) as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _drop_migrated_templates() -> Iterator[None]:
    """The databases new nodes are copied from (support.MigratedTemplates), made when first
    needed in this process, are dropped at its end."""
    yield
    MIGRATED_TEMPLATES.drop()


def pytest_configure(config: pytest.Config) -> None:
    """Compile the rule book into LIAISON_CACHE_DIR once, before the xdist workers and the
    nodes the tests start need it: compiling takes ~9 s on a quiet machine, and a node that
    compiled on its first request under the suite's load answered after 29 s, past a browser
    test's 30 s wait (a fresh clone has no compiled rule book yet)."""
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        from liaison.chem import load_rulebook

        load_rulebook()


@pytest.hookimpl(trylast=True)  # after xdist's own hook, whose renaming pytest 9.2 ignores
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, the tests of one xdist_group run in one worker, and so do
    the tests that share a fixture built once for many (two nodes, a browser, a trained model,
    a Dask cluster, the checked rule book): that worker builds it once, instead of every
    worker that gets one of the tests. A session-scoped fixture of the suite groups its
    tests across modules; a module-scoped one, the tests of its module.

    xdist names a test's group by appending "@group" to its id, which its scheduler reads;
    xdist 3.8 writes `item._nodeid`, which pytest 9.2 no longer reads (its ids are `_id`),
    so every test was a unit of its own (pytest-dev/pytest-xdist#1386). Written here instead."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        info = getattr(item, "_fixtureinfo", None)
        if not groups and info is not None:
            groups = _shared_fixture_group(item, info)
        suffix = "@" + "_".join(sorted(groups))
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)  # type: ignore[attr-defined]


def _shared_fixture_group(item: pytest.Item, info: Any) -> set[str]:
    """The group of a test that uses a session-scoped fixture of the suite (not an autouse
    one: every test has those), else a module-scoped fixture: the fixture's name, or the
    module's path; none for a test that shares nothing costly."""
    autouse = set(info.initialnames) - set(info.argnames)
    scopes = set()
    for name, definitions in info.name2fixturedefs.items():
        definition = definitions[-1]
        suite = Path(inspect.getfile(definition.func)).is_relative_to(TESTS)
        if definition.scope == "session" and name not in autouse and suite:
            return {name}
        scopes.add(definition.scope)
    if scopes & {"module", "package", "class"}:
        return {item.nodeid.split("::", 1)[0]}
    return set()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Checked here, in the controlling process: with xdist the workers' state is not visible.
    if not postgres_available():
        terminalreporter.write_line(
            "NOTE: the PostgreSQL suite did NOT run (no server at "
            f"{POSTGRES_SERVER_URL}: {_postgres_state.get('reason')}). "
            "Only SQLite was tested.",
            yellow=True,
            bold=True,
        )
    for report in terminalreporter.stats.get("skipped", []):
        if "test_container_image.py" in report.nodeid:
            _path, _line, reason = report.longrepr  # a skip's (file, line, reason)
            terminalreporter.write_line(
                f"NOTE: the container image test did NOT run ({reason.removeprefix('Skipped: ')}).",
                yellow=True,
                bold=True,
            )
            break


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[object]:
    """A real LocalCluster of two worker processes (one thread each), shared by the Dask
    engine tests: non-daemon workers, as `liaison screen --engine dask` makes them."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
    ):
        yield local

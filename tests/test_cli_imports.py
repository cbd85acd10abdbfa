"""A fast command line: each `liaison` command imports only what it uses.

Checked in a fresh interpreter (the test process has everything imported already): the
command runs, then the modules it loaded are listed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer._click import Context
from typer.testing import CliRunner

from liaison.cli import COMMANDS, app, summary
from liaison.node import create_node

# Runs the command, then writes the names of every module it loaded to argv[1].
PROBE = """
import json, sys
from liaison.cli import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
"""
WEB = "fastapi"
DATABASE = "sqlalchemy"
CHEMISTRY = "rdkit"
DEMO = "liaison.demo"
# Record linkage: only `liaison identity match` (and synth, for pandas) may load these.
LINKAGE = ("splink", "duckdb", "pandas")
# Typer's coercion of a value the command line gave as text into a number or a path: not for
# a default, a text or --help (liaison.cli.coercion).
PYDANTIC = "pydantic"
COMMAND_MODULES = {f"liaison.cli.{module}" for module, _ in COMMANDS.values()}


def loaded_modules(tmp_path: Path, *args: str, stdin: str = "") -> set[str]:
    listing = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.exists(), result.stderr
    return set(json.loads(listing.read_text()))


def imported(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("serve", "--help"),
        ("demo", "--help"),
        ("screen", "--help"),
        ("user",),
        ("identity", "match", "--help"),
    ],
)
def test_help_imports_no_web_database_chemistry_or_demo(tmp_path: Path, args: tuple) -> None:
    modules = loaded_modules(tmp_path, *args)
    assert "liaison.cli" in modules  # the probe did run the command
    for package in (WEB, DATABASE, CHEMISTRY, DEMO, *LINKAGE, PYDANTIC):
        assert not imported(modules, package), f"liaison {' '.join(args)} imported {package}"


def test_the_command_list_imports_no_command_module(tmp_path: Path) -> None:
    modules = loaded_modules(tmp_path, "--help")
    assert "liaison.cli" in modules
    assert not COMMAND_MODULES & modules


def test_the_listed_help_of_a_command_is_its_own() -> None:
    group = typer.main.get_group(app)
    context = Context(group)
    for name in COMMANDS:
        command = group.get_command(context, name)
        assert command is not None and command.help == summary(name), name


def test_identity_check_imports_no_record_linkage(tmp_path: Path) -> None:
    modules = loaded_modules(tmp_path, "identity", "check", "11010519491231002X")
    assert imported(modules, "stdnum")  # it did check
    for package in (WEB, DATABASE, CHEMISTRY, DEMO, *LINKAGE, PYDANTIC):
        assert not imported(modules, package), f"liaison identity check imported {package}"


def test_a_node_command_imports_the_database_but_not_the_web_chemistry_or_demo(
    tmp_path: Path,
) -> None:
    create_node(tmp_path / "us", "US", "admin", "admin password 1")
    modules = loaded_modules(tmp_path, "user", "list", str(tmp_path / "us"))
    assert imported(modules, DATABASE)  # it did open the node
    for package in (WEB, CHEMISTRY, DEMO, "uvicorn", "liaison.web"):
        assert not imported(modules, package), f"liaison user list imported {package}"


def test_screen_imports_the_chemistry_but_not_the_web_database_or_demo(tmp_path: Path) -> None:
    loaded_modules(tmp_path, "screen", stdin="")  # the rule book compiled into the cache
    modules = loaded_modules(tmp_path, "screen", "--format", "jsonl", stdin="CCO\n")
    assert imported(modules, CHEMISTRY)  # it did screen
    assert COMMAND_MODULES & modules == {"liaison.cli.screen"}
    # Nor Rich: jsonl output is data only (Rich is for the table and the messages); nor the
    # HTML report's module, for --report only; nor, with the rule book read from the cache,
    # RDKit's standardizer: only a worker judging a record the prefilter lets through needs it.
    for package in (
        WEB,
        DATABASE,
        DEMO,
        "rdkit.Chem.Draw",
        "rich",
        "liaison.chem.report",
        "rdkit.Chem.MolStandardize",
        PYDANTIC,
    ):
        assert not imported(modules, package), f"liaison screen imported {package}"


def test_a_number_given_as_text_is_still_checked_by_typer() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from liaison.cli import main; main()",
            *("screen", "--max-atoms", "ten"),
        ],
        input="CCO\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("liaison screen: error: Invalid value for '--max-atoms': ")


def test_the_role_help_names_every_role() -> None:
    from liaison.store.accounts import ROLES

    result = CliRunner().invoke(app, ["user", "add", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert all(role in result.stdout for role in ROLES), result.stdout

"""Errors a person is shown (an error page, a form re-rendered, an API problem) are written
with `liaison.messages.T`, so a Chinese page can show them in Chinese: a plain string or an
f-string in their place stays English there. ProtocolViolation (what a peer is told on the
wire) and ConfigurationError (what an operator is told) stay English by design."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import liaison
from liaison import errors

SOURCE = Path(liaison.__file__).resolve().parent
# Where errors that reach a page or an API answer are made: the services, the web layer,
# the pure libraries whose messages pages show, and peering (the peers page).
USER_FACING = [
    "services",
    "web",
    "chem",
    "identity",
    "tariffs",
    "text.py",
    "federation/peers.py",
    "federation/invites.py",
]
ENGLISH_BY_DESIGN = {"ProtocolViolation", "ConfigurationError"}
# The parameter of an error class's constructor that carries what the user reads.
SHOWN_PARAMETERS = ("detail", "message")


def modules(where: list[str], root: Path = SOURCE) -> Iterator[Path]:
    for name in where:
        path = root / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@cache
def error_classes() -> dict[str, tuple[str, int]]:
    """Every subclass of LiaisonError in the package (by name) -> the parameter shown and
    its position, leaving out those English by design and their subclasses."""
    bases: dict[str, list[str]] = {}
    shown: dict[str, tuple[str, int]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        names = [a.arg for a in item.args.args[1:]]
                        for position, name in enumerate(names):
                            if name in SHOWN_PARAMETERS:
                                shown[node.name] = (name, position)
    default = (next(iter(inspect.signature(errors.LiaisonError).parameters)), 0)

    def lineage(name: str) -> Iterator[str]:
        yield name
        for base in bases.get(name, []):
            yield from lineage(base)

    found = {}
    for name in bases:
        ancestry = list(lineage(name))
        if "LiaisonError" in ancestry and not ENGLISH_BY_DESIGN & set(ancestry):
            found[name] = next((shown[a] for a in ancestry if a in shown), default)
    return found


def plain_text(node: ast.expr) -> bool:
    """A string made in place, not a `T(...)`: a literal, an f-string, `+`, `%`,
    `.format()` or `.join()` on a literal (also in either branch of a conditional)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return plain_text(node.left) or plain_text(node.right)
    if isinstance(node, ast.IfExp):
        return plain_text(node.body) or plain_text(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("format", "join") and plain_text(node.func.value)
    return False


def english_errors(where: list[str], root: Path = SOURCE) -> list[str]:
    classes = error_classes()
    found = []
    for path in modules(where, root):
        for node in ast.walk(parsed(path)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id not in classes:
                continue
            shown, position = classes[node.func.id]
            given = [k.value for k in node.keywords if k.arg == shown]
            if len(node.args) > position:
                given.append(node.args[position])
            if any(plain_text(value) for value in given):
                where_ = f"{path.relative_to(root)}:{node.lineno}"
                found.append(f"{where_}: {node.func.id}({ast.unparse(given[0])[:70]})")
    return found


def test_the_scan_knows_the_error_classes() -> None:
    classes = error_classes()
    assert {"InvalidInput", "NotFound", "Conflict", "Forbidden", "LoginRateLimited"} <= set(classes)
    assert classes["EntryError"] == ("message", 1)
    assert classes["NotFound"] == ("detail", 0)
    assert "ProtocolViolation" not in classes
    assert "RuleFileError" not in classes  # a ConfigurationError


def test_the_scan_finds_an_english_error(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text(
        "raise InvalidInput(f'no user {name!r}')\n"
        "raise NotFound('nothing here')\n"
        "raise Conflict('a' + b)\n"
        "raise EntryError('origin', 'missing')\n"
        "raise Forbidden(detail='x'.join(parts))\n"
        "raise InvalidInput(T('no user %(name)s', name=name))\n"
        "raise EntryError('origin', T('missing'))\n"
        "raise ProtocolViolation('wire')\n"
        "raise ConfigurationError(f'{path}: unreadable')\n",
        encoding="utf-8",
    )
    found = english_errors(["module.py"], root=tmp_path)
    lines = [int(where.split(":")[1]) for where in found]
    assert lines == [1, 2, 3, 4, 5]


def test_user_facing_errors_are_written_with_T() -> None:
    found = english_errors(USER_FACING)
    assert not found, (
        "an error a person sees written as a plain string (use liaison.messages.T and add "
        "the msgid to services.po):\n" + "\n".join(found)
    )

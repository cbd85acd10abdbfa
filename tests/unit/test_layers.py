"""The layers (docs/architecture.md): each package imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "liaison"
# A package, and the packages of liaison it must never import.
FORBIDDEN = {
    "audit": ("web", "federation", "services", "cli", "runtime"),
    "chem": ("store", "web", "federation", "services", "cli", "runtime"),
    "tariffs": ("store", "web", "federation", "services", "cli", "runtime"),
    "identity": ("store", "web", "federation", "services", "cli", "runtime"),
    "store": ("web", "federation", "services", "cli", "runtime"),
    "federation": ("web", "services", "cli", "runtime"),
    "services": ("web", "cli", "runtime"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package: str) -> None:
    offending = []
    module = SOURCE / f"{package}.py"
    paths = [module] if module.exists() else sorted((SOURCE / package).rglob("*.py"))
    for path in paths:
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "liaison" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                offending.append(f"{path.relative_to(SOURCE)} imports {name}")
    assert offending == []

"""`liaison demo` from an installed wheel, not from a checkout.

The wheel is built from a copy of the sources (nothing is written into the checkout) and
installed into a fresh virtual environment. To stay fast and offline, that environment
takes its third-party dependencies from the test environment's site-packages through a
path line in a .pth file (which, unlike the test environment itself, does not run the
editable install's hook), so Liaison's own files can only come from the wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with Liaison installed from a wheel; returns its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src" / "liaison",
        source / "src" / "liaison",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    dist = base / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", dist, source)  # fmt: skip
    (wheel,) = dist.glob("liaison-*.whl")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel)
    site_packages = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    (Path(site_packages) / "dependencies.pth").write_text(dependencies + "\n")
    return venv / "bin"


def test_liaison_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = run(
        installed / "python", "-c", "import liaison.demo.manifest as m; print(m.MANIFEST)",
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(str(installed.parent)), where
    assert Path(where).is_file()


def test_demo_screen_only_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run(installed / "liaison", "demo", "--screen-only", cwd=elsewhere)
    assert "IM-001" in result.stdout and "IM-030" in result.stdout
    assert "36 lines screened" in result.stdout
    assert (elsewhere / "reports" / "rules.html").is_file()
    report = elsewhere / "reports" / "import_manifest.html"
    html = report.read_text(encoding="utf-8")
    flagged = re.findall(r"<h2 id=\"record-\d+\">(IM-\d+):", html)
    assert "IM-021" in flagged and "IM-003" not in flagged

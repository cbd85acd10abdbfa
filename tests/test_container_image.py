"""The Dockerfile builds from the repository and the image runs `liaison serve`, which
answers /healthz: built with podman FROM a Debian bookworm made here by debootstrap (no
registry of base images is needed), without the structure editor (EDITOR=none: its build
needs a Node >= 20.19 image).

Runs where podman and debootstrap are installed (`apt-get install podman debootstrap`) and
run containers; anywhere else it is reported as not run, by its skip reason and by a NOTE at
the end of the session (tests/conftest.py), never silently."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from support import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
BASE = "localhost/liaison-test-bookworm-python"
IMAGE = "localhost/liaison-test-image"
MIRROR = "http://deb.debian.org/debian"
# Python 3.11 as `python` with pip, as the official python image has it; pip may install
# into Debian's Python in a container that is only this application's. useradd: passwd.
BASE_PACKAGES = "python3,python3-pip,python-is-python3,ca-certificates,passwd"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# This machine's certificate authorities, lent to the build: a network whose proxy presents
# its own certificate (as this machine's does) is then trusted by pip as it is here.
CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")


def _podman(*command: str) -> list[str]:
    """podman with what a machine that is itself a container needs: limits below its own
    hard limits (podman's defaults are above them, and raising one is refused), and runc
    where it is installed (crun refuses the hybrid cgroups of such a machine)."""
    runtime = ["--runtime", "runc"] if shutil.which("runc") else []
    limits = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
    verb, *rest = command
    return ["podman", *runtime, verb, *limits, *rest]


def _run(*command: str, timeout: float = 1800, stdin: str | None = None) -> str:
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _base_image() -> None:
    """The base, made once per machine: debootstrap's bookworm imported into podman."""
    if subprocess.run(["podman", "image", "exists", BASE], check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "rootfs"
        _run(
            "debootstrap",
            "--variant=minbase",
            f"--include={BASE_PACKAGES}",
            "bookworm",
            str(root),
            MIRROR,
        )
        archive = Path(folder) / "rootfs.tar"
        _run("tar", "-C", str(root), "-cf", str(archive), ".")
        _run(
            "podman",
            "import",
            "--change",
            "ENV PIP_BREAK_SYSTEM_PACKAGES=1",
            "--change",
            f"ENV PATH={PATH}",
            str(archive),
            BASE,
        )


@pytest.fixture(scope="module")
def image() -> str:
    missing = [tool for tool in ("podman", "debootstrap") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the container image was not built: {' and '.join(missing)} not installed")
    try:
        _base_image()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"no base image could be made here (debootstrap, podman import): {error}")
    # From here on a failure is the Dockerfile's or the image's: the test fails.
    _run(
        *_podman("build"),
        "--network=host",
        *(["-v", f"{CERTIFICATES}:{CERTIFICATES}:ro"] if CERTIFICATES.is_file() else []),
        "--build-arg",
        f"PYTHON_BASE={BASE}",
        "--build-arg",
        "EDITOR=none",
        "-t",
        IMAGE,
        str(ROOT),
    )
    return IMAGE


def test_the_image_runs_liaison_serve_which_answers_healthz(image: str) -> None:
    port = free_port()
    # A named volume, as docs/deployment.md runs it: it starts as the image's /node, the
    # liaison user's.
    volume = f"liaison-test-node-{port}"
    container = ""
    try:
        _run(
            *_podman("run"), "--rm", "-i", "--network=host", "-v", f"{volume}:/node", image,
            "init", "/node", "--name", "US", "--admin-user", "root", "--admin-password-stdin",
            "--base-url", f"http://127.0.0.1:{port}",
            stdin="container admin password 1",
        )  # fmt: skip
        container = _run(
            *_podman("run"), "-d", "--network=host", "-v", f"{volume}:/node", image,
            "serve", "/node", "--host", "127.0.0.1", "--port", str(port),
        ).strip()  # fmt: skip
        deadline = time.monotonic() + 120
        status = None
        while status != 200 and time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.5)
        logs = subprocess.run(["podman", "logs", container], capture_output=True, text=True)
        assert status == 200, logs.stderr[-2000:]
    finally:
        if container:
            subprocess.run(["podman", "rm", "-f", container], capture_output=True, check=False)
        subprocess.run(["podman", "volume", "rm", "-f", volume], capture_output=True, check=False)

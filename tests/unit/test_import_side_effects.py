"""Importing Liaison reads no setting from the environment and hashes nothing: settings
are read when a node or a command is set up, and passed down from there."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import importlib, pkgutil
import argon2

def refuse(*args, **kwargs):
    raise AssertionError("a password was hashed at import time")

argon2.PasswordHasher.hash = refuse
import liaison
for info in pkgutil.walk_packages(liaison.__path__, "liaison."):
    if ".migrations" not in info.name and not info.name.endswith("__main__"):
        importlib.import_module(info.name)
print("imported")
"""


def test_importing_every_module_reads_no_setting_and_hashes_nothing() -> None:
    # A setting no Settings() could parse: reading the environment at import would fail.
    environment = {**os.environ, "LIAISON_PASSWORD_HASH_TIME_COST": "not a number"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "imported"

"""liaison.tariffs is a pure library: importing and using it loads no web, database or
federation code (checked in a fresh interpreter, so other tests' imports do not count)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from datetime import date
import liaison.tariffs as tariffs
tariffs.calculate(tariffs.entry_from_fields(
    {"origin": "CN", "entry_date": "2025-03-10", "customs_value": "1"}))
tariffs.check_measures(tariffs.load_measures())
forbidden = ("liaison.web", "liaison.store", "liaison.federation", "liaison.services",
             "fastapi", "sqlalchemy", "httpx", "rdkit")
print(sorted(m for m in sys.modules if m.startswith(forbidden)))
"""


def test_importing_and_using_the_library_loads_no_web_store_or_federation_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"

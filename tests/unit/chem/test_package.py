"""The package's names are imported on first use: its light modules load no RDKit."""

from __future__ import annotations

import subprocess
import sys


def test_a_light_module_of_the_package_loads_no_rdkit() -> None:
    probe = (
        "import sys, liaison.chem.report; print(any(m.startswith('rdkit') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_identify_is_the_function_even_after_its_module_was_imported() -> None:
    import liaison.chem.bulk  # noqa: F401 - imports the submodule liaison.chem.identify
    from liaison.chem import identify
    from liaison.chem.identify import identify as the_function

    assert identify is the_function

"""Substance identification: is this structure controlled in the US, in China, under the UN
conventions, since when, and by which clause of which law?

    from liaison.chem import identify
    ident = identify("fentanyl", as_of=date(2024, 1, 1))  # the day is always given
    ident.verdicts["US"].status   # "controlled"

A pure library: it imports nothing from the web, the store or federation. Its names are
imported on first use, so that a light module of the package (`liaison.chem.limits`, read by
the command line's option defaults) does not load RDKit. Depiction (`liaison.chem.depict`,
RDKit's drawing code and numpy) is imported only where it is used.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liaison.chem.compiled import load_rulebook
    from liaison.chem.identify import identify
    from liaison.chem.models import Basis, Identification, RegionFinding, Verdict
    from liaison.chem.rulebook import RuleBook, RuleFileError

_HOMES = {
    "Basis": "liaison.chem.models",
    "Identification": "liaison.chem.models",
    "RegionFinding": "liaison.chem.models",
    "RuleBook": "liaison.chem.rulebook",
    "RuleFileError": "liaison.chem.rulebook",
    "Verdict": "liaison.chem.models",
    "identify": "liaison.chem.identify",
    "load_rulebook": "liaison.chem.compiled",
}
__all__ = [
    "Basis",
    "Identification",
    "RegionFinding",
    "RuleBook",
    "RuleFileError",
    "Verdict",
    "identify",
    "load_rulebook",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'liaison.chem' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


class _Package(types.ModuleType):
    """Keeps `liaison.chem.identify` the function: importing the submodule of that name binds
    the module there (an eager `from ... import identify` used to bind the function back)."""

    def __setattr__(self, name: str, value: object) -> None:
        if not (name == "identify" and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

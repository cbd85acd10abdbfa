"""Substance identification: is this structure controlled in the US, in China, under the UN
conventions, since when, and by which clause of which law?

    from liaison.chem import identify
    ident = identify("fentanyl", as_of=date(2024, 1, 1))  # the day is always given
    ident.verdicts["US"].status   # "controlled"

A pure library: it imports nothing from the web, the store or federation. Depiction
(`liaison.chem.depict`, RDKit's drawing code and numpy) is imported only where it is used,
so screening without a report does not load it.
"""

from liaison.chem.compiled import load_rulebook
from liaison.chem.identify import identify
from liaison.chem.models import Basis, Identification, RegionFinding, Verdict
from liaison.chem.rulebook import RuleBook, RuleFileError

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

"""Work the judge skips changes no verdict: a parent's canonical tautomer is looked up among a
jurisdiction's named entries only where it may find one (identify._tautomer_listed), and the
plain-atom and gem-diol tests ask a SMARTS without recursive parts first."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rdkit import Chem, RDConfig
from rdkit.Chem.MolStandardize import rdMolStandardize

from liaison.chem import identify, load_rulebook
from liaison.chem.models import Verdict
from liaison.chem.standardize import (
    _GEM_DIOL,
    _has_gem_diol,
    _unusual_atom_queries,
    plain_atoms,
)

DAY = date(2026, 1, 1)
JUDGE = sys.modules["liaison.chem.identify"]  # the module, not the function of that name
# Listed substances as a screened catalogue draws them, each listed elsewhere only as another
# stereoisomer or by a listing not in force (none covering isomers): (1S,2R)-norephedrine
# (the UN listed cathine alone at this base), MDMB-4en-PINACA (the US temporary order).
LISTED_ELSEWHERE_AS_STEREOISOMERS = (
    "N[C@@H]([C@H](c1ccccc1)O)C",
    "C(OC)(=O)C(C(C)(C)C)NC(=O)c1c2c(cccc2)n(n1)CCCC=C",
)
NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


def _verdicts(texts: list[str]) -> list[dict[str, Verdict]]:
    return [identify(text, as_of=DAY).verdicts for text in texts]


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    calls: list[Any] = []
    original = getattr(JUDGE, name)

    def counted(*args: Any) -> Any:
        result = original(*args)
        calls.append(result)
        return result

    monkeypatch.setattr(JUDGE, name, counted)
    return calls


def test_a_listed_substance_is_not_canonicalised_where_only_a_stereoisomer_is_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _counting(monkeypatch, "canonical_tautomer")
    texts = list(LISTED_ELSEWHERE_AS_STEREOISOMERS)
    skipped = _verdicts(texts)
    assert made == [] and all(any(v.basis for v in found.values()) for found in skipped)
    monkeypatch.setattr(JUDGE, "_tautomer_listed", lambda *args: True)
    assert _verdicts(texts) == skipped


def _entries_and_their_tautomers() -> list[str]:
    """Every named entry as listed, and as another tautomer of its parent where it has one
    (NPP as its enol): the drawings the tautomer lookup is for."""
    enumerator = rdMolStandardize.TautomerEnumerator()
    texts: list[str] = []
    for entry in load_rulebook().entries:
        texts.append(entry.smiles)
        molecule = Chem.MolFromSmiles(entry.smiles)
        drawn = Chem.MolToSmiles(molecule)
        others = (Chem.MolToSmiles(t) for t in list(enumerator.Enumerate(molecule))[:4])
        texts += [text for text in others if text != drawn][:1]
    return texts


def test_the_verdicts_are_those_of_looking_every_parent_up_as_its_tautomer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [*_entries_and_their_tautomers(), *LISTED_ELSEWHERE_AS_STEREOISOMERS]
    asked = _counting(monkeypatch, "_tautomer_listed")
    skipping = _verdicts(texts)
    monkeypatch.setattr(JUDGE, "_tautomer_listed", lambda *args: True)
    assert _verdicts(texts) == skipping
    # Not vacuous: the lookup was skipped, and made, for some drawings.
    assert asked.count(False) > 10 and asked.count(True) > 10


def test_plain_atoms_and_gem_diols_answer_as_their_whole_patterns() -> None:
    unusual, _, isotope = _unusual_atom_queries()
    texts = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    texts += [entry.smiles for entry in load_rulebook().entries]
    texts += [
        "O=[N+]([O-])c1ccccc1",  # nitro drawn charged: plain
        "[O-][N+](=O)[O-]",  # nitrate: not plain
        "C[N+](C)(C)C",  # quaternary ammonium: not plain
        "CS(C)=O",  # sulfoxide: not plain
        "[2H]C([2H])([2H])O",  # isotopes: not plain
        "OC1(O)CCNCC1",  # 4-piperidone hydrate: a gem-diol
        "NC(O)(O)C",  # two OH on a carbon bearing a nitrogen: no ketone hydrate
    ]
    plain = diols = 0
    for text in texts:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            continue
        whole = not molecule.HasSubstructMatch(unusual) and not molecule.GetAtomsMatchingQuery(
            isotope
        )
        assert plain_atoms(molecule) == whole, text
        assert _has_gem_diol(molecule) == molecule.HasSubstructMatch(_GEM_DIOL), text
        plain += whole
        diols += _has_gem_diol(molecule)
    assert 0 < plain < len(texts) and diols > 0

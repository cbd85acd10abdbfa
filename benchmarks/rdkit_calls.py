"""What one call into RDKit costs, beside a parse, and whether RDKit's batch interfaces would
let the prefilter make fewer of them (issue 13's 1.5x goal).

    .venv/bin/python benchmarks/rdkit_calls.py [--molecules 8000] [--repeats 5]

On the first molecules of the screening benchmark's input (benchmarks/screen.py), each
checked as the screening path checks it (parse_query partial=True), one process, CPU time,
best of --repeats, in microseconds a molecule:
- parse-only (MolFromSmiles), the baseline;
- HasSubstructMatch of a one-atom query that matches nothing ([U]) on these molecules and on
  ethane: the fixed cost of a call;
- each prefilter screen alone, called per molecule;
- the same screens through RDKit's batch interfaces: a FilterCatalog holding all of them (one
  call a molecule), one recursive-SMARTS query of their union, and a SubstructLibrary over
  the molecules (its loading counted apart: one call a screen for all molecules).

Prints JSON; writes benchmarks/results/rdkit_calls.json. BENCHMARKS.md's hand-written
section on the screening path quotes a run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from rdkit import Chem
from rdkit.Chem import FilterCatalog, rdSubstructLibrary

from liaison.chem import load_rulebook
from liaison.chem.compiled import prefilter_for
from liaison.chem.query import parse_query
from screen import build_input, clock

RESULTS = Path(__file__).resolve().parent / "results" / "rdkit_calls.json"


def per_molecule(work: Callable[[], object], count: int, repeats: int) -> float:
    """Microseconds a molecule, best of `repeats` (nothing made is kept between them)."""
    best = float("inf")
    for _ in range(repeats):
        start = clock(1)
        work()
        best = min(best, clock(1) - start)
    return round(best / count * 1e6, 2)


def match_each(molecules: list[Chem.Mol], query: Chem.Mol) -> list[bool]:
    return [molecule.HasSubstructMatch(query) for molecule in molecules]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--molecules", type=int, default=8000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    book = load_rulebook()
    screens = prefilter_for(book).screens
    smiles = build_input(20, 2026)[0][: args.molecules]
    molecules = []
    for text in smiles:
        parsed = parse_query(text, book, partial=True)
        if parsed.partial and parsed.molecule is not None and not parsed.notes:
            molecules.append(parsed.molecule)
    count, repeats = len(molecules), args.repeats
    nothing = Chem.MolFromSmarts("[U]")
    ethane = [Chem.MolFromSmiles("CC") for _ in molecules]
    catalog = FilterCatalog.FilterCatalog()
    for index, screen in enumerate(screens):
        matcher = FilterCatalog.SmartsMatcher(str(index), screen, 1)
        catalog.AddEntry(FilterCatalog.FilterCatalogEntry(str(index), matcher))
    union = Chem.MolFromSmarts(
        "[" + ",".join(f"$({Chem.MolToSmarts(screen)})" for screen in screens) + "]"
    )

    def load_library() -> rdSubstructLibrary.SubstructLibrary:
        holder = rdSubstructLibrary.MolHolder()
        for molecule in molecules:
            holder.AddMol(molecule)
        return rdSubstructLibrary.SubstructLibrary(holder)

    def parse() -> None:
        for text in smiles:  # each molecule dropped at once, as in benchmarks/screen.py
            Chem.MolFromSmiles(text)

    library = load_library()
    figures = {
        "parse_only": per_molecule(parse, len(smiles), repeats),
        "call_matching_nothing": per_molecule(
            partial(match_each, molecules, nothing), count, repeats
        ),
        "call_matching_nothing_on_ethane": per_molecule(
            partial(match_each, ethane, nothing), count, repeats
        ),
        "each_screen_per_call": [
            per_molecule(partial(match_each, molecules, screen), count, repeats)
            for screen in screens
        ],
        "filter_catalog_all_screens": per_molecule(
            lambda: [catalog.HasMatch(m) for m in molecules], count, repeats
        ),
        "recursive_smarts_union": per_molecule(
            lambda: [m.HasSubstructMatch(union) for m in molecules], count, repeats
        ),
        "substruct_library_load": per_molecule(load_library, count, repeats),
        "substruct_library_each_screen": [
            per_molecule(
                partial(library.GetMatches, screen, numThreads=1, maxResults=count + 1),
                count,
                repeats,
            )
            for screen in screens
        ],
    }
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "molecules": count}
    result |= figures
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

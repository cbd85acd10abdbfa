"""identify(): one query in, one verdict per jurisdiction out, each with its legal basis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import cast

from rdkit import Chem

from liaison.chem.compiled import load_rulebook, prefilter_for
from liaison.chem.fentanyl_class import Decomposition, decompose, evaluate
from liaison.chem.limits import Limits
from liaison.chem.models import (
    NO_STRUCTURE,
    STATUS_RANK,
    Basis,
    BasisKind,
    Identification,
    QueryKind,
    RegionFinding,
    Status,
    Verdict,
)
from liaison.chem.prefilter import Prefilter, element_graph, skeleton_of_smarts
from liaison.chem.query import ParsedQuery, finish_sanitizing, parse_query, radical_error
from liaison.chem.rulebook import (
    ClassDefinition,
    Family,
    NamedEntry,
    NameOnlyEntry,
    RuleBook,
    heavy_atoms,
)
from liaison.chem.standardize import (
    UNUSUAL_TAUTOMER,
    canonical_smiles,
    canonical_tautomer,
    molecular_formula,
    quick_parents,
    standardize_all,
    structure_keys,
)
from liaison.errors import InvalidInput
from liaison.messages import T, joined

NO_MATCH_NOTE = T("no loaded rule matched; this is not a clearance")
_KIND_LABELS = {"smiles": "SMILES", "molblock": "MOL block", "inchi": "InChI"}


def check_jurisdictions(rulebook: RuleBook, jurisdictions: Sequence[str] | None) -> tuple[str, ...]:
    if not jurisdictions:
        return rulebook.jurisdictions
    codes = tuple(dict.fromkeys(code.upper() for code in jurisdictions))
    unknown = [code for code in codes if code not in rulebook.jurisdictions]
    if unknown:
        raise InvalidInput(
            T(
                "unknown jurisdiction %(unknown)s; known: %(jurisdictions)s",
                unknown=", ".join(unknown),
                jurisdictions=", ".join(rulebook.jurisdictions),
            )
        )
    return codes


def identify(
    query: str,
    as_of: date,
    jurisdictions: Sequence[str] | None = None,
    *,
    record_id: str | None = None,
    rulebook: RuleBook | None = None,
    limits: Limits | None = None,
) -> Identification:
    """Identify `query` (SMILES, InChI, MOL block, CAS number or name) by the rules in force on
    `as_of`, within `limits` (the defaults when None; the time limit is the caller's to
    enforce). The caller settles the day (the services default it to today); the answer
    carries it."""
    book = rulebook or load_rulebook()
    codes = check_jurisdictions(book, jurisdictions)
    parsed = parse_safely(str(query), book, limits)
    return judge(
        parsed, str(query), as_of, codes, book, record_id=record_id, thorough=True, limits=limits
    )


def parse_safely(
    query: str, rulebook: RuleBook, limits: Limits | None = None, *, partial: bool = False
) -> ParsedQuery:
    try:
        return parse_query(query, rulebook, limits, partial=partial)
    except Exception as error:  # a parser bug must not stop a bulk run: report it on the record
        return ParsedQuery("unknown", None, f"could not read the query: {error}")


def parse_for_screening(
    query: str, rulebook: RuleBook, limits: Limits | None = None
) -> ParsedQuery | QueryKind:
    """`query` parsed to be judged, or only its kind when the prefilter rules it out and
    nothing was noted in reading it (its verdicts are then no_match, NO_MATCH_NOTE).

    A SMILES is first only checked (query._checked), which refuses every structure full
    sanitization refuses, and sanitized in full (query.finish_sanitizing: not read again)
    only when the prefilter lets it through:
    what the prefilter reads is left by the checks as by sanitization, but for aromatic
    rings, left kekulized (then it lets more through). Most of a catalogue is screened for
    about half of a parse. A parse returned was let through (ParsedQuery.screened): judge()
    does not ask the prefilter again."""
    prefilter = prefilter_for(rulebook)
    parsed = parse_safely(query, rulebook, limits, partial=True)
    if parsed.partial and parsed.molecule is not None:
        # Read from `query` as given (a partial parse notes no change): without a dot, every
        # atom of a SMILES is bonded to the one before it or to a branch's start.
        connected = "." not in query
        if not parsed.notes and _could_match(prefilter, parsed.molecule, connected) is False:
            return parsed.kind
        parsed = finish_sanitizing(parsed, query) or parse_safely(query, rulebook, limits)
    if parsed.molecule is None or parsed.notes:
        return parsed
    candidate = _could_match(prefilter, parsed.molecule)
    if candidate is None:
        return parsed
    return replace(parsed, screened=True) if candidate else parsed.kind


def _could_match(prefilter: Prefilter, molecule: Chem.Mol, connected: bool = False) -> bool | None:
    """The prefilter's answer; None when it failed on `molecule`: judge() then says on the
    record why the structure could not be evaluated."""
    try:
        return prefilter.could_match(molecule, connected=connected)
    except Exception:
        return None


def _invalid(
    parsed: ParsedQuery,
    query: str,
    as_of: date,
    codes: tuple[str, ...],
    record_id: str | None,
    error: str,
) -> Identification:
    return Identification(
        query=query,
        query_kind=parsed.kind,
        verdicts={code: Verdict("invalid", [], error) for code in codes},
        error=error,
        id=record_id,
        as_of=as_of,
    )


def judge(
    parsed: ParsedQuery,
    query: str,
    as_of: date,
    codes: tuple[str, ...],
    rulebook: RuleBook,
    *,
    record_id: str | None = None,
    thorough: bool = True,
    limits: Limits | None = None,
) -> Identification:
    """Verdicts for a parsed query. `thorough=False` (bulk) skips standardizing molecules the
    prefilter rules out: their verdicts are the same, only standardized_smiles stays None."""
    if parsed.name_only:
        identification = _judge_name_only(parsed, query, as_of, codes, rulebook, record_id)
    else:
        identification = _judge(
            parsed, query, as_of, codes, rulebook, record_id, thorough, limits or Limits()
        )
    identification.notes = [*parsed.notes, *identification.notes]
    for code in codes:
        start, note = rulebook.history.get(code, (date.min, ""))
        verdict = identification.verdicts.get(code)
        if as_of < start and verdict is not None and verdict.status != "invalid":
            # Every verdict for a day the loaded lists do not reach says so, match or not.
            identification.verdicts[code] = replace(
                verdict, explanation=joined([verdict.explanation, note])
            )
    return identification


def _judge(
    parsed: ParsedQuery,
    query: str,
    as_of: date,
    codes: tuple[str, ...],
    rulebook: RuleBook,
    record_id: str | None,
    thorough: bool,
    limits: Limits,
) -> Identification:
    if parsed.molecule is None:
        return _invalid(parsed, query, as_of, codes, record_id, parsed.error or T("no structure"))
    try:
        prefilter = prefilter_for(rulebook)
        candidate = parsed.screened or prefilter.could_match(parsed.molecule)
        if not candidate and not thorough:
            verdicts = {code: Verdict("no_match", [], NO_MATCH_NOTE) for code in codes}
            return Identification(query, parsed.kind, verdicts, None, None, record_id, as_of)
        problem = radical_error(parsed.molecule, prefilter) if candidate else None
        if problem is not None:
            label = _KIND_LABELS.get(parsed.kind, "structure")
            return _invalid(
                parsed,
                query,
                as_of,
                codes,
                record_id,
                T("%(kind)s is not a valid structure: %(problem)s", kind=label, problem=problem),
            )
        quick = None if thorough else quick_parents(parsed.molecule)
        parents = quick if quick is not None else standardize_all(parsed.molecule)
        parents = [parent for parent in parents if parent.GetNumAtoms()]
        if len(parents) > limits.fragments:
            error = limits.refusal(
                T("structure"),
                "fragments",
                len(parents),
                limits.fragments,
                T("distinct organic fragments"),
            )
            return _invalid(parsed, query, as_of, codes, record_id, error)
        if not parents:
            return _invalid(
                parsed,
                query,
                as_of,
                codes,
                record_id,
                T("no organic structure left after standardization"),
            )
        # A fragment the prefilter rules out (a counter-ion of the salt) matches no rule; a
        # parent that is the molecule itself (quick_parents, one fragment) was just asked.
        judged = [
            _verdicts(parent, as_of, codes, rulebook, prefilter)
            if candidate and (parent is parsed.molecule or prefilter.could_match(parent))
            else {code: Verdict("no_match", [], NO_MATCH_NOTE) for code in codes}
            for parent in parents
        ]
        combined = parents[0]
        for parent in parents[1:]:
            combined = Chem.CombineMols(combined, parent)
        verdicts = judged[0] if len(parents) == 1 else _strongest(parents, judged, codes)
        return Identification(
            query=query,
            query_kind=parsed.kind,
            verdicts=verdicts,
            standardized_smiles=canonical_smiles(combined) if thorough else None,
            error=None,
            id=record_id,
            as_of=as_of,
            parent=combined,
        )
    except Exception as error:  # RDKit can fail on exotic structures; one record, one reason
        return _invalid(
            parsed,
            query,
            as_of,
            codes,
            record_id,
            T("could not evaluate the structure: %(error)s", error=str(error)),
        )


def _judge_name_only(
    parsed: ParsedQuery,
    query: str,
    as_of: date,
    codes: tuple[str, ...],
    rulebook: RuleBook,
    record_id: str | None,
) -> Identification:
    """Verdicts for a plant, extract or preparation listed by name: the listings of that name
    in force decide, and every verdict says that no structure applies."""
    ids = parsed.name_only
    listings = [item for item in rulebook.name_only if item.id in ids]
    material = listings[0].material if listings else "material"
    plain = (
        f"{parsed.resolved_name} is listed by name ({material}): {NO_STRUCTURE}, "
        "the verdict rests on the name alone"
    )
    verdicts: dict[str, Verdict] = {}
    for code in codes:
        found = rulebook.name_only_in_force(ids, code, as_of)
        if found:
            bases = [_basis("named", item, item.status, (), item.note) for item in found]
            verdicts[code] = _combine(bases, [], [plain])
        else:
            verdicts[code] = Verdict(
                "no_match",
                [],
                f"{NO_MATCH_NOTE}; {parsed.resolved_name} ({material}) has no structure to "
                f"compare, and no loaded {code} rule lists it by name on this day",
            )
    identification = Identification(query, parsed.kind, verdicts, None, None, record_id, as_of)
    identification.notes = [plain]
    return identification


def _strongest(
    parents: list[Chem.Mol], judged: list[dict[str, Verdict]], codes: tuple[str, ...]
) -> dict[str, Verdict]:
    """One verdict per jurisdiction for a salt or mixture of several organic fragments: the
    strongest status of any fragment; every fragment that matched a rule gives its basis,
    naming the fragment, with atom indices shifted onto the combined parent (fragments in
    order)."""
    offsets = [0]
    for parent in parents[:-1]:
        offsets.append(offsets[-1] + parent.GetNumAtoms())
    names = [canonical_smiles(parent) for parent in parents]
    verdicts: dict[str, Verdict] = {}
    for code in codes:
        ranked = sorted(
            range(len(parents)), key=lambda index: -STATUS_RANK[judged[index][code].status]
        )
        status = judged[ranked[0]][code].status
        bases: list[Basis] = []
        explanations: list[str] = []
        for index in ranked:
            verdict = judged[index][code]
            if verdict.status == "no_match":
                continue
            bases += [_on_fragment(basis, names[index], offsets[index]) for basis in verdict.basis]
            explanations.append(
                T(
                    "fragment %(fragment)s: %(explanation)s",
                    fragment=names[index],
                    explanation=verdict.explanation,
                )
            )
        explanation = joined(explanations) if explanations else NO_MATCH_NOTE
        verdicts[code] = Verdict(status, bases, explanation)
    return verdicts


def _on_fragment(basis: Basis, fragment: str, offset: int) -> Basis:
    return replace(
        basis,
        fragment=fragment,
        atoms=tuple(atom + offset for atom in basis.atoms),
        regions=tuple(
            replace(region, atoms=tuple(atom + offset for atom in region.atoms))
            for region in basis.regions
        ),
    )


def _verdicts(
    parent: Chem.Mol,
    as_of: date,
    codes: tuple[str, ...],
    rulebook: RuleBook,
    prefilter: Prefilter,
) -> dict[str, Verdict]:
    tautomers = _Tautomer(parent)
    # InChI is the dearest step; only a molecule with a listed formula can be a listed substance.
    formula = molecular_formula(parent)
    if formula in rulebook.named_formulas:
        inchikey, connectivity = _parent_keys(parent, prefilter, tautomers)
    else:
        inchikey, connectivity = "", ""
    every_atom = tuple(range(parent.GetNumAtoms()))
    # Decomposed at most once, and only when a class definition is in force.
    decomposition: list[Decomposition | None] = []
    verdicts: dict[str, Verdict] = {}
    for code in codes:
        bases: list[Basis] = []
        notes: list[str] = []  # why no class applies, said when nothing matched
        remarks: list[str] = []  # said whatever matched
        entries = rulebook.named_matches(inchikey, connectivity, code, as_of)
        tautomer_note = ""
        listed_formula = formula in rulebook.formulas_by_jurisdiction.get(code, ())
        if (  # a listed substance, another tautomer
            not entries
            and inchikey
            and listed_formula
            and tautomers.graph_listed(prefilter.graphs_by_jurisdiction.get(code, frozenset()))
            and _tautomer_listed(
                rulebook, prefilter, code, formula, connectivity, tautomers.graph()
            )
        ):
            entries = [  # a listing drawn as this very tautomer is another stereoisomer
                entry
                for entry in rulebook.named_matches(*tautomers.keys(), code, as_of, tautomer=True)
                if entry.covers_isomers or entry.connectivity != connectivity
            ]
            tautomer_note = T("drawn as another tautomer of the listed substance")
        for entry in entries:
            note: str = joined(part for part in (tautomer_note, entry.note) if part)
            bases.append(_basis("named", entry, entry.status, every_atom, note=note))
        named = bool(bases)
        # A drawing without the stereo a listed stereoisomer has may be it: said unless a
        # listing that matched outright already gives as strong a status.
        settled = max((STATUS_RANK[basis.status] for basis in bases), default=0)
        for entry in rulebook.stereoisomers_listed(parent, inchikey, connectivity, code, as_of):
            if STATUS_RANK[entry.status] > settled:
                note = T(
                    "the structure does not give the stereo this listing defines; the "
                    "stereoisomer listed is %(smiles)s",
                    smiles=entry.smiles,
                )
                bases.append(_basis("named", entry, "review", every_atom, note))
        for family in rulebook.families_in_force(code, as_of):
            if family.status == "review" and named:
                continue  # the named listing settles it, as for a class near-miss
            match = parent.GetSubstructMatch(family.pattern) or tautomers.match(
                family.smarts, family.pattern
            )
            if match:
                bases.append(_basis("family", family, family.status, tuple(match), family.note))
        for klass in rulebook.classes_in_force(code, as_of):
            if not decomposition:
                shape = decompose(parent, rulebook.semantics)
                core = rulebook.semantics.core_smarts
                if shape is None and tautomers.could_hold(core) and tautomers.differs():
                    shape = decompose(tautomers.molecule(), rulebook.semantics)
                decomposition.append(shape)
            shape = decomposition[0]
            if shape is None:
                continue
            finding = evaluate(shape, rulebook.semantics.definitions[klass.definition])
            if finding.status == "no_match":
                notes.append(
                    T("%(name)s: not a member (%(reason)s)", name=klass.name, reason=finding.reason)
                )
                continue
            if finding.status == "review" and named:
                continue  # the named listing settles it; a class near-miss adds nothing
            status = klass.status if finding.status == "controlled" else "review"
            if status != "review" and named and klass.excludes_listed:
                # The class definition itself leaves a listed substance to its listing.
                remarks.append(
                    T(
                        "%(name)s (%(list)s) does not apply: its definition excludes "
                        "substances controlled under their own listing, as this one is",
                        name=klass.name,
                        list=klass.list,
                    )
                )
                continue
            clause_ids = tuple(
                dict.fromkeys(
                    part
                    for region in finding.regions
                    if region.clause
                    for part in region.clause.split("+")
                )
            )
            note = finding.reason if status == "review" else klass.note
            bases.append(
                _basis("class", klass, status, every_atom, note, clause_ids, finding.regions)
            )
        verdicts[code] = _combine(bases, notes, remarks)
    return verdicts


def _parent_keys(parent: Chem.Mol, prefilter: Prefilter, tautomers: _Tautomer) -> tuple[str, str]:
    """structure_keys(parent), without InChI where it is known: an entry's own when the parent
    is drawn as the entry's parent is (the same canonical SMILES: the same molecule, as most
    listed substances screened are), none when the parent has another heavy-atom graph than
    every named entry (InChI's connectivity, and each tautomer, keep the graph). Hydrogens
    drawn as atoms (which InChI counts apart) and metals (which it disconnects) leave the
    graph open."""
    known = prefilter.named_keys.get(tautomers.smiles())
    if known is not None:
        return known
    graph = tautomers.graph()
    if graph is not None and graph not in prefilter.named_graphs:
        return "", ""
    return structure_keys(parent)


def _tautomer_listed(
    rulebook: RuleBook,
    prefilter: Prefilter,
    code: str,
    formula: str,
    connectivity: str,
    graph: str | None,
) -> bool:
    """Whether the canonical tautomer of a parent (of this `formula`, `connectivity` and
    element graph, None when it cannot tell) may find an entry of `code` that the parent's
    own keys did not, and that _verdicts keeps: one of another connectivity (the keys found
    every one of the parent's that is in force and covers isomers), with the parent's graph
    (InChI's connections, which a tautomer keeps; one with a metal, whose graph InChI does not
    keep, may be) and formula (a tautomer moves hydrogens only; InChIKeys alike are of one
    formula, but for the protons InChI adds or removes to neutralize a charged structure:
    then only the heavy atoms are alike). Canonicalising costs more than twenty InChIs: most
    parents reaching it are a listed substance another jurisdiction lists as a stereoisomer."""
    if graph is None:
        return True
    return any(
        entry.connectivity != connectivity
        and (entry.formula == formula or _charged(formula) or _charged(entry.formula))
        and prefilter.entry_graphs.get(entry.smiles) in (graph, None)
        for entry in rulebook.by_heavy_atoms.get((code, heavy_atoms(formula)), [])
    )


def _charged(formula: str) -> bool:
    return formula.rstrip("0123456789").endswith(("+", "-"))  # C4H12N+, Ca+2


@lru_cache(maxsize=512)
def _skeleton(smarts: str) -> Chem.Mol:
    return skeleton_of_smarts(smarts)


class _Tautomer:
    """The canonical tautomer of a parent, made only when a drawn form matched nothing and
    the pattern's skeleton (elements, connectivity, any bond order: what tautomers share) is
    in the parent; its atoms are in the parent's order, so matched atoms stay valid."""

    def __init__(self, parent: Chem.Mol) -> None:
        self._parent = parent
        self._molecule: Chem.Mol | None = None
        self._unusual: bool | None = None  # asked once per parent, not once per rule
        self._keys: tuple[str, str] | None = None  # InChI: once per parent, not per jurisdiction
        self._graph: str | None = None  # "" when it cannot tell
        self._smiles: str | None = None

    def could_hold(self, smarts: str) -> bool:
        """Whether a tautomer could match `smarts` where the drawing did not: the drawing is
        an unusual tautomer (an enol, an enamine...) and holds the pattern's skeleton."""
        if self._unusual is None:
            self._unusual = bool(self._parent.HasSubstructMatch(UNUSUAL_TAUTOMER))
        return self._unusual and bool(self._parent.HasSubstructMatch(_skeleton(smarts)))

    def molecule(self) -> Chem.Mol:
        if self._molecule is None:
            self._molecule = canonical_tautomer(self._parent)
        return self._molecule

    def smiles(self) -> str:
        """The parent's canonical SMILES (made once: it costs about a parse)."""
        if self._smiles is None:
            self._smiles = canonical_smiles(self._parent)
        return self._smiles

    def differs(self) -> bool:
        return bool(canonical_smiles(self.molecule()) != self.smiles())

    def graph(self) -> str | None:
        """element_graph() of the parent; None when it cannot tell the substance's graph
        (hydrogens drawn as atoms, which InChI counts apart; a metal, which it disconnects)."""
        if self._graph is None:
            whole = self._parent.GetNumAtoms() == self._parent.GetNumHeavyAtoms()
            self._graph = (element_graph(self._parent) if whole else None) or ""
        return self._graph or None

    def graph_listed(self, graphs: frozenset[str]) -> bool:
        """Whether an entry of element_graph() among `graphs` may be a tautomer of the parent
        (a tautomer keeps its substance's graph): the parent's graph is one of them, or it
        cannot tell."""
        graph = self.graph()
        return graph is None or graph in graphs

    def keys(self) -> tuple[str, str]:
        """The canonical tautomer's keys; asked only of a parent whose graph may be listed
        (_parent_keys): canonicalising costs more than InChI."""
        if self._keys is None:
            self._keys = structure_keys(self.molecule())
        return self._keys

    def match(self, smarts: str, pattern: Chem.Mol) -> tuple[int, ...]:
        if not self.could_hold(smarts):
            return ()
        return tuple(self.molecule().GetSubstructMatch(pattern))


def _basis(
    kind: BasisKind,
    rule: NamedEntry | NameOnlyEntry | Family | ClassDefinition,
    status: str,
    atoms: tuple[int, ...],
    note: str,
    clauses: tuple[str, ...] = (),
    regions: tuple[RegionFinding, ...] = (),
) -> Basis:
    return Basis(
        kind=kind,
        rule_id=rule.id,
        status=cast(Status, status),  # rule files are validated: controlled | precursor
        list=rule.list,
        name=rule.name,
        citation=rule.citation,
        in_force_from=rule.in_force_from,
        in_force_to=rule.in_force_to,
        in_force_precision=rule.in_force_precision,
        atoms=atoms,
        clauses=clauses,
        regions=regions,
        confirmed=rule.confirmed,
        note=note,
        threshold=rule.threshold if isinstance(rule, (NamedEntry, Family)) else "",
    )


def _combine(bases: list[Basis], notes: list[str], remarks: list[str]) -> Verdict:
    """The strongest status wins; named listings come first in the basis (they win over a class,
    as the class definitions themselves say for substances controlled elsewhere)."""
    if not bases:
        return Verdict("no_match", [], joined([NO_MATCH_NOTE, *notes]))
    kind_order = {"named": 0, "family": 1, "class": 2}
    ordered = sorted(bases, key=lambda b: (kind_order[b.kind], -STATUS_RANK[b.status]))
    status = max((b.status for b in ordered), key=lambda s: STATUS_RANK[s])
    return Verdict(status, ordered, joined([_explain(status, ordered), *remarks]))


def _explain(status: Status, bases: list[Basis]) -> str:
    parts: list[str] = []
    for basis in bases:
        if basis.status == "review":
            parts.append(
                T(
                    "review against %(name)s (%(list)s): %(note)s",
                    name=basis.name,
                    list=basis.list,
                    note=basis.note,
                )
            )
        elif basis.kind == "class":
            regions = joined(r.explanation for r in basis.regions if r.clause or not r.covered)
            parts.append(
                T(
                    "%(name)s (%(list)s, %(citation)s): %(regions)s",
                    name=basis.name,
                    list=basis.list,
                    citation=basis.citation,
                    regions=regions,
                )
            )
        elif basis.threshold:
            parts.append(
                T(
                    "%(name)s: %(list)s (%(citation)s); threshold: %(threshold)s",
                    name=basis.name,
                    list=basis.list,
                    citation=basis.citation,
                    threshold=basis.threshold,
                )
            )
        else:
            parts.append(
                T(
                    "%(name)s: %(list)s (%(citation)s)",
                    name=basis.name,
                    list=basis.list,
                    citation=basis.citation,
                )
            )
    return joined(parts)

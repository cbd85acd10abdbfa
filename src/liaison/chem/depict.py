"""SVG depiction of a verdict: the structure, each fentanyl region in its own colour, a legend
naming the region and the clause that covers it. Self-contained: no fonts, scripts or links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape

from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D
from wcwidth import wcswidth

from liaison.chem.fentanyl_class import REGION_LABELS, UNCHANGED
from liaison.chem.identify import identify
from liaison.chem.limits import Limits
from liaison.chem.models import NO_STRUCTURE, Basis, Identification, RegionFinding
from liaison.messages import T, Text, joined

Translate = Callable[[str], str]

REGION_COLOURS: dict[str, tuple[float, float, float]] = {
    "acyl": (0.98, 0.65, 0.25),
    "aniline": (0.45, 0.65, 0.98),
    "piperidine": (0.45, 0.85, 0.45),
    "linker": (0.78, 0.55, 0.95),
    "terminal_ring": (0.98, 0.50, 0.55),
}
MATCH_COLOUR = (0.98, 0.85, 0.30)
WIDTH, HEIGHT, LINE = 460, 320, 18
# The verdicts as the legends name them (the statuses of the jsonl, in words a page translates).
VERDICT_WORDS: dict[str, Text] = {
    "controlled": T("controlled"),
    "precursor": T("precursor"),
    "review": T("review"),
    "no_match": T("no_match"),
    "invalid": T("invalid"),
}


def _hex(colour: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in colour)


def _region_text(region: RegionFinding) -> Text:
    label = REGION_LABELS.get(region.region, region.region)
    if region.covered:
        return T("%(region)s: %(explanation)s", region=label, explanation=region.explanation)
    return T(
        "%(region)s: %(explanation)s [NOT COVERED]", region=label, explanation=region.explanation
    )


def _verdict_line(code: str, status: str | None, lead: Basis | None = None) -> Text:
    """ "US: controlled (Fentanyl, Schedule II)": a jurisdiction's verdict and what decides it."""
    word = VERDICT_WORDS.get(status, status) if status else T("not evaluated")
    if lead is None:
        return T("%(code)s: %(status)s", code=code, status=word)
    return T(
        "%(code)s: %(status)s (%(name)s, %(list)s)",
        code=code,
        status=word,
        name=lead.name,
        list=lead.list,
    )


def _legend_rows(
    lead: Basis | None, regions: Basis | None, explanation: str, translate: Translate
) -> list[tuple[str, str]]:
    """(colour, text) rows of the legend: the listing that decides, then the regions."""
    if lead is None:
        return [("#dddddd", translate(explanation or T("no rule matched")))]
    rows = []
    if lead.kind != "class":
        colour = "#ffffff" if regions is not None else _hex(MATCH_COLOUR)
        listing = T(
            "%(name)s: %(list)s (%(citation)s)",
            name=lead.name,
            list=lead.list,
            citation=lead.citation,
        )
        rows.append((colour, translate(listing)))
    if regions is None:
        return rows
    for region in regions.regions:
        colour = _hex(REGION_COLOURS.get(region.region, MATCH_COLOUR))
        rows.append((colour, translate(_region_text(region))))
    return rows


def _chosen_bases(
    identification: Identification, jurisdiction: str
) -> tuple[Basis | None, Basis | None]:
    """(the basis that decides the verdict, the class basis whose regions colour the drawing)."""
    verdict = identification.verdicts.get(jurisdiction)
    if verdict is None or not verdict.basis:
        return None, None
    classes = [b for b in verdict.basis if b.kind == "class" and b.regions]
    return verdict.basis[0], classes[0] if classes else None


# Chinese line breaking: never start a line with closing punctuation, nor end one with
# opening punctuation (the legends quote regulations as 《…》).
_NO_LINE_START = frozenset("》」』）〕】，。、；：！？)]},.;:!?%")
_NO_LINE_END = frozenset("《「『（〔【([{")
# Installed fonts only (the picture fetches nothing); the CJK faces for Chinese legends.
FONT_FAMILY = "'Noto Sans', 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"


def display_width(text: str) -> int:
    """Columns `text` takes: a Chinese character takes two."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, preceded by a space): Latin words whole, each wide (CJK) character alone, so
    a line may break between two Chinese characters but never inside a word."""
    tokens: list[tuple[str, bool]] = []
    space = False
    for char in text:
        if char.isspace():
            space = True
            continue
        if tokens and not space:
            previous = tokens[-1][0]
            narrow_run = display_width(char) == 1 and display_width(previous[-1]) == 1
            if char in _NO_LINE_START or previous[-1] in _NO_LINE_END or narrow_run:
                tokens[-1] = (previous + char, tokens[-1][1])
                continue
        tokens.append((char, space))
        space = False
    return tokens


def wrap_text(text: str, width: int = 70) -> list[str]:
    """`text` in lines of at most `width` display columns (a word longer than that stays
    whole on its own line)."""
    lines: list[str] = []
    line = ""
    for token, space in _tokens(text):
        joined = f"{line} {token}" if line and space else line + token
        if line and display_width(joined) > width:
            lines.append(line)
            line = token
        else:
            line = joined
    return [*lines, line] if line else lines


def depict_svg(
    identification: Identification, jurisdiction: str = "US", translate: Translate = str
) -> str:
    """SVG of the standardized structure with the regions behind `jurisdiction`'s verdict;
    the legend's texts through `translate` (the web layer's, for a Chinese page)."""
    verdict = identification.verdicts.get(jurisdiction)
    title = translate(_verdict_line(jurisdiction, verdict.status if verdict else None))
    lead, regions = _chosen_bases(identification, jurisdiction)
    legend: list[tuple[str, str]] = []
    explanation = verdict.explanation if verdict else ""
    for colour, text in _legend_rows(lead, regions, explanation, translate):
        for index, line in enumerate(wrap_text(text)):
            legend.append((colour if index == 0 else "", line))
    height = HEIGHT + LINE * (len(legend) + 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    parent = identification.parent
    if parent is None:
        message = translate(identification.error or _no_structure(identification))
        parts.append(
            f'<text x="10" y="{HEIGHT // 2}" font-family="{FONT_FAMILY}" font-size="13">'
            f"{escape(message[:90])}</text>"
        )
    else:
        parts.append(_structure_svg(parent, regions or lead))
    y = HEIGHT + LINE
    parts.append(
        f'<text x="10" y="{y}" font-family="{FONT_FAMILY}" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>"
    )
    for colour, line in legend:
        y += LINE
        if colour and colour != "#ffffff":
            parts.append(f'<rect x="10" y="{y - 11}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="28" y="{y}" font-family="{FONT_FAMILY}" font-size="12">{escape(line)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _no_structure(identification: Identification) -> Text:
    """What stands where the structure would be drawn when there is none and no error."""
    if any(NO_STRUCTURE in note for note in identification.notes):
        return T("no structure applies: listed by name")
    return T("structure not standardized")


def depict_combined(
    identification: Identification, codes: tuple[str, ...], translate: Translate = str
) -> str:
    """One picture for a record: the structure with the regions (or matched atoms) coloured
    once, and under it each jurisdiction's verdict and what it says of each changed region."""
    picked: Basis | None = None
    legend: list[tuple[str, str, bool]] = []  # (colour, text, bold)
    for code in codes:
        verdict = identification.verdicts.get(code)
        if verdict is None:
            continue
        lead, regions = _chosen_bases(identification, code)
        picked = picked or regions or lead
        legend.append(("", translate(_verdict_line(code, verdict.status, lead)), True))
        for region in regions.regions if regions is not None else ():
            if region.explanation == UNCHANGED and region.covered:
                continue
            colour = _hex(REGION_COLOURS.get(region.region, MATCH_COLOUR))
            legend.append((colour, translate(_region_text(region)), False))
    lines: list[tuple[str, str, bool]] = []
    for colour, text, bold in legend:
        lines += [(colour if i == 0 else "", line, bold) for i, line in enumerate(wrap_text(text))]
    height = HEIGHT + LINE * (len(lines) + 1)
    title = translate(
        joined(_verdict_line(c, v.status) for c, v in identification.verdicts.items())
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if identification.parent is None:
        message = translate(identification.error or _no_structure(identification))
        parts.append(
            f'<text x="10" y="{HEIGHT // 2}" font-family="{FONT_FAMILY}" font-size="13">'
            f"{escape(message[:90])}</text>"
        )
    else:
        parts.append(_structure_svg(identification.parent, picked))
    y = HEIGHT
    for colour, line, bold in lines:
        y += LINE
        if colour:
            parts.append(f'<rect x="10" y="{y - 11}" width="12" height="12" fill="{colour}"/>')
        weight = ' font-weight="bold"' if bold else ""
        parts.append(
            f'<text x="28" y="{y}" font-family="{FONT_FAMILY}" font-size="12"{weight}>'
            f"{escape(line)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _structure_svg(parent: Chem.Mol, basis: Basis | None) -> str:
    atom_colours: dict[int, tuple[float, float, float]] = {}
    if basis is not None and basis.kind == "class":
        for region in basis.regions:
            for atom in region.atoms:
                atom_colours[atom] = REGION_COLOURS.get(region.region, MATCH_COLOUR)
    elif basis is not None:
        atom_colours = dict.fromkeys(basis.atoms, MATCH_COLOUR)
    bond_colours: dict[int, tuple[float, float, float]] = {}
    for bond in parent.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in atom_colours and atom_colours[a] == atom_colours.get(b):
            bond_colours[bond.GetIdx()] = atom_colours[a]
    drawer = rdMolDraw2D.MolDraw2DSVG(WIDTH, HEIGHT)
    molecule = rdMolDraw2D.PrepareMolForDrawing(Chem.Mol(parent))
    drawer.DrawMolecule(
        molecule,
        highlightAtoms=list(atom_colours),
        highlightAtomColors=atom_colours,
        highlightBonds=list(bond_colours),
        highlightBondColors=bond_colours,
    )
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    # Nest RDKit's drawing as an inner <svg>: drop its XML declaration only.
    return str(svg[svg.index("<svg") :]) if "<svg" in svg else str(svg)


def headline_jurisdiction(identification: Identification) -> str:
    """The first jurisdiction whose verdict is not `no_match` or `invalid` (else the first)."""
    for code, verdict in identification.verdicts.items():
        if verdict.status not in {"no_match", "invalid"}:
            return code
    return next(iter(identification.verdicts), "")


@dataclass(frozen=True)
class IdentificationRequest:
    """What a worker needs to answer one query of a node's request."""

    as_of: date  # settled by the service: the day asked for, else today
    codes: tuple[str, ...]
    depict_each_jurisdiction: bool
    limits: Limits
    # The legends' language: the web layer's translation (picklable: it crosses to the
    # worker), or English as the engine writes it.
    translate: Translate = str


Depicted = tuple[Identification, dict[str, str]]  # and an SVG per jurisdiction code


def identify_and_depict(item: tuple[IdentificationRequest, str]) -> Depicted:
    """Identification and depiction of one query, both in RDKit: what a node's worker runs.
    The standardized molecule stays in the worker (the drawings are made)."""
    request, query = item
    identification = identify(
        query, as_of=request.as_of, jurisdictions=request.codes, limits=request.limits
    )
    wanted = request.codes
    if not request.depict_each_jurisdiction:
        wanted = (headline_jurisdiction(identification),)
    depictions = {
        code: depict_svg(identification, code, request.translate) for code in wanted if code
    }
    identification.parent = None
    return identification, depictions

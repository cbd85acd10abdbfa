"""Substance identification for the node's users: validation of the request, the engine's
verdicts and a depiction per jurisdiction. The chemistry is all in liaison.chem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from liaison.chem import depict_svg, identify
from liaison.chem.models import Identification
from liaison.chem.rulebook import load_rulebook
from liaison.errors import InvalidInput

MAX_QUERIES_PER_REQUEST = 100


def jurisdiction_titles() -> dict[str, str]:
    """Codes of the jurisdictions whose rules are loaded, with their display titles."""
    rulebook = load_rulebook()
    return {code: rulebook.titles.get(code, code) for code in rulebook.jurisdictions}


def checked_jurisdictions(requested: Sequence[str] | None) -> tuple[str, ...]:
    """The requested jurisdiction codes, or all loaded ones; unknown codes are named."""
    known = tuple(jurisdiction_titles())
    if not requested:
        return known
    unknown = [code for code in requested if code not in known]
    if unknown:
        raise InvalidInput(
            f"jurisdictions: {', '.join(repr(code) for code in unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not known; known: {', '.join(known)}"
        )
    return tuple(dict.fromkeys(requested))


@dataclass(frozen=True)
class IdentifiedQuery:
    identification: Identification
    depictions: dict[str, str]  # jurisdiction code -> SVG highlighting what matched there

    @property
    def headline_jurisdiction(self) -> str:
        """The first jurisdiction whose verdict is not `no_match` (else the first one)."""
        verdicts = self.identification.verdicts
        for code, verdict in verdicts.items():
            if verdict.status not in {"no_match", "invalid"}:
                return code
        return next(iter(verdicts), "")

    def to_dict(self) -> dict[str, Any]:
        answer = self.identification.to_dict()
        answer["standardized_smiles"] = self.identification.standardized_smiles
        answer["svg"] = self.depictions.get(self.headline_jurisdiction, "")
        answer["svg_jurisdiction"] = self.headline_jurisdiction
        return answer


def identify_queries(
    queries: Sequence[str],
    as_of: date | None,
    jurisdictions: Sequence[str] | None,
    *,
    depict_each_jurisdiction: bool = False,
) -> list[IdentifiedQuery]:
    """Identify each query; one bad query yields an `invalid` verdict, never an error."""
    if not 1 <= len(queries) <= MAX_QUERIES_PER_REQUEST:
        raise InvalidInput(
            f"queries: give 1 to {MAX_QUERIES_PER_REQUEST} queries (got {len(queries)})"
        )
    codes = checked_jurisdictions(jurisdictions)
    answers = []
    for query in queries:
        identification = identify(query, as_of=as_of, jurisdictions=codes)
        answer = IdentifiedQuery(identification, {})
        wanted = codes if depict_each_jurisdiction else (answer.headline_jurisdiction,)
        for code in wanted:
            if code:
                answer.depictions[code] = depict_svg(identification, jurisdiction=code)
        answers.append(answer)
    return answers

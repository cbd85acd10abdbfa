"""A drawing without stereo that matches one listing outright may still be a stereoisomer
listed more strictly elsewhere in the same jurisdiction: that listing is named for review
when it would give a stronger status; and a listing of one stereoisomer is not matched
through the tautomer path by a drawing of its own tautomer with other or no stereo."""

from __future__ import annotations

from datetime import date

from liaison.chem import identify
from liaison.chem.models import Verdict

TODAY = date(2026, 1, 1)
FLAT_PHENYLPROPANOLAMINE = "CC(N)C(O)c1ccccc1"
CATHINE = "C[C@H](N)[C@@H](O)c1ccccc1"  # (1S,2S)
S_CATHINONE = "C[C@H](N)C(=O)c1ccccc1"
R_CATHINONE = "C[C@@H](N)C(=O)c1ccccc1"
FLAT_CATHINONE = "CC(N)C(=O)c1ccccc1"


def _verdict(query: str, code: str) -> Verdict:
    return identify(query, as_of=TODAY, jurisdictions=[code]).verdicts[code]


def test_flat_phenylpropanolamine_in_the_us_names_cathine_for_review_beside_list_i() -> None:
    verdict = _verdict(FLAT_PHENYLPROPANOLAMINE, "US")
    statuses = {basis.rule_id: basis.status for basis in verdict.basis}
    assert statuses["US-phenylpropanolamine"] == "precursor"
    assert statuses["US-cathine"] == "review"
    cathine = next(basis for basis in verdict.basis if basis.rule_id == "US-cathine")
    assert "does not give the stereo" in cathine.note
    assert verdict.status == "precursor"  # the listing matched outright still ranks first


def test_cathine_drawn_with_its_stereo_is_controlled_without_a_review() -> None:
    verdict = _verdict(CATHINE, "US")
    assert verdict.status == "controlled"
    assert all(basis.status != "review" for basis in verdict.basis)


def test_no_review_is_added_when_the_stricter_listing_would_not_be_stronger() -> None:
    # In China flat phenylpropanolamine matches no listing outright: every stereoisomer
    # listed is named for review, as before.
    verdict = _verdict(FLAT_PHENYLPROPANOLAMINE, "CN")
    assert verdict.status == "review"
    assert {basis.status for basis in verdict.basis} == {"review"}


def test_r_cathinone_is_not_the_un_listing_of_s_cathinone_through_its_tautomer() -> None:
    assert _verdict(S_CATHINONE, "UN").status == "controlled"
    assert _verdict(R_CATHINONE, "UN").status == "no_match"


def test_flat_cathinone_is_review_against_the_un_listing_of_s_cathinone() -> None:
    verdict = _verdict(FLAT_CATHINONE, "UN")
    assert verdict.status == "review"
    assert [basis.rule_id for basis in verdict.basis] == ["UN-cathinone"]
    assert "does not give the stereo" in verdict.basis[0].note

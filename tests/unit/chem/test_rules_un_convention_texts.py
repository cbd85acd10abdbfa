"""UN rules read in the Conventions' own texts (issue 13, seventh UN pass): the 1988 Convention's
Annex as adopted confirms the original Tables I and II from its entry into force (11 Nov 1990);
the 1971 Convention's Schedules in force on 12 October 1988 put flunitrazepam in Schedule IV
and delta-9-THC in Schedule I then, and every 1971 entry dated before that day is in them."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook

IN_FORCE_1988 = date(1990, 11, 11)
DAY_BEFORE_1988 = date(1990, 11, 10)
REVISED_1971 = date(1988, 10, 12)


def un_basis(query: str, day: date) -> dict[str, tuple[str, str, bool]]:
    """Rule id -> (list, citation, confirmed) of every UN basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {b.rule_id: (b.list, b.citation, b.confirmed) for b in verdict.basis}


# The twelve substances of the Annex as adopted; the two later moved to Table I keep
# confirmed = false because the day their Table II listing ended was not read.
ANNEX_AS_ADOPTED = [
    ("ephedrine", "UN-ephedrine", "Table I", True),
    ("ergometrine", "UN-ergometrine", "Table I", True),
    ("ergotamine", "UN-ergotamine", "Table I", True),
    ("lysergic acid", "UN-lysergic-acid", "Table I", True),
    ("1-phenyl-2-propanone", "UN-P2P", "Table I", True),
    ("pseudoephedrine", "UN-pseudoephedrine", "Table I", True),
    ("acetic anhydride", "UN-acetic-anhydride", "Table II", False),
    ("acetone", "UN-acetone", "Table II", True),
    ("anthranilic acid", "UN-anthranilic-acid", "Table II", True),
    ("ethyl ether", "UN-ethyl-ether", "Table II", True),
    ("phenylacetic acid", "UN-phenylacetic-acid", "Table II", False),
    ("piperidine", "UN-piperidine", "Table II", True),
]


@pytest.mark.parametrize(("query", "rule_id", "table", "confirmed"), ANNEX_AS_ADOPTED)
def test_the_annex_as_adopted_applies_from_11_november_1990(
    query: str, rule_id: str, table: str, confirmed: bool
) -> None:
    assert rule_id not in un_basis(query, DAY_BEFORE_1988)
    listed, citation, is_confirmed = un_basis(query, IN_FORCE_1988)[rule_id]
    assert listed == f"1988 Convention, {table}"
    assert f"Annex, {table} as adopted" in citation and "No. 27627" in citation
    assert is_confirmed is confirmed


def test_the_annex_as_adopted_is_all_the_1988_entries_of_11_november_1990() -> None:
    """No other Table entry starts with the Convention: later additions have their own days."""
    starting = {
        entry.id
        for entry in load_rulebook().entries
        if entry.jurisdiction == "UN" and entry.in_force_from == IN_FORCE_1988
    }
    assert starting == {rule_id for _, rule_id, _, _ in ANNEX_AS_ADOPTED}


def test_flunitrazepam_is_in_schedule_iv_in_1988_and_in_schedule_iii_after_its_transfer() -> None:
    assert un_basis("flunitrazepam", date(1983, 12, 31)) == {}
    on_revised = un_basis("flunitrazepam", REVISED_1971)
    assert {rule_id: listed for rule_id, (listed, _, _) in on_revised.items()} == {
        "UN-flunitrazepam-schedule-IV": "1971 Convention, Schedule IV"
    }
    after = un_basis("flunitrazepam", date(1996, 1, 1))
    assert {rule_id: listed for rule_id, (listed, _, _) in after.items()} == {
        "UN-flunitrazepam": "1971 Convention, Schedule III"
    }


def test_every_1971_entry_listed_by_12_october_1988_cites_the_revised_schedules() -> None:
    """The Revised Schedules in force on 12 Oct 1988 were read: each earlier listing says where
    it stands in them, and midazolam (from 1989) says it is absent."""
    entries = [
        entry
        for entry in load_rulebook().entries
        if entry.jurisdiction == "UN" and entry.list.startswith("1971")
    ]
    earlier = [entry for entry in entries if entry.in_force_from <= REVISED_1971]
    assert len(earlier) > 55
    for entry in earlier:
        assert "in force as of 12 October 1988" in entry.note, entry.id
    midazolam = next(entry for entry in entries if entry.id == "UN-midazolam")
    assert "not in the 'Revised Schedules" in midazolam.note


def test_delta_9_thc_is_in_schedule_i_in_1988_and_in_schedule_ii_after_its_transfer() -> None:
    assert un_basis("dronabinol", date(1976, 8, 15)) == {}
    on_revised = un_basis("dronabinol", REVISED_1971)
    assert {rule_id: listed for rule_id, (listed, _, _) in on_revised.items()} == {
        "UN-THC-schedule-I": "1971 Convention, Schedule I"
    }
    after = un_basis("dronabinol", date(1992, 1, 1))
    assert {rule_id: listed for rule_id, (listed, _, _) in after.items()} == {
        "UN-THC": "1971 Convention, Schedule II"
    }

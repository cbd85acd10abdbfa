"""The substances of the 1961 Convention's Schedules I, II and IV that had no UN entry
(issue 13, eleventh UN pass): those in the Schedules "as amended per 8 February 1982"
apply from that day and not the day before; MPPP and PEPAP, first shown in the Dutch
database's version of 25 April 1988, from that day. Each is unconfirmed (the day its
listing began was not read)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem import identify, load_rulebook

AMENDED_1982 = date(1982, 2, 8)
VERSION_1988 = date(1988, 4, 25)


def un_basis(query: str, day: date) -> dict[str, tuple[str, str, bool]]:
    """Rule id -> (status, list, confirmed) of every UN basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {b.rule_id: (b.status, b.list, b.confirmed) for b in verdict.basis}


# A sample asked by name and by structure: (query, rule id, Schedule(s) as printed, first day).
SAMPLE = [
    ("etorphine", "UN-etorphine", "Schedules I and IV", AMENDED_1982),
    ("drotebanol", "UN-drotebanol", "Schedule I", AMENDED_1982),
    ("pethidine intermediate B", "UN-pethidine-intermediate-B", "Schedule I", AMENDED_1982),
    ("morphine methobromide", "UN-morphine-methobromide", "Schedule I", AMENDED_1982),
    ("CCOC(=O)C1(c2ccccc2)CCC=CC1N(C)C", "UN-tilidine", "Schedule I", AMENDED_1982),
    (
        "CN1CC[C@]23[C@@H]4C(=NOCC(=O)O)CC[C@H]2[C@H]1CC5=C3C(=C(C=C5)OC)O4",
        "UN-codoxime",
        "Schedule I",
        AMENDED_1982,
    ),
    ("nicocodine", "UN-nicocodine", "Schedule II", AMENDED_1982),
    (
        "N1CC[C@]23[C@@H]4[C@H]1CC5=C2C(=C(C=C5)OC)O[C@H]3[C@H](C=C4)O",
        "UN-norcodeine",
        "Schedule II",
        AMENDED_1982,
    ),
    ("CCC(=O)N(c1ccccn1)C(C)CN1CCCCC1", "UN-propiram", "Schedule II", AMENDED_1982),
    ("PEPAP", "UN-PEPAP", "Schedules I and IV", VERSION_1988),
    ("CCC(=O)OC1(c2ccccc2)CCN(C)CC1", "UN-MPPP", "Schedules I and IV", VERSION_1988),
]


@pytest.mark.parametrize(("query", "rule_id", "schedules", "first_day"), SAMPLE)
def test_a_sample_applies_from_the_first_day_a_dated_text_shows_it(
    query: str, rule_id: str, schedules: str, first_day: date
) -> None:
    assert rule_id not in un_basis(query, first_day - timedelta(days=1))
    assert un_basis(query, first_day)[rule_id] == (
        "controlled",
        f"Single Convention 1961, {schedules}",
        False,
    )


FROM_1982 = {
    "UN-acetorphine", "UN-etorphine", "UN-bezitramide", "UN-codoxime", "UN-difenoxin",
    "UN-drotebanol", "UN-methadone-intermediate", "UN-moramide-intermediate",
    "UN-morphine-methobromide", "UN-morphine-N-oxide", "UN-pethidine-intermediate-A",
    "UN-pethidine-intermediate-B", "UN-pethidine-intermediate-C", "UN-racemethorphan",
    "UN-racemorphan", "UN-tilidine", "UN-nicocodine", "UN-nicodicodine", "UN-norcodeine",
    "UN-propiram",
}  # fmt: skip
FROM_1988 = {"UN-MPPP", "UN-PEPAP"}
SCHEDULE_II = {"UN-nicocodine", "UN-nicodicodine", "UN-norcodeine", "UN-propiram"}


def test_every_new_entry_is_dated_from_its_text_unconfirmed_and_cites_the_database() -> None:
    entries = {e.id: e for e in load_rulebook().entries if e.id in FROM_1982 | FROM_1988}
    assert set(entries) == FROM_1982 | FROM_1988
    for entry in entries.values():
        first_day = AMENDED_1982 if entry.id in FROM_1982 else VERSION_1988
        assert entry.in_force_from == first_day, entry.id
        assert entry.in_force_to is None and entry.confirmed is False, entry.id
        assert "BWBV0001004" in entry.citation, entry.id
        assert "printed there as '" in entry.note, entry.id


def test_schedule_ii_covers_isomers_and_salts_but_not_esters_or_ethers() -> None:
    entries = [e for e in load_rulebook().entries if e.id in SCHEDULE_II]
    assert len(entries) == len(SCHEDULE_II)
    for entry in entries:
        assert set(entry.covers) == {"isomers", "salts"}, entry.id


DEXTROMETHORPHAN = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)OC"
RACEMETHORPHAN = "CN1CCC23CCCCC2C1CC4=C3C=C(C=C4)OC"


def test_racemethorphan_is_listed_but_dextromethorphan_stays_excluded() -> None:
    assert un_basis(RACEMETHORPHAN, AMENDED_1982)["UN-racemethorphan"][0] == "controlled"
    assert un_basis(DEXTROMETHORPHAN, AMENDED_1982) == {}


def test_morphine_methobromide_drawn_as_the_salt_is_the_listing() -> None:
    salt = "C[N+]1(C)CC[C@]23[C@@H]4[C@H]1CC5=C2C(=C(C=C5)O)O[C@H]3[C@H](C=C4)O.[Br-]"
    assert "UN-morphine-methobromide" not in un_basis(salt, AMENDED_1982 - timedelta(days=1))
    assert un_basis(salt, AMENDED_1982)["UN-morphine-methobromide"][0] == "controlled"


def test_dimepheptanol_is_a_name_of_the_methadol_entry_not_a_second_entry() -> None:
    entries = [e for e in load_rulebook().entries if "dimepheptanol" in e.synonyms]
    assert [e.id for e in entries if e.id.startswith("UN-")] == ["UN-alphamethadol"]

"""The 41 substances of the 1971 Convention's Revised Schedules in force on 12 October 1988
that had no UN entry (issue 13, tenth UN pass): each applies from that day, the earliest a
text read shows it, and not the day before; stereoisomers are listed only as that text
names them (a configuration, a racemate, or the tetrahydrocannabinols' "stereochemical
variants")."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook

REVISED_1971 = date(1988, 10, 12)
DAY_BEFORE = date(1988, 10, 11)


def un_basis(query: str, day: date) -> dict[str, tuple[str, str, str, bool]]:
    """Rule id -> (status, list, citation, confirmed) of every UN basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {b.rule_id: (b.status, b.list, b.citation, b.confirmed) for b in verdict.basis}


# One substance of each Schedule asked by name (English or Chinese) and one by structure.
EACH_SCHEDULE = [
    ("eticyclidine", "UN-eticyclidine", "I", 8),
    ("C1CCN(CC1)C1(CCCCC1)c1cccs1", "UN-tenocyclidine", "I", 20),
    ("methaqualone", "UN-methaqualone", "II", 9),
    ("CCCC(C)C1(CC=C)C(=O)NC(=O)NC1=O", "UN-secobarbital", "II", 13),
    ("glutethimide", "UN-glutethimide", "III", 5),
    ("CC(C)CC1(CC=C)C(=O)NC(=O)NC1=O", "UN-butalbital", "III", 2),
    ("马吲哚", "UN-mazindol", "IV", 34),
    ("C=CCC1(CC=C)C(=O)NC(=O)NC1=O", "UN-allobarbital", "IV", 1),
]


@pytest.mark.parametrize(("query", "rule_id", "schedule", "number"), EACH_SCHEDULE)
def test_a_substance_of_each_schedule_applies_from_12_october_1988(
    query: str, rule_id: str, schedule: str, number: int
) -> None:
    assert rule_id not in un_basis(query, DAY_BEFORE)
    status, listed, citation, confirmed = un_basis(query, REVISED_1971)[rule_id]
    assert status == "controlled"
    assert listed == f"1971 Convention, Schedule {schedule}"
    assert f"Schedule {schedule}, no. {number} of the Revised Schedules" in citation
    assert confirmed is False


NEW_IDS = {
    "UN-DOB", "UN-cathinone", "UN-DMA", "UN-DMHP", "UN-DOET", "UN-eticyclidine", "UN-MDA",
    "UN-MMDA", "UN-PMA", "UN-rolicyclidine", "UN-tenocyclidine", "UN-TMA",
    "UN-delta-6a10a-THC", "UN-delta-6a7-THC", "UN-delta-7-THC", "UN-delta-8-THC",
    "UN-delta-10-THC", "UN-delta-9-11-THC",
    "UN-dexamfetamine", "UN-fenetylline", "UN-levamfetamine", "UN-levomethamphetamine",
    "UN-mecloqualone", "UN-metamfetamine-racemate", "UN-methaqualone", "UN-secobarbital",
    "UN-butalbital", "UN-cathine", "UN-cyclobarbital", "UN-glutethimide", "UN-pentazocine",
    "UN-allobarbital", "UN-benzfetamine", "UN-butobarbital", "UN-ethyl-loflazepate",
    "UN-etilamfetamine", "UN-fencamfamin", "UN-fenproporex", "UN-loprazolam", "UN-mazindol",
    "UN-mefenorex", "UN-phendimetrazine", "UN-propylhexedrine", "UN-pyrovalerone",
    "UN-secbutabarbital", "UN-vinylbital",
}  # fmt: skip


def test_every_new_entry_starts_on_12_october_1988_unconfirmed_citing_its_number() -> None:
    entries = {e.id: e for e in load_rulebook().entries if e.id in NEW_IDS}
    assert set(entries) == NEW_IDS
    for entry in entries.values():
        assert entry.in_force_from == REVISED_1971, entry.id
        assert entry.in_force_to is None and entry.confirmed is False, entry.id
        assert "in force as of 12 October 1988" in entry.note, entry.id
        assert "no. " in entry.citation and "BWBV0003922" in entry.citation, entry.id
        assert "salts" in entry.covers, entry.id


S_AMFETAMINE = "C[C@H](N)Cc1ccccc1"
R_AMFETAMINE = "C[C@@H](N)Cc1ccccc1"
S_METAMFETAMINE = "CN[C@@H](C)Cc1ccccc1"
R_METAMFETAMINE = "CN[C@H](C)Cc1ccccc1"


def test_dexamfetamine_and_levamfetamine_are_the_s_and_r_enantiomers() -> None:
    dex = un_basis(S_AMFETAMINE, REVISED_1971)
    lev = un_basis(R_AMFETAMINE, REVISED_1971)
    assert "UN-dexamfetamine" in dex and "UN-levamfetamine" not in dex
    assert "UN-levamfetamine" in lev and "UN-dexamfetamine" not in lev
    assert (
        dex["UN-dexamfetamine"][1] == lev["UN-levamfetamine"][1] == "1971 Convention, Schedule II"
    )
    # A salt of the listed enantiomer is the listing.
    assert "UN-dexamfetamine" in un_basis(f"Cl.{S_AMFETAMINE}", REVISED_1971)
    assert "UN-dexamfetamine" not in un_basis(S_AMFETAMINE, DAY_BEFORE)


def test_metamfetamine_its_racemate_and_levomethamphetamine_are_three_listings() -> None:
    racemic = un_basis("CNC(C)Cc1ccccc1", REVISED_1971)
    dextro = un_basis(S_METAMFETAMINE, REVISED_1971)
    levo = un_basis(R_METAMFETAMINE, REVISED_1971)
    assert "UN-metamfetamine-racemate" in racemic
    assert "UN-levomethamphetamine" not in racemic
    assert "UN-metamfetamine-racemate" not in dextro and "UN-levomethamphetamine" not in dextro
    assert "UN-levomethamphetamine" in levo and "UN-metamfetamine-racemate" not in levo
    # UN-methamphetamine keeps its coverage of isomers (and its verdicts) from 1976.
    for found in (racemic, dextro, levo):
        assert "UN-methamphetamine" in found
    assert set(un_basis("CNC(C)Cc1ccccc1", DAY_BEFORE)) == {"UN-methamphetamine"}


def test_cathine_is_the_1s_2s_norpseudoephedrine_not_its_enantiomer() -> None:
    cathine = un_basis("C[C@H](N)[C@@H](O)c1ccccc1", REVISED_1971)
    assert cathine["UN-cathine"][:2] == ("controlled", "1971 Convention, Schedule III")
    assert "UN-cathine" not in un_basis("C[C@@H](N)[C@H](O)c1ccccc1", REVISED_1971)
    assert "UN-cathine" not in un_basis("C[C@H](N)[C@@H](O)c1ccccc1", DAY_BEFORE)


def test_phendimetrazine_is_the_2s_3s_enantiomer_a_drawing_without_stereo_for_review() -> None:
    listed = un_basis("C[C@H]1[C@@H](OCCN1C)c1ccccc1", REVISED_1971)
    assert listed["UN-phendimetrazine"][:2] == ("controlled", "1971 Convention, Schedule IV")
    assert "UN-phendimetrazine" not in un_basis("C[C@@H]1[C@H](OCCN1C)c1ccccc1", REVISED_1971)
    assert un_basis("CC1C(OCCN1C)c1ccccc1", REVISED_1971)["UN-phendimetrazine"][0] == "review"


def test_cathinone_is_listed_as_the_s_enantiomer() -> None:
    verdict = identify("C[C@H](N)C(=O)c1ccccc1", as_of=REVISED_1971, jurisdictions=["UN"])
    (basis,) = verdict.verdicts["UN"].basis
    assert (basis.rule_id, basis.status) == ("UN-cathinone", "controlled")
    assert basis.note.startswith("Tenth pass")  # its own structure, not another tautomer's


def test_a_racemate_listing_does_not_take_in_one_enantiomer() -> None:
    assert un_basis("COc1cc(CC(C)N)c(OC)cc1Br", REVISED_1971)["UN-DOB"][0] == "controlled"
    assert "UN-DOB" not in un_basis("COc1cc(C[C@@H](C)N)c(OC)cc1Br", REVISED_1971)


def test_a_name_printed_without_configuration_takes_in_every_configuration() -> None:
    r_secobarbital = "CCC[C@@H](C)C1(CC=C)C(=O)NC(=O)NC1=O"
    assert un_basis(r_secobarbital, REVISED_1971)["UN-secobarbital"][0] == "controlled"


def test_mmda_is_the_compound_the_1988_text_names() -> None:
    assert "UN-MMDA" in un_basis("COc1cc2OCOc2cc1CC(C)N", REVISED_1971)
    # The 5-methoxy-3,4-methylenedioxy compound (US-MMDA's structure) is not this listing.
    assert "UN-MMDA" not in un_basis("COc1cc(CC(C)N)cc2OCOc12", REVISED_1971)


THC_ISOMERS = [
    ("CCCCCc1cc(O)c2C3=C(CCC(C)C3)C(C)(C)Oc2c1", "UN-delta-6a10a-THC"),
    ("CCCCCc1cc(O)c2[C@@H]3C[C@H](C)CC=C3C(C)(C)Oc2c1", "UN-delta-6a7-THC"),
    ("CCCCCc1cc(O)c2[C@@H]3C[C@@H](C)C=C[C@H]3C(C)(C)Oc2c1", "UN-delta-7-THC"),
    ("CCCCCc1cc(O)c2[C@@H]3CC(C)=CC[C@H]3C(C)(C)Oc2c1", "UN-delta-8-THC"),
    ("CCCCCc1cc(O)c2C3=CC(C)CCC3C(C)(C)Oc2c1", "UN-delta-10-THC"),
    ("CCCCCc1cc(O)c2[C@@H]3CC(=C)CC[C@H]3C(C)(C)Oc2c1", "UN-delta-9-11-THC"),
]


@pytest.mark.parametrize(("smiles", "rule_id"), THC_ISOMERS)
def test_each_tetrahydrocannabinol_isomer_is_its_own_schedule_i_listing(
    smiles: str, rule_id: str
) -> None:
    assert un_basis(smiles, DAY_BEFORE) == {}
    found = un_basis(smiles, REVISED_1971)
    assert set(found) == {rule_id}
    assert found[rule_id][:2] == ("controlled", "1971 Convention, Schedule I")


def test_the_tetrahydrocannabinol_isomers_cover_their_stereochemical_variants() -> None:
    enantiomer_of_delta_8 = "CCCCCc1cc(O)c2[C@H]3CC(C)=CC[C@@H]3C(C)(C)Oc2c1"
    assert set(un_basis(enantiomer_of_delta_8, REVISED_1971)) == {"UN-delta-8-THC"}

"""UN lists completed against INCB's Green List, the Yellow List's Schedule IV and the 1988
Convention's Tables (issue 13, twelfth UN pass): the substances those lists print each have a
UN entry of the Schedule or Table printed, and the entries added this pass apply from the
first day their evidence allows, not the day before."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook


def un_lists(query: str, day: date) -> dict[str, str]:
    """Rule id -> list of every UN basis the verdict for `query` on `day` shows."""
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {b.rule_id: b.list for b in verdict.basis}


# One added substance of each Schedule, asked by name (English or Chinese), by structure and
# by CAS number where a source gave one: (queries, rule id, list, first day).
ADDED = [
    (["N-ethyl MDA", "MDE", "乙芬胺", "CCNC(C)Cc1ccc2OCOc2c1", "82801-81-8"],
     "UN-N-ethyl-MDA", "1971 Convention, Schedule I", date(1990, 1, 1)),
    (["zipeprol", "COC(CN1CCN(CC(O)C(OC)c2ccccc2)CC1)c1ccccc1"],
     "UN-zipeprol", "1971 Convention, Schedule II", date(1995, 1, 1)),
    (["buprenorphine", "丁丙诺啡", "52485-79-7"],
     "UN-buprenorphine", "1971 Convention, Schedule III", date(1989, 1, 1)),
    (["brotizolam", "Cc1nnc2n1-c1sc(Br)cc1C(c1ccccc1Cl)=NC2", "57801-81-7"],
     "UN-brotizolam", "1971 Convention, Schedule IV", date(1995, 1, 1)),
    (["oripavine", "奥列巴文", "467-04-9"],
     "UN-oripavine", "Single Convention 1961, Schedule I", date(2007, 1, 1)),
    (["ketobemidone", "CCC(=O)C1(c2cccc(O)c2)CCN(C)CC1"],
     "UN-ketobemidone-schedule-IV", "Single Convention 1961, Schedule IV", date(1982, 2, 8)),
]  # fmt: skip


@pytest.mark.parametrize(("queries", "rule_id", "listed", "first_day"), ADDED)
def test_an_added_substance_of_each_schedule_applies_from_its_first_day(
    queries: list[str], rule_id: str, listed: str, first_day: date
) -> None:
    day_before = date.fromordinal(first_day.toordinal() - 1)
    for query in queries:
        assert rule_id not in un_lists(query, day_before), query
        assert un_lists(query, first_day).get(rule_id) == listed, query


ADDED_IDS = {
    "UN-N-ethyl-MDA", "UN-N-hydroxy-MDA", "UN-4-methylaminorex", "UN-etryptamine",
    "UN-methcathinone", "UN-amineptine", "UN-zipeprol", "UN-buprenorphine", "UN-aminorex",
    "UN-brotizolam", "UN-mesocarb", "UN-pemoline", "UN-oripavine", "UN-dihydroetorphine",
    "UN-desomorphine-schedule-IV", "UN-ketobemidone-schedule-IV",
}  # fmt: skip


def test_every_added_entry_is_unconfirmed_open_ended_and_says_what_was_not_read() -> None:
    entries = {e.id: e for e in load_rulebook().entries if e.id in ADDED_IDS}
    assert set(entries) == ADDED_IDS
    for entry in entries.values():
        assert entry.confirmed is False and entry.in_force_to is None, entry.id
        assert entry.note.startswith("Twelfth pass (rulesun5"), entry.id
        assert "not read" in entry.note, entry.id
        assert "salts" in entry.covers, entry.id


# The six fentanyl analogues the Commission approved at its eleventh special session
# (29 Jan-2 Feb 1990, WHO document EB87/26): dated 1990, no longer 1988.
FENTANYLS_1990 = [
    "alpha-methylthiofentanyl", "para-fluorofentanyl", "beta-hydroxyfentanyl",
    "beta-hydroxy-3-methylfentanyl", "thiofentanyl", "3-methylthiofentanyl",
]  # fmt: skip


@pytest.mark.parametrize("name", FENTANYLS_1990)
def test_the_fentanyl_analogues_of_the_1990_session_apply_from_1990(name: str) -> None:
    rule_id = f"UN-{name}"
    assert rule_id not in un_lists(name, date(1989, 12, 31))
    assert un_lists(name, date(1990, 1, 1))[rule_id] == "Single Convention 1961, Schedules I and IV"


# The lists read, as printed: Part one of the Green List (an unattributed copy, 2003-2013,
# GHB still in Schedule IV; asked on a day within that span), the Yellow List's Schedule IV as
# amended per 8 Feb 1982 and its additions printed on 25 Apr 1988 (Dutch treaty database), and
# the 1988 Convention's Tables as adopted (in force 11 Nov 1990).
GREEN_LIST_DAY = date(2012, 6, 30)
# The name MMDA resolves to the 5-methoxy-3,4-methylenedioxy structure of US-MMDA and CN-MMDA;
# UN-MMDA is drawn as the 1988 Schedules print it (2-methoxy-4,5-methylenedioxy), so it is
# asked by that structure (which of the two the Green List means was not read).
MMDA_AS_DRAWN = "COc1cc2OCOc2cc1CC(C)N"
GREEN_LIST = {
    "I": [
        "cathinone", "brolamfetamine", "DET", "DMA", "DMHP", "DMT", "DOET", "eticyclidine",
        "etryptamine", "N-hydroxy MDA", "lysergide", "N-ethyl MDA", "MDMA", "mescaline",
        "methcathinone", "4-methylaminorex", MMDA_AS_DRAWN, "4-MTA", "parahexyl", "PMA",
        "psilocine", "psilocybin", "rolicyclidine", "DOM", "tenamfetamine", "tenocyclidine", "TMA",
    ],
    "II": [
        "amfetamine", "amineptine", "dexamfetamine", "dronabinol", "fenetylline",
        "levamfetamine", "mecloqualone", "metamfetamine", "metamfetamine racemate",
        "methaqualone", "methylphenidate", "phencyclidine", "2C-B", "phenmetrazine",
        "secobarbital", "zipeprol",
    ],
    "III": [
        "amobarbital", "buprenorphine", "butalbital", "cathine", "cyclobarbital",
        "flunitrazepam", "glutethimide", "pentazocine", "pentobarbital",
    ],
    "IV": [
        "allobarbital", "alprazolam", "amfepramone", "aminorex", "barbital", "benzfetamine",
        "bromazepam", "brotizolam", "butobarbital", "camazepam", "chlordiazepoxide",
        "clobazam", "clonazepam", "clorazepate", "clotiazepam", "cloxazolam", "delorazepam",
        "diazepam", "estazolam", "ethchlorvynol", "ethinamate", "ethyl loflazepate",
        "etilamfetamine", "fencamfamin", "fenproporex", "fludiazepam", "flurazepam", "GHB",
        "halazepam", "haloxazolam", "ketazolam", "lefetamine", "loprazolam", "lorazepam",
        "lormetazepam", "mazindol", "medazepam", "mefenorex", "meprobamate", "mesocarb",
        "methylphenobarbital", "methyprylon", "midazolam", "nimetazepam", "nitrazepam",
        "nordazepam", "oxazepam", "oxazolam", "pemoline", "phendimetrazine", "phenobarbital",
        "phentermine", "pinazepam", "pipradrol", "prazepam", "pyrovalerone", "secbutabarbital",
        "temazepam", "tetrazepam", "triazolam", "vinylbital", "zolpidem",
    ],
}  # fmt: skip
LISTS_READ = [
    *[
        (name, f"1971 Convention, Schedule {schedule}", GREEN_LIST_DAY)
        for schedule, names in GREEN_LIST.items()
        for name in names
    ],
    *[
        (name, "Single Convention 1961, Schedule IV", date(1982, 2, 8))
        for name in ["acetorphine", "cannabis", "desomorphine", "etorphine", "heroin",
                     "ketobemidone"]
    ],
    *[
        (name, "Single Convention 1961, Schedule IV", date(1988, 4, 25))
        for name in ["acetyl-alpha-methylfentanyl", "alpha-methylfentanyl", "3-methylfentanyl",
                     "PEPAP", "MPPP"]
    ],
    *[
        (name, "1988 Convention, Table I", date(1990, 11, 11))
        for name in ["ephedrine", "ergometrine", "ergotamine", "lysergic acid",
                     "phenylacetone", "pseudoephedrine"]
    ],
    *[
        (name, "1988 Convention, Table II", date(1990, 11, 11))
        for name in ["acetic anhydride", "acetone", "anthranilic acid", "ethyl ether",
                     "phenylacetic acid", "piperidine"]
    ],
]  # fmt: skip


@pytest.mark.parametrize(("name", "listed", "day"), LISTS_READ)
def test_every_substance_of_the_lists_read_has_a_un_entry_of_its_schedule(
    name: str, listed: str, day: date
) -> None:
    lists = un_lists(name, day).values()
    # A drug in Schedule IV of the 1961 Convention may be listed as "Schedules I and IV".
    also = listed.replace("Schedule IV", "Schedules I and IV")
    assert listed in lists or also in lists, (name, sorted(lists))


def test_propylhexedrine_is_not_in_the_green_list_read_and_its_entry_says_so() -> None:
    assert "propylhexedrine" not in GREEN_LIST["IV"]
    entry = next(e for e in load_rulebook().entries if e.id == "UN-propylhexedrine")
    assert "to remove propylhexedrine from Schedule IV" in entry.note

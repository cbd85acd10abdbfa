"""Names people type (salts, misspellings, dictionary names) and the closest listed
substances a chemist asks for next."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liaison.chem.compiled import load_rulebook
from liaison.chem.evidence import rules_hash, rules_version, version_of
from liaison.chem.facts import facts_of
from liaison.chem.identify import identify
from liaison.chem.query import _SALT_SUFFIX, SALT_WORDS, ends_with_salt_word, parse_query
from liaison.chem.rulebook import RULES_DIR, normalize_name
from support import cn_rule_ids

DAY = date(2024, 1, 1)
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


@pytest.mark.parametrize(
    "name",
    [
        "fentanyl hydrochloride",
        "fentanyl HCl",
        "Fentanyl-HCl",
        "芬太尼盐酸盐",
        "FENTANYL HYDROCHLORIDE \n",
        "fentanyl hydrochlor\u0131de",  # a dotless i, which re.IGNORECASE takes for "i"
        "fentanyl citrate, \u017falt",  # a long s, likewise
    ],
)
def test_salts_written_as_names_resolve_to_the_base(name: str) -> None:
    result = identify(name, as_of=DAY)
    assert result.error is None
    assert result.query_kind == "name"
    assert result.verdicts["US"].status == "controlled"
    assert any("judged as its base" in note for note in result.notes)


@pytest.mark.parametrize(
    ("name", "base", "salt"),
    [
        ("盐酸芬太尼", "芬太尼", "盐酸"),  # Chinese puts the acid first: fentanyl hydrochloride
        ("枸橼酸舒芬太尼", "舒芬太尼", "枸橼酸"),
        ("盐酸氯胺酮", "氯胺酮", "盐酸"),
        ("硫酸吗啡", "吗啡", "硫酸"),
        ("磷酸可待因", "可待因", "磷酸"),
        ("羟丁酸钠", "羟丁酸", "钠"),  # sodium oxybate
        ("盐酸美沙酮一水合物", "美沙酮", "盐酸 一水合物"),
        ("盐酸麻黄碱", "麻黄碱", "盐酸"),
        ("phenobarbital sodium", "phenobarbital", "sodium"),
        ("fentanyl (citrate)", "fentanyl", "citrate"),
        ("氯胺酮（盐酸盐）", "氯胺酮", "盐酸盐"),  # full-width brackets, NFKC-normalized
        ("clorazepate dipotassium", "clorazepate", "dipotassium"),  # not "clorazepate di"
        ("硫酸吗啡五水合物", "吗啡", "硫酸 五水合物"),
        ("dextropropoxyphene napsylate", "dextropropoxyphene", "napsylate"),
        ("萘磺酸右丙氧芬", "右丙氧芬", "萘磺酸"),
    ],
)
def test_chinese_salt_names_and_sodium_salts_resolve_to_the_base(
    name: str, base: str, salt: str
) -> None:
    result = identify(name, as_of=DAY)
    assert result.error is None
    assert result.verdicts["CN"].status in {"controlled", "precursor"}
    assert f"read as {base}: the salt or hydrate ({salt}) is judged as its base" in result.notes


@pytest.mark.parametrize("name", ["盐酸", "硫酸", "醋酸酐", "高锰酸钾"])
def test_a_listed_name_holding_a_salt_word_is_read_whole(name: str) -> None:
    """Hydrochloric acid (盐酸), acetic anhydride (醋酸酐) and potassium permanganate (高锰酸钾)
    are listed chemicals: a name is looked up whole before any salt word is set aside."""
    result = identify(name, as_of=DAY)
    assert result.verdicts["CN"].status == "precursor"
    assert not any("judged as its base" in note for note in result.notes)


@pytest.mark.parametrize(
    "name",
    [
        "硫酸钾",  # potassium sulfate: no sulfuric acid
        "sulfuric acid, potassium salt",
        "hydrochloric acid, sodium salt",  # sodium chloride
        "氢碘酸钾",  # potassium iodide: no hydriodic acid
        "hydrochloric acid salt",
    ],
)
def test_an_inorganic_salt_is_not_read_as_its_listed_acid(name: str) -> None:
    """The lists name the inorganic acids, not their salts (the 1988 Convention excludes the
    salts of hydrochloric and sulphuric acid): a salt word is set aside only before an
    organic substance, as the engine judges a drawn salt's organic parent."""
    result = identify(name, as_of=DAY)
    assert all(verdict.status != "precursor" for verdict in result.verdicts.values())
    assert not any("judged as its base" in note for note in result.notes)


@pytest.mark.parametrize("count", [5, 24_990])  # the longest: a query of 100,000 characters
def test_at_most_four_salt_words_are_set_aside(count: int) -> None:
    """A real name carries two or three ("sulfate pentahydrate"); reading more, one word at a
    time over the whole text, made a long enough query hold a worker for minutes."""
    result = identify("fentanyl" + " hcl" * count, as_of=DAY)
    assert result.verdicts["US"].status == "invalid"
    assert "not a name Liaison knows" in (result.error or "")
    four = identify("fentanyl hcl hydrate hcl salt", as_of=DAY)
    assert four.verdicts["US"].status == "controlled"


def test_an_acid_before_an_unknown_name_is_still_an_unknown_name() -> None:
    result = identify("盐酸未知物", as_of=DAY)
    assert result.verdicts["CN"].status == "invalid"
    assert "not a name Liaison knows" in (result.error or "")


@pytest.mark.parametrize(
    ("name", "rule_id"),
    [
        ("布托啡诺", "CN-butorphanol"),  # the 2013 catalogue writes 布托啡诺及其注射剂
        ("右美沙芬", "CN-dextromethorphan"),  # the 2024 adjustment's own names
        ("氯卡色林", "CN-lorcaserin"),
        ("依托咪酯", "CN-etomidate"),
    ],
)
def test_a_chinese_catalogue_name_resolves_to_its_entry(name: str, rule_id: str) -> None:
    assert rule_id in cn_rule_ids(name, date(2026, 1, 1))


@pytest.mark.parametrize("name", ["六氢大麻酚", "盐酸六氢大麻酚"])
def test_a_name_the_law_gives_two_substances_is_refused_naming_both(name: str) -> None:
    """六氢大麻酚 is parahexyl in the 2013 catalogue and HHC in the 2025 list: answering for
    the first would give HHC parahexyl's US and UN verdicts."""
    result = identify(name, as_of=date(2026, 1, 1))
    assert {verdict.status for verdict in result.verdicts.values()} == {"invalid"}
    assert "names more than one listed substance" in (result.error or "")
    assert "CN-parahexyl" in (result.error or "") and "CN-HHC" in (result.error or "")
    assert "CN-HHC" in cn_rule_ids("HHC", date(2026, 1, 1))


def test_a_cas_number_two_substances_are_given_is_refused_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book = load_rulebook()  # the shared book, its index restored after the test
    hhc, parahexyl = normalize_name("6692-85-9"), normalize_name("117-51-1")
    shared = {
        entry.connectivity: book.names[key]
        for key, entry_id in ((hhc, "CN-HHC"), (parahexyl, "CN-parahexyl"))
        for entry in book.entries
        if entry.id == entry_id
    }
    monkeypatch.setitem(book.ambiguous_names, hhc, shared)
    parsed = parse_query("6692-85-9", book)
    assert parsed.molecule is None
    assert "names more than one listed substance" in (parsed.error or "")


def test_an_unknown_name_says_so_and_suggests_close_names() -> None:
    result = identify("fentanil", as_of=DAY)
    assert result.verdicts["US"].status == "invalid"
    assert "not a name Liaison knows" in (result.error or "")
    assert "fentanyl" in (result.error or "").split("close names:")[1]


@pytest.mark.parametrize("text", ["白粉", "K仔"])
def test_a_short_chinese_word_is_called_an_unknown_name(text: str) -> None:
    """A Chinese name is often two characters, and no SMILES holds a Chinese character."""
    result = identify(text, as_of=DAY)
    assert result.verdicts["CN"].status == "invalid"
    assert f"'{text}' is not a name Liaison knows" in (result.error or "")


def test_a_smiles_with_a_look_alike_letter_is_not_called_a_name() -> None:
    result = identify("C\u0421(=O)O", as_of=DAY)  # a Cyrillic Es for the second carbon
    assert "not a name Liaison knows" not in (result.error or "")
    assert "position 2" in (result.error or "")


def test_a_broken_smiles_is_not_called_a_name() -> None:
    result = identify("CCCCCC1CC", as_of=DAY)
    assert "not a name Liaison knows" not in (result.error or "")


def test_a_known_name_without_a_rule_says_so() -> None:
    result = identify("paracetamol", as_of=DAY)  # in the dictionary; no rule names it
    assert result.verdicts["US"].status == "no_match"
    assert any("not from a loaded rule" in note for note in result.notes)
    listed = identify("acetone", as_of=DAY)  # named by the precursor listings
    assert not any("not from a loaded rule" in note for note in listed.notes)


def test_facts_give_formula_weight_key_cas_and_names() -> None:
    facts = facts_of(FENTANYL)
    assert facts is not None
    assert facts.formula == "C22H28N2O"
    assert facts.molecular_weight == pytest.approx(336.48, abs=0.01)
    assert facts.inchikey == "PJMPHNIQZUBGLI-UHFFFAOYSA-N"
    assert "437-38-7" in facts.cas
    assert "芬太尼" in facts.synonyms
    assert "M  END" in facts.molblock


def test_closest_listed_substances_are_ranked_by_tanimoto() -> None:
    para_chloro = "CCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1"
    facts = facts_of(para_chloro)
    assert facts is not None
    scores = [near.similarity for near in facts.similar]
    assert scores == sorted(scores, reverse=True)
    assert facts.similar[0].name == "fentanyl"
    assert 0.5 < facts.similar[0].similarity < 1
    # The structure itself is not its own nearest neighbour.
    itself = facts_of(FENTANYL)
    assert itself is not None
    assert all(near.name != "fentanyl" for near in itself.similar)


def test_the_rules_version_follows_the_rule_data(tmp_path: Path) -> None:
    for path in RULES_DIR.iterdir():
        if path.is_file():
            (tmp_path / path.name).write_bytes(path.read_bytes())
    assert rules_hash(tmp_path) == rules_version().hash
    (tmp_path / "us.toml").write_text((tmp_path / "us.toml").read_text() + "\n# edited\n")
    assert rules_hash(tmp_path) != rules_version().hash
    book = load_rulebook()
    newest = max(entry.in_force_from for entry in book.entries)
    assert version_of(book).newest_entry >= newest


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (
            "N#CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "propionyl replaced by a group of formula C3H2NO with a nitrile, bonded through carbon",
        ),
        (
            "CCC(=O)N(c1ccc(S(N)(=O)=O)cc1)C1CCN(CCc2ccccc2)CC1",
            "a group of formula H2NO2S with a sulfonamide, bonded through sulfur",
        ),
    ],
)
def test_unnamed_replacements_are_described_in_words(query: str, words: str) -> None:
    result = identify(query, as_of=DAY)
    explanations = [
        region.explanation
        for verdict in result.verdicts.values()
        for basis in verdict.basis
        for region in basis.regions
    ]
    assert any(words in text for text in explanations), explanations
    assert not any("the group *" in text for text in explanations)


def test_the_pages_name_every_region_the_engine_names() -> None:
    from liaison.chem.fentanyl_class import REGION_LABELS
    from liaison.web.ui.substances import REGION_NAMES

    assert REGION_NAMES == REGION_LABELS


HEAD_CHARACTERS = "CNOc1()=[]+-HlB \t,;/\u0131\u0130\u017f\u212aSs"


@given(
    st.text(alphabet=st.sampled_from(HEAD_CHARACTERS), max_size=12),
    st.sampled_from(SALT_WORDS),
    st.sampled_from(["", " ", "  \n", "\t"]),
)
def test_the_quick_salt_test_never_misses_what_the_salt_pattern_strips(
    head: str, word: str, trailing: str
) -> None:
    """The cheap test run before the salt pattern on every query must say yes whenever the
    pattern would strip something, whatever the case or the look-alike letters."""
    for written in (
        word,
        word.upper(),
        word.title(),
        word.replace("i", "\u0131"),
        word.replace("s", "\u017f"),
        word.upper().replace("K", "\u212a"),
        f"({word})",
        f"( {word.upper()} )",
    ):
        text = head + " " + written + trailing
        if _SALT_SUFFIX.sub("", text) != text:
            assert ends_with_salt_word(text), text


@pytest.mark.parametrize("name", ["PCP", "pcp", "psilocin", "Psilocin", "2C-B"])
def test_names_written_in_smiles_letters_are_read_as_names(name: str) -> None:
    """A text of SMILES tokens skips the salt-word and whitespace tests, never the name
    lookup: "PCP" is also a valid SMILES (P-C-P)."""
    result = identify(name, as_of=DAY)
    assert result.query_kind == "name"
    assert result.verdicts["US"].status == "controlled"


def test_no_salt_word_can_end_a_text_of_smiles_tokens() -> None:
    """Why the parser may skip the salt words for a text of SMILES tokens: every salt word
    has a character that no letter of a SMILES token matches, in any case (the salt pattern
    ignores case). A salt word made of such letters ("bis") would break the shortcut."""
    token_letters = "BCNOPSFIbcnopslr"
    for word in SALT_WORDS:
        assert any(
            not any(
                re.fullmatch(re.escape(char), letter, re.IGNORECASE) for letter in token_letters
            )
            for char in word
        ), word


def test_whitespace_inside_brackets_is_no_smiles() -> None:
    result = identify("C[N H]C", as_of=DAY)
    assert result.query_kind == "unknown"
    assert result.error == "not a SMILES, InChI, MOL block, CAS number or known name"

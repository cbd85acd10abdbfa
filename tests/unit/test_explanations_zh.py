"""The engine's explanation vocabulary has a Chinese translation: every name it gives a
group, every kind of substituent the law names, and every explanation of the class corpus
reads in Chinese, but for what the rule data writes in English (a rule's name, its
citation), which the page marks `lang="en"`."""

from __future__ import annotations

import csv
import pickle
import re
from datetime import date
from pathlib import Path

import pytest

from liaison.chem import fentanyl_class
from liaison.chem.identify import identify
from liaison.chem.rulebook import SUBSTITUENT_KINDS
from liaison.web.i18n import (
    language_translator,
    preferences,
    read_catalogs,
    translate,
    translate_html,
)

CORPUS = Path(__file__).resolve().parent / "chem" / "corpus.csv"
SENTENCE = re.compile(r"[A-Za-z][A-Za-z'-]+(?:[ ,;:]+[A-Za-z][A-Za-z'-]*){3,}")
MARKED_ENGLISH = re.compile(r'<span lang="en">.*?</span>')


def vocabulary() -> list[str]:
    names = [*fentanyl_class._GROUP_NAMES.values(), *fentanyl_class._SUBSTITUENT_NAMES.values()]
    # A substituent is named without the acyl group's qualifier ("methoxycarbonyl").
    names += [name.split(" (")[0] for name in names]
    return sorted({*names, *SUBSTITUENT_KINDS})


@pytest.mark.parametrize("word", vocabulary())
def test_every_group_name_and_substituent_kind_is_translated(word: str) -> None:
    message = read_catalogs().get(word)
    assert message is not None and message.string, f"no zh_CN translation of {word!r}"


def corpus() -> list[tuple[str, str, str]]:
    with CORPUS.open(encoding="utf-8") as file:
        return [(row["id"], row["query"], row["as_of"]) for row in csv.DictReader(file)]


def test_every_explanation_of_the_corpus_reads_in_chinese() -> None:
    left: list[str] = []
    for record_id, query, as_of in corpus():
        answer = identify(query, date.fromisoformat(as_of))
        texts = [answer.error or "", *answer.notes]
        for verdict in answer.verdicts.values():
            texts.append(verdict.explanation)
            texts += [region.explanation for basis in verdict.basis for region in basis.regions]
        with preferences("zh-CN"):
            for text in texts:
                shown = MARKED_ENGLISH.sub("", str(translate_html(text)))
                left += [f"{record_id}: {found}" for found in SENTENCE.findall(shown)]
    assert left == [], "\n".join(left)


def test_english_is_the_engine_text_itself() -> None:
    answer = identify("O=C(CC)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1", date(2026, 1, 1))
    explanation = answer.verdicts["US"].explanation
    with preferences("en"):
        assert translate(explanation) == explanation
        assert str(translate_html(explanation)) == str(explanation)
    with preferences("zh-CN"):
        assert "D：N-芳基（苯胺）环被嘧啶-2-基替换" in translate(explanation)


def test_depiction_legends_in_the_page_language() -> None:
    from liaison.chem.depict import IdentificationRequest, identify_and_depict
    from liaison.chem.limits import Limits

    with preferences("zh-CN"):
        translator = language_translator()
    # The legend is drawn in an engine worker: the translation crosses to it pickled.
    translator = pickle.loads(pickle.dumps(translator))
    request = IdentificationRequest(date(2026, 1, 1), ("US", "CN"), True, Limits(), translator)
    _, svgs = identify_and_depict((request, "O=C(CC)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1"))
    assert "N-芳基（苯胺）环：D：N-芳基（苯胺）环被嘧啶-2-基替换" in svgs["US"]
    english = IdentificationRequest(date(2026, 1, 1), ("US",), True, Limits())
    _, svgs = identify_and_depict((english, "O=C(CC)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1"))
    assert "N-aryl (aniline) ring: D: N-aryl (aniline) ring" in svgs["US"]
    assert "pyrimidin-2-yl" in svgs["US"]


def test_the_screening_picture_legend_in_chinese_by_display_width() -> None:
    from liaison.chem.depict import WIDTH, depict_combined, display_width

    answer = identify(
        "O=C(CC)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1", date(2026, 1, 1), jurisdictions=("US", "CN")
    )
    with preferences("zh-CN"):
        translator = language_translator()
    svg = depict_combined(answer, ("US", "CN"), translator)
    lines = re.findall(r'<text x="28"[^>]*>([^<]*)</text>', svg)
    # Each jurisdiction's verdict line and its regions, in Chinese, none wider than the picture.
    assert any(line.startswith("US：管制") for line in lines), lines
    assert any(line.startswith("CN：管制") for line in lines), lines
    assert any("被嘧啶-2-基替换" in line for line in lines), lines
    assert 'aria-label="US：管制；CN：管制"' in svg
    assert all(display_width(line) <= 70 for line in lines)
    assert all(display_width(line) * 6 < WIDTH - 28 for line in lines)  # 12 px type
    english = depict_combined(answer, ("US", "CN"))
    assert 'aria-label="US: controlled; CN: controlled"' in english
    assert re.search(r'font-weight="bold">US: controlled \(', english)


def test_the_review_of_a_structure_drawn_without_its_listed_stereo_reads_in_chinese() -> None:
    answer = identify("CC(N)C(O)c1ccccc1", date(2026, 1, 1), ["CN"])
    with preferences("zh-CN"):
        shown = translate(answer.verdicts["CN"].explanation)
    assert "须对照cathine" in shown
    assert (
        "该结构未给出本列管条目所规定的立体构型；列管的立体异构体为 C[C@H](N)[C@@H](O)c1ccccc1"
        in shown
    )
    assert "does not give" not in shown

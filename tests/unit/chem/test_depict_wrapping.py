"""Legends of structure pictures wrap by display width: Chinese text is not cut (issue 9)."""

from __future__ import annotations

from liaison.chem.depict import display_width, wrap_text

REGULATION = (
    "依据《易制毒化学品管理条例》第二条及《非药用类麻醉药品和精神药品列管办法》"
    "附表所列芬太尼类物质整类列管的规定，本物质的酰基、苯胺、哌啶、连接链和末端环均被涵盖"
)


def test_chinese_legends_wrap_within_the_width() -> None:
    lines = wrap_text(REGULATION, 70)
    assert len(lines) > 1
    assert all(display_width(line) <= 70 for line in lines)
    assert "".join(lines) == REGULATION  # nothing cut, nothing added


def test_no_line_starts_with_closing_or_ends_with_opening_punctuation() -> None:
    for width in range(8, 40):
        for line in wrap_text(REGULATION, width):
            assert line[0] not in "》，、。", (width, line)
            assert line[-1] != "《", (width, line)


def test_latin_words_are_never_split() -> None:
    text = "acyl region: propionyl group, covered by 21 CFR 1308.11(h)(30) 酰基被涵盖"
    lines = wrap_text(text, 20)
    for word in (word for word in text.split() if word.isascii()):
        assert any(word in line for line in lines), word
    assert all(display_width(line) <= 20 for line in lines)

from pathlib import Path

import pytest

from liaison.pdf_fonts import MissingCJKFont, MissingFont, cjk_font_path, latin_font_path


def test_configured_font_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    font = tmp_path / "cjk.ttf"
    font.write_bytes(b"\0")
    monkeypatch.setenv("LIAISON_CJK_FONT", str(font))
    assert cjk_font_path() == font


def test_missing_font_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_CJK_FONT", str(tmp_path / "absent.ttf"))
    with pytest.raises(MissingCJKFont, match="fonts-droid-fallback"):
        cjk_font_path()


def test_the_installed_font_has_chinese_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    from fontTools.ttLib import TTFont

    monkeypatch.delenv("LIAISON_CJK_FONT", raising=False)
    cmap = TTFont(cjk_font_path()).getBestCmap()
    assert all(ord(char) in cmap for char in "易制毒化学品管理条例王小明")


def test_the_installed_latin_font_has_what_the_cjk_fallback_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fontTools.ttLib import TTFont

    monkeypatch.delenv("LIAISON_LATIN_FONT", raising=False)
    cmap = TTFont(latin_font_path()).getBestCmap()
    assert all(ord(char) in cmap for char in "2026-03-31 US CN DEA — %")


def test_a_missing_latin_font_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIAISON_LATIN_FONT", str(tmp_path / "absent.ttf"))
    with pytest.raises(MissingFont, match="fonts-dejavu-core"):
        latin_font_path()

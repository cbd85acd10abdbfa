"""Names: pinyin from characters, and the spellings a foreign officer writes."""

from __future__ import annotations

import pytest

from liaison.identity.names import (
    combine_name_keys,
    name_keys,
    normalise,
    readings,
    to_pinyin,
    wade_giles,
)


def test_characters_become_toneless_pinyin() -> None:
    assert to_pinyin("王小明") == "wang xiao ming"
    assert to_pinyin("吕") == "lu"


def test_a_family_name_is_read_as_a_family_name() -> None:
    assert to_pinyin("曾", surname=True) == "zeng"
    assert to_pinyin("单", surname=True) == "shan"


@pytest.mark.parametrize(
    ("written", "pinyin"),
    [
        ("Hsiao-ming", "xiaoming"),  # Wade-Giles, syllables split
        ("Hsiaoming", "xiaoming"),  # run together
        ("Hsiao Ming", "xiaoming"),
        ("Ch'ing", "qing"),  # Wade-Giles with its apostrophe
        ("Ching", "qing"),  # ... and without
        ("Tzu-yang", "ziyang"),
        ("Hsueh", "xue"),  # ü written u
        ("Xiao Ming", "xiaoming"),  # pinyin itself
    ],
)
def test_wade_giles_and_split_syllables_read_as_pinyin(written: str, pinyin: str) -> None:
    assert pinyin in readings(written)


@pytest.mark.parametrize(
    ("written", "pinyin"),
    [
        ("Wong", "huang"),  # Cantonese
        ("Wong", "wang"),  # Cantonese (both names)
        ("Chan", "chen"),  # Cantonese
        ("Tan", "chen"),  # Hokkien
        ("Lim", "lin"),  # Hokkien
        ("Cheung", "zhang"),  # Cantonese
        ("Ng", "wu"),  # Cantonese
        ("Chang", "zhang"),  # Wade-Giles
        ("Hsu", "xu"),  # Wade-Giles
    ],
)
def test_dialect_and_wade_giles_family_names(written: str, pinyin: str) -> None:
    assert pinyin in readings(written, surname=True)


@pytest.mark.parametrize(
    ("key", "wade"),
    [("xiaoming", "hsiaoming"), ("huiqian", "huichien"), ("long", "lung"), ("zhao", "chao")],
)
def test_pinyin_keys_written_in_wade_giles(key: str, wade: str) -> None:
    assert wade_giles(key) == wade
    assert key in readings(wade)


def test_a_key_that_is_not_pinyin_has_no_wade_giles_form() -> None:
    assert wade_giles("smith") is None
    assert wade_giles("") is None


def test_a_dialect_spelling_is_not_a_given_name_reading() -> None:
    assert "chen" not in readings("Chan")


def test_characters_and_latin_script_give_keys_that_meet() -> None:
    registry = name_keys("", "", "黄", "小明")
    request = name_keys("Wong", "Hsiao-ming")
    assert set(registry.full) & set(request.full)
    assert registry.family == "huang" and registry.given == "xiaoming"


def test_family_name_written_last_still_meets() -> None:
    registry = name_keys("Wang", "Wei")
    swapped = name_keys("Wei", "Wang")
    assert set(registry.full) & set(swapped.full)


def test_family_name_written_last_in_a_dialect_spelling_still_meets() -> None:
    registry = name_keys("", "", "郑", "军")
    assert set(registry.full) & set(name_keys("Jun", "Teh").full)  # Hokkien Teh = Zheng


def test_different_people_do_not_meet() -> None:
    assert not set(name_keys("Wang", "Wei").full) & set(name_keys("Li", "Na").full)


def test_characters_written_in_the_latin_fields_are_read_as_characters() -> None:
    assert name_keys("王", "伟").full == name_keys("", "", "王", "伟").full


def test_normalise_drops_accents_case_and_separators() -> None:
    assert normalise("Lǚ Xiǎo-Míng") == "luxiaoming"
    assert normalise("O'Brien") == "obrien"


def test_a_non_chinese_name_keeps_its_spelling() -> None:
    keys = name_keys("Smith", "John")
    assert keys.family == "smith" and keys.given == "john"


def test_keys_from_two_sources_keep_the_first_reading_and_every_variant() -> None:
    written, passport = name_keys("Yhng", "Zheng"), name_keys("YANG", "ZHENG")
    both = combine_name_keys(written, passport)
    assert (both.family, both.given) == ("yhng", "zheng")
    assert {"yhngzheng", "yangzheng"} <= set(both.full)
    assert "yang" in both.family_variants
    empty = combine_name_keys(name_keys("", ""), passport)
    assert (empty.family, empty.given) == ("yang", "zheng")

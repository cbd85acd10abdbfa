"""Chinese names in characters and in Latin script, normalised for comparison.

Hanzi become pinyin through pypinyin (its Wade-Giles style gives the reverse table below).
A name in Latin script may be pinyin, Wade-Giles (Hsiao-ming, with or without apostrophes),
or, for a family name, a Cantonese or Hokkien spelling (Chan, Wong, Tan, Lim): each reading
is kept, so one written name stands for a few pinyin keys and two records agree when their
key sets meet. Syllables written together or apart ("Xiao Ming", "Xiao-Ming", "Xiaoming")
give the same key.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache

from pypinyin import lazy_pinyin
from pypinyin.constants import PINYIN_DICT
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.style.wadegiles import to_wade_glides

HANZI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NOT_LETTERS = re.compile(r"[^a-z]+")
# A written name that reads as many pinyin strings is rare; beyond this it is noise.
MAX_READINGS = 8

# Surnames whose characters pypinyin reads by their common (non-surname) sound.
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "查": "zha", "区": "ou",
    "朴": "piao", "盖": "ge", "乐": "yue", "覃": "qin", "翟": "zhai", "缪": "miao",
    "尉迟": "yuchi", "万俟": "moqi", "柏": "bai", "秘": "bi", "种": "chong", "黑": "he",
    "长孙": "zhangsun", "沈": "shen", "任": "ren", "華": "hua", "华": "hua", "贾": "jia",
}  # fmt: skip

# Cantonese (Hong Kong government romanisation) and Hokkien/Teochew (Singapore, Malaysia,
# Philippines) spellings of common surnames, with the pinyin they stand for. Sources: the
# romanisation columns of "List of common Chinese surnames" (Wikipedia, consulted 2026-11) and
# the Hong Kong Immigration Department's Cantonese spellings. Wade-Giles forms are derived
# from pypinyin, not listed here.
DIALECT_SURNAMES: dict[str, tuple[str, ...]] = {
    "chan": ("chen",), "tan": ("chen", "tan"), "chin": ("chen", "qian"), "ting": ("chen", "ding"),
    "wong": ("huang", "wang"), "ng": ("wu", "huang"), "ooi": ("huang",), "oei": ("huang",),
    "wee": ("huang",), "ong": ("wang",), "heng": ("wang",),
    "lee": ("li",), "lei": ("li",), "lai": ("li", "lai"),
    "cheung": ("zhang",), "teo": ("zhang",), "chong": ("zhang", "zhuang"), "tio": ("zhang",),
    "lau": ("liu",), "low": ("liu",), "lao": ("liu", "lao"),
    "lim": ("lin",), "lam": ("lin",), "lum": ("lin",),
    "goh": ("wu",), "woo": ("wu",), "eng": ("wu",),
    "chow": ("zhou",), "chau": ("zhou",), "chew": ("zhou",),
    "ho": ("he",), "hoh": ("he",), "hoe": ("he",),
    "kwok": ("guo",), "kok": ("guo",), "quek": ("guo",), "kuek": ("guo",),
    "leung": ("liang",), "neo": ("liang",), "leong": ("liang",),
    "tsang": ("zeng",), "chang": ("zhang", "zeng"),
    "tang": ("deng", "tang"), "teng": ("deng",),
    "yip": ("ye",), "yeh": ("ye",), "yap": ("ye",),
    "fung": ("feng",), "fong": ("fang", "feng"), "pang": ("peng", "fang"),
    "mak": ("mai",), "law": ("luo",), "lo": ("luo", "lu"), "loh": ("luo",),
    "cheng": ("zheng",), "tay": ("zheng",), "teh": ("zheng",), "tee": ("zheng",),
    "choi": ("cai",), "chua": ("cai",), "tsai": ("cai",), "choy": ("cai",),
    "tse": ("xie",), "chia": ("xie",), "cheah": ("xie",),
    "hui": ("xu",), "koh": ("xu",), "khoo": ("qiu",), "hsu": ("xu",),
    "kwan": ("guan",), "siu": ("xiao",), "siow": ("xiao",), "tam": ("tan",),
    "au": ("ou",), "kong": ("jiang",), "kang": ("jiang",), "chu": ("zhu",), "choo": ("zhu",),
    "yeo": ("yang",), "yeung": ("yang",), "ang": ("hong",), "hung": ("hong", "xiong"),
    "sim": ("shen",), "sum": ("shen", "cen"), "shum": ("shen", "cen"),
    "toh": ("du", "zhuo"), "tou": ("du",), "lu": ("lu", "lv"), "lui": ("lv", "lei"),
    "yu": ("yu", "yv"), "ko": ("gao",), "kho": ("xu",), "mok": ("mo",), "sze": ("shi",),
    "szeto": ("situ",), "auyeung": ("ouyang",), "wan": ("yin", "wen"), "man": ("wen",),
}  # fmt: skip


@dataclass(frozen=True)
class NameKeys:
    """Comparison keys of one person's name. `family` and `given` are the primary readings
    (lower case, syllables joined: "wang", "xiaoming"); the variants are every reading the name
    may stand for (Wade-Giles, Cantonese and Hokkien surnames, pinyin of the characters);
    `full` holds family+given and given+family of every variant pair (either order)."""

    family: str
    given: str
    family_variants: tuple[str, ...]
    given_variants: tuple[str, ...]
    full: tuple[str, ...]


def normalise(text: str) -> str:
    """Lower case Latin letters only: accents, tone marks, spaces, hyphens, apostrophes removed
    (ü becomes u, as officers write it)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return NOT_LETTERS.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


@lru_cache(maxsize=100_000)
def to_pinyin(text: str, surname: bool = False) -> str:
    """Hanzi to toneless pinyin syllables separated by spaces ("王小明" -> "wang xiao ming");
    other characters pass through. `surname` reads the characters as a family name."""
    text = text.strip()
    if surname and text in SURNAME_READINGS:
        return SURNAME_READINGS[text]
    if surname and text[:1] in SURNAME_READINGS:
        return " ".join([SURNAME_READINGS[text[0]], *lazy_pinyin(text[1:], v_to_u=True)])
    return " ".join(s.replace("ü", "u") for s in lazy_pinyin(text, v_to_u=True) if s.strip())


@cache
def _character_readings() -> dict[str, str]:
    """Each character's first (most common) toneless reading: fast, without pypinyin's phrase
    segmentation, for places and addresses where a rare misreading costs little."""
    plain = {value: to_normal(value.split(",")[0]) for value in set(PINYIN_DICT.values())}
    return {chr(code): plain[value].replace("ü", "u") for code, value in PINYIN_DICT.items()}


def quick_pinyin(text: str) -> str:
    """Characters to pinyin one by one, spaced ("福州市" -> "fu zhou shi"); others kept."""
    table = _character_readings()
    return " ".join("".join(f" {table[c]} " if c in table else c for c in text).split())


@cache
def _syllables() -> dict[str, tuple[str, ...]]:
    """Every written syllable (pinyin or Wade-Giles without apostrophes and with u for ü) and
    the pinyin syllables it may stand for."""
    readings: dict[str, set[str]] = {}
    toned = {p for value in set(PINYIN_DICT.values()) for p in value.split(",")}
    pinyins = {to_normal(p) for p in toned}
    for syllable in pinyins:
        if not syllable.isalpha():
            continue
        plain = syllable.replace("v", "u").replace("ü", "u")
        readings.setdefault(plain, set()).add(plain)
        wade = normalise(to_wade_glides(syllable).replace("v", "u"))
        readings.setdefault(wade, set()).add(plain)
    return {written: tuple(sorted(pinyin)) for written, pinyin in readings.items()}


def _cut(word: str, known: Collection[str]) -> list[str] | None:
    """The word cut into the fewest pieces that are `known` syllables; None when it cannot
    be."""
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            piece = word[start:end]
            if head is not None and piece in known:
                current = best[end]
                if current is None or len(head) + 1 < len(current):
                    best[end] = [*head, piece]
    return best[len(word)]


def _segment(word: str) -> list[tuple[str, ...]] | None:
    """The word cut into the fewest known syllables, each with its readings; None when it is
    not made of pinyin or Wade-Giles syllables (a non-Chinese name)."""
    table = _syllables()
    pieces = _cut(word, table)
    return None if pieces is None else [table[piece] for piece in pieces]


@cache
def _pinyin_syllables() -> frozenset[str]:
    return frozenset(p for readings in _syllables().values() for p in readings)


@lru_cache(maxsize=100_000)
def wade_giles(key: str) -> str | None:
    """A pinyin key as Wade-Giles letters ("huiqian" -> "huichien"), for comparing a mistyped
    Wade-Giles spelling with a registry's pinyin; None when the key is not pinyin syllables."""
    pieces = _cut(key, _pinyin_syllables())
    if not pieces:
        return None
    return "".join(normalise(to_wade_glides(piece).replace("v", "u")) for piece in pieces)


@lru_cache(maxsize=100_000)
def readings(written: str, surname: bool = False) -> tuple[str, ...]:
    """Every pinyin reading of a name written in Latin script, the written form first."""
    plain = normalise(written)
    if not plain:
        return ()
    found = [plain]
    if surname:
        found.extend(DIALECT_SURNAMES.get(plain, ()))
    pieces = _segment(plain)
    if pieces is not None:
        for combination in itertools.islice(itertools.product(*pieces), MAX_READINGS):
            found.append("".join(combination))
    return tuple(dict.fromkeys(found))[:MAX_READINGS]


def name_keys(
    family_name: str = "",
    given_name: str = "",
    family_name_native: str = "",
    given_name_native: str = "",
) -> NameKeys:
    """The comparison keys of a name written in Latin script, in characters, or both. Hanzi
    written in the Latin fields are read as Hanzi."""
    family: list[str] = []
    given: list[str] = []
    for native, target, is_surname in (
        (family_name_native, family, True),
        (given_name_native, given, False),
        (family_name if HANZI.search(family_name) else "", family, True),
        (given_name if HANZI.search(given_name) else "", given, False),
    ):
        if native.strip():
            target.append(normalise(to_pinyin(native, surname=is_surname)))
    if not HANZI.search(family_name):
        family.extend(readings(family_name, surname=True))
    if not HANZI.search(given_name):
        given.extend(readings(given_name))
    families = tuple(dict.fromkeys(k for k in family if k))
    givens = tuple(dict.fromkeys(k for k in given if k))
    pairs = list(itertools.product(families, givens))
    if family_name and given_name and not HANZI.search(family_name + given_name):
        # Written family name last: the given-name field holds the family name, perhaps in a
        # Cantonese or Hokkien spelling ("Jun Teh" for Zheng Jun).
        swapped = itertools.product(readings(given_name, surname=True), readings(family_name))
        pairs.extend(swapped)
    full = tuple(dict.fromkeys(key for f, g in pairs for key in (f + g, g + f)))
    return NameKeys(
        family=families[0] if families else "",
        given=givens[0] if givens else "",
        family_variants=families,
        given_variants=givens,
        full=full,
    )


def combine_name_keys(first: NameKeys, second: NameKeys) -> NameKeys:
    """The keys of one person's name from two sources (as written, and as a passport's MRZ
    prints it): the first's primary reading (the second's when the first has none), every
    variant of both."""
    family = first.family_variants + second.family_variants
    given = first.given_variants + second.given_variants
    return NameKeys(
        family=first.family if first.family and first.given else second.family,
        given=first.given if first.family and first.given else second.given,
        family_variants=tuple(dict.fromkeys(family)),
        given_variants=tuple(dict.fromkeys(given)),
        full=tuple(dict.fromkeys(first.full + second.full)),
    )

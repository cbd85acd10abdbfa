"""A synthetic population for demos, tests and benchmarks.

The registry draws family names by their frequency in China (so homonyms are common: many
Wang Wei), given names of one or two characters, dates of birth, places with their real
six-digit region codes, and resident identity numbers with the right check character.
Requests describe registry people (and some people who are not in it) as a foreign officer
writes them: Latin script only, pinyin or Wade-Giles, Cantonese or Hokkien family names,
syllables run together or split, family name last, typos, partial dates, day and month
swapped, an impossible date, a mistyped identity number, the legacy 15-digit number; a
quarter carry the MRZ of the person's passport (in a `passport_mrz` column), some misread.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pypinyin.style.wadegiles import to_wade_glides
from stdnum.cn import ric

from liaison.identity import PERSON_FIELDS
from liaison.identity.names import DIALECT_SURNAMES, to_pinyin
from liaison.identity.passport import write_td3

if TYPE_CHECKING:
    import pandas as pd

# The most common family names with their approximate share (per cent) of China's population
# (Ministry of Public Security household-registration statistics, 2020 release); the tail
# of rarer names shares the rest evenly.
SURNAMES = {
    "王": 7.1, "李": 7.0, "张": 6.7, "刘": 5.4, "陈": 4.5, "杨": 3.1, "黄": 2.2, "赵": 2.0,
    "吴": 1.9, "周": 1.8, "徐": 1.3, "孙": 1.3, "马": 1.2, "朱": 1.2, "胡": 1.1, "郭": 1.1,
    "何": 1.0, "林": 0.9, "高": 0.9, "罗": 0.9, "郑": 0.8, "梁": 0.8, "谢": 0.7, "宋": 0.6,
    "唐": 0.6, "许": 0.6, "韩": 0.6, "邓": 0.5, "冯": 0.5, "曹": 0.5, "彭": 0.5, "曾": 0.5,
    "肖": 0.5, "田": 0.4, "董": 0.4, "潘": 0.4, "袁": 0.4, "蔡": 0.4, "蒋": 0.4, "余": 0.4,
    "于": 0.4, "杜": 0.4, "叶": 0.4, "程": 0.3, "魏": 0.3, "苏": 0.3, "吕": 0.3, "丁": 0.3,
    "任": 0.3, "卢": 0.3, "姚": 0.3, "沈": 0.3, "钟": 0.3, "姜": 0.3, "崔": 0.3, "谭": 0.3,
    "陆": 0.3, "范": 0.3, "汪": 0.3, "廖": 0.3, "石": 0.2, "金": 0.2, "韦": 0.2, "贾": 0.2,
    "夏": 0.2, "付": 0.2, "方": 0.2, "邹": 0.2, "熊": 0.2, "白": 0.2, "孟": 0.2, "秦": 0.2,
    "邱": 0.2, "侯": 0.2, "江": 0.2, "尹": 0.2, "薛": 0.2, "闫": 0.2, "段": 0.2, "雷": 0.2,
    "欧阳": 0.05, "司马": 0.02, "上官": 0.02, "诸葛": 0.01,
}  # fmt: skip
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欣佳豪晨阳博文志建国东海"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳晶莹倩洁蓉梅兰英红萍月秀桂凤云瑶欣怡佳宁晓雨"
# Places of birth with a real county-level region code (GB/T 2260) used in identity numbers.
PLACES = (
    ("福建省福州市", "Fuzhou, Fujian", "350102"),
    ("福建省厦门市", "Xiamen, Fujian", "350203"),
    ("福建省长乐市", "Changle, Fujian", "350182"),
    ("广东省广州市", "Guangzhou, Guangdong", "440104"),
    ("广东省深圳市", "Shenzhen, Guangdong", "440303"),
    ("广东省台山市", "Taishan, Guangdong", "440781"),
    ("浙江省温州市", "Wenzhou, Zhejiang", "330302"),
    ("浙江省青田县", "Qingtian, Zhejiang", "331121"),
    ("北京市东城区", "Dongcheng, Beijing", "110101"),
    ("上海市黄浦区", "Huangpu, Shanghai", "310101"),
    ("四川省成都市", "Chengdu, Sichuan", "510104"),
    ("湖北省武汉市", "Wuhan, Hubei", "420102"),
    ("河南省郑州市", "Zhengzhou, Henan", "410102"),
    ("山东省济南市", "Jinan, Shandong", "370102"),
    ("江苏省南京市", "Nanjing, Jiangsu", "320102"),
    ("辽宁省沈阳市", "Shenyang, Liaoning", "210102"),
    ("黑龙江省哈尔滨市", "Harbin, Heilongjiang", "230102"),
    ("云南省昆明市", "Kunming, Yunnan", "530102"),
    ("湖南省长沙市", "Changsha, Hunan", "430102"),
    ("陕西省西安市", "Xi'an, Shaanxi", "610102"),
)
STREETS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平街",
    "新华路",
    "胜利街",
    "文化路",
    "长江路",
    "黄河路",
]
SHARE_IN_REGISTRY = 0.9
# Requests that carry a passport MRZ (most people returned have no valid passport, which is
# why their nationality must be verified), and of those the share with a misread zone.
SHARE_WITH_PASSPORT = 0.25
MRZ_MISREAD = 0.1


def synthesise(
    people: int, requests: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(registry, requests, truth): truth has request_id, person_id (empty for a request whose
    person is not in the registry)."""
    import pandas as pd

    rng = random.Random(seed)
    issued: set[str] = set()  # identity numbers are unique, as the ministry issues them
    registry = [_person(rng, f"P{n:07d}", issued) for n in range(people)]
    request_rows, truth = [], []
    for n in range(requests):
        in_registry = people > 0 and rng.random() < SHARE_IN_REGISTRY
        person = rng.choice(registry) if in_registry else _person(rng, "", issued)
        request_id = f"R{n:06d}"
        written = _as_written(rng, person)
        # A separate generator per request, so the other fields are drawn as without MRZs.
        written["passport_mrz"] = _passport_mrz(random.Random(f"{seed}:mrz:{n}"), person)
        request_rows.append({"request_id": request_id, **written})
        truth.append({"request_id": request_id, "person_id": person["person_id"]})
    columns = ["person_id", *PERSON_FIELDS]
    return (
        pd.DataFrame(registry, columns=columns),
        pd.DataFrame(request_rows, columns=["request_id", *PERSON_FIELDS, "passport_mrz"]),
        pd.DataFrame(truth, columns=["request_id", "person_id"]),
    )


def write(out: Path, people: int, requests: int, seed: int) -> list[Path]:
    """Write registry.csv, requests.csv and truth.csv to `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in zip(
        ("registry.csv", "requests.csv", "truth.csv"),
        synthesise(people, requests, seed),
        strict=True,
    ):
        path = out / name
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


_SURNAME_CHOICES = list(SURNAMES)
_SURNAME_WEIGHTS = list(SURNAMES.values())


def _person(rng: random.Random, person_id: str, issued: set[str]) -> dict[str, str]:
    sex = rng.choice("MF")
    family = rng.choices(_SURNAME_CHOICES, _SURNAME_WEIGHTS)[0]
    pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    given = "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2, 2))))
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    native_place, _, region = rng.choice(PLACES)
    body = ""
    while not body or body in issued:
        sequence = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
        body = f"{region}{born:%Y%m%d}{sequence:03d}"
    issued.add(body)
    return {
        "person_id": person_id,
        "family_name": to_pinyin(family, surname=True).replace(" ", "").title(),
        "given_name": to_pinyin(given).replace(" ", "").title(),
        "family_name_native": family,
        "given_name_native": given,
        "sex": sex,
        "date_of_birth": born.isoformat(),
        "place_of_birth": native_place,
        "id_number": body + ric.calc_check_digit(body + "0"),
        "address": f"{native_place}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
    }


def _as_written(rng: random.Random, person: dict[str, str]) -> dict[str, str]:
    """The person as a foreign officer records them."""
    family_syllables = to_pinyin(person["family_name_native"], surname=True).split()
    given_syllables = to_pinyin(person["given_name_native"]).split()
    style = rng.random()
    if style < 0.2:  # Wade-Giles, apostrophes often dropped
        family_syllables = [_wade(s, rng) for s in family_syllables]
        given_syllables = [_wade(s, rng) for s in given_syllables]
    family = "".join(family_syllables)
    dialect = [k for k, v in DIALECT_SURNAMES.items() if v[0] == family]
    if 0.2 <= style < 0.35 and dialect:
        family = rng.choice(dialect)
    joiner = rng.choice(("", "", " ", "-"))
    given = joiner.join(given_syllables)
    if rng.random() < 0.04:
        given = _typo(rng, given)
    family, given = family.title(), given.title()
    if rng.random() < 0.08:  # family name written last
        family, given = given, family
    native = rng.random() < 0.15
    written = {
        "family_name": family,
        "given_name": given,
        "family_name_native": person["family_name_native"] if native else "",
        "given_name_native": person["given_name_native"] if native else "",
        "sex": person["sex"] if rng.random() < 0.9 else "",
        "date_of_birth": _date_as_written(rng, person["date_of_birth"]),
        "place_of_birth": "",
        "id_number": "",
        "address": "",
    }
    place = rng.random()
    english = next(p[1] for p in PLACES if p[0] == person["place_of_birth"])
    written["place_of_birth"] = (
        english if place < 0.5 else person["place_of_birth"] if place < 0.7 else ""
    )
    number = rng.random()
    if number < 0.4:
        written["id_number"] = person["id_number"]
    elif number < 0.45:
        written["id_number"] = _typo_digit(rng, person["id_number"])
    elif number < 0.48 and person["date_of_birth"] < "1999":
        legacy = person["id_number"]
        written["id_number"] = legacy[:6] + legacy[8:17]
    if rng.random() < 0.1:
        written["address"] = person["address"]
    return written


def _passport_mrz(rng: random.Random, person: dict[str, str]) -> str:
    """The MRZ of the person's passport for SHARE_WITH_PASSPORT of requests (the zone read
    from a passport or a photocopy), else empty; MRZ_MISREAD of them with one character of
    the second line misread, which a check digit catches."""
    if rng.random() >= SHARE_WITH_PASSPORT:
        return ""
    zone = write_td3(
        to_pinyin(person["family_name_native"], surname=True).replace(" ", ""),
        to_pinyin(person["given_name_native"]).replace(" ", ""),
        f"E{rng.randrange(10**8):08d}",
        "CHN",
        date.fromisoformat(person["date_of_birth"]),
        person["sex"],
        date(2027, 1, 1) + timedelta(days=rng.randrange(365 * 9)),
    )
    if rng.random() < MRZ_MISREAD:
        first, second = zone.split("\n")
        where = rng.randrange(13, 19)  # a digit of the date of birth
        second = second[:where] + str((int(second[where]) + 1) % 10) + second[where + 1 :]
        zone = f"{first}\n{second}"
    return zone


def _wade(syllable: str, rng: random.Random) -> str:
    wade = to_wade_glides(syllable).replace("v", "u")
    return wade.replace("'", "") if rng.random() < 0.6 else wade


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    where = rng.randrange(1, len(text) - 1)
    if rng.random() < 0.5:  # swap two letters
        return text[:where] + text[where + 1] + text[where] + text[where + 2 :]
    return text[:where] + rng.choice("aeiounghs") + text[where + 1 :]


def _typo_digit(rng: random.Random, number: str) -> str:
    where = rng.randrange(6, 17)
    digit = str((int(number[where]) + rng.randrange(1, 10)) % 10)
    return number[:where] + digit + number[where + 1 :]


def _date_as_written(rng: random.Random, born: str) -> str:
    year, month, day = born.split("-")
    roll = rng.random()
    if roll < 0.70:
        return born
    if roll < 0.78 and int(day) <= 12 and day != month:
        return f"{year}-{day}-{month}"
    if roll < 0.83:
        return f"{year}-{month}"
    if roll < 0.87:
        return year
    if roll < 0.91:
        where = rng.choice((3, 9))  # last digit of the year or of the day
        digits = list(born)
        digits[where] = str((int(digits[where]) + 1) % 10)
        candidate = "".join(digits)
        return candidate if candidate[8:] != "00" else born
    if roll < 0.95:
        return ""
    if int(day) > 12:
        return f"{year}-{day}-{month}"  # an impossible month: day and month swapped
    return born

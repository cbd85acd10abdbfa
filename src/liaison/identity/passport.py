"""A passport's machine-readable zone as matching evidence.

The MRZ's fields (name, document number, nationality, date of birth, sex, expiry) are read
with documents.parse_mrz and compared with a registry candidate. A failing check digit is
evidence in itself (a misread, a typing error or a forged zone): it is reported, and the
field it covers is not trusted to fill a request. The MRZ fills the request's empty fields
(name, sex, and the date of birth when its check digit holds) so that the model weighs them;
the comparison with each candidate is shown beside the model's evidence with weight 0,
because the model has no comparison of its own for the MRZ and counting a field twice would
overstate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from liaison.identity.documents import Problem, mrz_check_digit, normalise_id_number, parse_mrz
from liaison.identity.names import name_keys

# The evidence keys an MRZ adds to a candidate, in the order shown.
MRZ_EVIDENCE = (
    "mrz_check_digits",
    "mrz_name",
    "mrz_date_of_birth",
    "mrz_sex",
    "mrz_document_number",
    "mrz_nationality",
    "mrz_expiry",
)


@dataclass(frozen=True)
class PassportMrz:
    """An MRZ read for matching. `fields`: surname, given_names, document_number,
    nationality, issuing_state, sex, date_of_birth and date_of_expiry (ISO, "" when
    unreadable), optional_data. `failing`: every layout problem and failing check digit."""

    format: str
    fields: dict[str, str]
    failing: list[Problem]
    today: date

    def trusted(self, name: str) -> bool:
        """The field is readable and no check digit covering it fails."""
        return bool(self.fields.get(name)) and not any(
            part in (name, "layout") for part, _message in self.failing
        )

    def fill(self, subject: Mapping[str, Any]) -> dict[str, Any]:
        """The subject with its empty name and sex taken from the MRZ, and its date of birth
        when empty or partial and the MRZ's (its check digit holding) agrees with it."""
        filled = dict(subject)
        taken = {
            "family_name": self.fields.get("surname", ""),
            "given_name": self.fields.get("given_names", ""),
            "sex": self.fields.get("sex", ""),
        }
        for name, value in taken.items():
            if value and not str(filled.get(name) or "").strip():
                filled[name] = value
        written = str(filled.get("date_of_birth") or "").strip()
        born = self.fields.get("date_of_birth", "")
        if self.trusted("date_of_birth") and born.startswith(written) and len(written) < 10:
            filled["date_of_birth"] = born
        return filled

    def compare(
        self, person: Mapping[str, str], documents: list[Mapping[str, str]] | None = None
    ) -> dict[str, dict[str, str | float]]:
        """The MRZ against a registry person (PERSON_FIELDS) and the request's declared
        documents: one {"level", "weight": 0.0} per MRZ_EVIDENCE key."""
        failing = [part for part, _message in self.failing]
        levels = {
            "mrz_check_digits": (
                "every check digit holds"
                if not failing
                else "check digit fails: " + ", ".join(dict.fromkeys(failing))
            ),
            "mrz_name": self._name(person),
            "mrz_date_of_birth": self._date_of_birth(person.get("date_of_birth") or ""),
            "mrz_sex": _same("sex", self.fields.get("sex", ""), person.get("sex") or ""),
            "mrz_document_number": self._number(person, documents or []),
            "mrz_nationality": (
                f"nationality {self.fields['nationality']}"
                if self.fields.get("nationality")
                else "no nationality"
            ),
            "mrz_expiry": self._expiry(),
        }
        return {key: {"level": levels[key], "weight": 0.0} for key in MRZ_EVIDENCE}

    def _name(self, person: Mapping[str, str]) -> str:
        mrz = name_keys(self.fields.get("surname", ""), self.fields.get("given_names", ""))
        theirs = name_keys(
            person.get("family_name") or "",
            person.get("given_name") or "",
            person.get("family_name_native") or "",
            person.get("given_name_native") or "",
        )
        if not mrz.full or not theirs.full:
            return "name empty on one side"
        if set(mrz.full) & set(theirs.full):
            return "same name"
        if set(mrz.family_variants) & set(theirs.family_variants):
            return "same family name, different given name"
        return "different names"

    def _date_of_birth(self, theirs: str) -> str:
        ours = self.fields.get("date_of_birth", "")
        if not ours or not theirs:
            return "date of birth empty on one side"
        suffix = "" if self.trusted("date_of_birth") else " (its check digit fails)"
        if ours == theirs:
            return "same date of birth" + suffix
        if ours.startswith(theirs):
            return "partial date that agrees" + suffix
        return "different dates of birth" + suffix

    def _number(self, person: Mapping[str, str], documents: list[Mapping[str, str]]) -> str:
        number = normalise_id_number(self.fields.get("document_number", ""))
        if not number:
            return "no document number"
        suffix = "" if self.trusted("document_number") else " (its check digit fails)"
        personal = normalise_id_number(self.fields.get("optional_data", ""))
        registry_number = normalise_id_number(person.get("id_number") or "")
        if registry_number and registry_number in (number, personal):
            return "the registry's identity number is in the MRZ" + suffix
        declared = {
            normalise_id_number(d.get("number") or "")
            for d in documents
            if d.get("kind") == "passport" and d.get("number")
        }
        if not declared:
            return f"document {number}" + suffix
        if number in declared:
            return f"document {number}, as the passport declared" + suffix
        return f"document {number} differs from the passport declared" + suffix

    def _expiry(self) -> str:
        expiry = self.fields.get("date_of_expiry", "")
        if not expiry:
            return "no readable expiry date"
        if date.fromisoformat(expiry) < self.today:
            return f"expired on {expiry}"
        return f"valid until {expiry}"


def _same(what: str, ours: str, theirs: str) -> str:
    if not ours or not theirs:
        return f"{what} empty on one side"
    return f"same {what}" if ours == theirs else f"different {what}"


def write_td3(
    surname: str,
    given_names: str,
    number: str,
    nationality: str,
    born: date,
    sex: str,
    expiry: date,
) -> str:
    """A passport's two MRZ lines (ICAO 9303 part 4) with every check digit computed: for
    synthetic requests and demos."""

    def chevrons(text: str) -> str:
        return "<".join(text.upper().split())

    name = f"{chevrons(surname)}<<{chevrons(given_names)}"
    line1 = f"P<{nationality}{name.ljust(39, '<')[:39]}"
    document = chevrons(number).ljust(9, "<")[:9]
    birth, valid = f"{born:%y%m%d}", f"{expiry:%y%m%d}"
    optional = "<" * 14
    line2 = (
        f"{document}{mrz_check_digit(document)}{nationality}{birth}{mrz_check_digit(birth)}"
        f"{sex or '<'}{valid}{mrz_check_digit(valid)}{optional}{mrz_check_digit(optional)}"
    )
    composite = mrz_check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    return f"{line1}\n{line2}{composite}"


def read_passport_mrz(text: str, today: date) -> PassportMrz:
    """Parse an MRZ for matching; dates as ISO (a birth year YY is the latest of 19YY and
    20YY not after today; an expiry is 20YY)."""
    parsed = parse_mrz(text)
    fields = dict(parsed.fields)
    for name in ("date_of_birth", "date_of_expiry"):
        fields[name] = _iso(fields.get(name, ""), today if name == "date_of_birth" else None)
    return PassportMrz(parsed.format, fields, list(parsed.problems), today)


def _iso(yymmdd: str, not_after: date | None) -> str:
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        return ""
    century = 2000
    if not_after is not None and 2000 + int(yymmdd[:2]) > not_after.year:
        century = 1900
    try:
        found = date(century + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return ""
    if not_after is not None and found > not_after:
        found = found.replace(year=found.year - 100)
    return found.isoformat()

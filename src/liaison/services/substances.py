"""Substance identification for the node's users: validation of the request, the engine's
verdicts and a depiction per jurisdiction. The chemistry is all in liaison.chem."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from liaison import audit
from liaison.audit import Actor
from liaison.chem import depict_svg, identify
from liaison.chem.bulk import SUPPORTED, csv_header, csv_row, read_records, screen_records
from liaison.chem.models import Identification
from liaison.chem.rulebook import load_rulebook
from liaison.errors import InvalidInput, NotFound
from liaison.store.accounts import User
from liaison.store.base import utcnow
from liaison.store.screening import ScreeningRun

MAX_QUERIES_PER_REQUEST = 100
# The web form screens files in the request; larger inputs belong to `liaison screen`.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_RECORDS = 5000
# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
UPLOAD_SUFFIXES = (".smi", ".smiles", ".csv", ".sdf", ".txt")
_SCREENING_LOCK = threading.Lock()


def jurisdiction_titles() -> dict[str, str]:
    """Codes of the jurisdictions whose rules are loaded, with their display titles."""
    rulebook = load_rulebook()
    return {code: rulebook.titles.get(code, code) for code in rulebook.jurisdictions}


def checked_jurisdictions(requested: Sequence[str] | None) -> tuple[str, ...]:
    """The requested jurisdiction codes, or all loaded ones; unknown codes are named."""
    known = tuple(jurisdiction_titles())
    if not requested:
        return known
    unknown = [code for code in requested if code not in known]
    if unknown:
        raise InvalidInput(
            f"jurisdictions: {', '.join(repr(code) for code in unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not known; known: {', '.join(known)}"
        )
    return tuple(dict.fromkeys(requested))


@dataclass(frozen=True)
class IdentifiedQuery:
    identification: Identification
    depictions: dict[str, str]  # jurisdiction code -> SVG highlighting what matched there

    @property
    def headline_jurisdiction(self) -> str:
        """The first jurisdiction whose verdict is not `no_match` (else the first one)."""
        verdicts = self.identification.verdicts
        for code, verdict in verdicts.items():
            if verdict.status not in {"no_match", "invalid"}:
                return code
        return next(iter(verdicts), "")

    def to_dict(self) -> dict[str, Any]:
        answer = self.identification.to_dict()
        answer["standardized_smiles"] = self.identification.standardized_smiles
        answer["svg"] = self.depictions.get(self.headline_jurisdiction, "")
        answer["svg_jurisdiction"] = self.headline_jurisdiction
        return answer


def identify_queries(
    queries: Sequence[str],
    as_of: date | None,
    jurisdictions: Sequence[str] | None,
    *,
    depict_each_jurisdiction: bool = False,
) -> list[IdentifiedQuery]:
    """Identify each query; one bad query yields an `invalid` verdict, never an error."""
    if not 1 <= len(queries) <= MAX_QUERIES_PER_REQUEST:
        raise InvalidInput(
            f"queries: give 1 to {MAX_QUERIES_PER_REQUEST} queries (got {len(queries)})"
        )
    codes = checked_jurisdictions(jurisdictions)
    answers = []
    for query in queries:
        identification = identify(query, as_of=as_of, jurisdictions=codes)
        answer = IdentifiedQuery(identification, {})
        wanted = codes if depict_each_jurisdiction else (answer.headline_jurisdiction,)
        for code in wanted:
            if code:
                answer.depictions[code] = depict_svg(identification, jurisdiction=code)
        answers.append(answer)
    return answers


@dataclass(frozen=True)
class ScreenedFile:
    run: ScreeningRun
    jurisdictions: tuple[str, ...]
    records: list[dict[str, Any]]  # Identification.to_dict() per record, in file order

    @property
    def flagged(self) -> int:
        return sum(
            any(v["status"] != "no_match" for v in record["verdicts"].values())
            for record in self.records
        )


def _upload_name(filename: str) -> str:
    name = Path(filename or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "upload"


def screen_upload(
    session: Session,
    user: User,
    actor: Actor,
    filename: str,
    content: bytes,
    as_of: date | None,
    jurisdictions: Sequence[str] | None,
) -> ScreenedFile:
    """Screen an uploaded file in the formats of `liaison screen`; keep the CSV of results.

    A record that does not parse is one `invalid` row; it never stops the others.
    """
    name = _upload_name(filename)
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise InvalidInput(f"{name}: unsupported file type; use {SUPPORTED.split(' or -')[0]}")
    if not content.strip():
        raise InvalidInput(f"{name}: the file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
            "screen it with `liaison screen` instead"
        )
    codes = checked_jurisdictions(jurisdictions)
    day = as_of or utcnow().date()
    with tempfile.TemporaryDirectory(prefix="liaison-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        records = []
        for index, record in enumerate(read_records([str(path)])):
            if index >= MAX_UPLOAD_RECORDS:
                raise InvalidInput(
                    f"{name}: more than {MAX_UPLOAD_RECORDS} records; "
                    "screen it with `liaison screen` instead"
                )
            records.append(record)
    if not records:
        raise InvalidInput(f"{name}: no records found")
    # In-process screening keeps its settings in a module global; one upload at a time.
    with _SCREENING_LOCK:
        results = [screened.record for screened in screen_records(records, day, codes, jobs=1)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(codes))
    for result in results:
        writer.writerow([spreadsheet_safe(cell) for cell in csv_row(result, codes)])
    run = ScreeningRun(
        id=str(uuid.uuid4()),
        user_id=user.id,
        filename=name,
        record_count=len(results),
        results_csv=out.getvalue(),
    )
    session.add(run)
    screened = ScreenedFile(run, codes, results)
    audit.record(
        session,
        actor,
        audit.ScreeningCreated(
            record_id=run.id,
            filename=name,
            records=len(results),
            flagged=screened.flagged,
            as_of=day.isoformat(),
            jurisdictions=list(codes),
        ),
    )
    return screened


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: record ids and inputs come from the
    uploaded file, so '=HYPERLINK(...)' is prefixed with a quote (CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def screening_csv(session: Session, run_id: str, user: User) -> ScreeningRun:
    """A run's results, for the user who ran it only."""
    run = session.get(ScreeningRun, run_id)
    if run is None or run.user_id != user.id:
        raise NotFound(f"no screening run {run_id!r} of yours")
    return run

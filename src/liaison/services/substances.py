"""Substance identification for the node's users: validation of the request, the engine's
verdicts and a depiction per jurisdiction. The chemistry is all in liaison.chem."""

from __future__ import annotations

import atexit
import csv
import io
import multiprocessing
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from liaison import audit
from liaison.audit import Actor
from liaison.chem.bulk import (
    FORMULA_PREFIXES,
    csv_header,
    csv_row,
    read_records,
    screen_records,
    spreadsheet_safe,
    warm_up,
)
from liaison.chem.compiled import load_rulebook
from liaison.chem.depict import (
    Depicted,
    IdentificationRequest,
    depict_svg,
    headline_jurisdiction,
    identify_and_depict,
)
from liaison.chem.evidence import RulesVersion, rules_version
from liaison.chem.facts import Facts, facts_of
from liaison.chem.inputs import encoding_label
from liaison.chem.isolation import Failure, WorkerPool
from liaison.chem.limits import Limits
from liaison.chem.models import COMBINED, Identification, Verdict
from liaison.config import Settings
from liaison.errors import InvalidInput, NotFound
from liaison.messages import T
from liaison.metrics import SCREENED_QUERIES
from liaison.services.as_of import settle_as_of
from liaison.store.accounts import User
from liaison.store.screening import ScreeningRun

MAX_QUERIES_PER_REQUEST = 100
# The web form screens files in the request; larger inputs belong to `liaison screen`.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_RECORDS = 5000
# Files up to this size get a picture per flagged record on the page (about 6 ms and 27 kB
# each); a larger file's records link to their identification, which draws it.
MAX_PICTURED_RECORDS = 500
UPLOAD_SUFFIXES = (".smi", ".smiles", ".csv", ".xlsx", ".sdf", ".txt")
# The node's identification workers, started on first use (forkserver: the server runs
# threads, and a fork of a threaded process may inherit a held lock).
_pools: dict[tuple[int, float], WorkerPool[tuple[IdentificationRequest, str], Depicted]] = {}
_pool_lock = threading.Lock()


def limits_from(settings: Settings) -> Limits:
    return Limits(
        characters=settings.chem_max_characters,
        atoms=settings.chem_max_atoms,
        fragments=settings.chem_max_fragments,
        ring_closures=settings.chem_max_ring_closures,
        branch_depth=settings.chem_max_branch_depth,
        seconds=settings.chem_seconds,
    )


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
        codes = ", ".join(repr(code) for code in unknown)
        raise InvalidInput(
            T(
                "jurisdictions: %(codes)s is not known; known: %(known)s",
                codes=codes,
                known=", ".join(known),
            )
            if len(unknown) == 1
            else T(
                "jurisdictions: %(codes)s are not known; known: %(known)s",
                codes=codes,
                known=", ".join(known),
            )
        )
    return tuple(dict.fromkeys(requested))


@dataclass(frozen=True)
class IdentifiedQuery:
    identification: Identification
    depictions: dict[str, str]  # jurisdiction code -> SVG highlighting what matched there
    facts: Facts | None = None  # asked for by the substance page only

    def with_facts(self) -> IdentifiedQuery:
        """This answer with formula, weight, names and the closest listed substances."""
        smiles = self.identification.standardized_smiles
        return replace(self, facts=facts_of(smiles) if smiles else None)

    @property
    def headline_jurisdiction(self) -> str:
        """The first jurisdiction whose verdict is not `no_match` (else the first one)."""
        return headline_jurisdiction(self.identification)

    def to_dict(self) -> dict[str, Any]:
        answer = self.identification.to_dict()
        answer["standardized_smiles"] = self.identification.standardized_smiles
        answer["svg"] = self.depictions.get(self.headline_jurisdiction, "")
        answer["svg_jurisdiction"] = self.headline_jurisdiction
        return answer


def _failed(item: tuple[IdentificationRequest, str], failure: Failure) -> Depicted:
    """The answer for a query whose worker crashed or ran out of time."""
    request, query = item
    error = f"{failure.reason}; nothing was judged"
    identification = Identification(
        query,
        "unknown",
        {code: Verdict("invalid", [], error) for code in request.codes},
        error=error,
        as_of=request.as_of,
    )
    return identification, {code: depict_svg(identification, code) for code in request.codes}


def _identification_pool(
    settings: Settings,
) -> WorkerPool[tuple[IdentificationRequest, str], Depicted]:
    """The warm workers for these settings (one set per server process in practice)."""
    key = (max(1, settings.chem_workers), settings.chem_seconds)
    with _pool_lock:
        if key not in _pools:
            warm_up()  # once here: the first workers are forked with the rules loaded
            # Replacements come from a forkserver: by then the server runs threads, and a
            # fork of a threaded process may inherit a held lock. It needs only the engine.
            multiprocessing.get_context("forkserver").set_forkserver_preload(["liaison.chem.bulk"])
            pool = WorkerPool(
                key[0],
                key[1],
                _failed,
                warm_up=warm_up,
                start_method="fork",
                replace_method="forkserver",
            )
            atexit.register(pool.close)
            _pools[key] = pool
        return _pools[key]


def start_workers(settings: Settings) -> None:
    """Start the identification workers when the server starts, before it runs threads
    (forked: milliseconds), so that no identification waits for them."""
    _identification_pool(settings)


def identify_queries(
    queries: Sequence[str],
    as_of: date | None,
    jurisdictions: Sequence[str] | None,
    *,
    depict_each_jurisdiction: bool = False,
    settings: Settings | None = None,
    translate: Callable[[str], str] = str,
) -> list[IdentifiedQuery]:
    """Identify each query in a worker process; one bad query (one that crashes its worker or
    runs past the time limit, too) yields an `invalid` verdict, never an error."""
    if not 1 <= len(queries) <= MAX_QUERIES_PER_REQUEST:
        raise InvalidInput(
            T(
                "queries: give 1 to %(most)s queries (got %(count)s)",
                most=MAX_QUERIES_PER_REQUEST,
                count=len(queries),
            )
        )
    codes = checked_jurisdictions(jurisdictions)
    settings = settings or Settings()
    request = IdentificationRequest(
        settle_as_of(as_of), codes, depict_each_jurisdiction, limits_from(settings), translate
    )
    items = [(request, query) for query in queries]
    answers = _identification_pool(settings).run(identify_and_depict, items)
    SCREENED_QUERIES.labels(source="identify").inc(len(items))
    return [IdentifiedQuery(identification, svgs) for identification, svgs in answers]


STATUSES = ("controlled", "precursor", "review", "no_match", "invalid")


@dataclass(frozen=True)
class ScreenedFile:
    run: ScreeningRun
    jurisdictions: tuple[str, ...]
    as_of: date  # the day whose rules were applied
    records: list[dict[str, Any]]  # Identification.to_dict() per record, in file order
    rules: RulesVersion  # the rule data the records were judged by
    produced_at: datetime  # when (UTC)
    encoding: str | None  # how a text file was read ("GB18030 (GBK)"); None for .xlsx
    columns: tuple[str, ...]  # the input's other columns, carried through
    svgs: list[str]  # per record: one picture with every jurisdiction's regions ("" if none)
    pictured: bool  # False for a file of more than MAX_PICTURED_RECORDS records: no pictures

    @property
    def flagged(self) -> int:
        return sum(
            any(v["status"] != "no_match" for v in record["verdicts"].values())
            for record in self.records
        )

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Records per verdict, per jurisdiction (every status, zeros too)."""
        counts = {code: dict.fromkeys(STATUSES, 0) for code in self.jurisdictions}
        for record in self.records:
            for code in self.jurisdictions:
                counts[code][record["verdicts"][code]["status"]] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The API's answer: the jsonl shape per record, and what it was judged by."""
        return {
            "as_of": self.as_of.isoformat(),
            "rules_version": self.rules.to_dict(),
            "produced_at": self.produced_at.isoformat(),
            "filename": self.run.filename,
            "encoding": self.encoding,
            "jurisdictions": list(self.jurisdictions),
            "records": self.records,
        }


def _upload_name(filename: str) -> str:
    name = Path(filename or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "upload"


def results_header(codes: tuple[str, ...], columns: Sequence[str]) -> list[str]:
    """The columns of a run's results: the `liaison screen` csv, what they were judged by and
    the link that reproduces each record's identification, then the input's other columns."""
    return [*csv_header(codes), "rules_version", "produced_at", "permalink", *columns]


def identification_link(query: str, as_of: date, codes: Sequence[str], rules: str) -> str:
    """The node address (path and query) that reproduces an identification: the query, the
    day, the jurisdictions and the rules version it was judged by."""
    pairs = [("q", query), ("as_of", as_of.isoformat()), *[("j", c) for c in codes]]
    return "/substances?" + urlencode([*pairs, ("rules", rules)])


def screen_upload(
    session: Session,
    user: User,
    actor: Actor,
    filename: str,
    content: bytes,
    as_of: date | None,
    jurisdictions: Sequence[str] | None,
    settings: Settings | None = None,
    translate: Callable[[str], str] = str,
) -> ScreenedFile:
    """Screen an uploaded file in the formats of `liaison screen` (and .xlsx, and text in any
    detected encoding); keep the CSV of results. `translate`: the pictures' legends' language.

    A record that does not parse is one `invalid` row; it never stops the others.
    """
    name = _upload_name(filename)
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise InvalidInput(
            T(
                "%(file)s: unsupported file type; use %(suffixes)s",
                file=name,
                suffixes=", ".join(UPLOAD_SUFFIXES),
            )
        )
    if not content.strip():
        raise InvalidInput(T("%(file)s: the file is empty", file=name))
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            T(
                "%(file)s: larger than %(megabytes)s MB; screen it with `liaison screen` instead",
                file=name,
                megabytes=MAX_UPLOAD_BYTES // (1024 * 1024),
            )
        )
    codes = checked_jurisdictions(jurisdictions)
    day = settle_as_of(as_of)
    encodings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="liaison-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        records = []
        opened = read_records([str(path)], on_open=lambda _, codec: encodings.append(codec))
        for index, record in enumerate(opened):
            if index >= MAX_UPLOAD_RECORDS:
                raise InvalidInput(
                    T(
                        "%(file)s: more than %(most)s records; screen it with `liaison screen` "
                        "instead",
                        file=name,
                        most=MAX_UPLOAD_RECORDS,
                    )
                )
            records.append(record)
    if not records:
        raise InvalidInput(T("%(file)s: no records found", file=name))
    # Screened outside the server process, so a record that crashes RDKit costs only itself.
    limits = limits_from(settings or Settings())
    pictured = len(records) <= MAX_PICTURED_RECORDS
    screened_records = list(
        screen_records(
            records,
            day,
            codes,
            jobs=1,
            depict=pictured,
            limits=limits,
            start_method="forkserver",
            translate=translate,
        )
    )
    results = [screened.record for screened in screened_records]
    columns = tuple(name for name, _ in records[0].columns)
    rules = rules_version()
    produced_at = datetime.now(UTC)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(results_header(codes, columns))
    for result in results:
        fixed = csv_row({**result, "columns": {}}, codes)
        link = identification_link(result["input"], day, codes, rules.hash)
        row = [*fixed, rules.hash, produced_at.isoformat(), link]
        row += result.get("columns", {}).values()
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    run = ScreeningRun(
        id=str(uuid.uuid4()),
        user_id=user.id,
        filename=name,
        record_count=len(results),
        results_csv=out.getvalue(),
        created_at=produced_at,
    )
    session.add(run)
    SCREENED_QUERIES.labels(source="file").inc(len(results))
    screened = ScreenedFile(
        run,
        codes,
        day,
        results,
        rules,
        produced_at,
        encoding_label(encodings[0]) if encodings else None,
        columns,
        [s.svgs.get(COMBINED, "") for s in screened_records],
        pictured,
    )
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


def recent_screenings(session: Session, user: User, limit: int = 5) -> list[ScreeningRun]:
    """The user's latest screening runs (their results are not loaded), newest first."""
    return list(
        session.execute(
            sa.select(ScreeningRun)
            .where(ScreeningRun.user_id == user.id)
            .order_by(ScreeningRun.created_at.desc())
            .limit(limit)
            .options(defer(ScreeningRun.results_csv))
        ).scalars()
    )


def screening_csv(session: Session, run_id: str, user: User) -> ScreeningRun:
    """A run's results, for the user who ran it only."""
    run = session.get(ScreeningRun, run_id)
    if run is None or run.user_id != user.id:
        raise NotFound(T("no screening run %(run)s of yours", run=repr(run_id)))
    return run


def screening_csv_download(run: ScreeningRun) -> bytes:
    """The run's CSV as Excel opens it: UTF-8 with a BOM (without one, Excel on a Chinese or
    American Windows reads it in the local code page and garbles every non-ASCII cell)."""
    return run.results_csv.encode("utf-8-sig")


def screening_xlsx(
    run: ScreeningRun, results_link: str, translate: Callable[[str], str] = str
) -> bytes:
    """The run's results as an Excel workbook: the results sheet, and an "About" sheet saying
    what they were judged by and where they are kept. `translate` (the web layer's) puts the
    sheets' names and the About sheet's labels and notes in the reader's language; each About
    row keeps its field's name in a third column, the same in every language."""
    from openpyxl import Workbook

    rows = list(csv.reader(io.StringIO(run.results_csv)))
    header = rows[0] if rows else []
    first = dict(zip(header, rows[1], strict=False)) if len(rows) > 1 else {}
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = translate(T("Results"))
    for row in rows:
        # A cell is written as text, never as a formula, so the CSV's quote is not needed.
        sheet.append([_unquoted(cell) for cell in row])
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            cell.data_type = "s"
    about = workbook.create_sheet(translate(T("About")))
    for label, value, key in (
        (T("File"), run.filename, "file"),
        (T("Records"), str(run.record_count), "records"),
        (T("Rules as of"), first.get("as_of", ""), "as_of"),
        (T("Rules version"), first.get("rules_version", ""), "rules_version"),
        (
            T("Produced at (UTC)"),
            first.get("produced_at", run.created_at.isoformat()),
            "produced_at",
        ),
        (T("Results"), results_link, "results"),
        (
            T("Permanent links"),
            translate(T("each record's row links to the identification that reproduces it")),
            "permalink",
        ),
        (
            T("Note"),
            translate(T("no_match means no loaded rule matched: it is never a clearance.")),
            "note",
        ),
    ):
        about.append([translate(label), value, key])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _unquoted(cell: str) -> str:
    """A cell without the quote spreadsheet_safe put before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_PREFIXES) else cell

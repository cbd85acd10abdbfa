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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from liaison import audit
from liaison.audit import Actor
from liaison.chem.bulk import (
    SUPPORTED,
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
from liaison.chem.isolation import Failure, WorkerPool
from liaison.chem.limits import Limits
from liaison.chem.models import Identification, Verdict
from liaison.config import Settings
from liaison.errors import InvalidInput, NotFound
from liaison.services.as_of import settle_as_of
from liaison.store.accounts import User
from liaison.store.screening import ScreeningRun

MAX_QUERIES_PER_REQUEST = 100
# The web form screens files in the request; larger inputs belong to `liaison screen`.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_RECORDS = 5000
UPLOAD_SUFFIXES = (".smi", ".smiles", ".csv", ".sdf", ".txt")
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
) -> list[IdentifiedQuery]:
    """Identify each query in a worker process; one bad query (one that crashes its worker or
    runs past the time limit, too) yields an `invalid` verdict, never an error."""
    if not 1 <= len(queries) <= MAX_QUERIES_PER_REQUEST:
        raise InvalidInput(
            f"queries: give 1 to {MAX_QUERIES_PER_REQUEST} queries (got {len(queries)})"
        )
    codes = checked_jurisdictions(jurisdictions)
    settings = settings or Settings()
    request = IdentificationRequest(
        settle_as_of(as_of), codes, depict_each_jurisdiction, limits_from(settings)
    )
    items = [(request, query) for query in queries]
    answers = _identification_pool(settings).run(identify_and_depict, items)
    return [IdentifiedQuery(identification, svgs) for identification, svgs in answers]


@dataclass(frozen=True)
class ScreenedFile:
    run: ScreeningRun
    jurisdictions: tuple[str, ...]
    as_of: date  # the day whose rules were applied
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
    settings: Settings | None = None,
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
    day = settle_as_of(as_of)
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
    # Screened outside the server process, so a record that crashes RDKit costs only itself.
    limits = limits_from(settings or Settings())
    screened_records = screen_records(
        records, day, codes, jobs=1, limits=limits, start_method="forkserver"
    )
    results = [screened.record for screened in screened_records]
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
    screened = ScreenedFile(run, codes, day, results)
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
        raise NotFound(f"no screening run {run_id!r} of yours")
    return run

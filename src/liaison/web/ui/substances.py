"""Substance pages: identify one substance, screen a file, download the results."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.chem.evidence import rules_version
from liaison.errors import InvalidInput, LiaisonError
from liaison.messages import T
from liaison.services.substances import (
    MAX_PICTURED_RECORDS,
    MAX_QUERIES_PER_REQUEST,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_RECORDS,
    UPLOAD_SUFFIXES,
    identification_link,
    identify_queries,
    jurisdiction_titles,
    screen_upload,
    screening_csv,
    screening_csv_download,
    screening_xlsx,
)
from liaison.web.auth import (
    Principal,
    db_session,
    require,
)
from liaison.web.context import runtime_of
from liaison.web.csp import EDITOR_CONTENT_SECURITY_POLICY
from liaison.web.i18n import N_, _, language_translator, translate
from liaison.web.ui import STATIC_DIR, render

router = APIRouter(include_in_schema=False)
identifiers = require(Capability.SCREEN_SUBSTANCES)


# fentanyl_class.REGION_LABELS, marked for translation (a test keeps the two in step).
REGION_NAMES = {
    "acyl": N_("acyl group"),
    "aniline": N_("N-aryl (aniline) ring"),
    "piperidine": N_("piperidine ring"),
    "linker": N_("linker (ethylene of the phenethyl group)"),
    "terminal_ring": N_("phenyl of the phenethyl group"),
}
QUERY_MAX_CHARS = 100_000  # what the page accepts in its text area, said on the page
# Ketcher, built by `make editor` (frontend/); absent, the page offers the text box alone.
EDITOR_SCRIPT = STATIC_DIR / "editor" / "editor.js"


def editor_built() -> bool:
    return EDITOR_SCRIPT.is_file()


def _substance_page(
    request: Request,
    *,
    query: str = "",
    as_of: str = "",
    selected: list[str] | None = None,
    answers: list[Any] | None = None,
    error: str | None = None,
    linked_rules: str = "",
    status_code: int = 200,
) -> Response:
    titles = jurisdiction_titles()
    evidence = None
    if answers:
        day = answers[0].identification.as_of
        codes = list(answers[0].identification.verdicts)
        version = rules_version()
        evidence = {
            "as_of": day,
            "rules": version,
            "produced_at": datetime.now(UTC),
            "permalink": identification_link(query.strip(), day, codes, version.hash),
            "linked_rules": linked_rules if linked_rules and linked_rules != version.hash else "",
        }
    editor = editor_built()
    return render(
        request,
        "substances.html",
        {
            "editor": editor,
            "query": query,
            "as_of": as_of,
            "titles": titles,
            "selected": selected or list(titles),
            "answers": answers,
            "evidence": evidence,
            "error": error,
            "max_queries": MAX_QUERIES_PER_REQUEST,
            "max_chars": QUERY_MAX_CHARS,
            "permalink": identification_link,
            "region_labels": REGION_NAMES,
        },
        status_code=status_code,
        headers={"Content-Security-Policy": EDITOR_CONTENT_SECURITY_POLICY} if editor else None,
    )


def _parse_as_of(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(
            T("“as of” date %(text)s is not a date in the form YYYY-MM-DD", text=repr(text))
        ) from error


def _identify_page(
    request: Request, query: str, as_of: str, jurisdictions: list[str], linked_rules: str = ""
) -> Response:
    """Identify what was typed: one query per line (a MOL block is taken whole). Whatever is
    wrong, the page comes back with the text as typed."""
    text = query.strip()
    queries = [text] if "M  END" in text else [q.strip() for q in text.splitlines() if q.strip()]
    try:
        if len(query) > QUERY_MAX_CHARS:
            raise InvalidInput(
                _(
                    "The text has %(count)s characters; at most %(max)s are accepted.",
                    count=len(query),
                    max=QUERY_MAX_CHARS,
                )
            )
        if not queries:
            raise InvalidInput(_("Type a SMILES, InChI, CAS number or name."))
        answers = identify_queries(
            queries,
            _parse_as_of(as_of),
            jurisdictions or None,
            depict_each_jurisdiction=True,
            settings=runtime_of(request).settings,
            translate=language_translator(),
        )
    except LiaisonError as error:
        return _substance_page(
            request,
            query=query,
            as_of=as_of,
            selected=jurisdictions,
            error=error.detail,
            status_code=error.status,
        )
    return _substance_page(
        request,
        query=query,
        as_of=as_of,
        selected=jurisdictions,
        answers=[answer.with_facts() for answer in answers],
        linked_rules=linked_rules,
    )


@router.get("/substances")
def substance_form(
    request: Request,
    q: str = "",
    as_of: str = Query("", max_length=40),
    j: list[str] = Query([]),
    rules: str = Query("", max_length=64),
    principal: Principal = Depends(identifiers),
) -> Response:
    """The form; with `q`, the identification a permanent link reproduces."""
    if not q:
        return _substance_page(request)
    return _identify_page(request, q, as_of, j, linked_rules=rules)


@router.post("/substances")
def substance_identify(
    request: Request,
    query: str = Form(""),
    as_of: str = Form("", max_length=40),
    jurisdictions: list[str] = Form([]),
    principal: Principal = Depends(identifiers),
) -> Response:
    return _identify_page(request, query, as_of, jurisdictions)


def _screen_page(
    request: Request,
    *,
    as_of: str = "",
    selected: list[str] | None = None,
    screened: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    titles = jurisdiction_titles()
    return render(
        request,
        "screen.html",
        {
            "as_of": as_of,
            "titles": titles,
            "selected": selected or list(titles),
            "screened": screened,
            "error": error,
            "suffixes": ", ".join(UPLOAD_SUFFIXES),
            "permalink": identification_link,
            "region_labels": REGION_NAMES,
            "max_bytes": MAX_UPLOAD_BYTES,
            "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
            "max_records": MAX_UPLOAD_RECORDS,
            "max_pictured": MAX_PICTURED_RECORDS,
        },
        status_code=status_code,
    )


@router.get("/substances/screen")
def screen_form(request: Request, principal: Principal = Depends(identifiers)) -> Response:
    return _screen_page(request)


@router.post("/substances/screen")
async def screen_file(
    request: Request,
    upload: UploadFile = File(...),
    as_of: str = Form("", max_length=40),
    jurisdictions: list[str] = Form([]),
    principal: Principal = Depends(identifiers),
) -> Response:
    """Screen an uploaded file; the results table links to its CSV."""
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    filename = upload.filename or "upload"
    database = runtime_of(request).database
    settings = runtime_of(request).settings
    legends = language_translator()  # the page's language, taken here in the request

    def screen() -> Any:
        with database.session() as session:
            screened = screen_upload(
                session,
                principal.user,
                principal.actor,
                filename,
                content,
                _parse_as_of(as_of),
                jurisdictions or None,
                settings,
                legends,
            )
            session.commit()
            return screened

    try:
        # Chemistry is CPU-bound: run it off the event loop.
        screened = await run_in_threadpool(screen)
    except LiaisonError as error:
        return _screen_page(
            request,
            as_of=as_of,
            selected=jurisdictions,
            error=error.detail,
            status_code=error.status,
        )
    return _screen_page(request, as_of=as_of, selected=jurisdictions, screened=screened)


@router.get("/substances/screen/{run_id}.csv")
def screen_download(
    run_id: str,
    principal: Principal = Depends(identifiers),
    session: Session = Depends(db_session),
) -> Response:
    run = screening_csv(session, run_id, principal.user)
    stem = run.filename.rsplit(".", 1)[0]
    return Response(
        screening_csv_download(run),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-screened.csv"'},
    )


@router.get("/substances/screen/{run_id}.xlsx")
def screen_download_xlsx(
    run_id: str,
    request: Request,
    principal: Principal = Depends(identifiers),
    session: Session = Depends(db_session),
) -> Response:
    run = screening_csv(session, run_id, principal.user)
    stem = run.filename.rsplit(".", 1)[0]
    link = str(request.url_for("screen_download_xlsx", run_id=run.id))
    return Response(
        screening_xlsx(run, link, translate),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{stem}-screened.xlsx"'},
    )

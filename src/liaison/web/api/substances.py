"""Substance identification over the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from liaison.capabilities import Capability
from liaison.chem.evidence import rules_version
from liaison.services.substances import (
    MAX_QUERIES_PER_REQUEST,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_RECORDS,
    UPLOAD_SUFFIXES,
    identify_queries,
    screen_upload,
)
from liaison.web.auth import Principal, node_of, require
from liaison.web.context import runtime_of
from liaison.web.i18n import asked_language, preferences, translate_answer

router = APIRouter(prefix="/api/v1/substances", tags=["substances"])
identifiers = require(Capability.SCREEN_SUBSTANCES)
QUERY_MAX_CHARS = 100_000


class IdentifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(
        default=None,
        min_length=1,
        max_length=QUERY_MAX_CHARS,
        description="One SMILES, InChI, MOL block, CAS number or name.",
    )
    queries: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUERIES_PER_REQUEST,
        description=f"A batch of 1 to {MAX_QUERIES_PER_REQUEST} queries.",
    )
    as_of: date | None = Field(
        default=None, description="Rules in force on this day (default today, UTC)."
    )
    jurisdictions: list[str] | None = Field(
        default=None, min_length=1, max_length=20, description="Default: every loaded one."
    )

    @model_validator(mode="after")
    def one_of_query_or_queries(self) -> IdentifyRequest:
        if (self.query is None) == (self.queries is None):
            raise ValueError("give exactly one of 'query' or 'queries'")
        for index, query in enumerate(self.queries or []):
            if not query or len(query) > QUERY_MAX_CHARS:
                raise ValueError(f"queries[{index}] must have 1 to {QUERY_MAX_CHARS} characters")
        return self


class RegionFindingOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    region: str
    clause: str | None
    covered: bool
    explanation: str
    atoms: list[int]


class BasisOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: str
    rule_id: str
    status: str
    name: str
    clauses: list[str]
    citation: str
    in_force_from: str
    in_force_to: str | None
    in_force_precision: str = Field(
        default="day",
        description="year or month when the source dates the rule only that far "
        "(in_force_from is then that period's first day)",
    )
    atoms: list[int]
    regions: list[RegionFindingOut]
    confirmed: bool
    note: str
    # Named by alias: a field called `list` would shadow the builtin in the annotations.
    list_name: str = Field(alias="list", description="The list or schedule of the rule.")


class VerdictOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = Field(description="controlled | precursor | review | no_match | invalid")
    basis: list[BasisOut]
    explanation: str


class IdentificationOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None
    input: str
    query_kind: str
    verdicts: dict[str, VerdictOut]
    error: str | None
    as_of: date = Field(description="The day whose rules were applied.")
    notes: list[str] = Field(
        description="How the input was read when not as typed: Unicode normalized (NFKC), "
        "CXSMILES extension parsed, repeated fragments judged once."
    )
    standardized_smiles: str | None
    svg: str = Field(description="SVG depiction highlighting the atoms that matched.")
    svg_jurisdiction: str = Field(description="The jurisdiction whose match the SVG shows.")


class RulesVersionOut(BaseModel):
    hash: str = Field(description="Content hash of the rule data files (sha256, 16 hex digits).")
    newest_entry: date = Field(description="The latest in_force_from of any rule loaded.")


class IdentifyResponse(BaseModel):
    as_of: date = Field(
        description="The day whose rules were applied (the one asked for, else today, UTC)."
    )
    rules_version: RulesVersionOut
    produced_at: datetime = Field(description="When the answer was produced (UTC).")
    results: list[IdentificationOut]


class ScreenResponse(BaseModel):
    as_of: date = Field(description="The day whose rules were applied.")
    rules_version: RulesVersionOut
    produced_at: datetime = Field(description="When the file was screened (UTC).")
    filename: str
    encoding: str | None = Field(
        description="How a text file was read (e.g. 'GB18030 (GBK)'); null for .xlsx."
    )
    jurisdictions: list[str]
    records: list[dict[str, Any]] = Field(
        description="One per record, in file order, in the shape of `liaison screen --format "
        "jsonl`; `columns` holds the input's other columns (CSV, .xlsx)."
    )


@router.post("/identify", response_model=IdentifyResponse)
def identify_substances(
    body: IdentifyRequest, request: Request, principal: Principal = Depends(identifiers)
) -> Any:
    """Verdicts per jurisdiction and a depiction for each query (at most 100 per request).

    `no_match` means that no loaded rule matched; it is not a clearance.
    """
    queries = body.queries if body.queries is not None else [body.query or ""]
    answers = identify_queries(
        queries, body.as_of, body.jurisdictions, settings=node_of(request).settings
    )
    # Every answer carries the day its rules were taken from; they share the request's one.
    as_of = answers[0].identification.as_of
    results = [answer.to_dict() for answer in answers]
    # English unless this request asks for Chinese itself (a user's page language is not
    # enough: a script's output must not change with its owner's preferences).
    with preferences(asked_language(request.headers)):
        results = [translate_answer(result) for result in results]
    return {
        "as_of": as_of,
        "rules_version": rules_version().to_dict(),
        "produced_at": datetime.now(UTC),
        "results": results,
    }


@router.post("/screen", response_model=ScreenResponse)
async def screen_file(
    request: Request,
    file: UploadFile = File(
        description=f"{', '.join(UPLOAD_SUFFIXES)}; CSV in UTF-8 (with or without BOM), UTF-16 "
        f"or GBK/GB18030; up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB and "
        f"{MAX_UPLOAD_RECORDS} records."
    ),
    as_of: date | None = Form(None, description="Rules in force on this day (default today)."),
    jurisdictions: list[str] | None = Form(None, description="Default: every loaded one."),
    principal: Principal = Depends(identifiers),
) -> Any:
    """Screen a file as the web page does; the results are kept for their CSV download.

    `no_match` means that no loaded rule matched; it is not a clearance.
    """
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    runtime = runtime_of(request)

    def screen() -> dict[str, Any]:
        with runtime.database.session() as session:
            screened = screen_upload(
                session,
                principal.user,
                principal.actor,
                file.filename or "upload",
                content,
                as_of,
                jurisdictions or None,
                runtime.settings,
            )
            session.commit()
            return screened.to_dict()

    # Chemistry is CPU-bound: run it off the event loop.
    return await run_in_threadpool(screen)

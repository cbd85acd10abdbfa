"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from liaison.store.database import head_revision
from liaison.store.probe import probe_writes
from liaison.web.auth import Principal, current_user, node_of, public_endpoint
from liaison.web.context import runtime_of
from liaison.web.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter(tags=["health"])
NO_LOGIN: dict[str, Any] = {"security": []}


class Alive(BaseModel):
    status: str
    node: str


class Ready(BaseModel):
    status: str
    node: str
    migration: str


@router.get(
    "/healthz",
    response_model=Alive,
    dependencies=[Depends(public_endpoint)],
    openapi_extra=NO_LOGIN,
)
def healthz(request: Request) -> Alive:
    """The process is up and answering."""
    return Alive(status="alive", node=node_of(request).name)


@router.get(
    "/readyz", response_model=Ready, dependencies=[Depends(public_endpoint)], openapi_extra=NO_LOGIN
)
def readyz(request: Request) -> Any:
    """The database answers, is at the migration this version needs and accepts writes
    (a probe row is written); 503 otherwise."""
    node = node_of(request)
    database = runtime_of(request).database
    try:
        current = database.current_revision()
    except SQLAlchemyError as error:
        detail = f"the database does not answer: {type(error).__name__}"
    else:
        if current == head_revision():
            try:
                with database.engine.begin() as connection:
                    probe_writes(connection)
            except SQLAlchemyError as error:
                reason = " ".join(str(getattr(error, "orig", error)).split())[:300]
                detail = f"the database does not accept writes: {reason}"
            else:
                return Ready(status="ready", node=node.name, migration=current)
        else:
            detail = f"the database is at migration {current} but {head_revision()} is needed"
    problem = Problem(title="Not ready", status=503, detail=detail, instance="/readyz")
    return JSONResponse(problem.model_dump(), status_code=503, media_type=PROBLEM_MEDIA_TYPE)


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, principal: Principal = Depends(current_user)) -> Any:
    """The API description; behind login like everything else that is not a health check."""
    return request.app.openapi()

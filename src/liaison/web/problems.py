"""Errors as RFC 9457 problem documents for the API, and as friendly pages for the UI.

Every error leaves through here: LiaisonError subclasses, Starlette's HTTP errors (404,
405) and request validation errors. Anonymous browsers asking for a page are sent to the
login page instead of an error.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from liaison.errors import LiaisonError
from liaison.messages import T
from liaison.web.i18n import N_, _

PROBLEM_MEDIA_TYPE = "application/problem+json"

# A row id in a path: refused as invalid input when no database column could hold it
# (SQLite's driver overflows on integers beyond 64 bits where PostgreSQL reports bad data).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str


# Error pages' headings in the interface's language (problem+json keeps the English titles).
PAGE_TITLES = {
    400: N_("Invalid input"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
    500: N_("Internal error"),
}


def wants_problem_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/federation/")) or path in {
        "/openapi.json",
        "/healthz",
        "/readyz",
    }


def problem_response(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_problem_json(request):
        body = Problem(title=title, status=status, detail=detail, instance=request.url.path)
        return JSONResponse(
            body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
        )
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    from liaison.web.ui import render

    return render(
        request,
        "error.html",
        {"status": status, "title": _(PAGE_TITLES.get(status, title)), "detail": detail},
        status_code=status,
        headers=headers,
    )


def _validation_detail(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        parts.append(f"{location or 'request'}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_problem_handlers(app: FastAPI) -> None:
    async def liaison_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, LiaisonError)
        headers = None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            from liaison.store.base import utcnow

            seconds = max(1, int((retry_after - utcnow()).total_seconds()))
            headers = {"Retry-After": str(seconds)}
        elif error.status == 401 and wants_problem_json(request):
            headers = {"WWW-Authenticate": 'Bearer realm="liaison"'}
        return problem_response(request, error.status, error.title, error.detail, headers)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        status = error.status_code
        title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        detail = error.detail if isinstance(error.detail, str) else title
        if status == 404:
            detail = T("there is nothing at %(path)s", path=request.url.path)
        elif status == 405:
            detail = T(
                "%(method)s is not allowed on %(path)s",
                method=request.method,
                path=request.url.path,
            )
        return problem_response(request, status, title, detail, dict(error.headers or {}))

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return problem_response(request, 422, "Invalid input", _validation_detail(error))

    async def database_data_error(request: Request, error: Exception) -> Response:
        # The database refused a value the request carried (e.g. an id beyond PostgreSQL's
        # integer range): the client's input, not a server fault.
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return problem_response(
            request, 422, "Invalid input", f"a value is out of range or malformed: {reason}"
        )

    async def unexpected_error(request: Request, error: Exception) -> Response:
        return problem_response(
            request, 500, "Internal error", "the node failed to handle this request; it is logged"
        )

    app.add_exception_handler(LiaisonError, liaison_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DataError, database_data_error)
    app.add_exception_handler(Exception, unexpected_error)


PROBLEM_STATUSES = {
    "400": "Bad request",
    "401": "Authentication required",
    "403": "Forbidden",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Conflict",
    "422": "Invalid input",
    "429": "Too many attempts",
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem responses on every API operation (replacing FastAPI's 422 shape)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = {
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, title in PROBLEM_STATUSES.items():
                if status == "401" and path in {"/healthz", "/readyz"}:
                    continue
                responses[status] = {"description": title, **problem}
            if path == "/readyz":
                responses["503"] = {"description": "Not ready", **problem}
    return schema

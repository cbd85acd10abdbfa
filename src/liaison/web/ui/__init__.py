"""Server-rendered web UI: Jinja2 templates extending base.html, one stylesheet, static scripts.

Every visible string goes through `_()` (liaison.web.i18n); times through the filters
`local_datetime`, `local_date` and `deadline`.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from liaison.capabilities import Capability, may
from liaison.web import i18n
from liaison.web.context import runtime_of
from liaison.web.i18n import N_

UI_DIR = Path(__file__).resolve().parent
STATIC_DIR = UI_DIR / "static"
templates = Jinja2Templates(directory=UI_DIR / "templates")
i18n.install(templates.env)

# Translated where shown: {{ _(status_labels[status]) }}.
STATUS_LABELS = {
    "controlled": N_("Controlled"),
    "precursor": N_("Precursor"),
    "review": N_("Expert review"),
    "no_match": N_("No rule matched"),
    "invalid": N_("Invalid input"),
}
templates.env.globals["status_labels"] = STATUS_LABELS
# The navigation shows what the signed-in user's role may use (liaison.capabilities).
templates.env.globals["may"] = may
templates.env.globals["Capability"] = Capability


def svg_data_uri(svg: str) -> str:
    """An SVG as an <img> source: its inline styles then stay outside the page's CSP."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


templates.env.filters["svg_data_uri"] = svg_data_uri


def jurisdiction_name(title: str) -> str:
    """'United States: fentanyl and …' -> 'United States' (the rule files' titles are long)."""
    return title.split(":", 1)[0].strip()


templates.env.filters["jurisdiction_name"] = jurisdiction_name


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page; the layout gets the node, the signed-in user and their CSRF token."""
    principal = getattr(request.state, "principal", None)
    page = {
        "node": runtime_of(request).config,
        "principal": principal,
        "user": principal.user if principal else None,
        "csrf_token": principal.csrf_token if principal else "",
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page, status_code=status_code, headers=headers)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)

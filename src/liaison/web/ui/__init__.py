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
# Stored values (hotline priorities and kinds, roles) shown in the user's language.
VALUE_LABELS = {
    "routine": N_("routine"),
    "urgent": N_("urgent"),
    "flash": N_("flash"),
    "lead": N_("lead"),
    "alert": N_("alert"),
    "request": N_("request"),
    "response": N_("response"),
    "note": N_("note"),
    "admin": N_("admin"),
    "officer": N_("officer"),
    "analyst": N_("analyst"),
    "auditor": N_("auditor"),
    "regulator": N_("regulator"),
    "immigration_officer": N_("immigration officer"),
    "verifier": N_("verifier"),
    "supervisor": N_("supervisor"),
    "active": N_("active"),
    "revoked": N_("revoked"),
}


def label(value: str) -> str:
    """A stored value in the user's language; unknown values are shown as they are."""
    return i18n._(VALUE_LABELS[value]) if value in VALUE_LABELS else value


templates.env.filters["label"] = label
# The navigation shows what the signed-in user's role may use (liaison.capabilities).
templates.env.globals["may"] = may
templates.env.globals["Capability"] = Capability


def svg_data_uri(svg: str) -> str:
    """An SVG as an <img> source: its inline styles then stay outside the page's CSP."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


templates.env.filters["svg_data_uri"] = svg_data_uri


def mol_data_uri(molblock: str) -> str:
    """A MOL file as a download link's target (no round trip to the server)."""
    encoded = base64.b64encode(molblock.encode("utf-8")).decode("ascii")
    return "data:chemical/x-mdl-molfile;base64," + encoded


templates.env.filters["mol_data_uri"] = mol_data_uri
# A region code as its label in the user's language: `{{ code | region_label(labels) }}`.
templates.env.filters["region_label"] = lambda code, labels: i18n._(labels.get(code, code))


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
        # Counted when the user was authenticated (web/auth.py); None: not counted.
        "unread": getattr(request.state, "unread", None),
        # Pre-export notifications waiting for this node's regulators (None: not counted).
        "pen_reminders": getattr(request.state, "pen_reminders", None),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page, status_code=status_code, headers=headers)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)

"""My desk: the landing page, one panel per concern the user's role may use.

A concern adds its panel with `register_panel` when its UI module is imported (the
hotline's and the substances' are below); the desk shows the panels whose capability the
user's role has, in `order`. A panel is a template fragment and a loader that gives it
its context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability, may
from liaison.services import hotline
from liaison.services.substances import recent_screenings
from liaison.web.auth import Principal, current_user, db_session, inbox_counts, node_of
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)

PanelLoader = Callable[[Request, Principal, Session], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    name: str
    capability: Capability
    template: str  # a fragment under templates/desk/, rendered with the loader's context
    load: PanelLoader
    order: int = 100


PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    PANELS[panel.name] = panel


def panels_for(role: str) -> list[Panel]:
    return sorted(
        (panel for panel in PANELS.values() if may(role, panel.capability)),
        key=lambda panel: (panel.order, panel.name),
    )


@router.get("/desk")
def desk_page(
    request: Request,
    principal: Principal = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    shown = [
        (panel, panel.load(request, principal, session))
        for panel in panels_for(principal.user.role)
    ]
    session.commit()
    return render(request, "desk.html", {"panels": shown})


def _hotline_panel(request: Request, principal: Principal, session: Session) -> dict[str, Any]:
    node = node_of(request)
    return {
        "awaiting": hotline.awaiting_acknowledgement(session, node, principal.actor),
        "overdue": hotline.overdue_messages(session, node, principal.actor),
        "counts": inbox_counts(request, session, principal.actor),
    }


def _screenings_panel(request: Request, principal: Principal, session: Session) -> dict[str, Any]:
    return {"runs": recent_screenings(session, principal.user)}


register_panel(Panel("hotline", Capability.USE_HOTLINE, "desk/hotline.html", _hotline_panel, 10))
register_panel(
    Panel("screenings", Capability.SCREEN_SUBSTANCES, "desk/screenings.html", _screenings_panel, 20)
)

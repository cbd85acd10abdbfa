"""The app factory: one FastAPI application per node, with every router registered here."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liaison import __version__
from liaison.config import NodeConfig
from liaison.runtime import build_runtime
from liaison.services.substances import start_workers as start_substance_workers
from liaison.store import Database
from liaison.web.api import audit as audit_api
from liaison.web.api import auth as auth_api
from liaison.web.api import cooperation as cooperation_api
from liaison.web.api import federation as federation_api
from liaison.web.api import health, substances, users
from liaison.web.api import hotline as hotline_api
from liaison.web.api import incidents as incidents_api
from liaison.web.api import notifications as notifications_api
from liaison.web.api import peers as peers_api
from liaison.web.api import tariffs as tariffs_api
from liaison.web.api import verifications as verifications_api
from liaison.web.csp import CONTENT_SECURITY_POLICY, EDITOR_CONTENT_SECURITY_POLICY, EDITOR_PATH
from liaison.web.i18n import Preferences
from liaison.web.limits import BodySizeLimit, body_limit_policy
from liaison.web.metrics import AppMetrics, RequestObserver
from liaison.web.metrics import router as metrics_router
from liaison.web.problems import document_problems, install_problem_handlers
from liaison.web.ui import STATIC_DIR
from liaison.web.ui import audit as audit_ui
from liaison.web.ui import auth as auth_ui
from liaison.web.ui import cooperation as cooperation_ui
from liaison.web.ui import desk as desk_ui
from liaison.web.ui import hotline as hotline_ui
from liaison.web.ui import incidents as incidents_ui
from liaison.web.ui import notifications as notifications_ui
from liaison.web.ui import peers as peers_ui
from liaison.web.ui import substances as substances_ui
from liaison.web.ui import tariffs as tariffs_ui
from liaison.web.ui import users as users_ui
from liaison.web.ui import verifications as verifications_ui

WORKER_HEADER = "X-Liaison-Worker"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not set them itself (the
    substance page sets its own Content-Security-Policy for the structure editor).

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
    each request through an extra task and memory streams, a measurable share of the CPU
    a small API request costs (see BENCHMARKS.md, Federation).
    """

    def __init__(self, app: ASGIApp, extra: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **(extra or {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # The editor's worker compiles Indigo's wasm under the worker script's own policy.
        editor = scope["path"].startswith(EDITOR_PATH)
        # 21 MB of public code, not fetched again on every visit to the substance page: the
        # content-hashed assets for good, editor.js and editor.css revalidated (ETag).
        editor_cache = (
            "public, max-age=31536000, immutable"
            if scope["path"].startswith(EDITOR_PATH + "assets/")
            else "no-cache"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if editor:
                    headers.setdefault("Content-Security-Policy", EDITOR_CONTENT_SECURITY_POLICY)
                    if message["status"] == 200:
                        headers.setdefault("Cache-Control", editor_cache)
                for header, value in self.headers.items():
                    headers.setdefault(header, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def include_routers(app: FastAPI) -> None:
    """Every router of the node; a new concern (e.g. federation) adds its router here."""
    for router in (
        health.router,
        metrics_router,
        auth_api.router,
        users.router,
        substances.router,
        audit_api.router,
        federation_api.peer_router,
        peers_api.router,
        hotline_api.router,
        incidents_api.router,
        verifications_api.router,
        notifications_api.router,
        tariffs_api.router,
        cooperation_api.router,
        auth_ui.router,
        desk_ui.router,
        substances_ui.router,
        users_ui.router,
        audit_ui.router,
        hotline_ui.router,
        incidents_ui.router,
        verifications_ui.router,
        notifications_ui.router,
        peers_ui.router,
        tariffs_ui.router,
        cooperation_ui.router,
    ):
        app.include_router(router)


def create_app(
    node: NodeConfig,
    database: Database | None = None,
    *,
    shared: bool = False,
    processes: int = 1,
) -> FastAPI:
    """shared: this app is one of `processes` serving the node (`serve --workers`); its
    answers name the process (WORKER_HEADER), so a client can tell them apart."""
    runtime = build_runtime(node, database, shared=shared, processes=processes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start_substance_workers(node.settings)  # forked before any thread is started
        runtime.start()
        yield
        runtime.stop()
        runtime.database.dispose()
        app.state.metrics.process_ended()

    app = FastAPI(
        title=f"Liaison node {node.name}",
        version=__version__,
        description=(
            "REST API of a Liaison node. Authenticate with `POST /api/v1/auth/token` and send "
            "`Authorization: Bearer <token>`. Errors are RFC 9457 problem documents."
        ),
        # Served by a route behind login instead (see api/health.py); no CDN-backed docs UI.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)

    # Inside SecurityHeaders, so its 413 answers carry them too.
    app.add_middleware(BodySizeLimit, limit_for=body_limit_policy(node.settings))
    app.add_middleware(SecurityHeaders, extra={WORKER_HEADER: str(os.getpid())} if shared else None)
    # Outermost: error pages, even a 413 from BodySizeLimit, are in the request's language.
    app.add_middleware(Preferences, time_zone=node.time_zone)
    # Outermost of all: every answer, even an error page, is counted, timed and logged.
    app.state.metrics = AppMetrics(runtime.database, shared=shared)
    app.add_middleware(RequestObserver, metrics=app.state.metrics)
    include_routers(app)
    # The stylesheet is public: the login page needs it and it holds no data.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

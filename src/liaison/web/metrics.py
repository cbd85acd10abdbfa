"""`GET /metrics` (Prometheus text format) behind its own token, and the request log.

`RequestObserver` wraps every HTTP request: it gives the request an id (the client's
X-Request-ID when it is a sane one, else a new one), answers with it, counts the request
and its latency by route template (never by raw path, so ids in URLs do not make a
series each) and writes one JSON log line (liaison.web.logs). The node-wide figures
(outbox depth per peer, the audit chain's length) are read from the database at scrape
time, once per scrape.

A node on several processes (`serve --workers N`) answers a scrape for all of them,
whichever process takes it: prometheus_client's multiprocess mode, where each process
keeps its counters in files of the directory PROMETHEUS_MULTIPROC_DIR (set by the
supervisor, `liaison.node.serve_workers`, before the processes start) and a scrape adds
up every process's files.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liaison.metrics import DELIVERY_FAILURES, MULTIPROCESS_DIR, SCREENED_QUERIES
from liaison.store import Database
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import Peer, PeerDelivery
from liaison.web.auth import public_endpoint
from liaison.web.context import runtime_of
from liaison.web.logs import REQUEST_ID

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("liaison.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NodeFigures(Collector):
    """Figures of the node's database, read when Prometheus scrapes."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "liaison_outbox_depth",
            "Records queued for a peer and not yet acknowledged.",
            labels=["peer"],
        )
        failing = GaugeMetricFamily(
            "liaison_delivery_consecutive_failures",
            "Failed delivery attempts to a peer since its last success.",
            labels=["peer"],
        )
        with self.database.session() as session:
            rows = session.execute(
                sa.select(Peer.name, Peer.last_seq, PeerDelivery.acked_seq, PeerDelivery.failures)
                .outerjoin(PeerDelivery, PeerDelivery.peer_id == Peer.id)
                .where(Peer.revoked_at.is_(None))
            ).all()
            chain = session.scalar(sa.select(sa.func.max(AuditEntry.seq))) or 0
        for name, last_seq, acked, failures in rows:
            depth.add_metric([name], last_seq - (acked or 0))
            failing.add_metric([name], failures or 0)
        yield depth
        yield failing
        yield GaugeMetricFamily(
            "liaison_audit_chain_length", "Entries in the node's audit chain.", value=chain
        )


class AppMetrics:
    """One app's registry: its request figures, the process counters, the node's figures.

    shared: the app is one of several processes (multiprocess mode when the supervisor set
    MULTIPROCESS_DIR): `registry` then holds this process's metrics, written to its files,
    and `scrape` reads every process's files, then the node's figures."""

    def __init__(self, database: Database, *, shared: bool = False) -> None:
        self.registry = CollectorRegistry()
        self.scrape = self.registry
        files = os.environ.get(MULTIPROCESS_DIR) if shared else None
        if files:
            self.scrape = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.scrape, path=files)  # type: ignore[no-untyped-call]
        self.requests = Counter(
            "liaison_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "liaison_http_request_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(SCREENED_QUERIES)
        self.registry.register(DELIVERY_FAILURES)
        self.scrape.register(NodeFigures(database))
        self.files = files

    def process_ended(self) -> None:
        """In multiprocess mode, drop what only a live process may report (its gauges)."""
        if self.files:
            multiprocess.mark_process_dead(os.getpid(), self.files)  # type: ignore[no-untyped-call]


class RequestObserver:
    """Request id, request metrics and the JSON access log line of every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                template,
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            REQUEST_ID.reset(token)


@router.get("/metrics", dependencies=[Depends(public_endpoint)], include_in_schema=False)
def metrics(request: Request) -> Response:
    """The node's metrics for Prometheus; `Authorization: Bearer <LIAISON_METRICS_TOKEN>`.
    Not a user login: a scraper holds no account, and this token opens nothing else."""
    runtime = runtime_of(request)
    expected = runtime.settings.metrics_token
    # Plain-text answers, not the login redirect of pages: the client is a scraper.
    if not expected:
        return PlainTextResponse(
            "metrics are off on this node; set LIAISON_METRICS_TOKEN to turn them on\n", 404
        )
    given = request.headers.get("authorization", "")
    scheme, _, presented = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode("utf-8"), expected.encode("utf-8")
    ):
        return PlainTextResponse(
            "give the metrics token as `Authorization: Bearer <token>`\n",
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    app_metrics: AppMetrics = request.app.state.metrics
    return Response(generate_latest(app_metrics.scrape), media_type=CONTENT_TYPE_LATEST)

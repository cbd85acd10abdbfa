"""GET /metrics behind its own token, and the request id in answers and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from liaison.config import NodeConfig
from liaison.web.logs import JsonFormatter

TOKEN = "scraper-token-0123456789"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The access log as `serve` writes it: one JSON object a line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("liaison.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(
    node: NodeConfig, client: TestClient, client_for: Callable[..., TestClient]
) -> None:
    off = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert off.status_code == 404
    assert "LIAISON_METRICS_TOKEN" in off.text
    with client_for(node, metrics_token=TOKEN) as guarded:
        assert guarded.get("/metrics").status_code == 401
        wrong = guarded.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401


def test_metrics_count_requests_by_route_and_read_the_node_figures(
    node: NodeConfig, client_for: Callable[..., TestClient]
) -> None:
    with client_for(node, metrics_token=TOKEN) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        # An id in the path is counted under its route template, not as a series of its own.
        assert client.get("/api/v1/threads/no-such-thread/messages").status_code == 401
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("liaison_http_requests_total", healthz)] == 3
    latency = (("method", "GET"), ("route", "/healthz"))
    assert samples[("liaison_http_request_seconds_count", latency)] == 3
    routes = {dict(labels).get("route") for name, labels in samples if "http" in name}
    assert not any(route and "no-such-thread" in route for route in routes)
    # create_node wrote entries (node created, users added); the gauge reads the chain.
    assert samples[("liaison_audit_chain_length", ())] >= 1


def test_every_answer_carries_a_request_id_that_the_log_line_names(
    client: TestClient, log_lines: io.StringIO
) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    made = client.get("/healthz", headers={"X-Request-ID": "not sane/" + "x" * 100})
    new_id = made.headers["X-Request-ID"]
    assert new_id != "trace-42" and len(new_id) == 32
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["trace-42", new_id]
    assert lines[0]["route"] == "/healthz" and lines[0]["status"] == 200
    assert lines[0]["level"] == "info" and isinstance(lines[0]["duration_ms"], float)

"""The cooperation overview on two real nodes: figures from a hand-built set of shared
records, identical on both sides (both databases)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.nodes import (
    AGENCIES,
    OFFICER_PASSWORD,
    Pair,
    make_node,
    peer,
    start_pair,
    wait_until,
)
from federation.test_incidents_two_nodes import _report
from federation.test_notifications_two_nodes import _lodge, _post, _regulators
from federation.test_verification_two_nodes import SUBJECT
from liaison.node import add_node_user

pytestmark = [pytest.mark.slow]
API = "/api/v1/cooperation"


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    # Flash messages and notifications fall due at once: "waiting" shows without waiting.
    due_at_once = {"LIAISON_HOTLINE_FLASH_ACK_MINUTES": "0", "LIAISON_PEN_RESPONSE_DAYS": "0"}
    nodes = start_pair(tmp_path, database_url, second_database_url, due_at_once, due_at_once)
    _regulators(nodes)
    add_node_user(nodes.us.directory, "ian", OFFICER_PASSWORD, "immigration_officer")
    add_node_user(nodes.cn.directory, "vera", OFFICER_PASSWORD, "verifier")
    yield nodes
    nodes.close()


def _open(client: httpx.Client, priority: str) -> dict[str, Any]:
    body = {"peer": "CN", "subject": priority, "priority": priority, "kind": "request", "body": "b"}
    response = client.post("/api/v1/threads", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _thread_on(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    threads = client.get("/api/v1/threads").json()
    return next((t for t in threads if t["global_id"] == global_id), None)


def _figures(client: httpx.Client) -> dict[str, Any]:
    response = client.get(API)
    assert response.status_code == 200, response.text
    document = dict(response.json())
    del document["node"]
    return document


def test_both_nodes_show_the_same_figures_of_the_records_they_share(pair: Pair) -> None:
    us, cn = pair.us.client(), pair.cn.client()
    us_regulator, cn_regulator = pair.us.client("regulator"), pair.cn.client("regulator")

    # Hotline: an urgent request CN acknowledges and answers; a flash alert it leaves waiting.
    urgent = _open(us, "urgent")
    _open(us, "flash")
    on_cn = wait_until(lambda: _thread_on(cn, urgent["global_id"]), "the urgent thread on CN")
    lead = cn.get(f"/api/v1/threads/{on_cn['id']}/messages").json()[0]
    assert cn.post(f"/api/v1/messages/{lead['id']}/ack").status_code == 200
    reply = cn.post(f"/api/v1/threads/{on_cn['id']}/messages", json={"body": "On it."})
    assert reply.status_code == 201, reply.text
    # Pre-export notifications: two lodged by US; CN answers one, the other is overdue.
    answered = _lodge(us_regulator)
    _lodge(us_regulator, substance="4-piperidone", trade_name="Piperidin-4-one")

    def lodged_on_cn() -> dict[str, Any] | None:
        items = cn_regulator.get("/api/v1/pre-export-notifications").json()["items"]
        return next((n for n in items if n["global_id"] == answered["global_id"]), None)

    incoming = wait_until(lodged_on_cn, "the notification on CN")
    _post(cn_regulator, incoming["id"], "response", decision="no_objection")

    # Incidents: one shared with CN, which follows it up; one kept at home (never counted).
    _report(us, narrative="Kept at home", share_with=[])
    shared = _report(us, share_with=["CN"])

    def incident_on_cn() -> dict[str, Any] | None:
        listed = cn.get("/api/v1/incidents", params={"origin": "US"}).json()["items"]
        return next((i for i in listed if i["global_id"] == shared["global_id"]), None)

    received = wait_until(incident_on_cn, "the shared incident on CN")
    follow = cn.post(
        f"/api/v1/incidents/{received['id']}/follow-ups",
        json={"body": "Investigation opened", "status": "investigation_opened"},
    )
    assert follow.status_code == 201, follow.text

    # Verification: a case opened by US, decided by CN, not yet returned.
    ian, vera = pair.us.client("ian"), pair.cn.client("vera")
    case = {"peer": "CN", "subject": SUBJECT, "grounds": "Removal order", "reference": "A-1"}
    opened = ian.post("/api/v1/verifications", json=case)
    assert opened.status_code == 201, opened.text

    def case_on_cn() -> dict[str, Any] | None:
        items = vera.get("/api/v1/verifications").json()["items"]
        return next((c for c in items if c["global_id"] == opened.json()["global_id"]), None)

    decided = vera.post(
        f"/api/v1/verifications/{wait_until(case_on_cn, 'the case on CN')['id']}/decision",
        json={"decision": "confirmed", "person_id": "P-1", "reason": "registry agrees"},
    )
    assert decided.status_code == 201, decided.text

    def converged() -> dict[str, Any] | None:
        on_us, on_cn = _figures(us), _figures(cn)
        series = {s["key"]: s["rows"] for s in on_us["series"]}
        hotline, pens, reports = series["hotline"], series["notifications"], series["incidents"]
        cases = series["verification"]
        done = (
            len(hotline) == 2
            and hotline[0]["count"] == 1  # CN's reply (sorted by month, then sender)
            and hotline[1]["steps"]["acknowledge"]["done"] == 1
            and len(pens) == 1
            and pens[0]["steps"]["answer"]["done"] == 1
            and len(reports) == 1
            and reports[0]["steps"]["follow_up"]["done"] == 1
            and len(cases) == 1
            and cases[0]["steps"]["decide"]["done"] == 1
        )
        return on_us if done and on_us == on_cn else None

    figures = wait_until(converged, "the same figures on both nodes")
    month = figures["months"][-1]
    hotline, incidents, notifications, verification = figures["series"]
    (case_row,) = verification["rows"]
    assert (case_row["from"], case_row["to"], case_row["count"]) == ("US", "CN", 1)
    assert (case_row["steps"]["decide"]["done"], case_row["steps"]["return"]["done"]) == (1, 0)
    (incident_row,) = incidents["rows"]
    assert (incident_row["from"], incident_row["to"], incident_row["count"]) == ("US", "CN", 1)
    assert incident_row["steps"]["follow_up"]["done"] == 1
    assert (hotline["key"], hotline["available"]) == ("hotline", True)
    (from_cn, from_us) = hotline["rows"]
    assert (from_cn["month"], from_cn["from"], from_cn["to"], from_cn["count"]) == (
        month,
        "CN",
        "US",
        1,
    )
    assert (from_us["from"], from_us["to"], from_us["count"]) == ("US", "CN", 2)
    assert from_us["steps"]["acknowledge"]["median_hours"] >= 0
    (pen_row,) = notifications["rows"]
    assert (pen_row["from"], pen_row["to"], pen_row["count"]) == ("US", "CN", 2)
    assert pen_row["steps"]["answer"]["done"] == 1
    waiting = {
        (w["series"], w["waiting_on"], w["agency"]): w["overdue"] for w in figures["waiting"]
    }
    assert waiting == {
        ("hotline", "CN", AGENCIES["CN"]): 1,
        ("notifications", "CN", answered["to_agency"]): 1,
    }

    # The CSV and the pages carry the same figures on both sides.
    for client in (us, cn):
        exported = client.get(f"{API}.csv")
        assert exported.status_code == 200
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [(r["series"], r["from"], r["count"], r["done"]) for r in rows] == [
            ("hotline", "CN", "1", "0"),
            ("hotline", "US", "2", "1"),
            ("incidents", "US", "1", "1"),
            ("notifications", "US", "2", "1"),
            ("verification", "US", "1", "1"),  # decided
            ("verification", "US", "1", "0"),  # not returned
        ]
        page = client.get("/cooperation")
        assert page.status_code == 200
        assert 'data-series="notifications"' in page.text and "<svg" in page.text
        report = client.get("/cooperation/report")
        assert report.status_code == 200
        assert "<svg" in report.text and "/static/" not in report.text
    for client in (us, cn, us_regulator, cn_regulator, ian, vera):
        client.close()


# US as an older version that handles no pre-export notifications.
WITHOUT_PEN = """
import liaison.runtime as runtime
from liaison.federation.records import RecordTypes
from liaison.services.notifications.records import RECORD_TYPES as PEN
whole = runtime.node_record_types
runtime.node_record_types = lambda: RecordTypes(
    t for t in whole()._types.values() if t not in PEN
)
"""
PEN_TYPES = ["pen.notification", "pen.response"]


def _series(client: httpx.Client, key: str) -> dict[str, Any]:
    return next(s for s in _figures(client)["series"] if s["key"] == key)


def test_a_peer_without_a_record_type_is_named_instead_of_zeros_until_it_says_otherwise(
    tmp_path: Path, database_url: str, second_database_url: str
) -> None:
    pair = Pair(
        make_node(tmp_path, "US", database_url), make_node(tmp_path, "CN", second_database_url)
    )
    pair.us.prelude = WITHOUT_PEN
    try:
        for node in (pair.us, pair.cn):
            node.start()
        peer(pair.us, pair.cn)  # each side says in the handshake what it handles
        us, cn = pair.us.client(), pair.cn.client()
        on_us, on_cn = _series(us, "notifications"), _series(cn, "notifications")
        assert (on_us["available"], on_us["missing_record_types"]) == (False, PEN_TYPES)
        assert on_us["peers_missing_record_types"] == {}
        assert (on_cn["available"], on_cn["missing_record_types"]) == (False, [])
        assert on_cn["peers_missing_record_types"] == {"US": PEN_TYPES}
        assert on_cn["rows"] == []
        assert _series(cn, "hotline")["available"] is True
        page = cn.get("/cooperation").text
        assert 'class="alert peer-lacks" data-series="notifications" data-peer="US"' in page
        note = next(
            line
            for line in csv.DictReader(io.StringIO(cn.get(f"{API}.csv").text))
            if line["series"] == "notifications"
        )
        assert note["note"] == "US does not handle: pen.notification pen.response"

        # The newer version starts: it tells CN through the outbox, and the figures return.
        pair.us.stop()
        pair.us.prelude = ""
        pair.us.start()
        wait_until(
            lambda: _series(cn, "notifications")["available"],
            "CN told that US now handles notifications",
        )
        assert _series(cn, "notifications")["peers_missing_record_types"] == {}
        assert _series(pair.us.client(), "notifications")["available"] is True
    finally:
        pair.close()

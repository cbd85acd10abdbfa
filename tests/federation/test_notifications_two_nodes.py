"""Pre-export notifications between two real nodes (`liaison serve` processes, real HTTP)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.nodes import (
    AGENCIES,
    OFFICER_PASSWORD,
    NodeProcess,
    Pair,
    make_node,
    peer,
    start_pair,
    wait_until,
)
from federation.test_notifications_in_process import form
from liaison.node import add_node_user

pytestmark = [pytest.mark.slow]
PEN = "/api/v1/pre-export-notifications"
LATER = "2099-01-01T00:00:00Z"  # a deadline that does not pass during a test
_UNACKED = (
    "select count(*) from outbox o join peer_delivery d on d.peer_id = o.peer_id "
    "where o.seq > d.acked_seq"
)


def _regulators(pair: Pair) -> None:
    for node in (pair.us, pair.cn):
        add_node_user(
            node.directory, "regulator", OFFICER_PASSWORD, "regulator", AGENCIES[node.name]
        )


def _lodge(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = client.post(PEN, json=form(**changes))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _find(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    response = client.get(PEN)
    assert response.status_code == 200, response.text
    return next((n for n in response.json()["items"] if n["global_id"] == global_id), None)


def _detail(client: httpx.Client, notification_id: int) -> dict[str, Any]:
    response = client.get(f"{PEN}/{notification_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _post(client: httpx.Client, notification_id: int, action: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{PEN}/{notification_id}/{action}", json=body or None)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _count(node: NodeProcess, table: str, global_id: str) -> int:
    return int(node.scalar(f"select count(*) from {table} where global_id = :g", g=global_id))


# ---------------------------------------------------------------- both databases


@pytest.fixture
def fresh_pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    # New notifications fall due at once: the deadline passes without waiting.
    due_at_once = {"LIAISON_PEN_RESPONSE_DAYS": "0"}
    pair = start_pair(tmp_path, database_url, second_database_url, due_at_once, due_at_once)
    _regulators(pair)
    yield pair
    pair.close()


def test_notifications_and_answers_cross_once_in_order_whatever_node_is_killed(
    fresh_pair: Pair,
) -> None:
    pair = fresh_pair
    us, cn = pair.us.client("regulator"), pair.cn.client("regulator")
    first = _lodge(us)
    assert first["status"] == "overdue"  # due at once (LIAISON_PEN_RESPONSE_DAYS=0)
    on_cn = wait_until(lambda: _find(cn, first["global_id"]), "the notification on CN")
    assert on_cn["status"] == "overdue" and on_cn["direction"] == "incoming"
    assert on_cn["respond_by"] == first["respond_by"]
    assert on_cn["screening"]["jurisdictions"]["CN"]["status"] == "precursor"

    pair.cn.kill()
    second = _lodge(us, substance="4-piperidone", trade_name="Piperidin-4-one")
    third = _lodge(us, substance="sodium chloride", trade_name="Salt")
    us.close()
    cn.close()
    pair.cn.start()
    cn = pair.cn.client("regulator")
    wait_until(lambda: _find(cn, third["global_id"]), "the notifications lodged while CN was down")
    incoming = cn.get(PEN, params={"direction": "incoming"}).json()["items"]
    # Newest first; local ids follow the order they were lodged on US.
    assert [n["global_id"] for n in incoming] == [
        third["global_id"],
        second["global_id"],
        first["global_id"],
    ]
    assert [n["id"] for n in incoming] == sorted((n["id"] for n in incoming), reverse=True)
    alerts = {n["global_id"]: [a["code"] for a in n["screening"]["alerts"]] for n in incoming}
    assert alerts[third["global_id"]] == ["not_listed"]

    us = pair.us.client("regulator")
    pair.us.kill()
    _post(cn, on_cn["id"], "acknowledge")
    _post(cn, on_cn["id"], "response", decision="no_objection")
    second_on_cn = _find(cn, second["global_id"])
    assert second_on_cn is not None
    asked = _post(
        cn,
        second_on_cn["id"],
        "response",
        decision="information_requested",
        reason="Who is the end user?",
    )
    assert asked["status"] == "information_requested"
    assert _find(cn, first["global_id"])["status"] == "no_objection"  # type: ignore[index]
    pair.us.start()
    us = pair.us.client("regulator")

    def answered_on_us() -> bool:
        found = _find(us, second["global_id"])
        return found is not None and found["status"] == "information_requested"

    wait_until(answered_on_us, "CN's answers on US")
    first_on_us = _detail(us, first["id"])
    assert first_on_us["status"] == "no_objection" and first_on_us["overdue"] is False
    assert [h["step"] for h in first_on_us["history"]] == ["acknowledge", "no_objection"]
    assert first_on_us["acknowledged_at"] is not None

    _post(us, second["id"], "information", answer="Beijing Analgesics Ltd, licence 42.")
    _post(us, third["id"], "withdraw", reason="Not a listed precursor after all.")

    def cn_sees_answers() -> bool:
        steps = [h["step"] for h in _detail(cn, second_on_cn["id"])["history"]]
        return (
            steps == ["information_requested", "information_answer"]
            and (_find(cn, third["global_id"]) or {}).get("status") == "withdrawn"
        )

    wait_until(cn_sees_answers, "US's answer and withdrawal on CN")
    for node in (pair.us, pair.cn):
        for notification in (first, second, third):
            assert _count(node, "pen_notifications", notification["global_id"]) == 1
        assert int(node.scalar("select count(*) from pen_events")) == 5
        assert int(node.scalar("select count(distinct global_id) from pen_events")) == 5
    us.close()
    cn.close()


# ---------------------------------------------------------------- one pair, SQLite


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nodes = start_pair(tmp_path_factory.mktemp("pen"))
    _regulators(nodes)
    yield nodes
    nodes.close()


@pytest.fixture(scope="module")
def us(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.us.client("regulator")
    yield client
    client.close()


@pytest.fixture(scope="module")
def cn(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.cn.client("regulator")
    yield client
    client.close()


@pytest.mark.parametrize(
    ("substance", "alert", "text"),
    [
        ("fentanyl", "controlled_drug", "drug import and export authorisations"),
        ("sodium chloride", "not_listed", "not a listed precursor: why notify?"),
    ],
)
def test_screening_alerts_are_raised_on_both_sides(
    us: httpx.Client, cn: httpx.Client, substance: str, alert: str, text: str
) -> None:
    sent = _lodge(us, substance=substance, respond_by=LATER)
    received = wait_until(lambda: _find(cn, sent["global_id"]), "the notification on CN")
    for screened in (sent["screening"], received["screening"]):
        assert [a["code"] for a in screened["alerts"]] == [alert]
        assert text in screened["alerts"][0]["text"]


def test_the_wrong_side_is_refused_on_each_node(us: httpx.Client, cn: httpx.Client) -> None:
    sent = _lodge(us, respond_by=LATER)
    received = wait_until(lambda: _find(cn, sent["global_id"]), "the notification on CN")
    answer = us.post(f"{PEN}/{sent['id']}/response", json={"decision": "no_objection"})
    assert answer.status_code == 409 and "only the importing side" in answer.json()["detail"]
    for action, body in (("withdraw", {"reason": "x"}), ("outcome", {"outcome": "shipped"})):
        refused = cn.post(f"{PEN}/{received['id']}/{action}", json=body)
        assert refused.status_code == 409 and "only the exporting side" in refused.json()["detail"]


def test_shipments_are_drawn_down_and_the_outcome_reaches_the_peer(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _lodge(us, quantity="100", shipments=4, period_months=12, respond_by=LATER)
    received = wait_until(lambda: _find(cn, sent["global_id"]), "the notification on CN")
    _post(cn, received["id"], "response", decision="no_objection")
    wait_until(lambda: _detail(us, sent["id"])["status"] == "no_objection", "the answer on US")
    after = _post(us, sent["id"], "outcome", outcome="shipped", quantity="40")
    assert after["remaining"] == "60"
    too_much = us.post(f"{PEN}/{sent['id']}/outcome", json={"outcome": "shipped", "quantity": "61"})
    assert too_much.status_code == 409 and "exceeds what remains" in too_much.json()["detail"]
    _post(us, sent["id"], "outcome", outcome="seized", incident="INC-2026-0042")
    wait_until(
        lambda: _detail(cn, received["id"])["incident"] == "INC-2026-0042", "the outcome on CN"
    )
    assert _detail(cn, received["id"])["remaining"] == "60"


def test_exceeding_the_importers_annual_requirement_is_flagged_on_both_sides(
    us: httpx.Client, cn: httpx.Client
) -> None:
    register = {
        "year": 2026,
        "entries": [
            {"substance": "ephedrine", "annual_kg": "100", "citation": "test register"},
            {"substance": "P-2-P", "annual_kg": "5", "citation": "test register"},
        ],
    }
    assert us.put(f"{PEN}/register", json=register).status_code == 200
    wait_until(
        lambda: any(e["node"] == "US" for e in cn.get(f"{PEN}/register").json()),
        "the register of US on CN",
    )
    within = dict(
        importing_peer="US", substance="ephedrine hydrochloride", quantity="60", respond_by=LATER
    )
    first = _lodge(cn, **within)
    second = _lodge(cn, **within)
    assert "exceeds_requirement" not in [a["code"] for a in first["screening"]["alerts"]]
    assert "exceeds_requirement" in [a["code"] for a in second["screening"]["alerts"]]
    on_us = wait_until(lambda: _find(us, second["global_id"]), "the notification on US")
    flagged = [a for a in on_us["screening"]["alerts"] if a["code"] == "exceeds_requirement"]
    assert flagged and "120 kg" in flagged[0]["text"] and "100 kg" in flagged[0]["text"]
    assert on_us["screening"]["registers"] == ["US: ephedrine"]


def test_the_figures_are_the_same_on_both_nodes(
    pair: Pair, us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _lodge(us, respond_by=LATER)
    received = wait_until(lambda: _find(cn, sent["global_id"]), "the notification on CN")
    _post(cn, received["id"], "response", decision="objection", reason="unknown consignee")
    wait_until(lambda: _detail(us, sent["id"])["status"] == "objection", "the objection on US")
    for node in (pair.us, pair.cn):  # every step delivered both ways before comparing
        wait_until(
            lambda node=node: node.scalar(_UNACKED) == 0,
            f"{node.name}'s outbox to drain",
        )
    figures_us = us.get(f"{PEN}/metrics").json()
    figures_cn = cn.get(f"{PEN}/metrics").json()
    symmetric = ("overall", "per_importing_node", "per_substance", "per_counterpart_agency")
    assert {k: figures_us[k] for k in symmetric} == {k: figures_cn[k] for k in symmetric}
    assert [m["flows"] for m in figures_us["per_month"]] == [
        m["flows"] for m in figures_cn["per_month"]
    ]
    assert figures_us["overall"]["objection_rate"] is not None


def test_an_attachment_arrives_intact_and_verified_on_the_importing_side(
    us: httpx.Client, cn: httpx.Client
) -> None:
    pdf = b"%PDF-1.4\n% export licence RA0123456 (test)\n"
    attachment = {
        "filename": "export-licence.pdf",
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(pdf).decode(),
    }
    sent = _lodge(us, respond_by=LATER, attachments=[attachment])
    [stored] = sent["attachments"]
    assert stored["sha256"] == hashlib.sha256(pdf).hexdigest()
    received = wait_until(lambda: _find(cn, sent["global_id"]), "the notification on CN")
    [arrived] = received["attachments"]
    assert arrived["verified"] is True and arrived["sha256"] == stored["sha256"]
    download = cn.get(f"{PEN}/{received['id']}/attachments/{arrived['id']}")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["x-content-sha256"] == stored["sha256"]
    refused = us.post(
        PEN, json=form(attachments=[{**attachment, "content_base64": "bm90IHBkZg=="}])
    )
    assert refused.status_code == 422 and "does not look like application/pdf" in refused.text


def test_registers_saved_before_the_peering_reach_the_new_peer_on_both_sides(
    tmp_path: Path, database_url: str, second_database_url: str
) -> None:
    pair = Pair(
        make_node(tmp_path, "US", database_url), make_node(tmp_path, "CN", second_database_url)
    )
    try:
        _regulators(pair)
        for node in (pair.us, pair.cn):
            node.start()
        us, cn = pair.us.client("regulator"), pair.cn.client("regulator")
        registers = {
            "US": {"substance": "ephedrine", "annual_kg": "100", "citation": "US register"},
            "CN": {"substance": "P-2-P", "annual_kg": "5", "citation": "CN register"},
        }
        for client, name in ((us, "US"), (cn, "CN")):
            saved = client.put(f"{PEN}/register", json={"year": 2026, "entries": [registers[name]]})
            assert saved.status_code == 200, saved.text
        peer(pair.us, pair.cn)  # US invites (its side answers the request), CN accepts
        for client, other in ((us, "CN"), (cn, "US")):
            held = wait_until(
                lambda client=client, other=other: [
                    e for e in client.get(f"{PEN}/register").json() if e["node"] == other
                ],
                f"the register of {other} after peering",
            )
            assert [(e["year"], e["substance"], e["annual_kg"]) for e in held] == [
                (2026, registers[other]["substance"], registers[other]["annual_kg"])
            ]
    finally:
        pair.close()

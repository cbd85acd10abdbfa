"""Pre-export notifications in-process on one node (US), with CN as a peer known only by
its key: what the API serves, and what the inbox accepts from CN. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import PeerInbound
from liaison.store.notification_tables import PenEvent, PenNotification
from liaison.web.app import create_app
from support import UsNode, batch_from_cn, us_with_stopped_cn

PASSWORD = "regulator password"


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    users = [
        ("rita", PASSWORD, "regulator", "DEA Diversion Control"),
        ("olivia", PASSWORD, "officer", "DEA"),
    ]
    with us_with_stopped_cn(tmp_path / "us", database_url, "DEA", users) as node:
        yield node


def _api(us: UsNode, username: str = "rita") -> TestClient:
    """The node's app without its lifespan: no delivery worker tries to reach CN."""
    client = TestClient(create_app(us.config), base_url="http://testserver")
    token = client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def form(**changes: Any) -> dict[str, Any]:
    body = {
        "importing_peer": "CN",
        "exporter": {
            "name": "Acme Fine Chemicals",
            "address": "1 Main St, Newark NJ",
            "licence": "RA0123456",
        },
        "importer": {
            "name": "Tianjin Pharma Co.",
            "address": "8 Binhai Rd, Tianjin",
            "licence": "TJ-2026-77",
        },
        "substance": "4-anilinopiperidine",
        "trade_name": "4-AP",
        "quantity": "25",
        "unit": "kg",
        "form": "powder",
        "packaging": "5 fibre drums of 5 kg",
        "ship_date": "2026-12-15",
        "route": ["US", "CN"],
        "port_of_exit": "Newark",
        "port_of_entry": "Tianjin",
        "transport_mode": "sea",
        "end_use": "manufacture of an approved analgesic",
        "export_authorisation": "EXP-2026-001",
        "if_no_reply": "does_not_proceed",
    }
    return {**body, **changes}


def _next_seq(us: UsNode) -> int:
    with us.database.session() as session:
        return 1 + (session.scalar(sa.select(PeerInbound.last_applied_seq)) or 0)


def _notification_record(us: UsNode, **declared: Any) -> dict[str, Any]:
    checked = form(**declared)
    del checked["importing_peer"]
    checked.update(
        {
            "consignee": None,
            "transits": [],
            "free_zones": [],
            "shipments": 1,
            "period_months": None,
        }
    )
    payload = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:00+00:00",
        "importing_node": "US",
        "from_agency": "NMPA",
        "to_agency": "DEA",
        "lodged_by": "wang",
        "respond_by": "2026-12-13T10:00:00+00:00",
        "declared": {**checked, "importer": form()["exporter"], "exporter": form()["importer"]},
    }
    return {"seq": _next_seq(us), "type": "pen.notification", "payload": payload}


def _step_record(
    us: UsNode, record_type: str, notification: str, step: str, **more: Any
) -> dict[str, Any]:
    payload = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "notification": notification,
        "created_at": "2026-11-29T10:00:00+00:00",
        "step": step,
        "text": "",
        "outcome": None,
        "incident": None,
        "quantity": None,
        "author": "wang",
        "author_agency": "NMPA",
        **more,
    }
    return {"seq": _next_seq(us), "type": record_type, "payload": payload}


def _refusals(us: UsNode) -> list[str]:
    with us.database.session() as session:
        return list(
            session.scalars(
                sa.select(AuditEntry.detail).where(AuditEntry.action == "federation.record_refused")
            )
        )


def test_a_lodged_notification_is_screened_pending_and_queued_for_the_peer(us: UsNode) -> None:
    client = _api(us)
    response = client.post("/api/v1/pre-export-notifications", json=form())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending" and body["direction"] == "outgoing"
    assert body["screening"]["jurisdictions"]["US"]["status"] == "precursor"
    assert body["screening"]["alerts"] == []
    assert body["screening"]["as_of"] == "2026-12-15"
    with us.database.session() as session:
        stored = session.scalar(sa.select(PenNotification))
        assert stored is not None and stored.importing_node == "CN"
    listed = client.get("/api/v1/pre-export-notifications", params={"direction": "outgoing"})
    assert [item["global_id"] for item in listed.json()["items"]] == [body["global_id"]]
    assert client.get(
        "/api/v1/pre-export-notifications", params={"direction": "incoming"}
    ).json() == {"items": []}


def test_the_exporting_side_may_not_answer_its_own_notification(us: UsNode) -> None:
    client = _api(us)
    sent = client.post("/api/v1/pre-export-notifications", json=form()).json()
    for path, body in (
        ("acknowledge", None),
        ("response", {"decision": "no_objection"}),
    ):
        refused = client.post(f"/api/v1/pre-export-notifications/{sent['id']}/{path}", json=body)
        assert refused.status_code == 409, refused.text
        assert "only the importing side" in refused.json()["detail"]


def test_officers_read_but_do_not_lodge(us: UsNode) -> None:
    officer = _api(us, "olivia")
    assert officer.post("/api/v1/pre-export-notifications", json=form()).status_code == 403
    assert officer.get("/api/v1/pre-export-notifications").status_code == 200


def test_a_notification_from_the_peer_is_screened_here_and_answered(us: UsNode) -> None:
    record = _notification_record(us, substance="fentanyl", trade_name="Fentanyl citrate")
    answer = batch_from_cn(us.database, us.node, us.cn_key, [record])
    assert (answer["applied"], answer["refused"]) == (1, 0), answer
    client = _api(us)
    [item] = client.get(
        "/api/v1/pre-export-notifications", params={"direction": "incoming"}
    ).json()["items"]
    assert [a["code"] for a in item["screening"]["alerts"]] == ["controlled_drug"]
    objection = client.post(
        f"/api/v1/pre-export-notifications/{item['id']}/response", json={"decision": "objection"}
    )
    assert objection.status_code == 422 and "reason" in objection.json()["detail"]
    withdraw = client.post(
        f"/api/v1/pre-export-notifications/{item['id']}/withdraw", json={"reason": "no"}
    )
    assert withdraw.status_code == 409 and "only the exporting side" in withdraw.json()["detail"]
    reads_before = _audited(us, "pen.read")
    answered = client.post(
        f"/api/v1/pre-export-notifications/{item['id']}/response",
        json={"decision": "objection", "reason": "fentanyl is a drug, not a precursor"},
    )
    assert answered.status_code == 200, answered.text
    detail = answered.json()
    assert detail["status"] == "objection" and detail["acknowledged_at"] is not None
    assert [h["step"] for h in detail["history"]] == ["objection"]
    # The answer returns the notification under the step's audit entry, not a second read.
    assert _audited(us, "pen.read") == reads_before
    assert _audited(us, "pen.step") == 1


def _audited(us: UsNode, action: str) -> int:
    with us.database.session() as session:
        return int(
            session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == action)) or 0
        )


def test_the_inbox_refuses_an_exporter_step_from_the_importing_side(us: UsNode) -> None:
    """CN may answer US's notification, never withdraw it or record its outcome."""
    client = _api(us)
    sent = client.post("/api/v1/pre-export-notifications", json=form()).json()
    withdraw = _step_record(us, "pen.update", sent["global_id"], "withdraw", text="mine now")
    batch_from_cn(us.database, us.node, us.cn_key, [withdraw])
    decision = _step_record(us, "pen.response", sent["global_id"], "no_objection")
    batch_from_cn(us.database, us.node, us.cn_key, [decision])
    with us.database.session() as session:
        steps = session.scalars(sa.select(PenEvent.kind)).all()
    assert steps == ["no_objection"]
    assert len(_refusals(us)) == 1
    after = client.get(f"/api/v1/pre-export-notifications/{sent['id']}").json()
    assert after["status"] == "no_objection" and after["withdrawn_at"] is None


def _browser(us: UsNode) -> tuple[TestClient, str]:
    client = TestClient(create_app(us.config), base_url="http://testserver")
    login = client.get("/login")
    client.post(
        "/login",
        data={
            "username": "rita",
            "password": PASSWORD,
            "csrf_token": _token(login.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    return client, _token(client.get("/notifications").text)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _page_form(**changes: str) -> dict[str, str]:
    data = {
        "importing_peer": "CN",
        "exporter_name": "Acme Fine Chemicals",
        "exporter_address": "1 Main St, Newark NJ",
        "exporter_licence": "RA0123456",
        "importer_name": "Tianjin Pharma Co.",
        "importer_address": "8 Binhai Rd",
        "importer_licence": "TJ-77",
        "substance": "fentanyl",
        "trade_name": "Fentanyl citrate",
        "quantity": "2",
        "unit": "kg",
        "form": "powder",
        "packaging": "tin",
        "ship_date": "2026-12-20",
        "route": "US CN",
        "port_of_exit": "JFK",
        "port_of_entry": "PEK",
        "transport_mode": "air",
        "end_use": "hospital analgesia",
        "export_authorisation": "EXP-9",
        "if_no_reply": "does_not_proceed",
    }
    return {**data, **changes}


def test_the_form_shows_the_screening_before_the_notification_is_lodged(us: UsNode) -> None:
    client, csrf = _browser(us)
    screened = client.post(
        "/notifications/new", data={**_page_form(), "csrf_token": csrf, "action": "screen"}
    )
    assert screened.status_code == 200, screened.text
    assert 'data-alert="controlled_drug"' in screened.text
    assert 'value="lodge"' in screened.text
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PenNotification)) == 0
    lodged = client.post(
        "/notifications/new",
        data={**_page_form(), "csrf_token": csrf, "action": "lodge"},
        files={"attachments": ("licence.pdf", b"%PDF-1.4 licence", "application/pdf")},
        follow_redirects=False,
    )
    assert lodged.status_code == 303, lodged.text
    detail = client.get(lodged.headers["location"])
    assert detail.status_code == 200
    assert "licence.pdf</a>" in detail.text
    assert 'data-status="pending"' in detail.text and "data:image/svg+xml;base64," in detail.text
    desk = client.get("/notifications", params={"direction": "outgoing"})
    assert "fentanyl" in desk.text and "controlled_drug" in desk.text
    figures = client.get("/notifications/figures")
    assert figures.status_code == 200 and "<svg" in figures.text
    chinese = client.get("/notifications/figures", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200


def _csv(rows: list[dict[str, str]]) -> bytes:
    header = list(_page_form())
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(f'"{row.get(name, "")}"' for name in header))
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_csv_batch_lodges_the_good_rows_and_names_the_bad_ones(us: UsNode) -> None:
    rows = [
        _page_form(substance="4-piperidone", trade_name="Piperidone"),
        _page_form(quantity="lots"),
        _page_form(route="US China"),
        _page_form(substance="4-anilinopiperidine", exporter_name="Zhōngwén Chemicals 中文"),
    ]
    client = _api(us)
    response = client.post(
        "/api/v1/pre-export-notifications/import",
        files={"file": ("batch.csv", _csv(rows), "text/csv")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [n["substance"] for n in body["lodged"]] == ["4-piperidone", "4-anilinopiperidine"]
    assert body["lodged"][1]["declared"]["exporter"]["name"] == "Zhōngwén Chemicals 中文"
    assert [(e["row"], e["error"]) for e in body["errors"]] == [
        (3, "quantity must be a number (got 'lots')"),
        (4, "route: 'CHINA' is not a two-letter country code"),
    ]
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PenNotification)) == 2


def test_a_csv_batch_with_an_unknown_column_is_refused_naming_it(us: UsNode) -> None:
    content = b"importing_peer,substanse\nCN,ephedrine\n"
    response = _api(us).post(
        "/api/v1/pre-export-notifications/import",
        files={"file": ("batch.csv", content, "text/csv")},
    )
    assert response.status_code == 422
    assert "row 1: unknown column(s) substanse" in response.json()["detail"]


def test_a_regulator_keeps_the_register_on_the_figures_page(us: UsNode) -> None:
    client, csrf = _browser(us)
    year = datetime.now(UTC).year
    saved = client.post(
        "/notifications/register",
        data={
            "csrf_token": csrf,
            "year": str(year),
            "lines": "ephedrine | 800 | national estimate\nP-2-P | | article 12(10)(a)\n",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    register = _api(us).get("/api/v1/pre-export-notifications/register").json()
    assert [(e["substance"], e["annual_kg"]) for e in register] == [
        ("P-2-P", None),
        ("ephedrine", "800"),
    ]
    page = client.get("/notifications/figures")
    assert "ephedrine | 800 | national estimate" in page.text
    bad = client.post(
        "/notifications/register",
        data={"csrf_token": csrf, "year": str(year), "lines": "ephedrine | lots |"},
    )
    assert bad.status_code == 422 and "annual_kg must be a number" in bad.text


def test_a_precursor_that_is_also_a_drug_somewhere_says_so(us: UsNode) -> None:
    """P-2-P: listed in UN Table I and by China, a controlled substance in the US."""
    screened = _api(us).post(
        "/api/v1/pre-export-notifications/screen",
        json={"substance": "P-2-P", "ship_date": "2026-12-15"},
    )
    assert screened.status_code == 200, screened.text
    [alert] = screened.json()["alerts"]
    assert alert["code"] == "controlled_drug"
    assert alert["text"].startswith("also a controlled drug in US (a listed precursor in CN, UN)")


def test_reminders_show_in_the_navigation_and_on_my_desk_for_regulators_only(
    us: UsNode,
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    due_soon = _notification_record(us, substance="ephedrine", trade_name="Due soon")
    due_soon["payload"]["respond_by"] = soon
    batch_from_cn(us.database, us.node, us.cn_key, [due_soon])
    not_yet = _notification_record(us, substance="safrole", trade_name="Not yet")
    not_yet["payload"]["respond_by"] = later
    batch_from_cn(us.database, us.node, us.cn_key, [not_yet])
    api = _api(us)
    sent = api.post("/api/v1/pre-export-notifications", json=form()).json()
    question = _step_record(
        us, "pen.response", sent["global_id"], "information_requested", text="Which plant?"
    )
    batch_from_cn(us.database, us.node, us.cn_key, [question])

    browser, _ = _browser(us)
    page = browser.get("/desk").text
    badge = re.search(r'id="nav-pen-reminders"[^>]*>([^<]+)<', page)
    assert badge and badge.group(1) == "2 reminders"
    panel = page[page.index('id="desk-pen-reminders"') :]
    panel = panel[: panel.index("</section>")]
    assert "ephedrine" in panel
    assert "safrole" not in panel  # due in 30 days: not yet a reminder
    assert "CN asks for information" in panel and "4-anilinopiperidine" in panel

    with us.database.session() as session:
        due_id = session.scalars(
            sa.select(PenNotification.id).where(
                PenNotification.global_id == due_soon["payload"]["global_id"]
            )
        ).one()
    answered = api.post(
        f"/api/v1/pre-export-notifications/{due_id}/response", json={"decision": "no_objection"}
    )
    assert answered.status_code == 200, answered.text
    badge = re.search(r'id="nav-pen-reminders"[^>]*>([^<]+)<', browser.get("/desk").text)
    assert badge and badge.group(1) == "1 reminder"

    officer = TestClient(create_app(us.config), base_url="http://testserver")
    login = officer.get("/login")
    officer.post(
        "/login",
        data={"username": "olivia", "password": PASSWORD, "csrf_token": _token(login.text)},
    )
    officer_desk = officer.get("/desk").text
    assert "nav-pen-reminders" not in officer_desk and "desk-pen-reminders" not in officer_desk

"""The incident edit page (a revision, as the API makes), attachments through the web
forms, the incidents panel of the desk, and the dashboard charts as PNG with Chinese text,
on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from integration.conftest import Accounts
from liaison.config import NodeConfig
from liaison.services.incidents import SeizureDashboard
from liaison.services.incidents.queries import SeizureRow
from liaison.store import Database
from liaison.store.audit import AuditEntry
from liaison.web.ui.incidents import CHART_WIDTH, chart_png

PDF = b"%PDF-1.4\n% a seizure report\n"


def _report(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "kind": "seizure",
        "occurred_on": "2026-03-14",
        "country": "US",
        "place": "Memphis hub",
        "conveyance": "express_courier",
        "route": ["CN", "US"],
        "items": [{"substance": "caffeine", "quantity": 500, "unit": "g"}],
        **fields,
    }
    response = client.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _actions(node: NodeConfig, action: str) -> list[dict[str, Any]]:
    database = Database(node.database_url)
    try:
        with database.session() as session:
            return [
                json.loads(detail)
                for detail in session.execute(
                    sa.select(AuditEntry.detail).where(AuditEntry.action == action)
                ).scalars()
            ]
    finally:
        database.dispose()


def test_the_edit_page_saves_a_new_version_and_keeps_the_old_values(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    created = _report(
        client, accounts.bearer(client, "olivia"), narrative="First account\nby the courier"
    )
    path = f"/incidents/{created['id']}/edit"
    token = accounts.browser_login(client, "olivia")
    page = client.get(path)
    assert page.status_code == 200
    assert 'value="CN&gt;US"' in page.text and "First account" in page.text
    unchanged = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-03-14",
            "place": "Memphis hub",
            "conveyance": "express_courier",
            "route": "CN>US",
            "narrative": "First account\r\nby the courier",  # as a browser sends it
            "handling_code": "none",
        },
        follow_redirects=False,
    )
    assert unchanged.status_code == 422 and "Nothing was changed." in unchanged.text
    saved = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-03-15",
            "place": "Memphis hub",
            "conveyance": "express_courier",
            "route": "cn>mx>us",
            "narrative": "Corrected account",
            "handling_code": "none",
            "urgent": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    view = client.get(f"/incidents/{created['id']}")
    assert "Corrected account" in view.text and 'id="versions"' in view.text
    detail = client.get(
        f"/api/v1/incidents/{created['id']}", headers=accounts.bearer(client, "olivia")
    ).json()
    assert (detail["version"], detail["route"], detail["urgent"]) == (2, ["CN", "MX", "US"], True)
    assert detail["revisions"][0]["previous"] == {
        "occurred_on": "2026-03-14",
        "route": "CN>US",
        "narrative": "First account\nby the courier",
        "urgent": False,
    }
    assert _actions(node, "incident.revised")[-1]["fields"] == [
        "narrative",
        "occurred_on",
        "route",
        "urgent",
    ]
    chinese = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert "编辑事件" in chinese.text and "保存为新版本" in chinese.text

    # An analyst may read the incident but not edit it.
    accounts.browser_login(client, "anna")
    assert client.get(path).status_code == 403
    assert (
        'href="/incidents/{}/edit"'.format(created["id"])
        not in client.get(f"/incidents/{created['id']}").text
    )


def test_the_edit_page_changes_the_items_and_entities_and_keeps_the_version_before(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    created = _report(
        client,
        accounts.bearer(client, "olivia"),
        entities=[{"kind": "phone", "value": "+1 202 555 0143", "role": "consignee"}],
    )
    path = f"/incidents/{created['id']}/edit"
    token = accounts.browser_login(client, "olivia")
    page = client.get(path)
    assert 'name="item0_substance" value="caffeine"' in page.text
    assert 'name="item1_substance" value=""' in page.text  # a row to add one
    assert 'name="entity0_value" value="+1 202 555 0143"' in page.text
    header = {
        "csrf_token": token,
        "kind": "seizure",
        "occurred_on": "2026-03-14",
        "place": "Memphis hub",
        "conveyance": "express_courier",
        "route": "CN>US",
        "handling_code": "none",
    }
    # The laboratory says the powder was fentanyl, not caffeine; a second item is added and
    # the phone number is cleared.
    saved = client.post(
        path,
        data={
            **header,
            "item0_substance": "fentanyl",
            "item0_quantity": "0.5",
            "item0_unit": "kg",
            "item0_purity": "12",
            "item1_substance": "4-ANPP",
            "item1_quantity": "20",
            "item1_unit": "g",
            "entity0_kind": "phone",
            "entity0_value": "",
        },
        files={"attachments": ("lab report.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    detail = client.get(
        f"/api/v1/incidents/{created['id']}", headers=accounts.bearer(client, "olivia")
    ).json()
    assert detail["version"] == 2 and detail["entities"] == []
    fentanyl, anpp = detail["items"]
    assert (fentanyl["substance"], fentanyl["grams"], fentanyl["purity_percent"]) == (
        "fentanyl",
        500,
        12,
    )
    assert fentanyl["verdicts"]["US"]["status"] == "controlled"
    assert anpp["verdicts"]["US"]["status"] != "no_match"
    [revision] = detail["revisions"]
    assert [
        (i["substance"], i["verdicts"]["US"]["status"]) for i in revision["previous"]["items"]
    ] == [("caffeine", "no_match")]
    assert [e["value"] for e in revision["previous"]["entities"]] == ["+1 202 555 0143"]
    [attachment] = detail["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("lab report.pdf", len(PDF))
    assert revision["previous"]["attachments_added"] == []
    [added] = revision["changes"]["attachments_added"]
    assert added["filename"] == "lab report.pdf" and "content" not in added  # in its row
    assert _actions(node, "incident.revised")[-1]["fields"] == [
        "attachments_added",
        "entities",
        "items",
    ]
    view = client.get(f"/incidents/{created['id']}")
    versions = view.text[view.text.index('id="versions"') :]
    assert "caffeine" in versions and "fentanyl" in versions and "+1 202 555 0143" in versions
    assert "lab report.pdf" in versions

    # The same rows sent again change nothing.
    again = client.post(
        path,
        data={
            **header,
            "item0_substance": "fentanyl",
            "item0_quantity": "0.5",
            "item0_unit": "kg",
            "item0_purity": "12",
            "item1_substance": "4-ANPP",
            "item1_quantity": "20",
            "item1_unit": "g",
        },
        follow_redirects=False,
    )
    assert again.status_code == 422 and "Nothing was changed." in again.text
    bad = client.post(
        path,
        data={**header, "item0_substance": "fentanyl", "item0_quantity": "-1", "item0_unit": "g"},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "quantity" in bad.text


def test_attachments_through_the_forms_and_the_api(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    token = accounts.browser_login(client, "olivia")
    saved = client.post(
        "/incidents/new",
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-02-03",
            "country": "US",
            "conveyance": "postal",
            "item0_substance": "caffeine",
            "item0_quantity": "2",
            "item0_unit": "kg",
            "handling_code": "none",
        },
        files=[("attachments", ("report.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    incident_id = int(saved.headers["location"].rsplit("/", 1)[1])
    refused = client.post(
        f"/incidents/{incident_id}/follow-ups",
        data={"csrf_token": token, "body": "Photo"},
        files=[("attachments", ("photo.png", b"not a png", "image/png"))],
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "does not look like image/png" in refused.text
    follow = client.post(
        f"/incidents/{incident_id}/follow-ups",
        data={"csrf_token": token, "body": "Lab report attached"},
        files=[("attachments", ("lab.txt", "纯度 80%".encode(), "text/plain"))],
        follow_redirects=False,
    )
    assert follow.status_code == 303, follow.text
    page = client.get(f"/incidents/{incident_id}")
    assert "report.pdf" in page.text and "lab.txt" in page.text

    headers = accounts.bearer(client, "olivia")
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=headers).json()
    [on_incident] = detail["attachments"]
    [on_follow_up] = detail["follow_ups"][0]["attachments"]
    assert (on_incident["filename"], on_incident["size"], on_incident["verified"]) == (
        "report.pdf",
        len(PDF),
        True,
    )
    body = client.get(
        f"/api/v1/incidents/{incident_id}/attachments/{on_follow_up['id']}", headers=headers
    )
    assert body.status_code == 200 and body.content == "纯度 80%".encode()
    assert body.headers["x-content-sha256"] == on_follow_up["sha256"]
    elsewhere = _report(client, headers)
    assert (
        client.get(
            f"/api/v1/incidents/{elsewhere['id']}/attachments/{on_incident['id']}", headers=headers
        ).status_code
        == 404
    )
    read = _actions(node, "incident.attachment_read")
    assert read == [
        {
            "follow_up": detail["follow_ups"][0]["global_id"],
            "sha256": on_follow_up["sha256"],
            "filename": "lab.txt",
        }
    ]

    # Over the API: one base64 attachment on a report; too many are refused.
    with_file = _report(
        client,
        headers,
        attachments=[
            {
                "filename": "scan.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    )
    assert [a["filename"] for a in with_file["attachments"]] == ["scan.pdf"]
    six = [
        {"filename": f"{n}.txt", "content_type": "text/plain", "content_base64": "eA=="}
        for n in range(6)
    ]
    too_many = client.post(
        f"/api/v1/incidents/{incident_id}/follow-ups",
        json={"body": "six", "attachments": six},
        headers=headers,
    )
    assert too_many.status_code == 422


def test_the_desk_panel_and_the_png_charts(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    _report(client, accounts.bearer(client, "olivia"))
    accounts.browser_login(client, "olivia")
    desk = client.get("/desk")
    assert desk.status_code == 200 and 'id="panel-incidents"' in desk.text
    assert "No incident from the peer awaits a follow-up." in desk.text  # own ones do not wait

    png = client.get("/dashboard/seizures.png", params={"group_by": "month", "measure": "grams"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.width == 2 * CHART_WIDTH
    viewed = _actions(node, "incident.dashboard_viewed")
    assert viewed[-1] == {"group_by": "month", "date_from": None, "date_to": None, "groups": 1}


def test_chinese_labels_are_drawn_in_the_png_not_as_empty_boxes() -> None:
    def board(key: str) -> SeizureDashboard:
        return SeizureDashboard(
            "substance", date(2026, 1, 1), None, [SeizureRow(key, own_count=3, peer_count=1)], []
        )

    # Missing glyphs are drawn as identical boxes: two different words would look the same.
    assert chart_png(board("芬太尼"), "count") != chart_png(board("氯胺酮"), "count")

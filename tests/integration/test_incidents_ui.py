"""Incident pages without scripts: report through the form, view with the verdicts and
depiction, follow up, search an entity, the dashboard with its SVG and CSV, in Chinese."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_report_view_follow_up_search_and_dashboard_pages(
    client: TestClient, accounts: Accounts
) -> None:
    token = accounts.browser_login(client, "olivia")
    form = client.get("/incidents/new")
    assert form.status_code == 200 and 'name="item0_substance"' in form.text
    bad = client.post(
        "/incidents/new",
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-02-03",
            "country": "US",
            "item0_substance": FENTANYL,
            "item0_quantity": "1.5",
            "item0_unit": "kg",
            "entity0_kind": "bank_account",
            "entity0_value": "GB82WEST12345698765431",
        },
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "not a valid IBAN" in bad.text
    assert 'value="GB82WEST12345698765431"' in bad.text  # the officer's input is kept
    saved = client.post(
        "/incidents/new",
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-02-03",
            "country": "US",
            "place": "Memphis hub",
            "conveyance": "express_courier",
            "route": "CN>US",
            "item0_substance": FENTANYL,
            "item0_quantity": "1.5",
            "item0_unit": "kg",
            "item0_purity": "40",
            "entity0_kind": "company",
            "entity0_value": "Acme Trading Co., Ltd.",
            "entity0_role": "consignor",
            "handling_code": "info_only",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    assert page.status_code == 200
    assert "controlled" in page.text and "1500 g" in page.text
    assert "data:image/svg+xml" in page.text  # the structure depicted
    assert "for information only" in page.text
    incident_id = saved.headers["location"].rsplit("/", 1)[1]
    follow = client.post(
        f"/incidents/{incident_id}/follow-ups",
        data={"csrf_token": token, "body": "Courier account closed", "status": "no_action"},
        follow_redirects=False,
    )
    assert follow.status_code == 303
    assert "Courier account closed" in client.get(f"/incidents/{incident_id}").text

    listed = client.get("/incidents", params={"kind": "seizure"})
    assert listed.status_code == 200 and "Memphis hub" in listed.text
    found = client.get("/entities", params={"kind": "company", "value": "ACME TRADING LTD"})
    assert found.status_code == 200 and f"/incidents/{incident_id}" in found.text

    board = client.get("/dashboard", params={"group_by": "conveyance"})
    assert board.status_code == 200 and "<svg" in board.text and "express_courier" in board.text
    assert "2 mg" in board.text  # the dose assumption in the footnote
    svg = client.get("/dashboard/seizures.svg", params={"group_by": "month", "measure": "grams"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and "2026-02" in svg.text
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/seizures.csv").text)))
    assert rows[0][0] == "month" and rows[1][:4] == ["2026-02", "1", "1500.0", "300000.0"]

    chinese = client.get("/dashboard", headers={"Accept-Language": "zh-CN"})
    assert "缴获统计面板" in chinese.text
    # The footnote's assumptions in Chinese too; the cited source stays as written.
    assert (
        "fentanyl</span> 的剂量：每剂 2 毫克" in chinese.text
        and "未填报的按 100% 计" in chinese.text
    )
    assert "converted to grams" not in chinese.text

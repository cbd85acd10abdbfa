"""Incidents over the API on one node, on SQLite and PostgreSQL: report with the verdict
snapshot, list filters, follow-ups, authorization, audit, import, export, entity search,
dose equivalents and the dashboard against a hand-computed set."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.conftest import Accounts
from liaison.config import NodeConfig
from liaison.store import Database
from liaison.store.audit import AuditEntry

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def _incident(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "seizure",
        "occurred_on": "2026-03-14",
        "country": "US",
        "place": "Los Angeles",
        "conveyance": "express_courier",
        "route": ["CN", "MX", "US"],
        "narrative": "Parcel declared as printer ink",
        "items": [
            {"substance": FENTANYL, "quantity": 2, "unit": "kg", "purity_percent": 50},
            {"substance": "caffeine", "quantity": 500, "unit": "g"},
        ],
        "entities": [
            {"kind": "company", "value": "Acme Trading Co., Ltd.", "role": "consignor"},
            {
                "kind": "crypto_wallet",
                "chain": "ethereum",
                "value": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "role": "payee",
            },
        ],
    }
    return {**body, **fields}


def _post(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json=_incident(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _actions(node: NodeConfig) -> list[tuple[str, str | None]]:
    database = Database(node.database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                sa.select(AuditEntry.action, AuditEntry.actor).order_by(AuditEntry.seq)
            ).all()
            return [(action, actor) for action, actor in rows]
    finally:
        database.dispose()


def test_an_incident_is_reported_with_its_verdict_snapshot_and_read_back(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    officer = accounts.bearer(client, "olivia")
    created = _post(client, officer)
    assert created["origin"] == "US" and created["global_id"] and created["id"]
    fentanyl, caffeine = created["items"]
    assert fentanyl["grams"] == 2000 and fentanyl["unit"] == "kg" and fentanyl["quantity"] == 2
    assert fentanyl["as_of"]
    assert fentanyl["verdicts"]["US"]["status"] == "controlled"
    assert fentanyl["verdicts"]["US"]["basis"]
    assert caffeine["verdicts"]["US"]["status"] == "no_match"
    assert created["route"] == ["CN", "MX", "US"]
    company, wallet = created["entities"]
    assert company["normalized"] == "acme trading"
    assert wallet["normalized"] == "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"

    analyst = accounts.bearer(client, "anna")
    read = client.get(f"/api/v1/incidents/{created['id']}", headers=analyst)
    assert read.status_code == 200, read.text
    assert read.json()["follow_ups"] == [] and read.json()["items"] == created["items"]

    follow = client.post(
        f"/api/v1/incidents/{created['id']}/follow-ups",
        json={"body": "Consignee questioned", "status": "investigation_opened"},
        headers=officer,
    )
    assert follow.status_code == 201, follow.text
    [follow_up] = client.get(f"/api/v1/incidents/{created['id']}", headers=analyst).json()[
        "follow_ups"
    ]
    assert (follow_up["body"], follow_up["status"], follow_up["origin"]) == (
        "Consignee questioned",
        "investigation_opened",
        "US",
    )
    actions = _actions(node)
    assert ("incident.reported", "olivia") in actions
    assert ("incident.read", "anna") in actions
    assert ("incident.follow_up_posted", "olivia") in actions


def test_authorization_by_role(client: TestClient, accounts: Accounts) -> None:
    analyst = accounts.bearer(client, "anna")
    auditor = accounts.bearer(client, "audrey")
    refused = client.post("/api/v1/incidents", json=_incident(), headers=analyst)
    assert refused.status_code == 403, refused.text
    assert client.get("/api/v1/incidents", headers=auditor).status_code == 403
    assert client.get("/api/v1/entities?value=x", headers=auditor).status_code == 403
    assert client.get("/api/v1/incidents").status_code == 401
    assert client.get("/api/v1/incidents", headers=analyst).status_code == 200


def test_bad_entities_and_items_are_refused_with_the_reason(
    client: TestClient, accounts: Accounts
) -> None:
    officer = accounts.bearer(client, "olivia")
    bad_iban = client.post(
        "/api/v1/incidents",
        json=_incident(entities=[{"kind": "bank_account", "value": "GB82WEST12345698765431"}]),
        headers=officer,
    )
    assert bad_iban.status_code == 422, bad_iban.text
    assert "entities[0]" in bad_iban.text and "not a valid IBAN" in bad_iban.text
    bad_wallet = client.post(
        "/api/v1/incidents",
        json=_incident(
            entities=[
                {
                    "kind": "crypto_wallet",
                    "chain": "ethereum",
                    "value": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
                }
            ]
        ),
        headers=officer,
    )
    assert bad_wallet.status_code == 422 and "EIP-55" in bad_wallet.text
    bad_unit = client.post(
        "/api/v1/incidents",
        json=_incident(items=[{"substance": "x", "quantity": 1, "unit": "stone"}]),
        headers=officer,
    )
    assert bad_unit.status_code == 422 and "unit" in bad_unit.text
    assert client.get("/api/v1/incidents", headers=officer).json()["items"] == []


def test_the_list_filters(client: TestClient, accounts: Accounts, node: NodeConfig) -> None:
    officer = accounts.bearer(client, "olivia")
    seizure = _post(client, officer)
    other = _post(
        client,
        officer,
        kind="suspicious_shipment",
        occurred_on="2025-07-01",
        country="CN",
        narrative="Declared as dye",
        items=[{"substance": "caffeine", "quantity": 1, "unit": "kg"}],
    )

    def ids(**params: str) -> list[int]:
        response = client.get("/api/v1/incidents", params=params, headers=officer)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [seizure["id"], other["id"]]
    assert ids(kind="seizure") == [seizure["id"]]
    assert ids(substance_status="controlled") == [seizure["id"]]
    assert ids(**{"from": "2026-01-01"}) == [seizure["id"]]
    assert ids(to="2025-12-31") == [other["id"]]
    assert ids(country="CN") == [other["id"]]
    assert ids(origin="US") == [seizure["id"], other["id"]]
    assert ids(origin="CN") == []
    assert ids(q="printer ink") == [seizure["id"]]
    assert ids(q="CAFFEINE") == [seizure["id"], other["id"]]
    assert ("incident.listed", "olivia") in _actions(node)


def test_import_stores_the_good_rows_and_reports_the_bad_ones_by_spreadsheet_row(
    client: TestClient, accounts: Accounts
) -> None:
    officer = accounts.bearer(client, "olivia")
    existing = _post(client, officer)
    text = (
        "reference,kind,occurred_on,country,substance,quantity,unit,route,purity_percent\n"
        "A,seizure,2026-01-02,US,fentanyl,1,kg,CN>US,80\n"  # row 2
        "A,seizure,2026-01-02,US,caffeine,2,lb,CN>US,\n"  # row 3: second item of A
        "B,seizure,2026-01-03,US,fentanyl,ten,kg,,\n"  # row 4: bad quantity
        "C,seizure,not a date,US,fentanyl,1,kg,,\n"  # row 5: bad date
        "D,seizure,2026-01-04,USA,fentanyl,1,kg,,\n"  # row 6: bad country
        "E,seizure,2026-01-05,US,fentanyl,1,stone,,\n"  # row 7: bad unit
        "F,,2026-01-05,US,fentanyl,1,g,,\n"  # row 8: no kind
        "G,stopped_shipment,2026-01-06,CN,4-anilino-N-phenethylpiperidine,3,L,,\n"  # row 9
    )
    response = client.post(
        "/api/v1/incidents/import",
        files={"file": ("seizures.csv", text.encode(), "text/csv")},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["imported"] == 2
    assert [(e["row"], e["message"].split(":")[0]) for e in answer["errors"]] == [
        (4, "quantity"),
        (5, "occurred_on"),
        (6, "country"),
        (7, "items[0].unit must be one of g, kg, lb, oz, mg, L, mL, tablets, units (got 'stone')"),
        (8, "kind"),
    ]
    listed = client.get("/api/v1/incidents", headers=officer).json()["items"]
    assert len(listed) == 3
    a = next(i for i in listed if i["occurred_on"] == "2026-01-02")
    assert [(i["substance"], i["grams"]) for i in a["items"]] == [
        ("fentanyl", 1000.0),
        ("caffeine", pytest.approx(907.18474)),
    ]
    g = next(i for i in listed if i["country"] == "CN")
    assert g["items"][0]["grams"] is None and g["items"][0]["unit"] == "L"
    unchanged = client.get(f"/api/v1/incidents/{existing['id']}", headers=officer).json()
    assert unchanged["items"] == existing["items"]

    missing = client.post(
        "/api/v1/incidents/import",
        files={"file": ("x.csv", b"reference,kind\nA,seizure\n", "text/csv")},
        headers=officer,
    )
    assert missing.status_code == 422 and "row 1" in missing.text


def test_export_is_reimportable_csv(client: TestClient, accounts: Accounts) -> None:
    officer = accounts.bearer(client, "olivia")
    _post(client, officer, narrative="=HYPERLINK(1)")
    response = client.get("/api/v1/incidents/export.csv", headers=officer)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["substance"], r["unit"], r["grams"]) for r in rows] == [
        (FENTANYL, "kg", "2000"),
        ("caffeine", "g", "500"),
    ]
    assert rows[0]["narrative"].startswith("'=")  # not a formula in a spreadsheet
    assert "controlled" in rows[0]["statuses"]


def test_entity_search_finds_incidents_and_co_occurring_entities(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    officer = accounts.bearer(client, "olivia")
    first = _post(client, officer)
    second = _post(
        client,
        officer,
        entities=[
            {"kind": "company", "value": "ACME TRADING CO LTD", "role": "consignee"},
            {"kind": "phone", "value": "+86 10 6552 9988", "role": "contact"},
        ],
    )
    _post(client, officer, entities=[])
    response = client.get(
        "/api/v1/entities",
        params={"kind": "company", "value": "acme trading company limited"},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["normalized"] == "acme trading"
    assert [(m["source"], m["id"], m["role"]) for m in found["mentions"]] == [
        ("incident", first["id"], "consignor"),
        ("incident", second["id"], "consignee"),
    ]
    assert {(c["kind"], c["normalized"], c["count"]) for c in found["co_occurring"]} == {
        ("crypto_wallet", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 1),
        ("phone", "+861065529988", 1),
    }
    wallet = client.get(
        "/api/v1/entities",
        params={"kind": "crypto_wallet", "value": "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"},
        headers=officer,
    ).json()
    assert [m["id"] for m in wallet["mentions"]] == [first["id"]]
    assert ("incident.entity_searched", "olivia") in _actions(node)


def test_dose_equivalents_api(client: TestClient, accounts: Accounts) -> None:
    analyst = accounts.bearer(client, "anna")
    response = client.get(
        "/api/v1/dose-equivalents",
        params={"substance": "fentanyl", "quantity": 21000, "unit": "lb"},
        headers=analyst,
    )
    assert response.status_code == 200, response.text
    assert response.json()["doses"] == pytest.approx(4.7627e9, rel=1e-4)
    tablets = client.get(
        "/api/v1/dose-equivalents",
        params={"substance": "fentanyl", "quantity": 10, "unit": "tablets"},
        headers=analyst,
    )
    assert tablets.status_code == 422 and "not a mass" in tablets.text


def test_the_dashboard_against_a_hand_computed_set(client: TestClient, accounts: Accounts) -> None:
    officer = accounts.bearer(client, "olivia")
    # March: fentanyl 2 kg at 50% + caffeine 500 g (one incident).
    _post(client, officer)
    # March: fentanyl 1 lb, no purity (100%), by post.
    _post(
        client,
        officer,
        conveyance="postal",
        items=[{"substance": FENTANYL, "quantity": 1, "unit": "lb"}],
    )
    # April: 1000 tablets (no mass) and 10 g fentanyl at 10%.
    _post(
        client,
        officer,
        occurred_on="2026-04-02",
        items=[
            {"substance": FENTANYL, "quantity": 1000, "unit": "tablets"},
            {"substance": FENTANYL, "quantity": 10, "unit": "g", "purity_percent": 10},
        ],
    )
    # Not a seizure: not counted.
    _post(client, officer, kind="suspicious_shipment")
    # Outside the range: not counted.
    _post(client, officer, occurred_on="2025-12-31")

    def board(group_by: str) -> dict[str, dict[str, Any]]:
        response = client.get(
            "/api/v1/dashboard/seizures",
            params={"group_by": group_by, "from": "2026-01-01", "to": "2026-12-31"},
            headers=officer,
        )
        assert response.status_code == 200, response.text
        return {row["key"]: row for row in response.json()["rows"]}

    months = board("month")
    assert set(months) == {"2026-03", "2026-04"}
    march, april = months["2026-03"], months["2026-04"]
    assert march["own_count"] == 2 and march["peer_count"] == 0
    assert march["own_grams"] == pytest.approx(2000 + 500 + 453.59237)
    # fentanyl: 1000 g pure + 453.59237 g pure, 2 mg a dose.
    assert march["own_doses"] == pytest.approx((1000 + 453.59237) * 1000 / 2)
    assert april["own_count"] == 1 and april["own_grams"] == pytest.approx(10)
    assert april["own_doses"] == pytest.approx(1 * 1000 / 2)
    conveyances = board("conveyance")
    assert {k: r["own_count"] for k, r in conveyances.items()} == {
        "express_courier": 2,
        "postal": 1,
    }
    substances = board("substance")
    assert substances["caffeine"]["own_grams"] == pytest.approx(500)
    assert substances["caffeine"]["own_doses"] == 0
    assert board("route")["CN>MX>US"]["own_count"] == 3
    assert board("country")["US"]["own_count"] == 3


def test_an_edit_is_a_new_version_by_the_reporting_agency_only(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    officer = accounts.bearer(client, "olivia")
    created = _post(client, officer, handling_code="none")
    analyst = accounts.bearer(client, "anna")
    path = f"/api/v1/incidents/{created['id']}"
    assert client.patch(path, json={"narrative": "x"}, headers=analyst).status_code == 403
    unknown = client.patch(path, json={"items": []}, headers=officer)
    assert unknown.status_code == 422, unknown.text
    edited = client.patch(
        path, json={"handling_code": "no_onward", "occurred_on": "2026-03-15"}, headers=officer
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["version"], body["handling_code"], body["occurred_on"]) == (
        2,
        "no_onward",
        "2026-03-15",
    )
    assert body["revisions"][0]["previous"] == {
        "handling_code": "none",
        "occurred_on": "2026-03-14",
    }
    assert ("incident.revised", "olivia") in _actions(node)

    # The items and entities are replaced whole; the new item is identified again.
    replaced = client.patch(
        path,
        json={
            "items": [{"substance": "caffeine", "quantity": 3, "unit": "kg", "form": "powder"}],
            "entities": [{"kind": "company", "value": "Acme Trading Co., Ltd.", "role": "payer"}],
        },
        headers=officer,
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["version"] == 3
    [item] = body["items"]
    assert (item["substance"], item["grams"], item["verdicts"]["US"]["status"]) == (
        "caffeine",
        3000,
        "no_match",
    )
    assert [(e["kind"], e["role"]) for e in body["entities"]] == [("company", "payer")]
    before = body["revisions"][1]["previous"]
    assert [(i["substance"], i["verdicts"]) for i in before["items"]] == [
        (i["substance"], i["verdicts"]) for i in created["items"]
    ]
    assert before["entities"] == [
        {"kind": e["kind"], "value": e["value"], "role": e["role"], "chain": e["chain"]}
        for e in created["entities"]
    ]

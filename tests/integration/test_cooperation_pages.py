"""The cooperation overview's API, CSV, page and report on one node (both databases):
who may see it, bad periods, and a node without any shared record yet."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader

from integration.conftest import Accounts


def test_an_empty_node_shows_no_figures_and_says_nobody_is_waiting(
    client: TestClient, accounts: Accounts
) -> None:
    headers = accounts.bearer(client, accounts.users["officer"])
    document = client.get(
        "/api/v1/cooperation", headers=headers, params={"from": "2026-01-01", "to": "2026-03-31"}
    )
    assert document.status_code == 200, document.text
    body = document.json()
    assert body["months"] == ["2026-01", "2026-02", "2026-03"]
    assert [(s["key"], s["available"], s["rows"]) for s in body["series"]] == [
        ("hotline", True, []),
        ("incidents", True, []),
        ("notifications", True, []),
        ("verification", True, []),
    ]
    assert body["waiting"] == []
    exported = client.get("/api/v1/cooperation.csv", headers=headers)
    assert exported.status_code == 200
    assert exported.text.splitlines() == ["series,month,from,to,count,step,done,median_hours,note"]
    page = client.get("/cooperation", headers=headers, params={"from": "2026-01-01"})
    assert page.status_code == 200, page.text
    assert "Nothing is past its deadline on either side." in page.text
    assert 'class="cooperation-chart"' in page.text
    report = client.get("/cooperation/report", headers=headers)
    assert report.status_code == 200
    assert report.headers["content-disposition"].startswith("attachment;")
    assert "<style>" in report.text and "/static/" not in report.text


def test_a_bad_period_is_a_problem_naming_the_field(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, accounts.users["officer"])
    bad = client.get("/api/v1/cooperation", headers=headers, params={"from": "2026-13-01"})
    assert bad.status_code == 422
    assert "from" in bad.text and "2026-13-01" in bad.text
    reversed_period = client.get(
        "/api/v1/cooperation", headers=headers, params={"from": "2026-03-01", "to": "2026-01-01"}
    )
    assert reversed_period.status_code == 422
    assert "is after" in reversed_period.text
    page = client.get("/cooperation", headers=headers, params={"from": "2026-13-01"})
    assert page.status_code == 422
    assert 'id="period-error"' in page.text and "2026-13-01" in page.text


def test_only_roles_with_the_capability_see_the_overview(
    client: TestClient, accounts: Accounts
) -> None:
    auditor = accounts.bearer(client, accounts.users["auditor"])
    assert client.get("/api/v1/cooperation", headers=auditor).status_code == 403
    assert client.get("/cooperation", headers=auditor).status_code == 403
    regulator = accounts.bearer(client, accounts.users["regulator"])
    assert client.get("/api/v1/cooperation", headers=regulator).status_code == 200
    assert client.get("/api/v1/cooperation").status_code == 401


def test_the_report_prints_as_a_pdf_in_chinese_with_its_headings(
    client: TestClient, accounts: Accounts
) -> None:
    headers = accounts.bearer(client, accounts.users["officer"])
    answer = client.get(
        "/cooperation/report.pdf",
        headers={**headers, "Accept-Language": "zh-CN"},
        params={"from": "2026-01-01", "to": "2026-03-31"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="cooperation-2026-01-01-2026-03-31.pdf"'
    )
    reader = PdfReader(io.BytesIO(answer.content))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = "".join(text.split())  # extraction may break lines anywhere
    for heading in ("合作概览", "当前谁在等待谁", "双方均无逾期事项。", "图表中的日期事件"):
        assert "".join(heading.split()) in compact, heading
    assert "Cooperation overview" not in text
    # The Latin text beside it prints too (the CJK font has no digits: a fallback font).
    assert "2026-01-01" in compact and "2026-03-31" in compact

"""The server-rendered pages: identification, file screening with CSV download, users, audit."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from liaison.config import NodeConfig
from liaison.web.app import create_app

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_identify_page_shows_verdicts_side_by_side(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "olivia")
    page = client.post(
        "/substances",
        data={"query": f"{FENTANYL}\nethanol", "as_of": "", "csrf_token": csrf},
    )
    assert page.status_code == 200, page.text
    assert page.text.count('class="card result"') == 2
    assert page.text.count('class="jurisdiction"') == 6
    assert "status-controlled" in page.text
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert "In force from" in page.text

    dated = client.post(
        "/substances",
        data={
            "query": FENTANYL,
            "as_of": "1990-01-01",
            "jurisdictions": ["CN"],
            "csrf_token": csrf,
        },
    )
    assert dated.status_code == 200
    assert dated.text.count('class="jurisdiction"') == 1
    assert "1990-01-01" in dated.text

    bad_date = client.post(
        "/substances", data={"query": FENTANYL, "as_of": "31/12/2020", "csrf_token": csrf}
    )
    assert bad_date.status_code == 422
    assert "is not a date in the form YYYY-MM-DD" in bad_date.text


def test_file_screening_with_csv_download(
    node: NodeConfig, client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "anna")
    smiles = f"{FENTANYL} fentanyl\nCCO ethanol\nC1CC( broken\n".encode()
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf, "as_of": "2024-01-01"},
        files={"upload": ("batch.smi", smiles, "text/plain")},
    )
    assert page.status_code == 200, page.text
    assert "3 records" in page.text
    assert "status-controlled" in page.text and "status-invalid" in page.text
    link = re.search(r'href="(/substances/screen/[0-9a-f-]+\.csv)"', page.text)
    assert link is not None
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "input", "US_status"]
    assert [row[0] for row in rows[1:]] == ["fentanyl", "ethanol", "broken"]
    assert rows[1][2] == "controlled"

    other = TestClient(create_app(node), base_url="http://testserver")
    accounts.browser_login(other, "olivia")
    assert other.get(link.group(1)).status_code == 404

    no_column = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("list.csv", b"compound,notes\nCCO,x\n", "text/csv")},
    )
    assert no_column.status_code == 422
    assert "no column named smiles" in no_column.text
    wrong_type = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("list.docx", b"PK..", "application/octet-stream")},
    )
    assert wrong_type.status_code == 422 and "unsupported file type" in wrong_type.text
    not_a_workbook = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("list.xlsx", b"PK..", "application/octet-stream")},
    )
    assert not_a_workbook.status_code == 422
    assert "not an Excel .xlsx workbook" in not_a_workbook.text


def test_csv_download_neutralises_spreadsheet_formulas(
    client: TestClient, accounts: Accounts
) -> None:
    """Record names come from the uploaded file: none may reach a spreadsheet as a formula."""
    csrf = accounts.browser_login(client, "anna")
    names = ['=HYPERLINK("http://x.example")', "+SUM(1)", "-2+3", "@cmd", "ethanol"]
    upload = "".join(f"CCO {name}\n" for name in names).encode()
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("names.smi", upload, "text/plain")},
    )
    assert page.status_code == 200, page.text
    link = re.search(r'href="(/substances/screen/[0-9a-f-]+\.csv)"', page.text)
    assert link is not None
    rows = list(csv.reader(io.StringIO(client.get(link.group(1)).content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x.example")',
        "'+SUM(1)",
        "'-2+3",
        "'@cmd",
        "ethanol",
    ]


def test_admin_adds_and_disables_users(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "admin")
    added = client.post(
        "/admin/users",
        data={
            "username": "li",
            "password": "a long password",
            "role": "analyst",
            "agency": "NNCC",
            "csrf_token": csrf,
        },
    )
    assert added.status_code == 200 and "Added li." in added.text and "NNCC" in added.text
    short = client.post(
        "/admin/users",
        data={"username": "mo", "password": "short", "role": "analyst", "csrf_token": csrf},
    )
    assert short.status_code == 422 and "at least 8 characters" in short.text
    disabled = client.post("/admin/users/li/disable", data={"csrf_token": csrf})
    assert disabled.status_code == 200 and "Disabled li." in disabled.text


def test_audit_page_shows_the_chain(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "audrey")
    page = client.get("/audit")
    assert page.status_code == 200
    assert "audit chain intact" in page.text
    assert "node.init" in page.text and "user.create" in page.text


def test_anonymous_page_request_goes_to_login_and_back(
    client: TestClient, accounts: Accounts
) -> None:
    redirect = client.get("/admin/users", follow_redirects=False)
    assert redirect.headers["location"] == "/login?next=%2Fadmin%2Fusers"
    form = client.get(redirect.headers["location"])
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": accounts.password("admin"),
            "csrf_token": accounts.form_token(form.text),
            "next": "/admin/users",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/users"
    offsite = client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in offsite.text
    wrong = client.post(
        "/login",
        data={
            "username": "admin",
            "password": "wrong",
            "csrf_token": accounts.form_token(client.get("/login").text),
        },
    )
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text


@pytest.fixture
def unbounded_atoms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits raised so a pathological record reaches RDKit, with a short time limit."""
    for name in ("CHARACTERS", "ATOMS", "RING_CLOSURES"):
        monkeypatch.setenv(f"LIAISON_CHEM_MAX_{name}", "1000000")
    monkeypatch.setenv("LIAISON_CHEM_SECONDS", "2")


def test_an_uploaded_file_is_screened_outside_the_server_process(
    unbounded_atoms: None, client: TestClient, accounts: Accounts
) -> None:
    # RDKit holds this one for minutes in-process (no time limit there); in a worker it
    # costs its own record after the time limit and the others are judged.
    pathological = "c1ccc(cc1)" * 9000
    csrf = accounts.browser_login(client, "anna")
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf, "as_of": "2024-01-01"},
        files={
            "upload": ("batch.smi", f"{pathological} huge\n{FENTANYL} fentanyl\n", "text/plain")
        },
    )
    assert page.status_code == 200, page.text
    link = re.search(r'href="(/substances/screen/[0-9a-f-]+\.csv)"', page.text)
    assert link is not None
    rows = {row[0]: row for row in csv.reader(io.StringIO(client.get(link.group(1)).text))}
    assert rows["huge"][2] == "invalid"
    assert any("timed out after 2 s" in cell for cell in rows["huge"])
    assert rows["fentanyl"][2] == "controlled"

"""Files as people have them and results that stand as evidence, on the page and the API."""

from __future__ import annotations

import base64
import csv
import io
import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from liaison.chem.evidence import rules_version
from liaison.services import substances

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
GBK_TABLE = f"编号,smiles,描述\nS-1,{FENTANYL},海关查获的白色粉末\nS-2,CCO,乙醇样品\n".encode("gbk")


def test_a_gbk_csv_is_screened_with_its_columns_and_evidence(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "anna")
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf, "as_of": "2024-01-01"},
        files={"upload": ("查获.csv", GBK_TABLE, "text/csv")},
        headers={"Accept-Language": "zh-CN"},  # a GBK file: a Chinese officer's
    )
    assert page.status_code == 200, page.text
    assert "按 GB18030 (GBK) 编码读取。" in page.text
    assert "海关查获的白色粉末" in page.text
    # Summary first, then records that open to the explanation and one picture.
    assert page.text.index("汇总：各判定结果的记录数") < page.text.index("<details>")
    assert page.text.count("<details>") == 2
    assert page.text.count('class="depiction"') == 1  # the flagged record only
    # The picture's legend in the page's language (drawn in the engine's worker).
    picture = re.search(r'class="depiction" src="data:image/svg\+xml;base64,([^"]+)"', page.text)
    assert picture is not None
    svg = base64.b64decode(picture.group(1)).decode("utf-8")
    assert 'font-weight="bold">US：管制（' in svg and "controlled" not in svg
    version = rules_version()
    assert version.hash in page.text
    assert "2024-01-01" in page.text
    assert "/substances?q=" in page.text and f"rules={version.hash}" in page.text

    csv_link = re.search(r'href="(/substances/screen/[0-9a-f-]+\.csv)"', page.text)
    assert csv_link is not None
    download = client.get(csv_link.group(1))
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[-4:] == ["rules_version", "produced_at", "permalink", "描述"]
    by_column = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert by_column[0]["描述"] == "海关查获的白色粉末"
    assert by_column[0]["rules_version"] == version.hash
    assert by_column[0]["as_of"] == "2024-01-01"
    assert by_column[0]["permalink"].startswith("/substances?q=CCC%28")
    assert by_column[0]["permalink"].endswith(f"&rules={version.hash}")
    reproduced = client.get(by_column[0]["permalink"])
    assert reproduced.status_code == 200 and "status-controlled" in reproduced.text
    assert by_column[0]["US_status"] == "controlled"

    workbook = load_workbook(io.BytesIO(client.get(csv_link.group(1)[:-4] + ".xlsx").content))
    results = [
        [cell or "" for cell in row] for row in workbook["Results"].iter_rows(values_only=True)
    ]
    assert workbook.sheetnames == ["Results", "About"]
    assert results[0] == header
    assert results[1][header.index("描述")] == "海关查获的白色粉末"
    about = {row[2]: row[1] for row in workbook["About"].iter_rows(values_only=True)}
    assert about["rules_version"] == version.hash
    assert about["as_of"] == "2024-01-01"
    assert str(about["results"]).endswith(".xlsx")
    # In the reader's language: the sheets, the labels, the notes; the values and keys alike.
    chinese = load_workbook(
        io.BytesIO(
            client.get(
                csv_link.group(1)[:-4] + ".xlsx", headers={"Accept-Language": "zh-CN"}
            ).content
        )
    )
    assert chinese.sheetnames == ["结果", "说明"]
    rows = {row[2]: row for row in chinese["说明"].iter_rows(values_only=True)}
    assert rows["rules_version"][:2] == ("规则版本", version.hash)
    assert rows["note"][1] == "no_match 表示没有已加载的规则匹配：它从不表示放行。"


def test_utf16_and_bom_files_read_alike(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "anna")
    table = "smiles,描述\nCCO,乙醇\n"
    for codec, label in (("utf-16", "UTF-16"), ("utf-8-sig", "UTF-8 (with BOM)")):
        page = client.post(
            "/substances/screen",
            data={"csrf_token": csrf},
            files={"upload": ("t.csv", table.encode(codec), "text/csv")},
        )
        assert page.status_code == 200, page.text
        assert f"Read as {label}." in page.text
        assert "描述: 乙醇" in page.text


def test_the_api_screens_a_file(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "anna")
    response = client.post(
        "/api/v1/substances/screen",
        headers=headers,
        data={"as_of": "2024-01-01", "jurisdictions": ["US", "CN"]},
        files={"file": ("seized.csv", GBK_TABLE, "text/csv")},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["as_of"] == "2024-01-01"
    assert answer["rules_version"] == rules_version().to_dict()
    assert answer["encoding"] == "GB18030 (GBK)"
    assert answer["produced_at"]
    first = answer["records"][0]
    # The jsonl shape of `liaison screen`, plus the input's other columns.
    assert set(first) >= {"id", "input", "query_kind", "as_of", "verdicts", "error", "notes"}
    assert first["id"] == "S-1"
    assert list(first["verdicts"]) == ["US", "CN"]
    assert first["verdicts"]["US"]["status"] == "controlled"
    assert first["columns"] == {"编号": "S-1", "描述": "海关查获的白色粉末"} or first[
        "columns"
    ] == {"描述": "海关查获的白色粉末"}

    refused = client.post(
        "/api/v1/substances/screen",
        headers=headers,
        files={"file": ("seized.csv", b"compound\nCCO\n", "text/csv")},
    )
    assert refused.status_code == 422
    assert "no column named smiles" in refused.json()["detail"]
    anonymous = client.post(
        "/api/v1/substances/screen", files={"file": ("a.smi", b"CCO\n", "text/plain")}
    )
    assert anonymous.status_code == 401


def test_identify_answers_say_what_they_were_judged_by(
    client: TestClient, accounts: Accounts
) -> None:
    response = client.post(
        "/api/v1/substances/identify",
        headers=accounts.bearer(client, "anna"),
        json={"query": FENTANYL, "as_of": "2024-01-01"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rules_version"]["hash"] == rules_version().hash
    assert response.json()["produced_at"]


def test_a_permanent_link_reproduces_an_identification(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "olivia")
    page = client.post(
        "/substances",
        data={"query": "fentanyl HCl", "as_of": "2020-05-01", "csrf_token": csrf},
    )
    assert page.status_code == 200, page.text
    link = re.search(r'href="(/substances\?q=[^"]+)" class="permalink"', page.text)
    assert link is not None
    again = client.get(link.group(1).replace("&amp;", "&"))
    assert again.status_code == 200
    assert "2020-05-01" in again.text and "status-controlled" in again.text
    assert "The rule data has changed" not in again.text
    old = client.get("/substances?q=fentanyl&as_of=2020-05-01&rules=0123456789abcdef")
    assert "The rule data has changed since this link was made" in old.text
    assert "0123456789abcdef" in old.text


def test_the_substance_page_shows_facts_downloads_and_neighbours(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.browser_login(client, "olivia")
    page = client.get("/substances", params={"q": "CCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1"})
    assert page.status_code == 200, page.text
    assert "C22H27ClN2O" in page.text
    assert "Closest listed substances" in page.text
    assert re.search(r">fentanyl</a></td><td>0\.\d\d<", page.text)
    assert 'download="' in page.text and "data:chemical/x-mdl-molfile;base64," in page.text
    # Each changed region is named with its change; the unchanged ones are said once.
    assert "<strong>N-aryl (aniline) ring</strong>: " in page.text
    assert "As in fentanyl: acyl group, piperidine ring, linker" in page.text
    assert ": as in fentanyl" not in page.text


def test_too_long_a_query_keeps_the_text_on_a_page(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "olivia")
    typed = "C" * 100_001
    page = client.post("/substances", data={"query": typed, "csrf_token": csrf})
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "at most 100000 are accepted" in page.text
    assert typed in page.text
    assert 'maxlength="100000"' in page.text  # the limit is stated before sending


def test_a_large_file_is_listed_without_pictures(
    client: TestClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(substances, "MAX_PICTURED_RECORDS", 1)
    csrf = accounts.browser_login(client, "anna")
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("two.smi", f"{FENTANYL} a\n{FENTANYL} b\n".encode(), "text/plain")},
    )
    assert page.status_code == 200, page.text
    assert page.text.count("<details>") == 2
    assert 'class="depiction"' not in page.text
    assert "shown without pictures" in page.text

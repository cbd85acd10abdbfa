"""GET /api/v1/tariffs/duty and the tariff page, on both database backends."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liaison.cli import app as cli

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

ENTRY = {
    "origin": "CN",
    "entry_date": "2025-03-10",
    "customs_value": "10000",
    "hts": "2933.39.41",
    "ordinary_rate": "6.5",
}


def cli_json(*args: str) -> object:
    result = CliRunner().invoke(cli, ["tariffs", "duty", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_api_answers_what_the_cli_prints(client: TestClient, accounts: Accounts) -> None:
    response = client.get(
        "/api/v1/tariffs/duty", params=ENTRY, headers=accounts.bearer(client, "olivia")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == cli_json(
        "--origin", "CN", "--entry-date", "2025-03-10", "--customs-value", "10000",
        "--hts", "2933.39.41", "--ordinary-rate", "6.5",
    )  # fmt: skip
    assert [m["id"] for m in body["measures"]] == ["CN-IEEPA-FENTANYL-20"]
    assert body["measures"][0]["amount"] == "2000.00" and body["measures"][0]["ieepa"] is True
    assert body["total_additional"] == "2000.00" and body["ieepa_total"] == "2000.00"
    assert body["ordinary_duty"] == "650.00"


def test_usmca_goods_of_canada_pay_no_ieepa_duty(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "anna")
    params = {"origin": "CA", "entry_date": "2025-04-15", "customs_value": "5000"}
    charged = client.get("/api/v1/tariffs/duty", params=params, headers=headers).json()
    assert charged["ieepa_total"] == "1250.00"  # 25 %
    exempt = client.get(
        "/api/v1/tariffs/duty", params={**params, "usmca": "true"}, headers=headers
    ).json()
    assert exempt["measures"] == [] and exempt["ieepa_total"] == "0.00"
    assert [item["exemption"] for item in exempt["exempted"]] == ["usmca"]


def test_the_api_needs_a_user_who_may_use_tariffs(client: TestClient, accounts: Accounts) -> None:
    anonymous = client.get("/api/v1/tariffs/duty", params=ENTRY)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    auditor = client.get(
        "/api/v1/tariffs/duty", params=ENTRY, headers=accounts.bearer(client, "audrey")
    )
    assert auditor.status_code == 403
    admin = client.get(
        "/api/v1/tariffs/duty", params=ENTRY, headers=accounts.bearer(client, "admin")
    )
    assert admin.status_code == 200


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"customs_value": "ten thousand"}, "customs_value: 'ten thousand' is not a number"),
        ({"customs_value": "-5"}, "customs_value: '-5' is not a non-negative number"),
        ({"entry_date": "10/03/2025"}, "entry_date: '10/03/2025' is not a date"),
        ({"origin": "China"}, "origin: 'CHINA' is not a two-letter country code"),
        ({"hts": "29.33"}, "hts:"),
        ({"category": "furniture"}, "category:"),
    ],
)
def test_a_bad_parameter_is_a_problem_naming_it(
    client: TestClient, accounts: Accounts, change: dict[str, str], named: str
) -> None:
    response = client.get(
        "/api/v1/tariffs/duty",
        params={**ENTRY, **change},
        headers=accounts.bearer(client, "olivia"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert named in response.json()["detail"]


def test_a_missing_parameter_is_a_problem_naming_it(client: TestClient, accounts: Accounts) -> None:
    params = {key: value for key, value in ENTRY.items() if key != "customs_value"}
    response = client.get(
        "/api/v1/tariffs/duty", params=params, headers=accounts.bearer(client, "olivia")
    )
    assert response.status_code == 422
    assert "customs_value" in response.json()["detail"]


def test_the_page_shows_each_measure_the_ieepa_part_and_the_chart(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.browser_login(client, "olivia")
    page = client.get("/tariffs", params=ENTRY)
    assert page.status_code == 200, page.text
    assert '<a href="/tariffs" aria-current="page">' in page.text
    row = re.search(r'<tr class="ieepa">(.*?)</tr>', page.text, re.DOTALL)
    assert row is not None
    assert "China fentanyl duty, 20% (EO 14228)" in row.group(1)
    assert "Executive Order 14228" in row.group(1) and "2000.00" in row.group(1)
    # One line per country, drawn on the server: the chart is there without JavaScript.
    assert re.findall(r'<polyline class="series" data-origin="(\w+)"', page.text) == [
        "CN",
        "CA",
        "MX",
    ]


def test_the_page_says_what_is_wrong_with_the_entry(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "olivia")
    page = client.get("/tariffs", params={**ENTRY, "entry_date": "yesterday"})
    assert page.status_code == 422
    shown = html.unescape(page.text)
    assert re.search(r'role="alert">entry_date: \'yesterday\' is not a date', shown)
    assert 'value="yesterday"' in page.text  # the form keeps what was typed


def test_the_page_is_not_offered_to_an_auditor(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "audrey")
    assert client.get("/tariffs").status_code == 403
    assert 'href="/tariffs"' not in client.get("/audit").text

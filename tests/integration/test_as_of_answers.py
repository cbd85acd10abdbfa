"""Every answer of the node states the day whose rules it applied: the API and the pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def utc_today() -> set[str]:
    """Today in UTC, and tomorrow: a test running across midnight sees either."""
    today = datetime.now(UTC).date()
    return {today.isoformat(), date.fromordinal(today.toordinal() + 1).isoformat()}


def test_the_api_states_the_day_it_was_asked_for(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "olivia")
    response = client.post(
        "/api/v1/substances/identify",
        headers=headers,
        json={"queries": [FENTANYL, "ethanol"], "as_of": "2019-05-01"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == "2019-05-01"
    assert [result["as_of"] for result in body["results"]] == ["2019-05-01", "2019-05-01"]


def test_the_api_states_today_when_no_day_was_given(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "olivia")
    today = utc_today()
    response = client.post("/api/v1/substances/identify", headers=headers, json={"query": FENTANYL})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] in today  # never null: the day used, not the day asked for
    assert body["results"][0]["as_of"] == body["as_of"]


def test_the_identify_page_states_the_day_used(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "olivia")
    today = utc_today()
    page = client.post("/substances", data={"query": FENTANYL, "as_of": "", "csrf_token": csrf})
    assert page.status_code == 200, page.text
    shown = re.findall(r'<dt>Rules as of</dt><dd><time datetime="([0-9-]+)">', page.text)
    assert shown and set(shown) <= today
    dated = client.post(
        "/substances", data={"query": FENTANYL, "as_of": "2019-05-01", "csrf_token": csrf}
    )
    assert re.findall(r'<dt>Rules as of</dt><dd><time datetime="([0-9-]+)">', dated.text) == [
        "2019-05-01"
    ]


def test_file_screening_states_the_day_on_the_page_and_in_the_csv(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "anna")
    today = utc_today()
    page = client.post(
        "/substances/screen",
        data={"csrf_token": csrf, "as_of": ""},
        files={"upload": ("batch.smi", f"{FENTANYL} fentanyl\nCCO ethanol\n".encode())},
    )
    assert page.status_code == 200, page.text
    stated = re.search(r'by the rules in force on\s+<time datetime="([0-9-]+)">', page.text)
    assert stated is not None and stated.group(1) in today
    link = re.search(r'href="(/substances/screen/[0-9a-f-]+\.csv)"', page.text)
    assert link is not None
    rows = list(csv.DictReader(io.StringIO(client.get(link.group(1)).text)))
    assert [row["as_of"] for row in rows] == [stated.group(1)] * 2

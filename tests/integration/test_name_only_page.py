"""The substance page for a plant listed by name only (issue 13): its verdicts, the
plain statement that no structure applies, and no crash for the missing structure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts


def test_the_substance_page_answers_a_name_only_listing(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "olivia")
    page = client.post("/substances", data={"query": "coca leaf", "as_of": "", "csrf_token": csrf})
    assert page.status_code == 200, page.text
    assert page.text.count('class="jurisdiction"') == 3
    assert page.text.count("status-controlled") >= 3
    assert "no structure applies" in page.text

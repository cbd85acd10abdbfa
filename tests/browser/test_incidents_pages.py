"""A real browser (Debian's Chromium through Playwright) against a real node server:
report an incident through the form with an item and an entity, see its verdicts and
structure, then the dashboard's table, chart and footnote; nothing loaded from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_report_through_the_form_and_read_the_dashboard(node_url: str) -> None:
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{node_url}/incidents/new")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{node_url}/incidents/new")

        page.get_by_label("Kind", exact=True).first.select_option("seizure")
        page.get_by_label("Date it occurred").fill("2026-06-01")
        page.get_by_label("Country (ISO code)").fill("US")
        page.get_by_label("Place").fill("Port of Long Beach")
        page.get_by_label("Conveyance").select_option("sea_container")
        page.locator("#item0_substance").fill(FENTANYL)
        page.locator("#item0_quantity").fill("3")
        page.locator("#item0_unit").select_option("lb")
        page.locator("#entity0_kind").select_option("crypto_wallet")
        page.locator("#entity0_value").fill("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
        page.locator("#entity0_chain").fill("ethereum")
        page.get_by_role("button", name="Save and identify").click()

        expect(page).to_have_url(f"{node_url}/incidents/1")
        expect(page.locator("article.result .badge").first).to_have_text("controlled")
        expect(page.locator("img.depiction")).to_be_visible()
        expect(page.locator("ul.entities")).to_contain_text("crypto_wallet")

        page.get_by_role("link", name="Dashboard").click()
        expect(page).to_have_url(f"{node_url}/dashboard")
        expect(page.locator("table.dashboard tbody tr").first).to_contain_text("2026-06")
        expect(page.locator("figure svg").first).to_be_visible()
        expect(page.locator("#assumptions")).to_contain_text("2 mg")
        browser.close()
    origin = urlsplit(node_url)
    assert all(
        url.startswith("data:") or urlsplit(url).netloc == origin.netloc for url in requested
    ), requested

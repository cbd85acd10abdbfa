"""A real browser (Debian's Chromium through Playwright) against a real node server:
log in, identify a substance, see the three verdicts and the depiction."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_log_in_and_identify_fentanyl(node_url: str, tmp_path: Path) -> None:
    screenshot = tmp_path / "substance-page.png"
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{node_url}/substances")
        expect(page).to_have_url(f"{node_url}/login?next=%2Fsubstances")

        # Keyboard only: the username field has focus, Tab reaches the password, Enter submits.
        expect(page.get_by_label("Username")).to_be_focused()
        page.keyboard.type("olivia")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type("officer password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{node_url}/substances")

        page.get_by_label("SMILES, InChI, CAS number, name or MOL block").fill(FENTANYL)
        page.get_by_label("As of (rules in force on)").fill("2024-06-01")
        page.get_by_role("button", name="Identify").click()

        result = page.locator("article.result")
        expect(result).to_have_count(1)
        columns = result.locator("section.jurisdiction")
        expect(columns).to_have_count(3)
        for index in range(3):
            expect(columns.nth(index).locator(".badge").first).to_have_text("Controlled")
        picture = columns.first.locator("img.depiction")
        expect(picture).to_be_visible()
        width = picture.evaluate("image => image.naturalWidth")
        assert width > 100
        expect(columns.first).to_contain_text("In force from")
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
    # Nothing loaded from anywhere but the node itself (no CDN, fonts or analytics); inline
    # data: images are part of the page.
    origin = urlsplit(node_url)
    network = [url for url in requested if not url.startswith("data:")]
    assert len(network) >= 3, requested
    assert [url for url in network if urlsplit(url)[:2] != origin[:2]] == []

"""A real browser (Debian's Chromium through Playwright) against a real node server: the
duty calculator from the navigation, its result with the IEEPA part, the server-drawn
chart, and the page in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from browser.test_substance_page import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_calculate_the_duty_on_an_entry_from_china(node_url: str, tmp_path: Path) -> None:
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        # A CSP violation (an inline style or script in the chart) is reported on the console.
        page.on("console", lambda message: errors.append(message.text))
        page.goto(f"{node_url}/login")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.get_by_label("Password").press("Enter")
        page.get_by_role("navigation").get_by_role("link", name="Tariffs").click()
        expect(page).to_have_url(f"{node_url}/tariffs")

        page.get_by_label("Country of origin", exact=True).fill("CN")
        page.get_by_label("Entry date").fill("2025-03-10")
        page.get_by_label("Customs value (US$)").fill("10000")
        page.get_by_role("button", name="Calculate").click()

        ieepa = page.locator("table.tariff-measures tr.ieepa")
        expect(ieepa).to_have_count(1)
        expect(ieepa).to_contain_text("China fentanyl duty, 20% (EO 14228)")
        expect(ieepa).to_contain_text("2000.00")
        expect(ieepa.locator(".ieepa-badge")).to_have_text("IEEPA: potentially refundable")
        expect(page.locator("dl.totals dd.ieepa")).to_have_text("US$2000.00")
        # The form keeps the entry, so it can be changed and calculated again.
        expect(page.get_by_label("Customs value (US$)")).to_have_value("10000")

        chart = page.locator("svg.tariff-chart")
        expect(chart).to_be_visible()
        expect(chart.locator("polyline.series")).to_have_count(3)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 100
        page.screenshot(path=str(tmp_path / "tariff-page.png"), full_page=True)

        page.get_by_role("button", name="中文").click()
        expect(page.locator("h1")).to_have_text("与芬太尼相关的加征关税")
        expect(page.locator("table.tariff-measures tr.ieepa .ieepa-badge")).to_have_text(
            "IEEPA：可能可退还"
        )
        browser.close()
    assert [text for text in errors if "Content Security Policy" in text] == []

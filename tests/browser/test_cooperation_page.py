"""A real browser (Debian's Chromium through Playwright) against a real node server: the
cooperation overview from the navigation, its server-drawn chart with the tariff rate and
the dated events, the CSV and the report, and the page in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from browser.test_substance_page import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_overview_shows_the_chart_events_and_exports(node_url: str, tmp_path: Path) -> None:
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        # A CSP violation (an inline style or script in the chart) is reported on the console.
        page.on("console", lambda message: errors.append(message.text))
        page.goto(f"{node_url}/login")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.get_by_label("Password").press("Enter")
        page.get_by_role("navigation").get_by_role("link", name="Cooperation").click()
        expect(page).to_have_url(f"{node_url}/cooperation")

        page.get_by_label("From", exact=True).fill("2025-01-01")
        page.get_by_label("To", exact=True).fill("2026-06-30")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(f"{node_url}/cooperation?from=2025-01-01&to=2026-06-30")
        chart = page.locator("svg.cooperation-chart")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150
        # The additional duty on goods of China rises from Feb 2025 and ends with the ruling.
        expect(chart.locator("polyline.tariff-rate")).to_have_count(1)
        expect(chart.locator("g.event-mark[data-kind=legal]")).to_have_count(2)  # 2025 events
        expect(page.locator("ol.events")).to_contain_text("fentanyl-type substances")
        expect(page.locator("#waiting-none")).to_be_visible()
        page.screenshot(path=str(tmp_path / "cooperation-page.png"), full_page=True)

        with page.expect_download() as csv_download:
            page.locator("#csv-link").click()
        assert csv_download.value.suggested_filename == "cooperation-2025-01-01-2026-06-30.csv"
        with page.expect_download() as report_download:
            page.locator("#report-link").click()
        report = Path(report_download.value.path()).read_text(encoding="utf-8")
        assert "<svg" in report and "/static/" not in report

        page.get_by_role("button", name="中文").click()
        expect(page.locator("h1")).to_have_text("合作概览")
        expect(page.locator("#waiting")).to_have_text("当前谁在等待谁")
        browser.close()
    assert [text for text in errors if "Content Security Policy" in text] == []

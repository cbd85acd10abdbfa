"""Two browsers, one per node (two real `liaison serve` processes): the US regulator fills
the notification form, sees the screening, attaches a licence, lodges it; the CN regulator
finds it on the desk with the licence, objects with a reason; the US regulator sees the
objection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from federation.nodes import AGENCIES, OFFICER_PASSWORD, Pair, start_pair, wait_until
from liaison.node import add_node_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    nodes = start_pair(tmp_path)
    for node in (nodes.us, nodes.cn):
        add_node_user(
            node.directory, "regulator", OFFICER_PASSWORD, "regulator", AGENCIES[node.name]
        )
    yield nodes
    nodes.close()


def _log_in(context: BrowserContext, base_url: str, path: str) -> Page:
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill("regulator")
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}{path}")
    return page


FIELDS = {
    "f-exporter_name": "Demo Keystone Fine Chemicals LLC",
    "f-exporter_address": "12 Demo Road, Allentown PA",
    "f-exporter_licence": "RK0873320",
    "f-importer_name": "Demo Binhai Reagents Co., Ltd.",
    "f-importer_address": "6 Demo Street, Tianjin",
    "f-importer_licence": "TJ-DEMO-2207",
    "f-substance": "4-piperidone",
    "f-trade_name": "Piperidin-4-one HCl",
    "f-quantity": "150",
    "f-form": "powder",
    "f-packaging": "6 fibre drums of 25 kg",
    "f-ship_date": "2027-01-20",
    "f-route": "US CN",
    "f-port_of_exit": "Port of Newark",
    "f-port_of_entry": "Tianjin Xingang",
    "f-end_use": "manufacture of licensed pharmaceutical products",
    "f-export_authorisation": "US-EXP-DEMO-0042",
}
LICENCE = b"Export licence RK0873320, valid to 2027-12-31.\n"


def test_a_notification_is_lodged_in_one_browser_and_answered_in_the_other(pair: Pair) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            us_context, cn_context = browser.new_context(), browser.new_context()
            us_page = _log_in(us_context, pair.us.base_url, "/notifications/new")
            for field, value in FIELDS.items():
                us_page.locator(f"#{field}").fill(value)
            us_page.get_by_role("button", name="Screen the substance").click()
            # The screening is shown before anything is lodged: a listed precursor, no alert.
            expect(us_page.get_by_text("Screening as of 2027-01-20")).to_be_visible()
            expect(
                us_page.get_by_text("A listed precursor: what the procedure is for.")
            ).to_be_visible()
            # Attachments are chosen after the screening (a re-rendered page keeps no files).
            us_page.locator("#f-attachments").set_input_files(
                [{"name": "licence.txt", "mimeType": "text/plain", "buffer": LICENCE}]
            )
            us_page.get_by_role("button", name="Lodge the notification").click()
            expect(us_page.locator("#pen-status")).to_have_attribute("data-status", "pending")
            own_copy = us_page.get_by_role("link", name="licence.txt")
            assert (
                us_context.request.get(
                    pair.us.base_url + (own_copy.get_attribute("href") or "")
                ).body()
                == LICENCE
            )
            detail_url = us_page.url

            cn_page = _log_in(cn_context, pair.cn.base_url, "/notifications")
            link = cn_page.get_by_role("link", name="4-piperidone")
            # The notification crosses the federation first; the desk shows it on a reload.
            wait_until(lambda: cn_page.reload() and link.count(), "the notification on CN's desk")
            link.first.click()
            # The attachment crossed with the notification and passed its integrity check.
            received = cn_page.get_by_role("link", name="licence.txt")
            assert (
                cn_context.request.get(
                    pair.cn.base_url + (received.get_attribute("href") or "")
                ).body()
                == LICENCE
            )
            cn_page.get_by_role("button", name="Acknowledge receipt").click()
            cn_page.get_by_role("radio", name="Objection", exact=True).check()
            cn_page.get_by_label("Reason or question").fill("The importer's licence expired.")
            cn_page.get_by_role("button", name="Send the answer").click()
            expect(cn_page.locator("#pen-status")).to_have_attribute("data-status", "objection")

            wait_until(
                lambda: (
                    us_page.goto(detail_url)
                    and us_page.locator("#pen-status").get_attribute("data-status") == "objection"
                ),
                "the objection on US",
            )
            expect(us_page.locator("#pen-status")).to_have_attribute("data-status", "objection")
            expect(us_page.get_by_text("The importer's licence expired.")).to_be_visible()
        finally:
            browser.close()

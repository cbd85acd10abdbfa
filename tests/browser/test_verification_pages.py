"""Two browsers, one per node (two real `liaison serve` processes): an immigration officer
opens a verification case on US; a verifier on CN opens it (saying why), decides it, and
the decision shows on US. A hold recorded on US refuses the travel step there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from federation.nodes import OFFICER_PASSWORD, Pair, start_pair, wait_until
from liaison.node import add_node_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    nodes = start_pair(tmp_path)
    add_node_user(nodes.us.directory, "ian", OFFICER_PASSWORD, "immigration_officer")
    add_node_user(nodes.cn.directory, "vera", OFFICER_PASSWORD, "verifier")
    yield nodes
    nodes.close()


def _log_in(context: BrowserContext, base_url: str, user: str, path: str) -> Page:
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}{path}")
    return page


def test_a_case_opened_in_one_browser_is_decided_in_the_other(pair: Pair) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            us = _log_in(browser.new_context(), pair.us.base_url, "ian", "/verifications/new")
            us.get_by_label("Your reference").fill("DHS-A-2026-77")
            us.get_by_label("Grounds").fill("Final order of removal")
            us.get_by_label("family_name", exact=True).fill("Chen")
            us.get_by_label("given_name", exact=True).fill("Mei")
            us.get_by_label("family_name_native", exact=True).fill("陈")
            us.get_by_label("date_of_birth", exact=True).fill("1992-04-18")
            us.locator("#document_kind_0").select_option("passport_photocopy")
            us.locator("input[name='document_claim_0']").check()
            us.get_by_role("button", name="Open the case").click()
            expect(us.locator("#case-status")).to_have_text("requested")
            expect(us.get_by_text("documents relate to a protection claim")).to_be_visible()

            cn_api = pair.cn.client("vera")
            try:
                case = wait_until(
                    lambda: cn_api.get("/api/v1/verifications").json()["items"], "the case on CN"
                )[0]
            finally:
                cn_api.close()
            cn = _log_in(browser.new_context(), pair.cn.base_url, "vera", "/verifications")
            cn.get_by_role("link", name="DHS-A-2026-77").click()
            cn.get_by_label("Why you open this case").fill("verification request")
            cn.get_by_role("button", name="Open").click()
            expect(cn).to_have_url(
                f"{pair.cn.base_url}/verifications/{case['id']}?reason=verification+request"
            )
            expect(cn.get_by_role("cell", name="陈")).to_be_visible()
            cn.get_by_label("Decision", exact=True).select_option("not_confirmed")
            cn.locator("#decision-reason").fill("No registry record matches")
            cn.get_by_role("button", name="Send the decision").click()
            expect(cn.locator("#case-status")).to_have_text("not_confirmed")

            def decided() -> bool:
                us.reload()
                return us.locator("#case-status").inner_text() == "not_confirmed"

            wait_until(decided, "the decision on US", interval=0.5)
            expect(us.get_by_text("No registry record matches")).to_be_visible()

            # A hold on US: the withdrawal is allowed, but not hidden behind it; a travel
            # step would be refused (the case is not confirmed here, so withdraw instead).
            us.locator("#hold-kind").select_option("asylum")
            us.locator("#hold-reason").fill("claim lodged")
            us.get_by_role("button", name="Record the hold").click()
            expect(
                us.get_by_text("Protection holds: travel and return steps are refused")
            ).to_be_visible()
            us.locator("#step").select_option("travel_scheduled")
            us.locator("#step-date").fill("2027-01-05")
            us.locator("#step-flight").fill("CA982")
            us.get_by_role("button", name="Record the step").click()
            expect(us.locator("#case-error")).to_contain_text("protection hold")
        finally:
            browser.close()

"""Two browsers, one per node (two real `liaison serve` processes): what one officer sends
appears on the other officer's open page without a reload (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from federation.nodes import OFFICER_PASSWORD, Pair, start_pair, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    # US flash messages fall due after 3 s, so CN's open inbox can be seen flagging one.
    nodes = start_pair(tmp_path, us_env={"LIAISON_HOTLINE_FLASH_ACK_MINUTES": "0.05"})
    yield nodes
    nodes.close()


def _log_in(context: BrowserContext, base_url: str, path: str) -> Page:
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill("officer")
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}{path}")
    # The page's event stream is open once the script marks the live region.
    expect(page.locator("#live-region[data-live-connected='1']")).to_have_count(1)
    return page


def test_a_message_sent_in_one_browser_appears_in_the_other_without_reload(pair: Pair) -> None:
    us_api = pair.us.client()
    cn_api = pair.cn.client()
    try:
        opened = us_api.post(
            "/api/v1/threads",
            json={
                "peer": "CN",
                "subject": "Lead: courier pickup in Guangzhou",
                "priority": "urgent",
                "kind": "lead",
                "body": "Pickup booked for Friday.",
            },
        ).json()
        on_cn = wait_until(
            lambda: [t for t in cn_api.get("/api/v1/threads").json() if t["origin"] == "US"],
            "the thread on CN",
        )[0]
    finally:
        us_api.close()
        cn_api.close()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            us_context, cn_context = browser.new_context(), browser.new_context()
            us_page = _log_in(us_context, pair.us.base_url, f"/hotline/threads/{opened['id']}")
            cn_thread = _log_in(cn_context, pair.cn.base_url, f"/hotline/threads/{on_cn['id']}")
            reloads: list[str] = []
            cn_thread.on(
                "framenavigated",
                lambda frame: reloads.append(frame.url) if frame.parent_frame is None else None,
            )

            # CN acknowledges in its browser; US sees it on its open page.
            cn_thread.get_by_role("button", name="Acknowledge").click()
            expect(
                us_page.get_by_text("Acknowledged by officer (NNCC Liaison Office)")
            ).to_be_visible(timeout=15_000)
            reloads.clear()

            # US replies in its browser; CN's open page shows it without navigating.
            us_page.get_by_label("Message").fill("Courier identified: DEMO-Express van 7.")
            us_page.get_by_role("button", name="Send").click()
            expect(cn_thread.get_by_text("Courier identified: DEMO-Express van 7.")).to_be_visible(
                timeout=15_000
            )
            assert reloads == []

            # A new thread from CN shows up on the US inbox while it is open.
            us_inbox = us_context.new_page()
            us_inbox.goto(f"{pair.us.base_url}/hotline")
            expect(us_inbox.locator("#live-region[data-live-connected='1']")).to_have_count(1)
            compose = cn_context.new_page()
            compose.goto(f"{pair.cn.base_url}/hotline/new")
            compose.get_by_label("Subject").fill("Request: consignee details")
            compose.get_by_label("Message").fill("Please share the consignee address.")
            compose.get_by_label("Priority").select_option("flash")
            compose.get_by_role("button", name="Send").click()
            # In the threads table (it is also listed as awaiting acknowledgement).
            threads = us_inbox.get_by_role("table")
            expect(threads.get_by_role("link", name="Request: consignee details")).to_be_visible(
                timeout=15_000
            )
            expect(us_inbox.locator("#unread-count")).to_have_text("1 unread")

            # A US flash message falls overdue on CN's open inbox when its deadline passes.
            cn_inbox = cn_context.new_page()
            cn_inbox.goto(f"{pair.cn.base_url}/hotline")
            expect(cn_inbox.locator("#live-region[data-live-connected='1']")).to_have_count(1)
            expect(cn_inbox.locator("#overdue-count")).to_have_text("0 overdue")
            flash = pair.us.client()
            try:
                sent = flash.post(
                    "/api/v1/threads",
                    json={
                        "peer": "CN",
                        "subject": "Flash: van leaving the depot now",
                        "priority": "flash",
                        "kind": "alert",
                        "body": "Confirm receipt.",
                    },
                )
                assert sent.status_code == 201, sent.text
            finally:
                flash.close()
            expect(
                cn_inbox.get_by_role("table").get_by_role(
                    "link", name="Flash: van leaving the depot now"
                )
            ).to_be_visible(timeout=15_000)
            expect(cn_inbox.locator("#overdue-count")).to_have_text("1 overdue", timeout=15_000)
        finally:
            browser.close()

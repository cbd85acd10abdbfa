"""The incident form shows each item's verdicts as the officer types, before saving, in a real
browser (Debian's Chromium through Playwright) against a real node server."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_verdicts_shown_while_typing_an_item(node_url: str) -> None:
    identify_calls: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on(
            "request",
            lambda request: (
                request.url.endswith("/api/v1/substances/identify")
                and identify_calls.append(request.post_data or "")
            ),
        )
        page.goto(f"{node_url}/incidents/new")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{node_url}/incidents/new")

        # Typed key by key, as an officer would: one request after the pause, not one per key.
        page.locator("#item0_substance").press_sequentially(FENTANYL, delay=10)
        verdicts = page.locator("#item0_verdicts")
        for code in ("US", "CN"):
            expect(verdicts.locator(f"li[data-jurisdiction={code}] .badge")).to_have_text(
                "Controlled"
            )
        # Debounced: far fewer requests than keystrokes (one per pause in typing; a loaded
        # machine may pause mid-word), the last one with the whole SMILES.
        assert 1 <= len(identify_calls) < len(FENTANYL) // 4, identify_calls
        assert json.loads(identify_calls[-1]) == {"query": FENTANYL}
        expect(page).to_have_url(f"{node_url}/incidents/new")  # nothing saved yet

        # A second item, a name the engine cannot read, says so; clearing it clears the list.
        page.locator("#item1_substance").fill("not a substance at all")
        expect(page.locator("#item1_verdicts li")).to_contain_text("not a name Liaison knows")
        expect(page.locator("#item1_verdicts .badge")).to_have_count(0)
        page.locator("#item1_substance").fill("")
        expect(page.locator("#item1_verdicts li")).to_have_count(0)

        # In Chinese, the verdicts read in Chinese.
        page.get_by_role("button", name="中文").click()
        expect(page.locator("h1")).to_have_text("报告事件")  # the Chinese page, not the old one
        page.locator("#item0_substance").fill(FENTANYL)
        expect(page.locator("#item0_verdicts li[data-jurisdiction=CN] .badge")).to_have_text("管制")
        browser.close()


def test_an_item_typed_before_the_script_ran_is_identified(node_url: str) -> None:
    """An officer who types while the page is still loading (or whose browser restores the form)
    gets verdicts once the script starts, without typing again; a value the page was served
    with is not identified again."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page()
        page.goto(f"{node_url}/incidents/new")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{node_url}/incidents/new")

        # The script held back: the value is typed with no one listening.
        page.route("**/static/live-verdicts.js", lambda route: route.abort())
        page.reload()
        page.locator("#item0_substance").fill(FENTANYL)
        expect(page.locator("#item0_verdicts li")).to_have_count(0)

        page.unroute("**/static/live-verdicts.js")
        page.add_script_tag(url="/static/live-verdicts.js")
        expect(page.locator("#item0_verdicts li[data-jurisdiction=US] .badge")).to_have_text(
            "Controlled"
        )
        expect(page.locator("#item1_verdicts li")).to_have_count(0)  # left empty: nothing asked
        browser.close()

"""Both languages in a real browser against two real nodes (issue 9): a Chinese officer's
session end to end, read receipts only from a visible tab, and axe-core on every page in
English and Chinese, wide and at 390 px.

(Screening a GBK file joins the Chinese officer's session with the evidence part of
issue 9.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from federation.nodes import ADMIN_PASSWORD, OFFICER_PASSWORD, Pair, start_pair, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
LOGIN_LABELS = {"en-US": ("Username", "Password", "Log in"), "zh-CN": ("用户名", "密码", "登录")}
HIDDEN_TAB = """
Object.defineProperty(document, "visibilityState", {get: () => window.__visibility || "hidden"});
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nodes = start_pair(tmp_path_factory.mktemp("bilingual"))
    yield nodes
    nodes.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield browser
        browser.close()


def _send_from_us(pair: Pair, subject: str, priority: str) -> tuple[int, dict[str, Any]]:
    """A thread US opens for CN: its id on US, and the thread as CN has it once delivered."""
    with closing(pair.us.client()) as us_api, closing(pair.cn.client()) as cn_api:
        sent = us_api.post(
            "/api/v1/threads",
            json={
                "peer": "CN",
                "subject": subject,
                "priority": priority,
                "kind": "alert",
                "body": "车辆已离开仓库，请确认。",
            },
        )
        assert sent.status_code == 201, sent.text
        on_cn: dict[str, Any] = wait_until(
            lambda: [t for t in cn_api.get("/api/v1/threads").json() if t["subject"] == subject],
            f"{subject} on CN",
        )[0]
        return int(sent.json()["id"]), on_cn


def _us_message(us_api: httpx.Client, thread_id: int, field: str) -> dict[str, Any]:
    """US's message once `field` (read_at, acked_at) arrived from CN."""
    found: dict[str, Any] = wait_until(
        lambda: [m for m in us_api.get(f"/api/v1/threads/{thread_id}/messages").json() if m[field]],
        f"{field} on US",
    )[0]
    return found


def _log_in(page: Page, base_url: str, username: str, password: str, locale: str) -> None:
    user_label, password_label, button = LOGIN_LABELS[locale]
    page.goto(f"{base_url}/login")
    page.get_by_label(user_label).fill(username)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(f"{base_url}/desk")


def test_a_chinese_officer_reads_and_acknowledges_a_flash_message(
    pair: Pair, browser: Browser
) -> None:
    context = browser.new_context(locale="zh-CN")  # the browser asks for Chinese
    try:
        page = context.new_page()
        page.goto(f"{pair.cn.base_url}/login")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        _log_in(page, pair.cn.base_url, "officer", OFFICER_PASSWORD, "zh-CN")
        expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
        expect(page.locator("html[data-live-connected='1']")).to_have_count(1)

        # A flash message arrives while the desk is open: badge and tab title, live.
        us_thread, _cn_thread = _send_from_us(pair, "特急：车辆离开仓库", "flash")
        expect(page.locator("#nav-unread")).to_have_text("1 条未读", timeout=15_000)
        expect(page).to_have_title("(1) 我的工作台 · CN 节点")

        page.locator("nav a[href='/hotline']").click()
        expect(page.get_by_text("等待您确认，截止")).to_be_visible()
        page.get_by_role("link", name="特急：车辆离开仓库").first.click()
        expect(page.get_by_text("车辆已离开仓库，请确认。")).to_be_visible()
        with closing(pair.us.client()) as us_api:
            # Shown in a visible tab: the read receipt reaches US.
            read = _us_message(us_api, us_thread, "read_at")
            assert read["read_by"] == "officer (NNCC Liaison Office)"
            page.get_by_role("button", name="确认").click()
            expect(page.get_by_text("已由 officer (NNCC Liaison Office) 于")).to_be_visible()
            acked = _us_message(us_api, us_thread, "acked_at")
            assert acked["acked_by"] == "officer (NNCC Liaison Office)"
        expect(page.locator("#nav-unread")).to_be_hidden()
        expect(page).to_have_title("特急：车辆离开仓库 · CN 节点")
    finally:
        context.close()


def test_a_page_in_a_background_tab_sends_no_read_receipt(pair: Pair, browser: Browser) -> None:
    us_thread, cn_thread = _send_from_us(pair, "Urgent: seen only when shown", "urgent")
    context = browser.new_context(locale="en-US")
    context.add_init_script(HIDDEN_TAB)  # every page starts as a background tab
    try:
        page = context.new_page()
        _log_in(page, pair.cn.base_url, "officer", OFFICER_PASSWORD, "en-US")
        page.goto(f"{pair.cn.base_url}/hotline/threads/{cn_thread['id']}")
        expect(page.locator("html[data-live-connected='1']")).to_have_count(1)
        # Loaded, live, but hidden: the message is still unreported, US has no receipt.
        expect(page.locator("[data-unread='1']")).to_have_count(1)
        with closing(pair.us.client()) as us_api:
            messages = us_api.get(f"/api/v1/threads/{us_thread}/messages").json()
            assert [m["read_at"] for m in messages] == [None]
            # The user brings the tab to the front: now it is read.
            page.evaluate(
                "window.__visibility = 'visible';"
                "document.dispatchEvent(new Event('visibilitychange'));"
            )
            expect(page.locator("[data-unread='1']")).to_have_count(0)
            assert _us_message(us_api, us_thread, "read_at")["read_by"].startswith("officer")
    finally:
        context.close()


def _pages(page: Page, base_url: str) -> Iterator[str]:
    """Every page an admin reaches (they may use them all), yielded once it is loaded."""
    for path in (
        "/desk",
        "/hotline",
        "/hotline/new",
        "/substances/screen",
        "/preferences",
        "/admin/users",
        "/admin/peers",
        "/audit",
        "/notifications",
        "/notifications/new",
        "/notifications/figures",
        "/tariffs",
        "/no-such-page",
    ):
        page.goto(f"{base_url}{path}")
        yield path
    with page.expect_navigation():
        page.goto(f"{base_url}/hotline")
        page.locator("table.threads a").first.click()
    yield "a hotline thread"
    page.goto(f"{base_url}/substances")
    page.locator("#query").fill(FENTANYL)
    page.locator("form.query-form button[type=submit]").click()
    expect(page.locator("article.result")).to_have_count(1)
    editor = page.locator("#structure-editor")
    if editor.count():  # checked as the chemist sees it: loaded, its controls named
        expect(editor).to_have_attribute("data-ready", "true", timeout=60_000)
    yield "an identification"


WIDTHS = (1280, 390)  # a desk's screen, a phone's


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_every_page_passes_axe_and_fits_a_phone(
    pair: Pair, browser: Browser, locale: str, tmp_path: Path
) -> None:
    _send_from_us(pair, f"Lead for the accessibility check ({locale})", "routine")
    axe = Axe()
    problems: list[str] = []
    checked: list[tuple[str, int]] = []

    def check_at_both_widths(where: str) -> None:
        """axe and the overflow at each width, the page resized rather than loaded again
        (the layout follows the width by CSS alone); it is left at the width checked last,
        which the next page is checked at first."""
        first = page.viewport_size["width"] if page.viewport_size else WIDTHS[0]
        for width in sorted(WIDTHS, key=lambda width: width != first):
            page.set_viewport_size({"width": width, "height": 900})
            checked.append((where, width))
            problems.extend(_serious(axe, page, where, width))
            # Nothing wider than the screen: tables became lists, the navigation wrapped.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                page.screenshot(path=tmp_path / f"{len(checked)}-{width}.png", full_page=True)
                problems.append(f"{where} at {width} px: {overflow} px wider than the screen")

    context = browser.new_context(locale=locale, viewport={"width": WIDTHS[0], "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{pair.cn.base_url}/login")
        check_at_both_widths("/login")
        _log_in(page, pair.cn.base_url, "admin", ADMIN_PASSWORD, locale)
        for where in _pages(page, pair.cn.base_url):
            expect(page.locator("html")).to_have_attribute("lang", locale.split("-US")[0])
            check_at_both_widths(where)
        assert len(checked) == 16 * len(WIDTHS)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _serious(axe: Axe, page: Page, where: str, width: int) -> list[str]:
    results = axe.run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # it ran, on this page
    assert results.response["url"] == page.url
    return [
        f"{where} at {width} px: {violation['id']} ({violation['impact']}): "
        f"{violation['help']} — {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]

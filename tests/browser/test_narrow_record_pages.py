"""The newer record types' pages at 390 px, in English and Chinese, with records in them:
nothing is wider than the screen (their tables read as labelled cards), and every cell of
a stacked table says which column it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from federation.nodes import ADMIN_PASSWORD, OFFICER_PASSWORD, Pair, start_pair
from liaison.demo.incidents import seed_demo_incidents
from liaison.demo.notifications import seed_demo_notifications
from liaison.demo.verifications import seed_demo_verifications
from liaison.node import add_node_user
from liaison.runtime import node_record_types

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
LOGIN_LABELS = {"en-US": ("Username", "Password", "Log in"), "zh-CN": ("用户名", "密码", "登录")}
TARIFF = "/tariffs?origin=CN&entry_date=2025-04-15&customs_value=10000"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nodes = start_pair(tmp_path_factory.mktemp("narrow"))
    try:
        for node in (nodes.us, nodes.cn):
            for role in ("regulator", "immigration_officer", "verifier"):
                add_node_user(node.directory, role, OFFICER_PASSWORD, role, f"{node.name} agency")
        types = node_record_types()
        dirs = (nodes.us.directory, nodes.cn.directory)
        seed_demo_incidents(*dirs, us_username="officer", cn_username="officer", record_types=types)
        seed_demo_notifications(
            *dirs, us_username="regulator", cn_username="regulator", record_types=types
        )
        seed_demo_verifications(
            *dirs,
            us_username="immigration_officer",
            cn_username="verifier",
            record_types=types,
        )
        yield nodes
    finally:
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


def _pages(page: Page, base_url: str) -> Iterator[str]:
    """Each page of the newer record types, with records on it, once loaded."""
    for path in (
        "/desk",
        "/notifications",
        "/notifications/figures",
        "/incidents",
        "/dashboard",
        "/verifications",
        "/cooperation",
        TARIFF,
    ):
        page.goto(f"{base_url}{path}")
        yield path
    for listing, link, what in (
        ("/notifications", "table.notifications a", "a notification"),
        ("/incidents", "table.incidents a", "an incident"),
        ("/verifications", "table.verifications a", "a verification case"),
    ):
        page.goto(f"{base_url}{listing}")
        with page.expect_navigation():
            page.locator(link).first.click()
        yield what
        if what == "an incident":
            entity = page.locator("a[href^='/entities?']").first
            if entity.count():
                with page.expect_navigation():
                    entity.click()
                yield "an entity"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_record_pages_fit_a_phone(
    pair: Pair, browser: Browser, locale: str, tmp_path: Path
) -> None:
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    problems: list[str] = []
    seen: list[str] = []
    try:
        page = context.new_page()
        user_label, password_label, button = LOGIN_LABELS[locale]
        page.goto(f"{pair.us.base_url}/login")
        page.get_by_label(user_label).fill("admin")
        page.get_by_label(password_label).fill(ADMIN_PASSWORD)
        page.get_by_role("button", name=button).click()
        expect(page).to_have_url(f"{pair.us.base_url}/desk")
        for where in _pages(page, pair.us.base_url):
            seen.append(where)
            expect(page.locator("html")).to_have_attribute("lang", locale.removesuffix("-US"))
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                page.screenshot(path=tmp_path / f"{len(seen)}.png", full_page=True)
                problems.append(f"{where}: {overflow} px wider than the 390 px screen")
            # Every body cell of a stacked table is labelled (an empty list's one cell
            # spans the row and says so itself).
            unlabelled = page.evaluate(
                """[...document.querySelectorAll(
                    "table.stack tbody td:not([colspan]), table.stack tbody th[scope=row]")]
                   .filter(cell => !cell.hasAttribute("data-label")).length"""
            )
            if unlabelled:
                problems.append(f"{where}: {unlabelled} cells of a stacked table lack data-label")
            tables = page.locator("main table").count()
            stacked = page.locator("main table.stack").count()
            if tables != stacked:
                problems.append(f"{where}: {tables - stacked} of {tables} tables not stacked")
    finally:
        context.close()
    assert {"a notification", "an incident", "a verification case"} <= set(seen)
    assert not problems, "\n".join(problems)

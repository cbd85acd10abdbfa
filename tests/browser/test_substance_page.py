"""A real browser (Debian's Chromium through Playwright) against a real node server:
log in, identify a substance, see the three verdicts and the depiction."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from liaison.node import add_node_user, create_node, node_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    directory = tmp_path / "node"
    create_node(directory, "US", "admin", "admin password 1")
    add_node_user(directory, "olivia", "officer password", "officer", "US CBP")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = node_server(directory, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the node server did not start"
        time.sleep(0.05)
    assert httpx.get(f"{url}/healthz").status_code == 200
    yield url
    server.should_exit = True
    thread.join(timeout=10)


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

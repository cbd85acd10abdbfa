"""The substance page's structure editor (Ketcher, built by `make editor`) in a real browser:
a structure set through Ketcher's API is identified as if pasted, with nothing fetched from
elsewhere and no Content-Security-Policy violation."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, expect, sync_playwright
from rdkit import Chem

from liaison.web.ui.substances import editor_built

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def test_draw_fentanyl_and_identify_the_drawing(node_url: str) -> None:
    assert editor_built(), "run `make editor` first (make test does)"
    requested: list[str] = []
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda request: requested.append(request.url))

        def log(message: ConsoleMessage) -> None:
            console.append(message.text)

        page.on("console", log)
        page.goto(f"{node_url}/substances")
        page.get_by_label("Username").fill("olivia")
        page.get_by_label("Password").fill("officer password")
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{node_url}/substances")

        # Ketcher is ready when it has called back (Indigo's wasm compiled in its worker).
        expect(page.locator("#structure-editor[data-ready=true]")).to_have_count(1, timeout=60_000)
        page.evaluate("smiles => window.ketcher.setMolecule(smiles)", FENTANYL)
        page.get_by_role("button", name="Identify the drawing").click()

        expect(page).to_have_url(f"{node_url}/substances")
        result = page.locator("article.result")
        expect(result).to_have_count(1, timeout=30_000)
        for column in result.locator("section.jurisdiction").all():
            expect(column.locator(".badge").first).to_have_text("Controlled")
        # The drawing went through the text box, as if pasted.
        drawn = page.get_by_label("SMILES, InChI, CAS number, name or MOL block").input_value()
        assert Chem.CanonSmiles(drawn) == Chem.CanonSmiles(FENTANYL)
        # The answer's page puts the structure back in the editor, to be modified next.
        expect(page.locator("#structure-editor[data-ready=true]")).to_have_count(1, timeout=60_000)
        page.wait_for_function("async () => (await window.ketcher.getSmiles()).length > 0")
        shown = page.evaluate("() => window.ketcher.getSmiles()")
        assert Chem.CanonSmiles(shown) == Chem.CanonSmiles(FENTANYL)

        # A name typed in the box: its structure is drawn for the chemist too.
        page.get_by_label("SMILES, InChI, CAS number, name or MOL block").fill("fentanyl")
        page.get_by_role("button", name="Identify", exact=True).click()
        expect(page.locator("article.result")).to_have_count(1, timeout=30_000)
        expect(page.locator("#structure-editor[data-ready=true]")).to_have_count(1, timeout=60_000)
        page.wait_for_function("async () => (await window.ketcher.getSmiles()).length > 0")
        named = page.evaluate("() => window.ketcher.getSmiles()")
        assert Chem.CanonSmiles(named) == Chem.CanonSmiles(FENTANYL)
        browser.close()
    origin = urlsplit(node_url)
    assert [url for url in requested if urlsplit(url).netloc not in ("", origin.netloc)] == []
    assert any(url.endswith(".wasm") for url in requested), requested
    assert [text for text in console if "Content Security Policy" in text] == []

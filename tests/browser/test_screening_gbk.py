"""A Chinese officer's browser screens a file saved on Chinese Windows (GBK): the page says
how it was read, summarises first, opens a record to its explanation and picture, and counts
the characters typed in the identification form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from browser.test_substance_page import CHROMIUM, FENTANYL
from liaison.chem.evidence import rules_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _log_in(page: Page, node_url: str, next_path: str) -> None:
    page.goto(f"{node_url}{next_path}")
    page.locator("#username").fill("olivia")
    page.locator("#password").fill("officer password")
    page.locator("#password").press("Enter")
    expect(page).to_have_url(f"{node_url}{next_path}")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_screen_a_gbk_file(node_url: str, tmp_path: Path, locale: str) -> None:
    seized = tmp_path / "查获清单.csv"
    seized.write_bytes(
        f"编号,smiles,描述\nS-1,{FENTANYL},海关查获的白色粉末\nS-2,CCO,乙醇样品\n".encode("gbk")
    )
    chinese = locale == "zh-CN"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text))
        _log_in(page, node_url, "/substances/screen")
        expect(page.locator("html")).to_have_attribute("lang", locale if chinese else "en")

        page.locator("#upload").set_input_files(str(seized))
        page.locator("#as_of").fill("2024-06-01")
        page.locator("form.card button[type=submit]").click()

        read_as = "按 GB18030 (GBK) 编码读取。" if chinese else "Read as GB18030 (GBK)."
        expect(page.locator(".encoding")).to_have_text(read_as)
        summary = page.locator("table.summary")
        expect(summary).to_be_visible()
        expect(summary.locator("tbody tr")).to_have_count(3)
        expect(page.locator(".evidence")).to_contain_text(rules_version().hash)

        records = page.locator("ol.screened-records > li")
        expect(records).to_have_count(2)
        first = records.first
        expect(first.locator("summary")).to_contain_text("海关查获的白色粉末")
        picture = first.locator("img.depiction")
        expect(picture).to_be_hidden()
        first.locator("summary").click()
        expect(picture).to_be_visible()
        assert picture.evaluate("image => image.naturalWidth") > 100
        expect(first.locator(".permalink")).to_have_attribute(
            "href", re.compile(r"^/substances\?q=.+&as_of=2024-06-01&.*rules=")
        )

        with page.expect_download() as download:
            page.locator('a[href$=".xlsx"]').click()
        assert download.value.suggested_filename.endswith("-screened.xlsx")

        # The record's permanent link reproduces its identification.
        first.locator(".permalink").click()
        expect(page.locator("article.result .badge.status-controlled")).to_have_count(3)

        # The identification form states its limit before anything is sent.
        page.goto(f"{node_url}/substances")
        page.locator("#query").fill("fentanyl HCl")
        counter = "已输入 12 / 100000 个字符" if chinese else "12 of 100000 characters"
        expect(page.locator("#query-count")).to_have_text(counter)
        page.locator("form.query-form button[type=submit]").click()
        result = page.locator("article.result")
        expect(result).to_contain_text("C22H28N2O")
        with page.expect_download() as molfile:
            result.locator('a[download$=".mol"]').click()
        assert molfile.value.suggested_filename == "PJMPHNIQZUBGLI-UHFFFAOYSA-N.mol"
        assert "M  END" in Path(molfile.value.path()).read_text()
        result.locator("details.similar summary").click()
        nearest = result.locator("details.similar tbody tr").first
        expect(nearest).to_be_visible()
        nearest.locator("a").click()
        expect(page.locator("article.result")).to_have_count(1)
        browser.close()
    assert not [text for text in errors if "Content Security Policy" in text], errors

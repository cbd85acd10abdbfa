"""The substance page with and without the structure editor's build, the editor's relaxed
Content-Security-Policy confined to it, and the incident form's verdicts-as-typed plumbing
(the identify API taken with the page's session and CSRF token)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from liaison.web import csp
from liaison.web.app import SecurityHeaders
from liaison.web.ui import substances as substance_pages

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def status_labels(page: str) -> dict[str, str]:
    """The verdict labels the form hands to static/live-verdicts.js."""
    config = page.split('id="live-verdicts-config"', 1)[1].split(">", 1)[0]
    labels: dict[str, str] = json.loads(
        html.unescape(config.split('data-labels="')[1].split('"')[0])
    )
    return labels


def script_sources(policy: str) -> list[str]:
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    return directives["script-src"].split()


def test_without_the_build_the_page_says_so_and_still_identifies(
    client: TestClient, accounts: Accounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(substance_pages, "EDITOR_SCRIPT", tmp_path / "not-built" / "editor.js")
    token = accounts.browser_login(client, "olivia")
    page = client.get("/substances")
    assert page.status_code == 200
    assert 'id="editor-missing"' in page.text and "make editor" in page.text
    assert "/static/editor/" not in page.text
    assert page.headers["content-security-policy"] == csp.CONTENT_SECURITY_POLICY

    answer = client.post("/substances", data={"query": FENTANYL, "csrf_token": token})
    assert answer.status_code == 200
    assert 'class="badge status-controlled"' in answer.text
    assert answer.headers["content-security-policy"] == csp.CONTENT_SECURITY_POLICY


def test_with_the_build_only_the_editor_gets_the_relaxed_policy(
    client: TestClient, accounts: Accounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = tmp_path / "editor.js"
    built.write_text("// built")
    monkeypatch.setattr(substance_pages, "EDITOR_SCRIPT", built)
    accounts.browser_login(client, "olivia")
    page = client.get("/substances")
    assert page.status_code == 200
    assert '<script type="module" src="/static/editor/editor.js">' in page.text
    assert 'id="structure-editor"' in page.text and 'id="editor-missing"' not in page.text
    policy = page.headers["content-security-policy"]
    assert policy == csp.EDITOR_CONTENT_SECURITY_POLICY
    # WebAssembly may be compiled; JavaScript may still not be evaluated from strings.
    assert script_sources(policy) == ["'self'", "'wasm-unsafe-eval'"]
    assert "frame-ancestors 'none'" in policy and "https:" not in policy

    # The build's own files (its worker's policy is its response's) and nothing else.
    editor_file = client.get("/static/editor/editor.js")
    assert editor_file.headers["content-security-policy"] == csp.EDITOR_CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"
    for path in ("/static/liaison.css", "/static/live-verdicts.js", "/incidents/new", "/audit"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == csp.CONTENT_SECURITY_POLICY, path
        assert "wasm-unsafe-eval" not in response.headers["content-security-policy"]


def test_the_incident_form_asks_for_verdicts_as_the_officer_types(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.browser_login(client, "olivia")
    form = client.get("/incidents/new")
    assert form.status_code == 200
    assert 'data-live-verdicts="item0_verdicts"' in form.text
    assert '<ul class="live-verdicts" id="item0_verdicts"' in form.text
    assert '<script src="/static/live-verdicts.js" defer></script>' in form.text
    assert status_labels(form.text)["controlled"] == "Controlled"
    token = accounts.form_token(form.text)

    # The endpoint the script calls, with the page's session and its CSRF header.
    answer = client.post(
        "/api/v1/substances/identify", json={"query": FENTANYL}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 200, answer.text
    verdicts = answer.json()["results"][0]["verdicts"]
    assert verdicts["US"]["status"] == "controlled" and verdicts["CN"]["status"] == "controlled"
    refused = client.post("/api/v1/substances/identify", json={"query": FENTANYL})
    assert refused.status_code == 403

    # In Chinese the labels are the catalog's.
    client.cookies.set("liaison_language", "zh-CN")
    client.patch("/api/v1/auth/me", json={"language": "zh-CN"}, headers={"X-CSRF-Token": token})
    assert status_labels(client.get("/incidents/new").text)["controlled"] == "管制"


def test_the_editor_build_is_cached_where_that_is_safe(tmp_path: Path) -> None:
    """Its content-hashed assets (21 MB, the wasm among them) are kept by the browser, its entry
    revalidated; a miss, a page and every other file are never stored."""
    (tmp_path / "editor" / "assets").mkdir(parents=True)
    (tmp_path / "editor" / "editor.js").write_text("// entry")
    (tmp_path / "editor" / "assets" / "indigo-Ab12.wasm").write_bytes(b"\0asm")
    (tmp_path / "liaison.css").write_text("body {}")
    site = Starlette(routes=[Mount("/static", StaticFiles(directory=tmp_path))])
    with TestClient(SecurityHeaders(site)) as files:
        asset = files.get("/static/editor/assets/indigo-Ab12.wasm")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        entry = files.get("/static/editor/editor.js")
        assert entry.headers["cache-control"] == "no-cache" and entry.headers["etag"]
        revalidated = {"If-None-Match": entry.headers["etag"]}
        assert files.get("/static/editor/editor.js", headers=revalidated).status_code == 304
        for path in ("/static/editor/assets/missing.js", "/static/liaison.css"):
            assert files.get(path).headers["cache-control"] == "no-store", path
        assert entry.headers["content-security-policy"] == csp.EDITOR_CONTENT_SECURITY_POLICY

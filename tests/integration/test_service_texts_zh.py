"""Texts made below the web layer (the engine's explanations, a service's error, the audit
chain's verdict) are in Chinese on Chinese pages: no English sentence is left on them but
data marked `lang="en"` (a rule's name or citation as the rule data writes it)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

CHINESE = {"Accept-Language": "zh-CN"}
# Four Latin words in a row: a sentence, not a SMILES, a code or a chemical name.
SENTENCE = re.compile(r"[A-Za-z][A-Za-z'-]+(?:[ ,;:]+[A-Za-z][A-Za-z'-]*){3,}")
# An N-aryl analogue of fentanyl (pyrimidin-2-yl for the phenyl): listed by no name, a
# member of both classes, with a region replaced in words.
ANALOGUE = "O=C(CC)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1"


class _Text(HTMLParser):
    """The visible text of <main>, without code, what is marked as English and recorded
    data (an audit entry's detail)."""

    SKIPPED = frozenset({"script", "style", "code", "pre", "textarea", "select"})
    VOID = frozenset({"img", "input", "br", "hr", "meta", "link", "source", "area", "wbr", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.inside_main = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.inside_main = True
        if tag in self.VOID:
            return
        attributes = dict(attrs)
        lang = attributes.get("lang") or ""
        # An audit entry's detail is shown as recorded (field names, the values written).
        recorded = tag == "dl" and "detail" in (attributes.get("class") or "").split()
        skipped = tag in self.SKIPPED or lang.startswith("en") or recorded
        self.stack.append(skipped or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.inside_main = False
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.inside_main and not (self.stack and self.stack[-1]):
            self.text.append(data)


def english_sentences(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return SENTENCE.findall(" ".join(parser.text))


def test_the_scan_finds_an_english_sentence() -> None:
    page = (
        "<main><p>没有</p><p>no loaded rule matched here</p>"
        "<p lang='en'>Schedule I of the Act</p><code>not a sentence to us</code></main>"
    )
    assert english_sentences(page) == ["no loaded rule matched here"]


def test_a_screened_analogue_is_explained_in_chinese(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.browser_login(client, "olivia")
    page = client.get(f"/substances?q={quote(ANALOGUE)}", headers=CHINESE)
    assert page.status_code == 200, page.text
    assert '<html lang="zh-CN">' in page.text
    # The region that changed, in words, under each definition's clause.
    assert "N-芳基（苯胺）环被嘧啶-2-基替换" in page.text
    assert english_sentences(page.text) == [], "\n".join(english_sentences(page.text))
    # The API answers in English, whatever the user's page language, unless the request
    # itself asks for Chinese.
    headers = accounts.bearer(client, "olivia")
    english = client.post("/api/v1/substances/identify", json={"query": ANALOGUE}, headers=headers)
    verdict = english.json()["results"][0]["verdicts"]["US"]
    assert "N-aryl (aniline) ring replaced by pyrimidin-2-yl" in verdict["explanation"]
    chinese = client.post(
        "/api/v1/substances/identify", json={"query": ANALOGUE}, headers={**headers, **CHINESE}
    )
    verdict = chinese.json()["results"][0]["verdicts"]["US"]
    assert "N-芳基（苯胺）环被嘧啶-2-基替换" in verdict["explanation"]
    assert verdict["basis"][0]["regions"][0]["explanation"] == "D：N-芳基（苯胺）环被嘧啶-2-基替换"


def test_a_refused_query_says_why_in_chinese(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "olivia")
    page = client.get("/substances?q=50-00-1", headers=CHINESE)
    assert "CAS 号 50-00-1 的校验位错误（最后一位应为 0）" in page.text
    unknown = client.get("/substances?q=fentanil", headers=CHINESE)
    assert "&#39;fentanil&#39;</span> 不是 Liaison 认识的名称" in unknown.text
    assert (
        '相近的名称：<span lang="en">sufentanil, ocfentanil, alfentanil, fentanyl' in unknown.text
    )
    assert english_sentences(page.text) == [], "\n".join(english_sentences(page.text))
    assert english_sentences(unknown.text) == [], "\n".join(english_sentences(unknown.text))


def test_audit_verification_is_in_chinese(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "audrey")
    page = client.get("/audit", headers=CHINESE)
    assert page.status_code == 200, page.text
    assert "审计链完整：共" in page.text
    assert english_sentences(page.text) == [], "\n".join(english_sentences(page.text))


def test_errors_from_services_are_in_chinese(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "olivia")
    token = accounts.csrf_token_on(client, "/substances/screen")
    empty = client.post(
        "/substances/screen",
        files={"upload": ("seized.csv", b"  \n", "text/csv")},
        data={"csrf_token": token},
        headers=CHINESE,
    )
    assert empty.status_code == 422
    assert "seized.csv</span>：文件为空" in empty.text
    assert english_sentences(empty.text) == [], "\n".join(english_sentences(empty.text))
    # An account the administrator adds with a short password, one already taken.
    accounts.browser_login(client, "admin")
    token = accounts.csrf_token_on(client, "/admin/users")
    for username, password, said in (
        ("newcomer", "short", "密码至少需要"),
        (
            "olivia",
            "a long enough password",
            '名为 <span lang="en">&#39;olivia&#39;</span> 的用户已存在',
        ),
    ):
        form = {"csrf_token": token, "username": username, "password": password}
        refused = client.post(
            "/admin/users", data={**form, "role": "officer", "agency": "US CBP"}, headers=CHINESE
        )
        assert said in refused.text
        assert english_sentences(refused.text) == [], "\n".join(english_sentences(refused.text))
    # A page the role may not open: the error page says why in Chinese.
    accounts.browser_login(client, "audrey")
    refused = client.get("/substances", headers=CHINESE)
    assert refused.status_code == 403
    assert "此操作需要以下角色之一" in refused.text
    assert english_sentences(refused.text) == [], "\n".join(english_sentences(refused.text))
    # The API keeps the English detail.
    api = client.post(
        "/api/v1/substances/identify",
        json={"query": "fentanyl"},
        headers={**accounts.bearer(client, "audrey"), **CHINESE},
    )
    assert api.status_code == 403
    assert api.json()["detail"].startswith("this needs one of the roles")


def test_form_errors_from_services_are_in_chinese(client: TestClient, accounts: Accounts) -> None:
    # A bad IBAN on the incident form: the form comes back with the entry and the reason.
    token = accounts.browser_login(client, "olivia")
    bad = client.post(
        "/incidents/new",
        data={
            "csrf_token": token,
            "kind": "seizure",
            "occurred_on": "2026-02-03",
            "country": "US",
            "item0_substance": "fentanyl",
            "item0_quantity": "1.5",
            "item0_unit": "kg",
            "entity0_kind": "bank_account",
            "entity0_value": "GB82WEST12345698765431",
        },
        headers=CHINESE,
    )
    assert bad.status_code == 422
    assert "不是有效的 IBAN" in bad.text and "not a valid IBAN" not in bad.text
    assert 'value="GB82WEST12345698765431"' in bad.text
    assert english_sentences(bad.text) == [], "\n".join(english_sentences(bad.text))
    # A peering error: an invite code that is not one.
    token = accounts.browser_login(client, "admin")
    refused = client.post(
        "/admin/peers/accept", data={"csrf_token": token, "code": "not-a-code"}, headers=CHINESE
    )
    assert refused.status_code == 422
    assert "邀请码必须以" in refused.text and "invite code must start" not in refused.text
    assert english_sentences(refused.text) == [], "\n".join(english_sentences(refused.text))
    # An address that does not exist: the error page says so in Chinese.
    missing = client.get("/no-such-page", headers=CHINESE)
    assert missing.status_code == 404
    assert '<span lang="en">/no-such-page</span> 处没有内容' in missing.text

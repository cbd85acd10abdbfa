"""The interface's language and time zone: browser default, switch, the user's preferences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from liaison.config import NodeConfig
from liaison.store import Database
from liaison.store.audit import AuditEntry

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

import sqlalchemy as sa


def test_login_page_follows_accept_language(client: TestClient) -> None:
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in chinese.text
    assert "<h1>登录</h1>" in chinese.text
    english = client.get("/login", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in english.text
    assert "<h1>Log in</h1>" in english.text
    # Neither: English, the source language.
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).text


def test_language_switch_before_login_sets_a_cookie(client: TestClient) -> None:
    switched = client.post(
        "/language", data={"language": "zh-CN", "next": "/login"}, follow_redirects=False
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    assert "<h1>登录</h1>" in client.get("/login", headers={"Accept-Language": "en"}).text
    # Only local targets, only known languages.
    away = client.post(
        "/language", data={"language": "en", "next": "//evil.example"}, follow_redirects=False
    )
    assert away.headers["location"] == "/"
    assert client.post("/language", data={"language": "fr"}).status_code == 422


def test_preferences_through_the_api(
    node: NodeConfig, client: TestClient, accounts: Accounts
) -> None:
    headers = accounts.bearer(client, "olivia")
    before = client.get("/api/v1/auth/me", headers=headers).json()
    assert before["language"] is None and before["time_zone"] is None
    assert before["node_time_zone"] == "UTC"

    changed = client.patch(
        "/api/v1/auth/me",
        json={"language": "zh-CN", "time_zone": "Asia/Shanghai"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "zh-CN"
    again = client.get("/api/v1/auth/me", headers=headers).json()
    assert (again["language"], again["time_zone"]) == ("zh-CN", "Asia/Shanghai")

    bad_zone = client.patch("/api/v1/auth/me", json={"time_zone": "Mars/Olympus"}, headers=headers)
    assert bad_zone.status_code == 422
    assert "Mars/Olympus" in bad_zone.json()["detail"]
    bad_language = client.patch("/api/v1/auth/me", json={"language": "fr"}, headers=headers)
    assert bad_language.status_code == 422
    assert "language" in bad_language.json()["detail"]

    # The preference wins over the browser's Accept-Language on every page.
    accounts.browser_login(client, "olivia")
    page = client.get("/substances", headers={"Accept-Language": "en-US"})
    assert '<html lang="zh-CN">' in page.text
    assert "退出登录" in page.text

    database = Database(node.database_url)
    with database.session() as session:
        actions = session.execute(
            sa.select(AuditEntry.detail).where(AuditEntry.action == "user.preferences")
        ).scalars()
        assert [detail for detail in actions] == [
            '{"language":"zh-CN","time_zone":"Asia/Shanghai"}'
        ]
    database.dispose()


def test_language_switch_stores_the_signed_in_users_preference(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "olivia")
    switched = client.post(
        "/language",
        data={"language": "zh-CN", "next": "/hotline", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert switched.headers["location"] == "/hotline"
    headers = accounts.bearer(client, "olivia")
    assert client.get("/api/v1/auth/me", headers=headers).json()["language"] == "zh-CN"


def test_a_rule_dated_only_to_the_year_shows_only_the_year(
    client: TestClient, accounts: Accounts
) -> None:
    csrf = accounts.browser_login(client, "olivia")
    page = client.post(
        "/substances",
        data={
            "query": "CCC(=O)N(c1ccccc1)C1(COC)CCN(CCc2cccs2)CC1",  # sufentanil
            "jurisdictions": ["UN"],
            "csrf_token": csrf,
        },
    )
    assert page.status_code == 200, page.text
    # Not "Jan 1, 1980": the UN listing's date is known only to the year.
    assert 'In force from <time datetime="1980">1980</time>' in page.text

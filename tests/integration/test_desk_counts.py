"""The desk and a hotline search count the inbox once per request: the navigation's badge
already counted it (web/auth.py), and the panel reuses that count."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from liaison.services import hotline
from liaison.web import auth

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts


@pytest.mark.parametrize("path", ["/desk", "/hotline?q=anything"])
def test_a_page_counts_the_inbox_once(
    path: str, client: TestClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.browser_login(client, "olivia")
    calls: list[str] = []

    def counting(count: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(path)
            return count(*args, **kwargs)

        return counted

    # Wherever the page may reach it: the badge's import and the hotline package's.
    monkeypatch.setattr(auth, "count_inbox", counting(auth.count_inbox))
    monkeypatch.setattr(hotline, "count_inbox", counting(hotline.count_inbox))
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert len(calls) == 1

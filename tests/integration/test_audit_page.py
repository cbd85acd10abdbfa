"""The audit page (issue 9): newest first, filters (who, what, when), readable details,
CSV export with UTC times."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi.testclient import TestClient

from liaison.config import NodeConfig
from liaison.store import Database
from liaison.store.audit import AuditEntry

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'<td data-label="Seq">(\d+)</td>', html)]


def test_entries_are_newest_first_and_filtered_by_who_and_what(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.bearer(client, "olivia")  # auth.token_issue by olivia
    accounts.browser_login(client, "audrey")
    page = client.get("/audit").text
    seqs = _seqs(page)
    assert seqs and seqs == sorted(seqs, reverse=True)

    by_olivia = client.get("/audit", params={"actor": "olivia"}).text
    assert _seqs(by_olivia)
    assert set(re.findall(r'<td data-label="Actor">(\w+)', by_olivia)) == {"olivia"}

    logins = client.get("/audit", params={"action": "auth."}).text
    actions = set(re.findall(r"<code>([a-z_.]+)</code>", logins))
    assert actions and all(action.startswith("auth.") for action in actions)
    exact = client.get("/audit", params={"action": "auth.login"}).text
    assert set(re.findall(r"<code>([a-z_.]+)</code>", exact)) == {"auth.login"}
    assert client.get("/audit", params={"since": "31/12/2020"}).status_code == 422


def test_dates_are_the_users_days_and_details_are_readable(
    node: NodeConfig, client: TestClient, accounts: Accounts
) -> None:
    headers = accounts.bearer(client, "audrey")
    client.patch("/api/v1/auth/me", json={"time_zone": "Asia/Shanghai"}, headers=headers)
    accounts.browser_login(client, "audrey")
    # The days picked are the user's (Asia/Shanghai), not the server's.
    shanghai_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    page = client.get("/audit", params={"since": shanghai_today.isoformat()}).text
    assert _seqs(page)
    tomorrow = (shanghai_today + timedelta(days=1)).isoformat()
    assert _seqs(client.get("/audit", params={"since": tomorrow}).text) == []
    yesterday = (shanghai_today - timedelta(days=1)).isoformat()
    assert _seqs(client.get("/audit", params={"until": yesterday}).text) == []

    # The token's expiry is shown as a time in the user's zone, UTC on hover.
    issued = client.get("/audit", params={"action": "auth.token_issue"}).text
    assert re.search(
        r'<dt>expires_at</dt><dd><time datetime="[0-9T:.-]+Z" title="[0-9 :-]+ UTC">', issued
    ), issued
    # Times of the entries themselves: local (UTC+8 has no "UTC" in the text), UTC on hover.
    when = re.findall(r'<td data-label="When" class="nowrap"><time [^>]*title="([^"]+)">', issued)
    assert when and all(text.endswith(" UTC") for text in when)


def test_csv_export_has_utc_times_and_the_filters_and_is_audited(
    node: NodeConfig, client: TestClient, accounts: Accounts
) -> None:
    accounts.browser_login(client, "audrey")
    response = client.get("/audit.csv", params={"action": "user."})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and {row["action"] for row in rows} <= {"user.create", "user.list", "user.read"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row["at_utc"]) for row in rows)
    seqs = [int(row["seq"]) for row in rows]
    assert seqs == sorted(seqs, reverse=True)
    database = Database(node.database_url)
    with database.session() as session:
        exports = session.scalars(
            sa.select(AuditEntry.detail).where(AuditEntry.action == "audit.search")
        ).all()
    database.dispose()
    assert json.loads(exports[-1]) == {
        "export": True,
        "filters": {"action": "user."},
        "results": len(rows),
    }
    # Only auditors.
    accounts.browser_login(client, "olivia")
    assert client.get("/audit.csv").status_code == 403

"""Incident attachments between two real nodes (separate `liaison serve` processes, real
HTTP) on SQLite and PostgreSQL: an incident's attachment travels with it and is served on
the peer byte for byte, a follow-up's attachment travels back; the peer's dashboard counts
the arrived seizure apart from its own (the summary kept by the inbox handler) and its desk
lists the incident as awaiting follow-up until it has one."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.nodes import Pair, start_pair, wait_until

pytestmark = [pytest.mark.slow]

PDF = b"%PDF-1.4\n% seizure photographs and report\n"
NOTE = "实验室报告：纯度 80%".encode()


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    nodes = start_pair(tmp_path, us_database=database_url, cn_database=second_database_url)
    yield nodes
    nodes.close()


def _attachment(name: str, content_type: str, content: bytes) -> dict[str, str]:
    return {
        "filename": name,
        "content_type": content_type,
        "content_base64": base64.b64encode(content).decode(),
    }


def _received(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    listed = client.get("/api/v1/incidents", params={"origin": "US"}).json()["items"]
    return next((i for i in listed if i["global_id"] == global_id), None)


def test_attachments_travel_both_ways_and_the_peer_counts_the_seizure(pair: Pair) -> None:
    us, cn = pair.us.client(), pair.cn.client()
    try:
        sent = us.post(
            "/api/v1/incidents",
            json={
                "kind": "seizure",
                "occurred_on": "2026-05-02",
                "country": "US",
                "conveyance": "sea_container",
                "route": ["CN", "US"],
                "items": [{"substance": "caffeine", "quantity": 3, "unit": "kg"}],
                "share_with": ["CN"],
                "urgent": True,
                "attachments": [_attachment("report.pdf", "application/pdf", PDF)],
            },
        )
        assert sent.status_code == 201, sent.text
        incident = sent.json()
        arrived = wait_until(lambda: _received(cn, incident["global_id"]), "the incident on CN")
        detail = cn.get(f"/api/v1/incidents/{arrived['id']}").json()
        [attachment] = detail["attachments"]
        assert (attachment["filename"], attachment["verified"]) == ("report.pdf", True)
        assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
        body = cn.get(f"/api/v1/incidents/{arrived['id']}/attachments/{attachment['id']}")
        assert body.status_code == 200 and body.content == PDF

        # The peer's dashboard: the seizure under the peer's columns, none of its own.
        board = cn.get("/api/v1/dashboard/seizures", params={"group_by": "route"}).json()
        [row] = board["rows"]
        assert (row["key"], row["peer_count"], row["own_count"]) == ("CN>US", 1, 0)
        assert row["peer_grams"] == pytest.approx(3000)
        desk = cn.get("/desk")
        assert desk.status_code == 200 and f'href="/incidents/{arrived["id"]}#follow-ups"' in (
            desk.text
        )

        follow = cn.post(
            f"/api/v1/incidents/{arrived['id']}/follow-ups",
            json={
                "body": "Lab report attached",
                "status": "investigation_opened",
                "attachments": [_attachment("lab.txt", "text/plain", NOTE)],
            },
        )
        assert follow.status_code == 201, follow.text
        assert f'href="/incidents/{arrived["id"]}#follow-ups"' not in cn.get("/desk").text

        def back_on_us() -> list[dict[str, Any]]:
            found = us.get(f"/api/v1/incidents/{incident['id']}").json()["follow_ups"]
            return list(found)

        [back] = wait_until(back_on_us, "the follow-up on US")
        [note] = back["attachments"]
        assert (note["filename"], note["verified"]) == ("lab.txt", True)
        served = us.get(f"/api/v1/incidents/{incident['id']}/attachments/{note['id']}")
        assert served.content == NOTE
    finally:
        us.close()
        cn.close()

"""The hotline between two real nodes (separate `liaison serve` processes, real HTTP)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from federation.nodes import AGENCIES, Pair, start_pair, wait_until
from liaison.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hotline_pair")]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    # Flash messages fall due at once here, so overdue flags can be observed without waiting.
    fast_flash = {"LIAISON_HOTLINE_FLASH_ACK_MINUTES": "0"}
    nodes = start_pair(tmp_path_factory.mktemp("pair"), us_env=fast_flash, cn_env=fast_flash)
    yield nodes
    nodes.close()


@pytest.fixture(scope="module")
def us(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.us.client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def cn(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.cn.client()
    yield client
    client.close()


def _thread_on(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    response = client.get("/api/v1/threads")
    assert response.status_code == 200, response.text
    return next((t for t in response.json() if t["global_id"] == global_id), None)


def _open(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"peer": "CN", "subject": "s", "priority": "routine", "kind": "note", "body": "b"}
    response = client.post("/api/v1/threads", json={**body, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _messages(client: httpx.Client, thread_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/threads/{thread_id}/messages")
    assert response.status_code == 200, response.text
    return list(response.json())


def test_a_thread_travels_and_the_reply_ack_and_read_receipt_come_back(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _open(
        us,
        subject="Lead: 25 kg 4-AP consignment",
        priority="urgent",
        kind="lead",
        body="Can you check the consignor?",
    )
    assert sent["origin"] == "US" and sent["to_agency"] == AGENCIES["CN"]

    received = wait_until(lambda: _thread_on(cn, sent["global_id"]), "the thread on CN")
    assert received["subject"] == "Lead: 25 kg 4-AP consignment"
    assert (received["priority"], received["kind"], received["origin"]) == ("urgent", "lead", "US")
    assert received["unread"] == 1

    [lead] = _messages(cn, received["id"])
    assert (lead["body"], lead["origin"]) == ("Can you check the consignor?", "US")
    assert lead["ack_due_at"] is not None and lead["acked_at"] is None
    acked = cn.post(f"/api/v1/messages/{lead['id']}/ack")
    assert acked.status_code == 200, acked.text
    reply = cn.post(f"/api/v1/threads/{received['id']}/messages", json={"body": "Consignor found."})
    assert reply.status_code == 201, reply.text
    assert reply.json()["origin"] == "CN"

    def reply_on_us() -> list[dict[str, Any]] | None:
        messages = _messages(us, sent["id"])
        return messages if len(messages) == 2 and messages[0]["acked_at"] else None

    first, second = wait_until(reply_on_us, "the reply and the acknowledgement on US")
    assert [first["body"], second["body"]] == ["Can you check the consignor?", "Consignor found."]
    assert [first["origin"], second["origin"]] == ["US", "CN"]
    assert first["acked_by"] == f"officer ({AGENCIES['CN']})"
    assert first["read_at"] is not None  # CN read it before acknowledging
    # US read the reply just now; the receipt travels to CN.
    wait_until(
        lambda: _messages(cn, received["id"])[1]["read_at"], "CN to learn that US read the reply"
    )


def test_a_thread_is_visible_only_to_the_addressed_agency_on_the_peer(
    pair: Pair, us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _open(us, subject="For the liaison office only")
    received = wait_until(lambda: _thread_on(cn, sent["global_id"]), "the thread on CN")
    outsider = pair.cn.client("outsider")
    try:
        assert _thread_on(outsider, sent["global_id"]) is None
        hidden = outsider.get(f"/api/v1/threads/{received['id']}/messages")
        assert hidden.status_code == 404
        refused = outsider.post(
            f"/api/v1/threads/{received['id']}/messages", json={"body": "not mine"}
        )
        assert refused.status_code == 404
    finally:
        outsider.close()


def test_an_attachment_arrives_intact_and_is_verified_on_the_receiving_side(
    us: httpx.Client, cn: httpx.Client
) -> None:
    digest = hashlib.sha256(PNG).hexdigest()
    sent = _open(us, subject="Photo of the parcel")
    posted = us.post(
        f"/api/v1/threads/{sent['id']}/messages",
        json={
            "body": "Label photo attached.",
            "attachments": [
                {
                    "filename": "label.png",
                    "content_type": "image/png",
                    "content_base64": base64.b64encode(PNG).decode(),
                }
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["attachments"][0]["sha256"] == digest

    received = wait_until(lambda: _thread_on(cn, sent["global_id"]), "the thread on CN")
    messages = wait_until(
        lambda: (m := _messages(cn, received["id"])) and len(m) == 2 and m, "both messages on CN"
    )
    [attachment] = messages[1]["attachments"]
    assert attachment["verified"] is True
    assert (attachment["sha256"], attachment["size"]) == (digest, len(PNG))
    download = cn.get(f"/api/v1/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-sha256"] == digest


@pytest.mark.parametrize(
    ("filename", "content_type", "content", "complaint"),
    [
        ("tool.exe", "application/x-msdownload", b"MZ\x90\x00", "content type"),
        ("fake.png", "image/png", b"GIF89a not a png", "does not look like image/png"),
        ("notes.txt", "text/plain", b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)
def test_attachments_of_the_wrong_type_are_refused_with_the_reason(
    us: httpx.Client, filename: str, content_type: str, content: bytes, complaint: str
) -> None:
    response = us.post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "with attachment",
            "body": "see file",
            "attachments": [
                {
                    "filename": filename,
                    "content_type": content_type,
                    "content_base64": base64.b64encode(content).decode(),
                }
            ],
        },
    )
    assert response.status_code == 422
    assert complaint in response.json()["detail"] and filename in response.json()["detail"]


def test_an_unacknowledged_flash_message_is_overdue_on_both_sides_until_acknowledged(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _open(us, subject="Flash: courier arriving tonight", priority="flash", kind="alert")
    us_inbox = us.get("/api/v1/hotline/inbox").json()
    assert sent["id"] in [m["thread_id"] for m in us_inbox["overdue_messages"]]

    received = wait_until(lambda: _thread_on(cn, sent["global_id"]), "the flash thread on CN")
    assert received["overdue"] == 1
    cn_inbox = cn.get("/api/v1/hotline/inbox").json()
    assert received["id"] in [m["thread_id"] for m in cn_inbox["overdue_messages"]]
    inbox_page = cn.get("/hotline")
    assert "Flash: courier arriving tonight" in inbox_page.text
    assert "waiting for <strong>your</strong> acknowledgement" in inbox_page.text

    [flash] = _messages(cn, received["id"])
    assert flash["overdue"] is True
    assert cn.post(f"/api/v1/messages/{flash['id']}/ack").status_code == 200
    assert received["id"] not in [
        m["thread_id"] for m in cn.get("/api/v1/hotline/inbox").json()["overdue_messages"]
    ]
    wait_until(
        lambda: (
            sent["id"]
            not in [
                m["thread_id"] for m in us.get("/api/v1/hotline/inbox").json()["overdue_messages"]
            ]
        ),
        "the acknowledgement to clear the overdue flag on US",
    )


def test_only_the_receiving_side_acknowledges(us: httpx.Client) -> None:
    sent = _open(us, subject="Urgent request", priority="urgent", kind="request")
    [own] = _messages(us, sent["id"])
    refused = us.post(f"/api/v1/messages/{own['id']}/ack")
    assert refused.status_code == 409
    assert "receiving side" in refused.json()["detail"]


def test_search_finds_threads_by_subject_and_by_message_text(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _open(us, subject="Pill press seizure", body="Serial number QX-4471 on the die")
    wait_until(lambda: _thread_on(cn, sent["global_id"]), "the thread on CN")
    for client in (us, cn):
        by_subject = client.get("/api/v1/threads", params={"q": "pill PRESS"}).json()
        by_text = client.get("/api/v1/threads", params={"q": "qx-4471"}).json()
        assert [t["global_id"] for t in by_subject] == [sent["global_id"]]
        assert [t["global_id"] for t in by_text] == [sent["global_id"]]
        assert client.get("/api/v1/threads", params={"q": "no such words"}).json() == []


def test_peer_list_shows_both_streams(pair: Pair, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["peer", "list", str(pair.us.directory)])
    assert result.exit_code == 0, result.output
    assert "CN" in result.output and "active" in result.output and pair.cn.base_url in result.output

"""The hotline in-process on one node (US), with CN as a peer known only by its key: what
the API serves, and what the inbox accepts from CN. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from liaison.audit import Actor
from liaison.errors import InvalidInput
from liaison.federation import envelope as env
from liaison.services import hotline
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import PeerInbound, RefusalWindow
from liaison.store.hotline_tables import HotlineAttachment, HotlineMessage, HotlineThread
from liaison.web.app import create_app
from support import UsNode, batch_from_cn, us_with_stopped_cn

OFFICER_PASSWORD = "officer password"


OFFICER = Actor("olivia", "DEA")


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    officer = ("olivia", OFFICER_PASSWORD, "officer", "DEA")
    with us_with_stopped_cn(tmp_path / "us", database_url, "DEA", [officer]) as node:
        yield node


def _from_cn(us: UsNode, records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch_from_cn(us.database, us.node, us.cn_key, records)


def _next_seq(us: UsNode) -> int:
    with us.database.session() as session:
        return 1 + (session.scalar(sa.select(PeerInbound.last_applied_seq)) or 0)


def _thread_record(us: UsNode, **changes: Any) -> dict[str, Any]:
    payload = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:00+00:00",
        "subject": "Precursor shipment",
        "priority": "urgent",
        "kind": "alert",
        "from_agency": "NNCC",
        "to_agency": "DEA",
        "created_by": "wang",
    }
    return {"seq": _next_seq(us), "type": "hotline.thread", "payload": {**payload, **changes}}


def _message_record(us: UsNode, thread: str, **changes: Any) -> dict[str, Any]:
    payload = {
        "global_id": str(uuid.uuid4()),
        "thread": thread,
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:01+00:00",
        "author": "wang",
        "author_agency": "NNCC",
        "body": "Shipment leaves Tianjin on Monday.",
        "priority": "routine",
        "ack_due_at": None,
        "attachments": [],
    }
    return {"seq": _next_seq(us), "type": "hotline.message", "payload": {**payload, **changes}}


def _audit(us: UsNode, action: str) -> list[dict[str, Any]]:
    with us.database.session() as session:
        details = session.scalars(
            sa.select(AuditEntry.detail).where(AuditEntry.action == action)
        ).all()
    return [json.loads(detail) for detail in details]


def _api(us: UsNode) -> TestClient:
    """The node's app without its lifespan: no delivery worker tries to reach CN."""
    client = TestClient(create_app(us.config), base_url="http://testserver")
    token = client.post(
        "/api/v1/auth/token", json={"username": "olivia", "password": OFFICER_PASSWORD}
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.mark.parametrize(
    ("filename", "fallback", "exact"),
    [
        ("实验室报告.pdf", "_____.pdf", "实验室报告.pdf"),
        (
            'lab\r\nX-Injected: 1 "report".pdf',
            "labX-Injected: 1 _report_.pdf",
            'labX-Injected: 1 "report".pdf',
        ),
    ],
)
def test_attachment_downloads_name_the_file_safely(
    us: UsNode, filename: str, fallback: str, exact: str
) -> None:
    with us.database.session() as session:
        hotline.open_thread(
            session,
            us.node,
            OFFICER,
            peer="CN",
            subject="Lab report",
            priority="routine",
            kind="note",
            body="Attached.",
            attachments=[hotline.AttachmentUpload(filename, "application/pdf", b"%PDF-1.7 x")],
        )
        session.commit()
        attachment_id = session.scalars(sa.select(HotlineAttachment.id)).one()
    response = _api(us).get(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 200, response.text
    assert response.content == b"%PDF-1.7 x"
    assert "X-Injected" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{fallback}"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == exact


def _open(us: UsNode, to_agency: str | None) -> HotlineThread:
    with us.database.session() as session:
        thread = hotline.open_thread(
            session,
            us.node,
            OFFICER,
            peer="CN",
            subject="Lead",
            priority="routine",
            kind="lead",
            body="Text.",
            to_agency=to_agency,
        )
        session.commit()
        return thread


def test_a_thread_to_an_agency_the_peer_is_not_known_to_have_is_refused(us: UsNode) -> None:
    with pytest.raises(InvalidInput, match=r"'Ministry of Nowhere'.*known: NNCC$"):
        _open(us, "Ministry of Nowhere")
    response = _api(us).post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "Lead",
            "priority": "routine",
            "kind": "lead",
            "body": "Text.",
            "to_agency": "Ministry of Nowhere",
        },
    )
    assert response.status_code == 422
    assert "known: NNCC" in response.json()["detail"]
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HotlineThread)) == 0


def test_threads_go_to_the_default_agency_or_one_seen_from_the_peer(us: UsNode) -> None:
    assert _open(us, None).to_agency == "NNCC"
    with pytest.raises(InvalidInput, match=r"known: NNCC$"):
        _open(us, "CN Customs")
    _from_cn(us, [_thread_record(us, from_agency="CN Customs")])
    assert _open(us, "CN Customs").to_agency == "CN Customs"


def test_a_thread_from_the_peer_for_an_unknown_agency_goes_to_the_default_agency(
    us: UsNode,
) -> None:
    record = _thread_record(us, to_agency="Bureau of Nowhere")
    assert _from_cn(us, [record])["applied"] == 1
    with us.database.session() as session:
        [summary] = hotline.list_threads(session, us.node, OFFICER)
    assert summary.thread.global_id == record["payload"]["global_id"]
    assert summary.thread.to_agency == "DEA"
    assert _audit(us, "hotline.thread_misaddressed") == [
        {"addressed_to": "Bureau of Nowhere", "filed_under": "DEA"}
    ]


def _post_envelope(us: UsNode, raw: str) -> Any:
    response = _api(us).post(
        "/federation/v1/inbox", content=raw, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response


def _refusals(us: UsNode) -> list[tuple[str, int, str]]:
    """The refusal windows (claimed sender, refusals, last reason); the test client has one
    address, so there is one window at most. No refusal writes an audit entry of its own."""
    with us.database.session() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).where(AuditEntry.action.like("federation.%")))
            == 0
        )
        rows = session.execute(
            sa.select(
                RefusalWindow.last_claimed_sender, RefusalWindow.refused, RefusalWindow.last_reason
            )
        ).all()
    return [(sender, refused, reason) for sender, refused, reason in rows]


def test_a_lone_surrogate_in_a_signed_batch_is_refused_and_counted(us: UsNode) -> None:
    sealed = env.seal(
        us.cn_key, sender="CN", recipient="US", kind="batch", body={"records": [], "note": "x"}
    )
    raw = json.dumps(sealed.to_json()).replace('"note": "x"', '"note": "\\ud800"')
    assert "\\ud800" in raw
    response = _post_envelope(us, raw)
    assert "cannot be signed JSON" in response.json()["detail"]
    [(sender, refused, reason)] = _refusals(us)
    assert (sender, refused) == ("CN", 1) and reason.startswith("malformed")


@pytest.mark.parametrize(
    ("document", "complaint", "claimed_sender"),
    [
        ({"sender": "CN"}, "envelope is missing", "CN"),
        ({"sender": "\\ud800", "body": {}}, "envelope is missing", "\\ud800"),
        ([1, 2], "must be a JSON object", "(no sender)"),
    ],
)
def test_malformed_envelopes_are_refused_and_counted(
    us: UsNode, document: Any, complaint: str, claimed_sender: str
) -> None:
    raw = json.dumps(document).replace("\\\\ud800", "\\ud800")
    response = _post_envelope(us, raw)
    assert complaint in response.json()["detail"]
    [(sender, refused, reason)] = _refusals(us)
    assert (sender, refused) == (claimed_sender, 1)
    assert reason.startswith("malformed") and complaint in reason


def test_an_unknown_senders_long_name_is_cut_short_in_the_refusal_count(us: UsNode) -> None:
    intruder = Ed25519PrivateKey.generate()
    sealed = env.seal(
        intruder, sender="X" * 30_000, recipient="US", kind="batch", body={"records": []}
    )
    response = _post_envelope(us, json.dumps(sealed.to_json()))
    assert response.status_code == 403
    [(sender, refused, reason)] = _refusals(us)
    assert (sender, refused) == ("X" * 64, 1)
    assert reason.startswith("unknown_peer") and len(reason) <= 300


@pytest.mark.parametrize(
    ("priority", "ack_due_at", "complaint"),
    [
        ("routine", "2026-11-28T14:00:01+00:00", "a routine message has no ack_due_at"),
        ("urgent", None, "urgent messages need an ack_due_at"),
        ("flash", "2026-11-28T10:00:00+00:00", "is before created_at"),
        ("urgent", "2026-11-28T09:00:00+00:00", "is before created_at"),
    ],
)
def test_a_message_with_a_deadline_its_priority_does_not_allow_is_refused(
    us: UsNode, priority: str, ack_due_at: str | None, complaint: str
) -> None:
    thread = _thread_record(us)
    _from_cn(us, [thread])
    bad = _message_record(
        us, thread["payload"]["global_id"], priority=priority, ack_due_at=ack_due_at
    )
    assert _from_cn(us, [bad])["refused"] == 1
    [refusal] = _audit(us, "federation.record_refused")
    assert complaint in refusal["reason"]
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HotlineMessage)) == 0


@pytest.mark.parametrize("ack_due_at", ["2026-11-28T10:30:01+00:00", "2026-11-28T10:00:01+00:00"])
def test_a_message_due_after_or_when_it_was_written_is_applied(us: UsNode, ack_due_at: str) -> None:
    thread = _thread_record(us)
    message = _message_record(
        us, thread["payload"]["global_id"], priority="flash", ack_due_at=ack_due_at
    )
    message["seq"] = thread["seq"] + 1
    assert _from_cn(us, [thread, message])["applied"] == 2
    with us.database.session() as session:
        due = session.scalars(sa.select(HotlineMessage.ack_due_at)).one()
    assert due is not None and due.isoformat() == ack_due_at


def _attachment(filename: str, content_type: str, content: bytes) -> dict[str, Any]:
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": base64.b64encode(content).decode("ascii"),
    }


def test_a_received_attachment_is_verified_by_the_upload_rules_too(us: UsNode) -> None:
    thread = _thread_record(us)
    attachments = [
        _attachment("report.pdf", "application/pdf", b"%PDF-1.7 report"),
        _attachment("fake.pdf", "application/pdf", b"MZ\x90\x00 an executable"),
        _attachment("notes.txt", "text/plain", "备注".encode()),
        _attachment("latin1.txt", "text/plain", b"caf\xe9"),
    ]
    message = _message_record(us, thread["payload"]["global_id"], attachments=attachments)
    message["seq"] = thread["seq"] + 1
    assert _from_cn(us, [thread, message])["applied"] == 2
    with us.database.session() as session:
        verified = dict(
            session.execute(sa.select(HotlineAttachment.filename, HotlineAttachment.verified)).all()
        )
    assert verified == {
        "report.pdf": True,
        "fake.pdf": False,
        "notes.txt": True,
        "latin1.txt": False,
    }


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x85", "\ufffe"])
def test_text_no_backend_stores_alike_is_refused_per_record_and_named_in_the_ack(
    us: UsNode, character: str
) -> None:
    """SQLite stores a NUL that PostgreSQL refuses: every backend refuses it alike, the
    acknowledgement names the record and why, and the stream goes on past it."""
    thread = _thread_record(us)
    _from_cn(us, [thread])
    bad_thread = _thread_record(us, subject=f"Lead{character}with a control character")
    bad_message = _message_record(us, thread["payload"]["global_id"], body=f"a{character}b")
    bad_message["seq"] += 1
    good = _message_record(us, thread["payload"]["global_id"], body="delivered after them")
    good["seq"] += 2
    batch = [bad_thread, bad_message, good]
    ack = _from_cn(us, batch)
    code = f"U+{ord(character):04X}"
    assert (ack["acknowledged"], ack["applied"], ack["refused"]) == (good["seq"], 1, 2)
    assert [item["seq"] for item in ack["refused_records"]] == [
        bad_thread["seq"],
        bad_message["seq"],
    ]
    assert code in ack["refused_records"][0]["reason"]
    assert "payload.subject" in ack["refused_records"][0]["reason"]
    assert "payload.body" in ack["refused_records"][1]["reason"]
    with us.database.session() as session:
        bodies = session.scalars(sa.select(HotlineMessage.body)).all()
    assert "delivered after them" in bodies and not any(character in b for b in bodies)
    # Sent again (its first acknowledgement lost): the refusals are named again.
    again = _from_cn(us, batch)
    assert again["duplicates"] == 3 and again["applied"] == 0
    assert sorted(item["seq"] for item in again["refused_records"]) == [
        bad_thread["seq"],
        bad_message["seq"],
    ]


def test_a_peers_content_type_is_normalised_on_receipt_as_for_a_local_upload(us: UsNode) -> None:
    thread = _thread_record(us)
    _from_cn(us, [thread])
    content = b"plain words"
    attachment = {
        "filename": "note.txt",
        "content_type": "Text/Plain; charset=utf-7",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": base64.b64encode(content).decode("ascii"),
    }
    message = _message_record(us, thread["payload"]["global_id"], attachments=[attachment])
    assert _from_cn(us, [message])["applied"] == 1
    with us.database.session() as session:
        stored = session.scalars(sa.select(HotlineAttachment)).one()
    assert (stored.content_type, stored.verified) == ("text/plain", True)
    response = _api(us).get(f"/api/v1/attachments/{stored.id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"

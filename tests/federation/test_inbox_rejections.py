"""A real receiving node (`liaison serve`) given hand-made batches: what it refuses, what
it applies, and that a refused batch leaves nothing behind but an audit entry."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.nodes import NodeProcess, make_node, peer
from liaison.cli.peer import accept, invite, peer_list, revoke
from liaison.config import load_node
from liaison.errors import Conflict, InvalidInput
from liaison.federation import envelope as env
from liaison.federation.invites import decode_invite
from liaison.federation.keys import load_private_key

UNTHROTTLED = {"LIAISON_FEDERATION_REFUSALS_PER_WINDOW": "100000"}
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("inbox_rejections")]


class Sender:
    """The US node, not running: only its key signs what the tests send to CN."""

    def __init__(self, us: NodeProcess, cn: NodeProcess) -> None:
        self.us, self.cn = us, cn
        self.key = load_private_key(us.directory / "node_key.pem")
        self.cn_key = env.public_key_from_text(load_node(cn.directory).public_key)

    def seal(self, records: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        sealed = env.seal(
            options.pop("key", self.key),
            sender=options.pop("sender", "US"),
            recipient="CN",
            kind="batch",
            body={"records": records},
            now=options.pop("now", None),
        )
        return sealed.to_json()

    def post(self, document: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.cn.base_url}/federation/v1/inbox", json=document, timeout=30)

    def applied(self) -> int:
        return int(
            self.cn.scalar(
                "select last_applied_seq from peer_inbound join peers on peers.id = peer_id "
                "where peers.name = 'US'"
            )
        )

    def counts(self) -> tuple[int, int, int]:
        return (
            self.applied(),
            int(self.cn.scalar("select count(*) from hotline_threads")),
            int(self.cn.scalar("select count(*) from hotline_messages")),
        )

    def last_rejection(self) -> str | None:
        """The last reason counted for this test's address (envelope refusals are counted
        per address and window, not audited one by one)."""
        reason = self.cn.scalar(
            "select last_reason from federation_refusal_windows where address = '127.0.0.1'"
        )
        return None if reason is None else str(reason)


def thread_record(seq: int, global_id: str, **changes: Any) -> dict[str, Any]:
    payload = {
        "global_id": global_id,
        "owner_node": "US",
        "created_at": "2026-11-28T10:00:00+00:00",
        "subject": "Lead from a hand-made batch",
        "priority": "routine",
        "kind": "lead",
        "from_agency": "DEA Special Operations",
        "to_agency": "NNCC Liaison Office",
        "created_by": "officer",
    }
    return {"seq": seq, "type": "hotline.thread", "payload": {**payload, **changes}}


def message_record(seq: int, thread: str, body: str, **changes: Any) -> dict[str, Any]:
    payload = {
        "global_id": str(uuid.uuid4()),
        "thread": thread,
        "owner_node": "US",
        "created_at": "2026-11-28T10:00:01+00:00",
        "author": "officer",
        "author_agency": "DEA Special Operations",
        "body": body,
        "priority": "routine",
        "ack_due_at": None,
        "attachments": [],
    }
    return {"seq": seq, "type": "hotline.message", "payload": {**payload, **changes}}


@pytest.fixture(scope="module")
def sender(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sender]:
    root: Path = tmp_path_factory.mktemp("inbox")
    # Every test here sends refused envelopes from one address: no throttling of it.
    us, cn = make_node(root, "US"), make_node(root, "CN", env=UNTHROTTLED)
    cn.start()
    peer(cn, us)  # CN invites; US accepts without running
    yield Sender(us, cn)
    cn.close()
    us.close()


@pytest.fixture
def thread(sender: Sender) -> str:
    """A thread from US that CN has applied; its global id."""
    global_id = str(uuid.uuid4())
    next_seq = sender.applied() + 1
    response = sender.post(sender.seal([thread_record(next_seq, global_id)]))
    assert response.status_code == 200, response.text
    return global_id


def test_a_valid_batch_is_applied_in_one_go_and_acknowledged_with_a_signed_ack(
    sender: Sender,
) -> None:
    start = sender.applied()
    global_id = str(uuid.uuid4())
    records = [
        thread_record(start + 1, global_id),
        message_record(start + 2, global_id, "first"),
        message_record(start + 3, global_id, "second"),
    ]
    response = sender.post(sender.seal(records))
    assert response.status_code == 200, response.text
    ack = env.parse(response.json())
    body = env.verify(ack, sender.cn_key, recipient="US", kind="ack")
    assert body["acknowledged"] == start + 3 and body["applied"] == 3
    assert sender.applied() == start + 3
    bodies = sender.cn.scalar(
        "select group_concat(body, ',') from (select body from hotline_messages m "
        "join hotline_threads t on t.id = m.thread_id where t.global_id = :g order by m.id)",
        g=global_id,
    )
    assert bodies == "first,second"


def test_a_tampered_batch_is_rejected_and_nothing_is_applied(sender: Sender, thread: str) -> None:
    before = sender.counts()
    document = sender.seal([message_record(before[0] + 1, thread, "the original text")])
    document["body"]["records"][0]["payload"]["body"] = "text changed on the way"
    response = sender.post(document)
    assert response.status_code == 403
    assert "does not verify" in response.json()["detail"]
    assert sender.counts() == before
    assert "bad_signature" in (sender.last_rejection() or "")


def test_a_replayed_batch_is_rejected(sender: Sender, thread: str) -> None:
    document = sender.seal([message_record(sender.applied() + 1, thread, "said once")])
    assert sender.post(document).status_code == 200
    before = sender.counts()
    replay = sender.post(document)
    assert replay.status_code == 403
    assert "already used" in replay.json()["detail"]
    assert sender.counts() == before
    assert "replay" in (sender.last_rejection() or "")


@pytest.mark.parametrize("skew", [-400, 400])
def test_a_batch_outside_the_time_window_is_rejected(
    sender: Sender, thread: str, skew: int
) -> None:
    before = sender.counts()
    document = sender.seal([message_record(before[0] + 1, thread, "late")], now=time.time() + skew)
    response = sender.post(document)
    assert response.status_code == 403
    assert "window" in response.json()["detail"]
    assert sender.counts() == before


def test_a_batch_from_an_unknown_node_is_rejected(sender: Sender, thread: str) -> None:
    before = sender.counts()
    stranger = Ed25519PrivateKey.generate()
    response = sender.post(
        sender.seal([message_record(before[0] + 1, thread, "hi")], key=stranger, sender="EU")
    )
    assert response.status_code == 403
    assert "not a peer" in response.json()["detail"]
    # A known name with another key is a bad signature, not a way in.
    impostor = sender.post(sender.seal([message_record(before[0] + 1, thread, "hi")], key=stranger))
    assert impostor.status_code == 403
    assert sender.counts() == before


def test_a_batch_signed_by_a_revoked_peer_is_rejected_until_peered_again(
    sender: Sender, thread: str
) -> None:
    before = sender.counts()
    revoke(sender.cn.directory, "US")
    response = sender.post(sender.seal([message_record(before[0] + 1, thread, "after revoke")]))
    assert response.status_code == 403
    assert "revoked" in response.json()["detail"]
    assert sender.counts() == before
    peer(sender.cn, sender.us)  # a new invite re-activates the link, sequences intact
    again = sender.post(sender.seal([message_record(before[0] + 1, thread, "after re-peering")]))
    assert again.status_code == 200, again.text
    assert sender.applied() == before[0] + 1


def test_records_already_applied_are_skipped_and_a_gap_stops_the_batch(
    sender: Sender, thread: str
) -> None:
    start = sender.applied()
    first = sender.post(sender.seal([message_record(start + 1, thread, "one")]))
    assert env.parse(first.json()).body["acknowledged"] == start + 1
    # A retry after a lost acknowledgement: the first record again, then the next one.
    batch = sender.seal(
        [message_record(start + 1, thread, "one"), message_record(start + 2, thread, "two")]
    )
    retry = sender.post(batch)
    assert env.parse(retry.json()).body == {
        "batch_nonce": batch["nonce"],
        "acknowledged": start + 2,
        "applied": 1,
        "refused": 0,
        "refused_records": [],
        "duplicates": 1,
        "gap_at": None,
        "unknown_type_at": None,
        "held_at": None,
    }
    ahead = sender.post(sender.seal([message_record(start + 4, thread, "four")]))
    assert env.parse(ahead.json()).body["acknowledged"] == start + 2
    assert env.parse(ahead.json()).body["gap_at"] == start + 3
    texts = sender.cn.scalar(
        "select count(*) from hotline_messages where body in ('one', 'two', 'four')"
    )
    assert texts == 2


def test_records_the_protocol_does_not_allow_are_refused_and_skipped(
    sender: Sender, thread: str
) -> None:
    start = sender.applied()
    us_message = str(uuid.uuid4())
    records = [
        # Writing as if it were CN: a peer only sends records it owns.
        message_record(start + 1, thread, "forged", owner_node="CN"),
        message_record(start + 2, thread, "legitimate", global_id=us_message),
        # Acknowledging its own message: only the receiving side acknowledges.
        {
            "seq": start + 3,
            "type": "hotline.ack",
            "payload": {"message": us_message, "acked_at": "2026-11-28T10:00:00+00:00"},
        },
        # A message for a thread that does not exist.
        message_record(start + 4, str(uuid.uuid4()), "orphan"),
    ]
    response = sender.post(sender.seal(records))
    assert response.status_code == 200, response.text
    body = env.parse(response.json()).body
    assert (body["acknowledged"], body["applied"], body["refused"]) == (start + 4, 1, 3)
    assert sender.cn.scalar("select count(*) from hotline_messages where body = 'forged'") == 0
    assert sender.cn.scalar("select count(*) from hotline_messages where body = 'orphan'") == 0
    refusals = sender.cn.scalar(
        "select count(*) from audit_entries where action = 'federation.record_refused'"
    )
    assert refusals >= 3


def test_an_unknown_record_type_stops_the_batch_before_it(sender: Sender, thread: str) -> None:
    start = sender.applied()
    records = [
        message_record(start + 1, thread, "before the unknown"),
        {"seq": start + 2, "type": "customs.declaration", "payload": {"id": "x"}},
        message_record(start + 3, thread, "after the unknown"),
    ]
    body = env.parse(sender.post(sender.seal(records)).json()).body
    assert (body["acknowledged"], body["unknown_type_at"]) == (start + 1, start + 2)
    assert (
        sender.cn.scalar("select count(*) from hotline_messages where body = 'after the unknown'")
        == 0
    )
    # The sender's retry starts again at the unknown record; once CN can apply it, it goes on.
    retry = sender.post(sender.seal([message_record(start + 2, thread, "replacement")]))
    assert env.parse(retry.json()).body["acknowledged"] == start + 2


def test_an_attachment_whose_bytes_do_not_match_its_sha256_is_kept_but_not_served(
    sender: Sender, thread: str
) -> None:
    genuine, altered = b"%PDF-1.7 genuine report", b"%PDF-1.7 altered report"
    attachment = {
        "filename": "report.pdf",
        "content_type": "application/pdf",
        "size": len(altered),
        "sha256": hashlib.sha256(genuine).hexdigest(),
        "content": base64.b64encode(altered).decode(),
    }
    record = message_record(sender.applied() + 1, thread, "with report", attachments=[attachment])
    assert sender.post(sender.seal([record])).status_code == 200
    assert sender.cn.scalar(
        "select verified from hotline_attachments where filename = 'report.pdf'"
    ) in (
        0,
        False,
    )
    cn = sender.cn.client()
    try:
        [summary] = [t for t in cn.get("/api/v1/threads").json() if t["global_id"] == thread]
        [message] = cn.get(f"/api/v1/threads/{summary['id']}/messages").json()
        [listed] = message["attachments"]
        assert listed["verified"] is False
        download = cn.get(f"/api/v1/attachments/{listed['id']}")
        assert download.status_code == 409
        assert "integrity check" in download.json()["detail"]
    finally:
        cn.close()


def test_a_record_that_would_break_the_schema_is_refused_without_blocking_the_stream(
    sender: Sender, thread: str
) -> None:
    start = sender.applied()
    reused = str(uuid.uuid4())
    records = [
        message_record(start + 1, thread, "original", global_id=reused),
        message_record(start + 2, thread, "same id again", global_id=reused),
        message_record(start + 3, thread, "long id", global_id="x" * 80),
        message_record(start + 4, thread, "long author", author="a" * 500),
    ]
    body = env.parse(sender.post(sender.seal(records)).json()).body
    assert (body["acknowledged"], body["applied"], body["refused"]) == (start + 4, 2, 2)
    assert (
        sender.cn.scalar("select count(*) from hotline_messages where body = 'same id again'") == 0
    )
    assert (
        sender.cn.scalar("select length(author) from hotline_messages where body = 'long author'")
        == 200
    )


def test_an_invite_works_once_and_only_as_issued(
    sender: Sender, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("invites")
    eu, mx = make_node(root, "EU"), make_node(root, "MX")
    try:
        code = invite(sender.cn.directory)
        genuine = decode_invite(code)
        forged = dataclasses.replace(genuine, secret="guessed-" + genuine.secret[8:]).encode()
        with pytest.raises(Conflict, match="refused the invite"):
            accept(eu.directory, forged)
        assert accept(eu.directory, code) == "CN"
        assert accept(eu.directory, code) == "CN"  # completing again is harmless
        with pytest.raises(Conflict, match="already used"):
            accept(mx.directory, code)
        with pytest.raises(InvalidInput, match="expired"):
            accept(mx.directory, invite(sender.cn.directory, ttl_seconds=0))
        peers = {state.name: state.status for state in peer_list(sender.cn.directory)}
        assert peers == {"US": "active", "EU": "active"}
        # Once revoked, the old code cannot bring the peer back; a new invite can.
        revoke(sender.cn.directory, "EU")
        with pytest.raises(Conflict, match="already used"):
            accept(eu.directory, code)
        assert accept(eu.directory, invite(sender.cn.directory)) == "CN"
    finally:
        eu.close()
        mx.close()


def test_an_oversized_or_malformed_envelope_is_refused_before_any_check(sender: Sender) -> None:
    before = sender.counts()

    def chunks() -> Iterator[bytes]:
        for _ in range(33):
            yield b" " * (1024 * 1024)

    oversized = httpx.post(
        f"{sender.cn.base_url}/federation/v1/inbox", content=chunks(), timeout=30
    )
    assert oversized.status_code == 413
    assert "limit" in oversized.json()["detail"]
    malformed = httpx.post(
        f"{sender.cn.base_url}/federation/v1/inbox", content=b"{not json", timeout=30
    )
    assert malformed.status_code == 422
    assert "not JSON" in malformed.json()["detail"]
    unsigned = httpx.post(f"{sender.cn.base_url}/federation/v1/inbox", json={"records": []})
    assert unsigned.status_code == 422
    assert "envelope is missing" in unsigned.json()["detail"]
    assert sender.counts() == before

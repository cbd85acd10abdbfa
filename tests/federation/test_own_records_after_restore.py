"""Taking back own records after a restore, in one process, where more than one record is
at stake: an incident shared with two peers is shared again with both (each peer that
sends it back holds it), a verification case's own events come back, those that
followed the peer's events once the peer has sent those again, and a peer's reply in a
thread the restore lost waits in the peer's outbox until the thread is back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.verification_node import IMMIGRATION_OFFICER, event_record, open_case_for_cn
from liaison.audit import Actor
from liaison.federation import envelope as env
from liaison.federation.resync import (
    ANSWER_KIND,
    OWN_RECORDS_PATH,
    REQUEST_KIND,
    recover_own_records,
)
from liaison.runtime import node_record_types
from liaison.services import hotline, incidents
from liaison.services.verification import rules
from liaison.services.verification.commands import lift_hold, record_hold, take_step
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import OutboxRecord, Peer, PeerInbound
from liaison.store.hotline_tables import HotlineMessage
from liaison.store.incident_tables import Incident
from liaison.store.verification_tables import CaseStatus, VerificationCase
from support import UsNode, add_stopped_peer, batch_from_cn, us_with_stopped_cn

SUPERVISOR = Actor("sam", "DHS", role="supervisor")


@dataclass(frozen=True)
class Holder:
    """A peer that holds records of US's stream: its key, and those records."""

    key: Ed25519PrivateKey
    records: list[dict[str, Any]]


def _answering(us: UsNode, holders: Mapping[str, Holder]) -> httpx.Client:
    """Each peer's own-records endpoint, answering (signed) with what it holds."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == OWN_RECORDS_PATH
        question = env.parse(json.loads(request.content))
        holder = holders[question.recipient]
        after = env.verify(
            question,
            env.public_key_from_text(us.node.public_key),
            recipient=question.recipient,
            kind=REQUEST_KIND,
            window_seconds=300,
        )["after"]
        records = [r for r in holder.records if r["seq"] > after]
        body = {"request_nonce": question.nonce, "records": records, "last_applied": 0}
        sealed = env.seal(
            holder.key, sender=question.recipient, recipient="US", kind=ANSWER_KIND, body=body
        )
        return httpx.Response(200, json=sealed.to_json())

    return httpx.Client(transport=httpx.MockTransport(answer))


def _queued(session: Any, after: int = 0) -> dict[str, list[dict[str, Any]]]:
    """US's stream to each peer past `after`, as the peer holds it."""
    rows = session.execute(
        sa.select(Peer.name, OutboxRecord.seq, OutboxRecord.record_type, OutboxRecord.payload)
        .join(Peer, Peer.id == OutboxRecord.peer_id)
        .where(OutboxRecord.seq > after)
        .order_by(OutboxRecord.seq)
    ).all()
    streams: dict[str, list[dict[str, Any]]] = {}
    for peer, seq, kind, text in rows:
        streams.setdefault(peer, []).append({"seq": seq, "type": kind, "payload": json.loads(text)})
    return streams


def _mark_restored(us: UsNode, after: int) -> None:
    with us.database.session() as session:
        session.execute(sa.update(Peer).values(recover_from=after))  # as `liaison restore` does
        session.commit()


def _recovered_audit(us: UsNode) -> list[dict[str, Any]]:
    with us.database.session() as session:
        details = session.scalars(
            sa.select(AuditEntry.detail)
            .where(AuditEntry.action == "federation.own_records_recovered")
            .order_by(AuditEntry.seq)
        ).all()
    return [json.loads(detail) for detail in details]


def test_an_incident_shared_with_two_peers_is_shared_again_with_both(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        mx_key = Ed25519PrivateKey.generate()
        add_stopped_peer(
            us.config.database_url, env.public_key_text(mx_key.public_key()), name="MX"
        )
        with us.database.session() as session:
            incidents.report_incident(
                session,
                "US",
                Actor("olivia", "DEA"),
                incidents.IncidentInput(
                    kind="seizure",
                    occurred_on=date(2026, 11, 1),
                    country="US",
                    items=[incidents.ItemInput("caffeine", 1, "kg")],
                    share_with=["CN", "MX"],
                ),
            )
            session.flush()
            streams = _queued(session)
            session.rollback()  # lost, as a restore from an older backup loses it
        assert sorted(streams) == ["CN", "MX"]
        [global_id] = {r["payload"]["global_id"] for s in streams.values() for r in s}
        _mark_restored(us, 0)
        client = _answering(
            us, {"CN": Holder(us.cn_key, streams["CN"]), "MX": Holder(mx_key, streams["MX"])}
        )
        try:
            assert recover_own_records(us.database, us.node, node_record_types(), client)
        finally:
            client.close()
        with us.database.session() as session:
            incident = session.scalars(sa.select(Incident)).one()
            peers = {
                name: peer_id for name, peer_id in session.execute(sa.select(Peer.name, Peer.id))
            }
            assert incident.global_id == global_id
            assert incident.peer_ids() == frozenset(peers.values())
            assert session.scalar(sa.select(sa.func.count()).select_from(Peer)) == 2
            assert session.scalars(sa.select(Peer.recover_from)).all() == [None, None]
        entries = {entry["peer"]: entry for entry in _recovered_audit(us)}
        what = f"incident.report {global_id}"
        # Written back from whichever peer answered first; shared again with the other.
        assert sorted(
            (entry["recovered"], entry["shared_again"]) for entry in entries.values()
        ) == [([], [what]), ([what], [])]


def test_a_case_s_own_events_come_back_after_the_peer_s_events_they_followed(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url, "DHS") as us:
        with us.database.session() as session:
            case = open_case_for_cn(session, us.config, "A-7")
            session.commit()  # the backup holds the case
            case_gid, case_id = case.global_id, case.id
            backed_up = session.scalar(sa.select(sa.func.max(OutboxRecord.seq)))
        assert backed_up == 1
        types = node_record_types()
        decision = {"reason": "Found", "person_id": "P-1"}
        document = {"number": "T-9", "valid_until": "2027-01-31"}
        cn_events = [
            event_record(us, case_gid, "decision", "confirmed", decision),
            event_record(us, case_gid, "step", "travel_document_issued", document),
        ]
        with us.database.session() as session:
            # After the backup: US records a hold and lifts it; CN decides and issues a
            # travel document; US schedules the travel, which only that document allows.
            cn = session.scalars(sa.select(Peer)).one()
            hold = record_hold(
                session, us.config, IMMIGRATION_OFFICER, case_id, kind="asylum", reason="Claim"
            )
            lift_hold(session, us.config, SUPERVISOR, case_id, hold.id, reason="Claim withdrawn")
            for record in cn_events:  # as the inbox applies them
                types.apply(session, us.node, cn, record["type"], record["payload"])
            take_step(
                session,
                us.config,
                IMMIGRATION_OFFICER,
                case_id,
                "travel_scheduled",
                {"date": "2027-01-10", "flight": "CA 982"},
            )
            session.flush()
            fixed_due_at = session.get_one(VerificationCase, case_id).due_at
            [held] = _queued(session, backed_up).values()
            session.rollback()  # lost in the restore
        assert [r["payload"]["name"] for r in held] == ["asylum", "asylum", "travel_scheduled"]
        _mark_restored(us, backed_up)
        client = _answering(us, {"CN": Holder(us.cn_key, held)})
        try:
            # CN has not sent its decision again yet: the travel step waits, the rest is back.
            assert not recover_own_records(us.database, us.node, types, client)
            with us.database.session() as session:
                case = session.get_one(VerificationCase, case_id)
                assert [(e.kind, e.owner_node) for e in case.events] == [
                    ("hold", "US"),
                    ("lift", "US"),
                ]
                assert rules.standing_holds(case.events) == []
                assert case.status == CaseStatus.REQUESTED
                assert session.scalar(sa.select(Peer.recover_from)) == backed_up
            # CN sends its events again (US acknowledged them before the restore lost them).
            answer = batch_from_cn(
                us.database,
                us.node,
                us.cn_key,
                [{**record, "seq": seq} for seq, record in enumerate(cn_events, start=1)],
            )
            assert answer["refused"] == 0
            assert recover_own_records(us.database, us.node, types, client)
        finally:
            client.close()
        with us.database.session() as session:
            case = session.get_one(VerificationCase, case_id)
            assert [(e.kind, e.name, e.owner_node) for e in case.events] == [
                ("hold", "asylum", "US"),
                ("lift", "asylum", "US"),
                ("decision", "confirmed", "CN"),
                ("step", "travel_document_issued", "CN"),
                ("step", "travel_scheduled", "US"),
            ]
            # The state the step left, with the deadline US fixed when it took it.
            assert case.status == CaseStatus.TRAVEL_SCHEDULED
            assert (case.due_step, case.due_at) == ("returned", fixed_due_at)
            assert session.scalar(sa.select(Peer.recover_from)) is None
        first, second = _recovered_audit(us)
        ids = [f"verification.event {r['payload']['global_id']}" for r in held]
        assert (first["recovered"], first["waiting"]) == (ids[:2], ids[2:])
        assert (second["recovered"], second["waiting"]) == (ids[2:], [])


def test_a_peer_s_reply_in_a_lost_thread_waits_until_the_thread_is_back(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        with us.database.session() as session:
            thread = hotline.open_thread(
                session,
                us.node,
                Actor("olivia", "DEA"),
                peer="CN",
                subject="Lead",
                priority="routine",
                kind="lead",
                body="us 0",
            )
            session.flush()
            thread_gid = thread.global_id
            [lost] = _queued(session).values()
            session.rollback()  # the thread and its first message: lost in the restore
        reply = {
            "seq": 1,
            "type": "hotline.message",
            "payload": {
                "global_id": "c0c0c0c0-0000-4000-8000-000000000001",
                "thread": thread_gid,
                "owner_node": "CN",
                "created_at": "2026-11-28T10:00:01+00:00",
                "author": "chen",
                "author_agency": "NNCC",
                "body": "cn 1",
                "priority": "routine",
                "ack_due_at": None,
                "attachments": [],
            },
        }
        _mark_restored(us, 0)
        # CN's reply arrives before US has taken its thread back: not applied, and not
        # acknowledged, so it stays in CN's outbox.
        held = batch_from_cn(us.database, us.node, us.cn_key, [reply])
        assert (held["acknowledged"], held["applied"], held["refused"]) == (0, 0, 0)
        assert held["held_at"] == 1
        client = _answering(us, {"CN": Holder(us.cn_key, lost)})
        try:
            assert recover_own_records(us.database, us.node, node_record_types(), client)
        finally:
            client.close()
        # CN's delivery retries it: now it is applied.
        applied = batch_from_cn(us.database, us.node, us.cn_key, [reply])
        assert (applied["acknowledged"], applied["applied"], applied["refused"]) == (1, 1, 0)
        with us.database.session() as session:
            messages = session.execute(
                sa.select(HotlineMessage.body, HotlineMessage.owner_node)
                .where(HotlineMessage.thread.has(global_id=thread_gid))
                .order_by(HotlineMessage.id)
            ).all()
            assert [tuple(m) for m in messages] == [("us 0", "US"), ("cn 1", "CN")]
            assert session.scalars(sa.select(PeerInbound.last_applied_seq)).one() == 1

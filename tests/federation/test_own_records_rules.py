"""The own-records request in one process: US answers CN, signed, with the records of CN's
stream it applied past a position; a replayed request, or one not signed by CN, is refused.
And the restored side: US takes back the incident, follow-up, notification and case it wrote
after its backup from what CN holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.test_notifications_in_process import form
from federation.verification_node import SUBJECT, open_case_for_cn
from liaison.audit import Actor
from liaison.federation import envelope as env
from liaison.federation.resync import (
    ANSWER_KIND,
    OWN_RECORDS_PATH,
    REQUEST_KIND,
    answer_own_records_request,
    recover_own_records,
)
from liaison.runtime import node_record_types
from liaison.services import incidents
from liaison.services.notifications.commands import lodge
from liaison.services.verification.records import keyring_of
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import OutboxRecord, Peer, PeerInbound, PeerInboundRecord
from liaison.store.incident_tables import Incident, IncidentFollowUp
from liaison.store.notification_tables import PenNotification
from liaison.store.verification_tables import VerificationCase
from support import UsNode, us_with_stopped_cn


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        with us.database.session() as session:
            [cn] = session.query(Peer).all()
            for seq in range(1, 6):
                session.add(
                    PeerInboundRecord(
                        peer_id=cn.id,
                        seq=seq,
                        record_type="hotline.message",
                        payload=json.dumps({"global_id": f"m{seq}", "body": "短信"}),
                    )
                )
            session.add(PeerInbound(peer_id=cn.id, last_applied_seq=5))
            session.commit()
        yield us


def _ask(us: UsNode, request: env.Envelope) -> dict[str, Any]:
    with us.database.session() as session:
        return answer_own_records_request(session, us.node, request.to_json(), address="127.0.0.1")


def test_the_records_past_the_position_come_back_signed_and_a_replay_is_refused(
    us: UsNode,
) -> None:
    request = env.seal(us.cn_key, sender="CN", recipient="US", kind=REQUEST_KIND, body={"after": 2})
    answer = _ask(us, request)
    body = env.verify(
        env.parse(answer),
        env.public_key_from_text(us.node.public_key),
        recipient="CN",
        kind=ANSWER_KIND,
        window_seconds=300,
    )
    assert body["request_nonce"] == request.nonce and body["last_applied"] == 5
    assert [r["seq"] for r in body["records"]] == [3, 4, 5]
    assert body["records"][0]["payload"] == {"global_id": "m3", "body": "短信"}
    with pytest.raises(env.EnvelopeRejected) as replay:
        _ask(us, request)
    assert replay.value.reason == "replay"


def test_a_request_not_signed_by_the_peer_is_refused(us: UsNode) -> None:
    impostor = Ed25519PrivateKey.generate()
    request = env.seal(impostor, sender="CN", recipient="US", kind=REQUEST_KIND, body={"after": 0})
    with pytest.raises(env.EnvelopeRejected):
        _ask(us, request)


def _written_then_lost(us: UsNode) -> list[dict[str, Any]]:
    """US writes an incident with a follow-up, a notification and a case for CN, and loses
    them (as a restore from an older backup does); the records as CN holds them."""
    with us.database.session() as session:
        incident = incidents.report_incident(
            session,
            "US",
            Actor("olivia", "DEA"),
            incidents.IncidentInput(
                kind="seizure",
                occurred_on=date(2026, 11, 1),
                country="US",
                items=[incidents.ItemInput("caffeine", 1, "kg")],
                share_with=["CN"],
            ),
        )
        session.flush()
        incidents.post_follow_up(session, "US", Actor("olivia", "DEA"), incident.id, "Seen again")
        lodge(session, us.config, Actor("rita", "DEA", role="regulator"), form())
        open_case_for_cn(session, us.config, "A-1")
        session.flush()
        queued = session.execute(
            sa.select(OutboxRecord.seq, OutboxRecord.record_type, OutboxRecord.payload).order_by(
                OutboxRecord.seq
            )
        ).all()
        session.rollback()
    return [{"seq": seq, "type": kind, "payload": json.loads(text)} for seq, kind, text in queued]


def _cn_answering(us: UsNode, records: list[dict[str, Any]]) -> httpx.Client:
    """CN's own-records endpoint, answering with what it holds of US's stream."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == OWN_RECORDS_PATH
        question = env.parse(json.loads(request.content))
        after = env.verify(
            question,
            env.public_key_from_text(us.node.public_key),
            recipient="CN",
            kind=REQUEST_KIND,
            window_seconds=300,
        )["after"]
        body = {
            "request_nonce": question.nonce,
            "records": [r for r in records if r["seq"] > after],
            "last_applied": records[-1]["seq"],
        }
        sealed = env.seal(us.cn_key, sender="CN", recipient="US", kind=ANSWER_KIND, body=body)
        return httpx.Response(200, json=sealed.to_json())

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_a_restored_node_takes_back_the_incident_notification_and_case_it_wrote(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        records = _written_then_lost(us)
        kinds = [r["type"] for r in records]
        assert kinds == [
            "incident.report",
            "incident.follow_up",
            "pen.notification",
            "verification.case",
        ]
        with us.database.session() as session:
            assert session.scalars(sa.select(Incident)).all() == []  # lost
            session.execute(sa.update(Peer).values(recover_from=0))  # as `liaison restore` marks
            session.commit()
        client = _cn_answering(us, records)
        try:
            assert recover_own_records(us.database, us.node, node_record_types(), client)
        finally:
            client.close()
        ids = {r["type"]: r["payload"]["global_id"] for r in records}
        with us.database.session() as session:
            incident = session.scalars(sa.select(Incident)).one()
            [follow_up] = incident.follow_ups
            notification = session.scalars(sa.select(PenNotification)).one()
            case = session.scalars(sa.select(VerificationCase)).one()
            assert (incident.global_id, incident.owner_node) == (ids["incident.report"], "US")
            assert incident.peer_ids() == frozenset({session.scalars(sa.select(Peer.id)).one()})
            assert (follow_up.global_id, follow_up.owner_node, follow_up.body) == (
                ids["incident.follow_up"],
                "US",
                "Seen again",
            )
            assert (notification.global_id, notification.owner_node) == (
                ids["pen.notification"],
                "US",
            )
            assert (notification.exporting_node, notification.importing_node) == ("US", "CN")
            assert notification.screening  # screened again, as when it was lodged
            assert (case.global_id, case.owner_node, case.reference) == (
                ids["verification.case"],
                "US",
                "A-1",
            )
            # The subject is sealed again under this node's own key, and opens.
            assert case.subject_sealed is not None
            opened = keyring_of(us.node).open(case.subject_sealed, case.global_id)
            assert opened["subject"]["family_name"] == SUBJECT["family_name"]
            detail = session.scalars(
                sa.select(AuditEntry.detail).where(
                    AuditEntry.action == "federation.own_records_recovered"
                )
            ).one()
            assert session.scalar(sa.select(Peer.recover_from)) is None
            assert session.scalar(sa.select(sa.func.count()).select_from(IncidentFollowUp)) == 1
        recovered = json.loads(detail) if isinstance(detail, str) else detail
        assert sorted(recovered["recovered"]) == sorted(f"{k} {ids[k]}" for k in kinds)

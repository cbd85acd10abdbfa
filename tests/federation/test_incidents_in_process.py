"""Incident records from a peer, applied in-process on one node (US) with CN known only by
its key, on SQLite and PostgreSQL: the payload round trip, a peer's incident applied with
its snapshot, and what the ownership rules refuse."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from liaison.audit import Actor
from liaison.federation.records import ProtocolViolation
from liaison.services import incidents
from liaison.services.incidents.records import IncidentPayload
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import PeerInbound
from liaison.store.incident_tables import Incident, IncidentFollowUp
from support import UsNode, batch_from_cn, us_with_stopped_cn

VERDICTS = {"US": {"status": "controlled", "basis": [], "explanation": "listed"}}


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    officer = ("olivia", "officer password", "officer", "DEA")
    with us_with_stopped_cn(tmp_path / "us", database_url, "DEA", [officer]) as node:
        yield node


def _incident(**changes: Any) -> dict[str, Any]:
    payload = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:00+00:00",
        "version": 1,
        "kind": "stopped_shipment",
        "occurred_on": "2026-11-20",
        "reporting_agency": "NNCC",
        "created_by": "wang",
        "country": "CN",
        "place": "Shanghai",
        "port_code": "CNSHA",
        "latitude": "31.23",
        "longitude": None,
        "conveyance": "air_cargo",
        "route": "CN>MX",
        "narrative": "Declared as dye",
        "urgent": False,
        "handling_code": "no_onward",
        "source_reliability": "B",
        "information_accuracy": "2",
        "items": [
            {
                "substance": "4-ANPP",
                "quantity": "25.5",
                "unit": "kg",
                "grams": "25500.0",
                "purity_percent": None,
                "form": "powder",
                "packaging": "drums",
                "verdicts": VERDICTS,
                "as_of": "2026-11-20",
                "substance_label": "anpp",
                "standardized_smiles": None,
            }
        ],
        "entities": [{"kind": "company", "value": "Example Chem Co., Ltd.", "role": "consignor"}],
    }
    return {**payload, **changes}


def _send(us: UsNode, record_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    with us.database.session() as session:
        seq = 1 + (session.scalar(sa.select(PeerInbound.last_applied_seq)) or 0)
    return batch_from_cn(
        us.database, us.node, us.cn_key, [{"seq": seq, "type": record_type, "payload": payload}]
    )


def _refusals(us: UsNode) -> list[str]:
    with us.database.session() as session:
        return list(
            session.execute(
                sa.select(AuditEntry.detail)
                .where(AuditEntry.action == "federation.record_refused")
                .order_by(AuditEntry.seq)
            ).scalars()
        )


def test_the_payload_round_trips_and_refuses_a_malformed_field() -> None:
    data = _incident()
    payload = IncidentPayload.from_payload(data)
    assert payload.items[0].quantity == 25.5 and payload.items[0].grams == 25500.0
    assert payload.latitude == 31.23 and payload.entities[0].normalized == "example chem"
    assert IncidentPayload.from_payload(payload.to_payload()) == payload
    for bad, reason in (
        ({"kind": "picnic"}, "unknown kind"),
        ({"items": []}, "items must be a list"),
        ({"latitude": "north"}, "'latitude' is not a number"),
        ({"entities": [{"kind": "bank_account", "value": "GB00"}]}, "entities\\[0\\]"),
    ):
        with pytest.raises(ProtocolViolation, match=reason):
            IncidentPayload.from_payload(_incident(**bad))


def test_a_peer_incident_is_applied_with_its_snapshot_and_its_follow_up_goes_back(
    us: UsNode,
) -> None:
    data = _incident()
    assert _send(us, "incident.report", data)["applied"] == 1
    with us.database.session() as session:
        incident = session.execute(
            sa.select(Incident).where(Incident.global_id == data["global_id"])
        ).scalar_one()
        assert incident.owner_node == "CN" and incident.items[0].verdicts == VERDICTS
        assert incident.items[0].statuses == ",controlled,"
        follow_up = incidents.post_follow_up(
            session, "US", Actor("olivia", "DEA"), incident.id, "Consignee known to us"
        )
        session.commit()
        queued = session.execute(
            sa.text("SELECT record_type FROM outbox WHERE payload LIKE :g"),
            {"g": f"%{follow_up.global_id}%"},
        ).scalar_one()
        assert queued == "incident.follow_up"
    # The same incident again: refused, not stored twice.
    _send(us, "incident.report", data)
    assert "already exists" in _refusals(us)[-1]


def test_what_the_ownership_rules_refuse(us: UsNode) -> None:
    _send(us, "incident.report", _incident(owner_node="US"))
    assert "a peer can only send a report it owns" in _refusals(us)[-1]
    # A follow-up within an incident this node never shared with CN.
    with us.database.session() as session:
        [own] = incidents.report_incidents(
            session,
            "US",
            Actor("olivia", "DEA"),
            [
                incidents.IncidentInput(
                    kind="seizure",
                    occurred_on=date(2026, 1, 1),
                    country="US",
                    items=[incidents.ItemInput("caffeine", 1, "kg")],
                )
            ],
        )
        session.commit()
        own_id = own.global_id
    follow_up = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:00+00:00",
        "incident": own_id,
        "author": "wang",
        "author_agency": "NNCC",
        "body": "We know this consignor",
        "status": None,
    }
    _send(us, "incident.follow_up", follow_up)
    assert "is not shared with 'CN'" in _refusals(us)[-1]
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count(IncidentFollowUp.id))) == 0

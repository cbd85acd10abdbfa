"""The seizure summary kept on write, on SQLite and PostgreSQL: own incidents, a peer's
incident and its revisions, and own revisions keep it equal to a full recomputation of the
items; the dashboard reads the same figures from either; the migration builds it from the
incidents already stored; `liaison incidents summary` checks and rebuilds it. Also the
desk's list of peer incidents awaiting a follow-up."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from liaison.audit import Actor
from liaison.cli import app
from liaison.services import incidents
from liaison.services.incidents.summary import summary_differences
from liaison.store import Database
from liaison.store.audit import AuditEntry
from liaison.store.incident_tables import Incident, IncidentItem, SeizureSummary
from support import UsNode, batch_from_cn, us_with_stopped_cn

OFFICER = Actor("olivia", "DEA")
VERDICTS = {"US": {"status": "controlled", "basis": [], "explanation": "listed"}}


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    officer = ("olivia", "officer password", "officer", "DEA")
    with us_with_stopped_cn(tmp_path / "us", database_url, "DEA", [officer]) as node:
        yield node


def _peer_incident(global_id: str) -> dict[str, Any]:
    item = {
        "substance": "fentanyl",
        "quantity": "2",
        "unit": "kg",
        "grams": "2000.0",
        "purity_percent": "50.0",
        "form": "powder",
        "packaging": "",
        "verdicts": VERDICTS,
        "as_of": "2026-03-01",
        "substance_label": "fentanyl",
        "standardized_smiles": None,
    }
    return {
        "global_id": global_id,
        "owner_node": "CN",
        "created_at": "2026-03-02T10:00:00+00:00",
        "version": 1,
        "kind": "seizure",
        "occurred_on": "2026-03-01",
        "reporting_agency": "NNCC",
        "created_by": "wang",
        "country": "CN",
        "place": "Shanghai",
        "port_code": None,
        "latitude": None,
        "longitude": None,
        "conveyance": "air_cargo",
        "route": "CN>MX",
        "narrative": "",
        "urgent": False,
        "handling_code": "none",
        "source_reliability": None,
        "information_accuracy": None,
        # Two items of one substance and one of another: counted once per substance.
        "items": [
            item,
            {**item, "quantity": "500", "unit": "g", "grams": "500.0"},
            {**item, "substance": "caffeine", "substance_label": "caffeine"},
        ],
        "entities": [],
    }


def _revision(incident: str, version: int, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": datetime.now(UTC).isoformat(),
        "incident": incident,
        "version": version,
        "changed_by": "wang",
        "changes": changes,
    }


def _send(us: UsNode, seq: int, record_type: str, payload: dict[str, Any]) -> None:
    answer = batch_from_cn(
        us.database, us.node, us.cn_key, [{"seq": seq, "type": record_type, "payload": payload}]
    )
    assert answer["applied"] == 1, answer


def _boards_agree(us: UsNode) -> dict[str, dict[str, Any]]:
    """Check the kept summary against the recomputation; the dashboards by route."""
    with us.database.session() as session:
        assert summary_differences(session) == []
        for group_by in incidents.GROUPINGS:
            for span in ((None, None), (date(2026, 3, 1), date(2026, 3, 31))):
                kept = incidents.seizure_dashboard(session, OFFICER, "US", group_by, *span)
                full = incidents.seizure_dashboard(
                    session, OFFICER, "US", group_by, *span, recompute=True
                )
                assert [r.key for r in kept.rows] == [r.key for r in full.rows]
                for have, want in zip(kept.rows, full.rows, strict=True):
                    assert have.to_dict() == pytest.approx(want.to_dict())
        board = incidents.seizure_dashboard(session, OFFICER, "US", "route")
        session.commit()
        return {row.key: row.to_dict() for row in board.rows}


def test_writes_and_revisions_on_both_sides_keep_the_summary_equal_to_a_recomputation(
    us: UsNode,
) -> None:
    peer_id = str(uuid.uuid4())
    _send(us, 1, "incident.report", _peer_incident(peer_id))
    routes = _boards_agree(us)
    assert routes["CN>MX"]["peer_count"] == 1 and routes["CN>MX"]["own_count"] == 0
    assert routes["CN>MX"]["peer_grams"] == pytest.approx(2000 + 500 + 2000)
    # Fentanyl 2,500 g at 50% and 2 mg a dose; caffeine has no default dose.
    assert routes["CN>MX"]["peer_doses"] == pytest.approx(2500 * 0.5 * 1000 / 2)
    with us.database.session() as session:
        substances = {
            r.key: r for r in incidents.seizure_dashboard(session, OFFICER, "US", "substance").rows
        }
        session.commit()
    assert (substances["fentanyl"].peer_count, substances["caffeine"].peer_count) == (1, 1)

    # The peer moves its incident to another route and month, then says it was no seizure.
    _send(us, 2, "incident.revision", _revision(peer_id, 2, {"route": "CN>US"}))
    _send(us, 3, "incident.revision", _revision(peer_id, 3, {"occurred_on": "2026-04-09"}))
    routes = _boards_agree(us)
    assert set(routes) == {"CN>US"} and routes["CN>US"]["peer_count"] == 1
    # The peer corrects the items: one of 1 kg at 50% is left; the items before are kept.
    items = _peer_incident(peer_id)["items"][:1]
    items[0] = {**items[0], "quantity": "1", "grams": "1000.0"}
    _send(us, 4, "incident.revision", _revision(peer_id, 4, {"items": items}))
    routes = _boards_agree(us)
    assert routes["CN>US"]["peer_grams"] == pytest.approx(1000)
    assert routes["CN>US"]["peer_doses"] == pytest.approx(500 * 1000 / 2)
    with us.database.session() as session:
        received = session.execute(
            sa.select(Incident).where(Incident.global_id == peer_id)
        ).scalar_one()
        [item] = received.items
        [*_, last] = incidents.read_incident(session, OFFICER, received.id).revisions
        session.commit()
        assert (item.grams, len(last.previous["items"]), last.changed_by) == (1000.0, 3, "wang")
    # It adds a laboratory note: stored verified, its bytes in the attachment row only.
    note = b"Purity 50% confirmed by GC-MS.\n"
    added = {
        "filename": "lab.txt",
        "content_type": "text/plain",
        "size": len(note),
        "sha256": hashlib.sha256(note).hexdigest(),
        "content": base64.b64encode(note).decode(),
    }
    _send(us, 5, "incident.revision", _revision(peer_id, 5, {"attachments_added": [added]}))
    with us.database.session() as session:
        received = session.execute(
            sa.select(Incident).where(Incident.global_id == peer_id)
        ).scalar_one()
        [attachment] = received.attachments
        [*_, last] = incidents.read_incident(session, OFFICER, received.id).revisions
        session.commit()
        assert (attachment.content, attachment.verified) == (note, True)
        assert "content" not in last.changes["attachments_added"][0]
    _send(us, 6, "incident.revision", _revision(peer_id, 6, {"kind": "stopped_shipment"}))
    assert _boards_agree(us) == {}

    # Own incidents, written and revised here.
    with us.database.session() as session:
        given = incidents.IncidentInput(
            kind="seizure",
            occurred_on=date(2026, 3, 14),
            country="US",
            conveyance="postal",
            route="MX>US",
            items=(incidents.ItemInput("fentanyl", 1, "lb"),),
        )
        first, second = incidents.report_incidents(session, "US", OFFICER, [given, given])
        session.commit()
        incidents.revise_incident(session, "US", OFFICER, second.id, {"conveyance": "vehicle"})
        session.commit()
    routes = _boards_agree(us)
    assert routes["MX>US"]["own_count"] == 2
    assert routes["MX>US"]["own_grams"] == pytest.approx(2 * 453.59237)
    with us.database.session() as session:
        incidents.revise_incident(session, "US", OFFICER, first.id, {"kind": "other"})
        session.commit()
        conveyances = incidents.seizure_dashboard(session, OFFICER, "US", "conveyance")
        viewed = session.execute(
            sa.select(AuditEntry.actor, AuditEntry.detail)
            .where(AuditEntry.action == "incident.dashboard_viewed")
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).one()
        session.commit()
    assert {r.key: r.own_count for r in conveyances.rows} == {"vehicle": 1}
    assert viewed.actor == "olivia"
    assert json.loads(viewed.detail) == {
        "group_by": "conveyance",
        "date_from": None,
        "date_to": None,
        "groups": 1,
    }
    _boards_agree(us)


def test_an_import_writes_its_incidents_into_the_summary_and_names_them_in_the_audit(
    us: UsNode,
) -> None:
    csv_text = (
        "reference,kind,occurred_on,country,substance,quantity,unit,route,purity_percent\n"
        "A,seizure,2026-03-02,US,fentanyl,1,kg,CN>US,50\n"
        "A,seizure,2026-03-02,US,caffeine,250,g,CN>US,\n"  # second item of A
        "B,seizure,2026-03-09,US,fentanyl,2,lb,MX>US,\n"
        "C,suspicious_shipment,2026-03-09,US,fentanyl,5,g,MX>US,\n"  # not a seizure
        "D,seizure,2026-03-10,US,fentanyl,x,g,MX>US,\n"  # bad quantity: skipped
    )
    with us.database.session() as session:
        result = incidents.import_csv(session, "US", OFFICER, "march.csv", csv_text.encode())
        session.commit()
        written = session.execute(
            sa.select(Incident.global_id, Incident.route).order_by(Incident.id)
        ).all()
        audited = session.execute(
            sa.select(AuditEntry.detail).where(AuditEntry.action == "incident.imported")
        ).scalar_one()
    assert result.imported == 3 and [e["row"] for e in result.errors] == [6]
    assert json.loads(audited)["incidents"] == [g for g, _ in written]
    routes = _boards_agree(us)
    assert routes["CN>US"]["own_count"] == 1
    assert routes["CN>US"]["own_grams"] == pytest.approx(1250)
    assert routes["CN>US"]["own_doses"] == pytest.approx(500 * 1000 / 2)
    assert routes["MX>US"]["own_count"] == 1
    assert routes["MX>US"]["own_grams"] == pytest.approx(2 * 453.59237)


def test_the_migration_builds_the_summary_from_the_incidents_already_stored(
    database_url: str,
) -> None:
    database = Database(database_url)
    try:
        database.upgrade("0010")
        with database.engine.begin() as connection:
            for number, (kind, day) in enumerate(
                [
                    ("seizure", date(2025, 1, 5)),
                    ("seizure", date(2025, 2, 5)),
                    ("other", date(2025, 2, 6)),
                ],
                start=1,
            ):
                connection.execute(
                    sa.insert(Incident.__table__),
                    {
                        "id": number,
                        "global_id": str(uuid.uuid4()),
                        "owner_node": "US" if number == 1 else "CN",
                        "created_at": datetime.now(UTC),
                        "version": 1,
                        "kind": kind,
                        "occurred_on": day,
                        "reporting_agency": "DEA",
                        "created_by": "olivia",
                        "country": "US",
                        "place": "",
                        "conveyance": "postal",
                        "route": "CN>US",
                        "narrative": "",
                        "urgent": False,
                        "handling_code": "none",
                    },
                )
                connection.execute(
                    sa.insert(IncidentItem.__table__),
                    {
                        "incident_id": number,
                        "position": 0,
                        "substance": "fentanyl",
                        "quantity": 10.0,
                        "unit": "g",
                        "grams": 10.0,
                        "purity_percent": None,
                        "packaging": "",
                        "verdicts": {},
                        "as_of": day,
                        "statuses": ",controlled,",
                        "substance_label": "fentanyl",
                    },
                )
        database.upgrade()
        with database.session() as session:
            assert summary_differences(session) == []
            months = {
                (row.key, row.owner_node): row.incidents
                for row in session.execute(
                    sa.select(SeizureSummary).where(SeizureSummary.dimension == "month")
                ).scalars()
            }
            board = incidents.seizure_dashboard(session, OFFICER, "US", "substance")
            session.commit()
        assert months == {("2025-01", "US"): 1, ("2025-02", "CN"): 1}
        [fentanyl] = board.rows
        assert (fentanyl.own_count, fentanyl.peer_count, fentanyl.peer_doses) == (1, 1, 5000)
        # The check sees a summary that drifted from the items.
        with database.session() as session:
            session.execute(
                sa.update(SeizureSummary)
                .where(SeizureSummary.dimension == "route", SeizureSummary.owner_node == "CN")
                .values(grams=SeizureSummary.grams + 1)
            )
            [problem] = summary_differences(session)
            session.rollback()
        assert problem.startswith("route ('CN>US', datetime.date(2025, 2, 5), 'CN'")
    finally:
        database.dispose()


def test_the_summary_command_checks_and_rebuilds(us: UsNode) -> None:
    _send(us, 1, "incident.report", _peer_incident(str(uuid.uuid4())))
    directory = str(us.config.directory)
    agrees = CliRunner().invoke(app, ["incidents", "summary", directory])
    assert agrees.exit_code == 0, agrees.output
    assert "equals a full recomputation" in agrees.output
    with us.database.session() as session:
        session.execute(sa.delete(SeizureSummary).where(SeizureSummary.dimension == "country"))
        session.commit()
    differs = CliRunner().invoke(app, ["incidents", "summary", directory])
    assert differs.exit_code == 1 and "country ('CN'" in differs.output
    rebuilt = CliRunner().invoke(app, ["incidents", "summary", directory, "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    with us.database.session() as session:
        assert summary_differences(session) == []
        actions = session.execute(
            sa.select(AuditEntry.action).where(AuditEntry.action == "incident.summary_rebuilt")
        ).scalars()
        assert list(actions) == ["incident.summary_rebuilt"]


def test_the_desk_lists_peer_incidents_until_this_node_follows_them_up(us: UsNode) -> None:
    urgent, routine = str(uuid.uuid4()), str(uuid.uuid4())
    _send(us, 1, "incident.report", {**_peer_incident(routine), "urgent": False})
    _send(us, 2, "incident.report", {**_peer_incident(urgent), "urgent": True})
    with us.database.session() as session:
        desk = incidents.awaiting_follow_up(session, OFFICER, "US")
        assert [i.global_id for i in desk.awaiting] == [urgent, routine]  # urgent first
        assert (desk.awaiting_count, desk.urgent_count) == (2, 1)
        incidents.post_follow_up(session, "US", OFFICER, desk.awaiting[0].id, "Opened a case")
        session.commit()
        after = incidents.awaiting_follow_up(session, OFFICER, "US")
        session.commit()
    assert [i.global_id for i in after.awaiting] == [routine]
    assert (after.awaiting_count, after.urgent_count) == (1, 0)

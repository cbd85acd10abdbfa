"""Verification cases in-process on one node (US, the verifying side here), with CN as a
peer known only by its key: what the inbox refuses from CN (steps of the wrong side, a
travel step while a hold stands, a field the law forbids receiving), what the API serves,
the personal data sealed at rest, the audit of reads, purge and key rotation. On SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from federation.verification_node import (
    NAME,
    PASSWORD,
    SUBJECT,
    UsNode,
    api_client,
    case_id_of,
    case_record,
    event_record,
    verifying_node,
    web_client,
)
from liaison.audit import Actor
from liaison.services import verification
from liaison.services.verification.records import CasePayload, EventPayload
from liaison.services.verification.sealing import KEY_FILE
from liaison.store import utcnow
from liaison.store.audit import AuditEntry
from liaison.store.verification_tables import VerificationCase, VerificationEvent
from liaison.web.app import create_app
from support import batch_from_cn


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    with verifying_node(tmp_path, database_url) as node:
        yield node


def _refused(answer: dict[str, Any]) -> list[str]:
    return [str(item["reason"]) for item in answer["refused_records"]]


def test_payloads_round_trip_with_the_person_sealed_for_the_peer(us: UsNode) -> None:
    record = case_record(us)
    payload = CasePayload.from_payload(record["payload"])
    assert CasePayload.from_payload(payload.to_payload()) == payload
    assert NAME not in json.dumps(record, ensure_ascii=False)
    event = EventPayload(
        str(uuid.uuid4()), "CN", utcnow(), str(uuid.uuid4()), "step", "travel_scheduled",
        "li", "NIA", None, utcnow(), "sealed",
    )  # fmt: skip
    assert EventPayload.from_payload(event.to_payload()) == event
    # Sealed for another pair, or tampered with: refused, naming the case.
    forged = case_record(us)
    forged["payload"]["sealed"] = record["payload"]["sealed"]
    refused = _refused(batch_from_cn(us.database, us.node, us.cn_key, [forged]))
    assert "does not open with the key of this pair" in refused[0]


def test_a_case_from_the_peer_is_sealed_read_with_a_reason_and_audited(
    us: UsNode, database_url: str
) -> None:
    record = case_record(us)
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [record])) == []
    case_id = case_id_of(us, record["payload"]["global_id"])
    api = api_client(us, "vera")

    listed = api.get("/api/v1/verifications", params={"direction": "incoming"}).json()["items"]
    assert [c["reference"] for c in listed] == ["CN-EXIT-2026-0042"]
    assert listed[0]["protection_claim"] is True and listed[0]["evidence"] == "starting"
    assert "subject" not in listed[0]

    without_reason = api.get(f"/api/v1/verifications/{case_id}")
    assert without_reason.status_code == 422
    assert "reason" in without_reason.json()["detail"]
    read = api.get(f"/api/v1/verifications/{case_id}", headers={"X-Reason": "deciding the case"})
    assert read.status_code == 200, read.text
    assert read.json()["subject"]["family_name_native"] == "张三丰"
    assert read.json()["subject"]["documents"][1]["protection_claim"] is True
    with us.database.session() as session:
        reads = session.execute(
            sa.select(AuditEntry.actor, AuditEntry.detail).where(
                AuditEntry.action == "verification.personal_data_read"
            )
        ).all()
    assert [(actor, json.loads(detail)["why"]) for actor, detail in reads] == [
        ("vera", "deciding the case")
    ]

    # Nothing of the person is in the database in clear, on either backend.
    with us.database.session() as session:
        for table in ("verification_cases", "verification_events", "audit_entries"):
            rows = session.execute(sa.text(f"SELECT * FROM {table}")).all()
            text = repr(rows)
            assert NAME not in text and "张三丰" not in text, table
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert NAME.encode() not in raw and "张三丰".encode() not in raw


def test_the_inbox_refuses_steps_of_the_wrong_side_and_travel_while_held(us: UsNode) -> None:
    record = case_record(us)
    case = record["payload"]["global_id"]
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, case)

    # CN requested: it may not decide, nor issue the travel document.
    wrong_side = [
        event_record(us, case, "decision", "confirmed", {"person_id": "P1", "reason": "x"}),
    ]
    assert (
        "only the verifying side decides"
        in _refused(batch_from_cn(us.database, us.node, us.cn_key, wrong_side))[0]
    )

    api = api_client(us, "vera")
    decided = api.post(
        f"/api/v1/verifications/{case_id}/decision",
        json={"decision": "confirmed", "person_id": "P-000123", "reason": "ID number matches"},
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["case_status"] == "confirmed"
    # The requesting side's step is refused here on the verifying node's API.
    scheduled = api.post(
        f"/api/v1/verifications/{case_id}/steps",
        json={"step": "travel_scheduled", "date": "2026-12-24", "flight": "CA982"},
    )
    assert scheduled.status_code in (403, 409), scheduled.text

    # A hold recorded by CN reaches here and blocks the travel document.
    hold = event_record(us, case, "hold", "asylum", {"reason": "asylum claim lodged 2026-11-20"})
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [hold])) == []
    issued = api.post(
        f"/api/v1/verifications/{case_id}/steps",
        json={"step": "travel_document_issued", "number": "TD-1", "valid_until": "2027-01-31"},
    )
    assert issued.status_code == 409
    assert "protection hold" in issued.json()["detail"] and "asylum" in issued.json()["detail"]

    # A travel step from CN while the hold stands is refused by this node too.
    with us.database.session() as session:
        target = session.get(VerificationCase, case_id)
        assert target is not None
        target.status = "travel_document_issued"  # as if issued before the hold
        session.commit()
    step = event_record(us, case, "step", "travel_scheduled", {"date": "2027-01-02", "flight": "X"})
    assert "protection hold" in _refused(batch_from_cn(us.database, us.node, us.cn_key, [step]))[0]

    # The verifier cannot lift; a supervisor can, with a reason; then the step is accepted.
    held = api.get(f"/api/v1/verifications/{case_id}", params={"reason": "lift"}).json()
    hold_id = next(e["id"] for e in held["events"] if e["kind"] == "hold")
    lift = {"reason": "claim rejected on appeal"}
    assert (
        api.post(f"/api/v1/verifications/{case_id}/holds/{hold_id}/lift", json=lift).status_code
        == 403
    )
    supervisor = api_client(us, "sam")
    lifted = supervisor.post(f"/api/v1/verifications/{case_id}/holds/{hold_id}/lift", json=lift)
    assert lifted.status_code == 201, lifted.text
    step = event_record(us, case, "step", "travel_scheduled", {"date": "2027-01-02", "flight": "X"})
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [step])) == []
    with us.database.session() as session:
        assert session.get(VerificationCase, case_id).status == "travel_scheduled"  # type: ignore[union-attr]


def test_a_field_the_law_forbids_is_refused_both_ways(us: UsNode) -> None:
    with us.database.session() as session:
        verification.set_agreement(
            session,
            Actor.system(),
            "CN",
            refused_fields={"criminal_record": "not shared under the bilateral agreement"},
        )
        session.commit()
    record = case_record(us, {**SUBJECT, "criminal_record": "2019 theft conviction"})
    refused = _refused(batch_from_cn(us.database, us.node, us.cn_key, [record]))
    assert "criminal_record" in refused[0]
    api = api_client(us, "ian")
    opened = api.post(
        "/api/v1/verifications",
        json={
            "peer": "CN",
            "subject": {"family_name": "Doe", "criminal_record": "convicted"},
            "grounds": "removal ordered",
            "reference": "US-1",
        },
    )
    assert opened.status_code == 422
    assert "criminal_record may not be shared with CN" in opened.json()["detail"]


def test_roles_decide_who_does_what(us: UsNode) -> None:
    record = case_record(us)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    officer = api_client(us, "olivia")  # a drug-case officer: no verification rights
    assert officer.get("/api/v1/verifications").status_code == 403
    immigration = api_client(us, "ian")
    decision = {"decision": "not_confirmed", "reason": "no match"}
    assert (
        immigration.post(f"/api/v1/verifications/{case_id}/decision", json=decision).status_code
        == 403
    )
    anonymous = TestClient(create_app(us.config), base_url="http://testserver")
    assert anonymous.get("/api/v1/verifications").status_code == 401


def test_purge_keeps_statistics_and_rotation_keeps_data_readable(us: UsNode) -> None:
    record = case_record(us)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    api = api_client(us, "vera")
    decided = api.post(
        f"/api/v1/verifications/{case_id}/decision",
        json={"decision": "not_confirmed", "reason": "no registry record"},
    )
    assert decided.status_code == 201
    closed = event_record(us, record["payload"]["global_id"], "step", "closed", {})
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [closed])) == []

    key_file = us.config.directory / KEY_FILE
    before = json.loads(key_file.read_text())["current"]
    with us.database.session() as session:
        resealed = verification.rotate_key(session, us.config, Actor.system())
    assert resealed >= 2
    after = json.loads(key_file.read_text())
    assert after["current"] != before and list(after["keys"]) == [after["current"]]
    read = api.get(f"/api/v1/verifications/{case_id}", params={"reason": "check"})
    assert read.json()["subject"]["family_name"] == NAME

    with us.database.session() as session:
        assert verification.purge(session, Actor.system(), retention_days=30) == []
        purged = verification.purge(
            session, Actor.system(), retention_days=30, now=utcnow() + timedelta(days=31)
        )
        session.commit()
    assert purged == [record["payload"]["global_id"]]
    with us.database.session() as session:
        case = session.get(VerificationCase, case_id)
        assert case is not None and case.subject_sealed is None and case.purged_at is not None
        assert (
            session.scalar(
                sa.select(sa.func.count()).where(VerificationEvent.data_sealed.is_not(None))
            )
            == 0
        )
    stats = api.get("/api/v1/verifications/statistics").json()["items"]
    assert {s["step"] for s in stats} == {"decision", "closed"}
    export = api.get(f"/api/v1/verifications/{case_id}/export", params={"reason": "SAR 7"})
    assert export.status_code == 200 and export.json()["subject"] == {}


def test_the_commands_set_the_agreement_purge_and_rotate_the_key(us: UsNode) -> None:
    from typer.testing import CliRunner

    from liaison.cli import app

    runner = CliRunner()
    directory = str(us.config.directory)
    agreed = runner.invoke(
        app,
        [
            "verification", "agreement", directory, "CN",
            "--deadline", "decision=20:40:silence",
            "--refuse", "criminal_record=not shared under the agreement",
        ],
    )  # fmt: skip
    assert agreed.exit_code == 0, agreed.output
    assert "decision: 20 days, extendable to 40, silence counts as agreement" in agreed.output
    assert "never shared: criminal_record" in agreed.output
    wrong = runner.invoke(app, ["verification", "agreement", directory, "CN", "--deadline", "x=1"])
    assert wrong.exit_code == 1 and "deadline step must be one of" in wrong.output

    record = case_record(us)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    rotated = runner.invoke(app, ["verification", "rotate-key", directory])
    assert rotated.exit_code == 0 and "1 sealed value(s) sealed again" in rotated.output
    kept = runner.invoke(app, ["verification", "purge", directory, "--retention-days", "0"])
    assert kept.exit_code == 0 and "Purged the personal data of 0 case(s)" in kept.output


def test_an_interview_and_a_reasoned_extension_of_the_deadline_to_decide(us: UsNode) -> None:
    with us.database.session() as session:
        verification.set_agreement(
            session,
            Actor.system(),
            "CN",
            deadlines={"decision": verification.Deadline(30, 60, False)},
        )
        session.commit()
    record = case_record(us, {"family_name": "Ng", "given_name": "Ah Sing"})  # no document
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    vera = api_client(us, "vera")
    path = f"/api/v1/verifications/{case_id}/steps"
    interview = vera.post(
        path, json={"step": "consular_interview", "date": "2026-12-03", "outcome": "scheduled"}
    )
    assert interview.status_code == 201 and interview.json()["case_status"] == "requested"
    assert vera.post(path, json={"step": "deadline_extended"}).status_code == 422  # no reason
    extended = vera.post(
        path, json={"step": "deadline_extended", "reason": "awaiting the interview"}
    )
    assert extended.status_code == 201, extended.text
    with us.database.session() as session:
        case = session.get(VerificationCase, case_id)
        assert case is not None and case.due_at == case.created_at + timedelta(days=60)
    again = vera.post(path, json={"step": "deadline_extended", "reason": "more time"})
    assert again.status_code == 409 and "already extended" in again.json()["detail"]


def test_the_travel_document_prints_the_name_in_chinese_characters(us: UsNode) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    record = case_record(us)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    api = api_client(us, "vera")
    decided = api.post(
        f"/api/v1/verifications/{case_id}/decision",
        json={"decision": "confirmed", "person_id": "P-000123", "reason": "ID number matches"},
    )
    assert decided.status_code == 201, decided.text
    issued = api.post(
        f"/api/v1/verifications/{case_id}/steps",
        json={"step": "travel_document_issued", "number": "TD-9", "valid_until": "2027-01-31"},
    )
    assert issued.status_code == 201, issued.text
    pdf = api.get(
        f"/api/v1/verifications/{case_id}/travel-document.pdf", params={"reason": "print"}
    )
    assert pdf.status_code == 200, pdf.text
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert "张三丰伟" in text and f"{NAME} Wei" in text and "TD-9" in text


def test_information_supplied_by_the_peer_returns_the_case_to_matching(us: UsNode) -> None:
    record = case_record(us)
    case = record["payload"]["global_id"]
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, case)
    api = api_client(us, "vera")
    asked = api.post(
        f"/api/v1/verifications/{case_id}/decision",
        json={"decision": "information_requested", "reason": "which Fuzhou district?"},
    )
    assert asked.status_code == 201, asked.text
    # A field outside the subject is refused by this node's inbox, the case unchanged.
    odd = event_record(
        us, case, "step", "information_supplied", {"information": "x", "favourite": "blue"}
    )
    assert (
        "subject fields only" in _refused(batch_from_cn(us.database, us.node, us.cn_key, [odd]))[0]
    )
    supplied = event_record(
        us,
        case,
        "step",
        "information_supplied",
        {"information": "born in Gulou district", "place_of_birth": "Gulou, Fuzhou"},
    )
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [supplied])) == []
    detail = api.get(f"/api/v1/verifications/{case_id}", params={"reason": "re-match"}).json()
    assert detail["status"] == "requested" and detail["due_step"] == "decision"
    assert detail["subject"]["place_of_birth"] == "Gulou, Fuzhou"
    assert detail["subject"]["family_name"] == NAME
    with us.database.session() as session:
        actions = session.scalars(
            sa.select(AuditEntry.action).where(
                AuditEntry.record_id == supplied["payload"]["global_id"]
            )
        ).all()
    assert actions == ["verification.event_received"]
    # The supplied place is sealed like the rest of the subject.
    with us.database.engine.connect() as connection:
        rows = repr(connection.execute(sa.select(VerificationEvent.__table__)).all())
        rows += repr(connection.execute(sa.select(VerificationCase.__table__)).all())
    assert "Gulou" not in rows


def _png(marker: bytes) -> bytes:
    """A PNG's signature and a chunk holding `marker` (enough for the type check)."""
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x10tEXt" + marker.ljust(16, b"_")


def test_photographs_are_sealed_read_one_by_one_with_a_reason_and_audited(us: UsNode) -> None:
    import base64

    content = _png(b"FACEPHOTO")
    subject = {
        **SUBJECT,
        "photographs": [{"content_type": "image/png", "data": base64.b64encode(content).decode()}],
    }
    record = case_record(us, subject)
    assert _refused(batch_from_cn(us.database, us.node, us.cn_key, [record])) == []
    case_id = case_id_of(us, record["payload"]["global_id"])
    vera = api_client(us, "vera")
    detail = vera.get(f"/api/v1/verifications/{case_id}", params={"reason": "identify"}).json()
    assert detail["subject"]["photographs"] == [
        {"content_type": "image/png", "bytes": len(content)}
    ]
    path = f"/api/v1/verifications/{case_id}/photographs/0"
    assert vera.get(path).status_code == 422  # no reason given
    shown = vera.get(path, params={"reason": "compare with the registry photograph"})
    assert shown.status_code == 200 and shown.content == content
    assert shown.headers["content-type"] == "image/png"
    assert (
        vera.get(
            f"/api/v1/verifications/{case_id}/photographs/1", params={"reason": "x"}
        ).status_code
        == 404
    )
    assert api_client(us, "olivia").get(path, params={"reason": "curious"}).status_code == 403
    page = vera.get(f"/verifications/{case_id}", params={"reason": "identify"})
    assert f'src="{path}?reason=identify"' in page.text
    with us.database.session() as session:
        reads = session.scalars(
            sa.select(AuditEntry.detail).where(
                AuditEntry.action == "verification.personal_data_read"
            )
        ).all()
    assert any("photograph 0" in r and "compare with the registry photograph" in r for r in reads)
    # At rest only sealed: neither the image nor its base64 is in any row.
    with us.database.engine.connect() as connection:
        rows = repr(connection.execute(sa.select(VerificationCase.__table__)).all())
    assert "FACEPHOTO" not in rows and base64.b64encode(content).decode()[:20] not in rows


def test_photographs_uploaded_on_the_open_form_travel_with_the_case(us: UsNode) -> None:
    client, token = web_client(us, "ian")
    form = client.get("/verifications/new")
    assert 'enctype="multipart/form-data"' in form.text and 'name="photographs"' in form.text
    fields = {
        "csrf_token": token,
        "peer": "CN",
        "reference": "P-7",
        "grounds": "Removal order",
        "family_name": "Li",
        "given_name": "Wei",
    }
    content = _png(b"UPLOADED")
    not_an_image = ("face.png", b"MZ\x90\x00 not an image", "image/png")
    refused = client.post("/verifications/new", data=fields, files=[("photographs", not_an_image)])
    assert refused.status_code == 422 and "does not look like image/png" in refused.text
    assert 'value="P-7"' in refused.text  # what was typed comes back
    too_many = [("photographs", (f"{n}.png", content, "image/png")) for n in range(4)]
    refused = client.post("/verifications/new", data=fields, files=too_many)
    assert refused.status_code == 422 and "at most 3" in refused.text
    opened = client.post(
        "/verifications/new",
        data=fields,
        files=[("photographs", ("face.png", content, "image/png"))],
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    page = client.get(opened.headers["location"])
    case_id = int(opened.headers["location"].split("?")[0].rsplit("/", 1)[1])
    path = f"/api/v1/verifications/{case_id}/photographs/0"
    assert f'src="{path}?reason=' in page.text
    assert client.get(path, params={"reason": "check the upload"}).content == content
    detail = api_client(us, "ian").get(f"/api/v1/verifications/{case_id}", params={"reason": "x"})
    assert detail.json()["subject"]["photographs"] == [
        {"content_type": "image/png", "bytes": len(content)}
    ]


def test_a_photograph_that_is_not_an_image_is_refused(us: UsNode) -> None:
    import base64

    ian = api_client(us, "ian")
    fake = base64.b64encode(b"MZ\x90\x00 not an image").decode()
    opened = ian.post(
        "/api/v1/verifications",
        json={
            "peer": "CN",
            "subject": {**SUBJECT, "photographs": [{"content_type": "image/png", "data": fake}]},
            "grounds": "Removal order",
            "reference": "P-1",
        },
    )
    assert opened.status_code == 422 and "does not look like image/png" in opened.text


def test_a_refused_decision_is_said_in_chinese_on_a_chinese_page(us: UsNode) -> None:
    record = case_record(us)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    browser = TestClient(
        create_app(us.config), base_url="http://testserver", headers={"Accept-Language": "zh-CN"}
    )
    login = browser.get("/login").text
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    browser.post(
        "/login",
        data={"username": "vera", "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    why = "matching the request"
    case_page = browser.get(f"/verifications/{case_id}", params={"why": why}).text
    token = case_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # "confirmed" without the registry person: refused by the service, the page re-rendered.
    refused = browser.post(
        f"/verifications/{case_id}/decision",
        data={"csrf_token": token, "decision": "confirmed", "reason": "matches", "why": why},
    )
    assert refused.status_code == 422
    assert "确认的决定须指明登记册中的人员（person_id）" in refused.text
    assert "a confirmed decision names the registry person" not in refused.text
    # The API keeps the English detail.
    api = api_client(us, "vera").post(
        f"/api/v1/verifications/{case_id}/decision",
        json={"decision": "confirmed", "reason": "matches"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert api.json()["detail"] == "a confirmed decision names the registry person (person_id)"

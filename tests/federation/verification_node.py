"""A verifying node in-process (US) with CN as a peer known only by its key, and the
records CN would send it: shared by the verification tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liaison.audit import Actor
from liaison.services.verification import rules
from liaison.services.verification.commands import open_case
from liaison.services.verification.records import CasePayload, EventPayload
from liaison.services.verification.sealing import PairSeal, pair_key
from liaison.store import utcnow
from liaison.store.federation_tables import PeerInbound
from liaison.store.verification_tables import VerificationCase
from liaison.web.app import create_app
from support import UsNode, us_with_stopped_cn

PASSWORD = "officer password"
IMMIGRATION_OFFICER = Actor("ian", "DHS", role="immigration_officer")
NAME = "Zhangsanfeng"  # a name that must never be found in clear in the database
SUBJECT = {
    "family_name": NAME,
    "given_name": "Wei",
    "family_name_native": "张三丰",
    "given_name_native": "伟",
    "sex": "M",
    "date_of_birth": "1990-03-07",
    "place_of_birth": "Fuzhou",
    "id_number": "35010219900307001X",
    "aliases": ["Cheung Wai"],
    "parents": ["张大山", "李梅"],
    "documents": [
        {"kind": "passport_photocopy", "number": "E12345678", "protection_claim": False},
        {"kind": "statement", "description": "asylum interview notes", "protection_claim": True},
    ],
}


@contextmanager
def verifying_node(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    """US, the verifying side, with a verifier, a supervisor, an immigration officer and a
    drug-case officer; CN a peer known by its key only (nothing is delivered to it)."""
    roles = (
        ("vera", "verifier"),
        ("sam", "supervisor"),
        ("ian", "immigration_officer"),
        ("olivia", "officer"),
    )
    users = [(user, PASSWORD, role, "DHS") for user, role in roles]
    with us_with_stopped_cn(tmp_path / "us", database_url, "DHS", users) as node:
        yield node


def _seq(us: UsNode) -> int:
    with us.database.session() as session:
        return 1 + (session.scalar(sa.select(PeerInbound.last_applied_seq)) or 0)


def from_cn(us: UsNode) -> PairSeal:
    """What CN seals personal data with for US."""
    return PairSeal(pair_key(us.cn_key, us.node.private_key.public_key(), ("CN", "US")))


def case_record(us: UsNode, subject: dict[str, Any] = SUBJECT, **changes: Any) -> dict[str, Any]:
    global_id = str(uuid.uuid4())
    clean = rules.check_subject(subject)
    payload = CasePayload(
        global_id=global_id,
        owner_node="CN",
        created_at=utcnow(),
        reference="CN-EXIT-2026-0042",
        requester_agency="NIA",
        created_by="li",
        evidence=rules.evidence_tier(clean),
        protection_claim=rules.has_protection_claim(clean),
        due_at=utcnow() + timedelta(days=30),
        due_step="decision",
        silence_agrees=False,
        sealed=from_cn(us).seal(
            {"subject": subject, "grounds": "Overstayed visa; removal ordered"}, global_id
        ),
    ).to_payload()
    return {"seq": _seq(us), "type": "verification.case", "payload": {**payload, **changes}}


def event_record(
    us: UsNode, case: str, kind: str, name: str, data: dict[str, str], **changes: Any
) -> dict[str, Any]:
    global_id = str(uuid.uuid4())
    payload = EventPayload(
        global_id=global_id,
        owner_node="CN",
        created_at=utcnow(),
        case=case,
        kind=kind,
        name=name,
        author="li",
        author_agency="NIA",
        target=None,
        due_at=None,
        sealed=from_cn(us).seal(data, global_id) if data else "",
    ).to_payload()
    return {"seq": _seq(us), "type": "verification.event", "payload": {**payload, **changes}}


def api_client(us: UsNode, user: str) -> TestClient:
    client = TestClient(create_app(us.config), base_url="http://testserver")
    token = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD}).json()[
        "access_token"
    ]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def web_client(us: UsNode, user: str) -> tuple[TestClient, str]:
    """A browser-like client signed in as `user`, and its form token."""
    client = TestClient(create_app(us.config), base_url="http://testserver")
    login = client.get("/login")
    signed_in = client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf_token": form_token(login.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    return client, form_token(client.get("/verifications/new").text)


def form_token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def case_id_of(us: UsNode, global_id: str) -> int:
    with us.database.session() as session:
        return int(
            session.scalar(
                sa.select(VerificationCase.id).where(VerificationCase.global_id == global_id)
            )
        )


def open_case_for_cn(
    session: Session, config: rules.VerificationNode, reference: str
) -> VerificationCase:
    """US's immigration officer opens a case on SUBJECT for CN to verify."""
    return open_case(
        session,
        config,
        IMMIGRATION_OFFICER,
        peer="CN",
        subject=SUBJECT,
        grounds="Removal order 2026-11",
        reference=reference,
    )

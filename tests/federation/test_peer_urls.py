"""Peer base URLs: HTTPS between nodes, plain HTTP only to loopback or when allowed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.audit import Actor
from liaison.config import Settings
from liaison.errors import InvalidInput
from liaison.federation import envelope as env
from liaison.federation.capabilities import ADVERTISEMENT
from liaison.federation.context import LocalNode
from liaison.federation.invites import decode_invite
from liaison.federation.peers import REQUEST_KIND, check_peer_url, handle_peering_request
from liaison.federation.records import RecordTypes
from liaison.federation.refusals import close_ended_windows
from liaison.node import create_node
from liaison.services.peering import accept_invite, issue_invite
from liaison.store import Database
from liaison.store.audit import AuditEntry
from liaison.store.federation_tables import Peer, RefusalWindow

ADMIN = Actor("admin", role="admin")

STRICT, LAB = Settings(), Settings(federation_allow_insecure_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://liaison.example.org",
        "https://203.0.113.5:8443/node",
        "http://127.0.0.1:8001",
        "http://127.9.9.9",
        "http://[::1]:8002",
        "http://localhost:8000",
    ],
)
def test_https_or_loopback_http_is_accepted(url: str) -> None:
    check_peer_url(url, STRICT, "peer URL")


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://liaison.example.org", "must use https://"),
        ("http://10.0.0.7:8001", "must use https://"),
        ("http://localhost.example.org", "must use https://"),
        ("ftp://liaison.example.org", "https:// URL with a host"),
        ("https://", "https:// URL with a host"),
    ],
)
def test_other_urls_are_refused_with_the_reason(url: str, complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        check_peer_url(url, STRICT, "peer URL")


def test_the_setting_allows_plain_http_to_any_host() -> None:
    check_peer_url("http://liaison.example.org", LAB, "peer URL")
    with pytest.raises(InvalidInput, match="with a host"):
        check_peer_url("ftp://liaison.example.org", LAB, "peer URL")


@pytest.fixture
def inviting(tmp_path: Path, database_url: str) -> Iterator[tuple[LocalNode, Database]]:
    config = create_node(tmp_path / "us", "US", "admin", "admin password 1", database_url)
    database = Database(config.database_url)
    yield LocalNode.from_config(config), database
    database.dispose()


def _request(
    node: LocalNode, database: Database, base_url: str, name: str = "MX", **more: Any
) -> dict[str, Any]:
    with database.session() as session:
        code = issue_invite(session, node, ADMIN, 3600)
        session.commit()
    key = Ed25519PrivateKey.generate()
    return env.seal(
        key,
        sender=name,
        recipient="US",
        kind=REQUEST_KIND,
        body={
            "node": name,
            "base_url": base_url,
            "public_key": env.public_key_text(key.public_key()),
            "default_agency": "FGR",
            "secret": decode_invite(code).secret,
            **more,
        },
    ).to_json()


def test_the_handshake_refuses_a_plain_http_base_url_unless_allowed(
    inviting: tuple[LocalNode, Database],
) -> None:
    node, database = inviting
    refused = _request(node, database, "http://mx.example")
    allowed = _request(node, database, "http://mx.example")
    with database.session() as session:
        with pytest.raises(InvalidInput, match=r"requesting node's base URL .* must use https"):
            handle_peering_request(session, node, RecordTypes(), refused, address="127.0.0.1")
        assert session.scalar(sa.select(sa.func.count()).select_from(Peer)) == 0
        session.rollback()
        handle_peering_request(
            session,
            dataclasses.replace(node, settings=LAB),
            RecordTypes(),
            allowed,
            address="127.0.0.1",
        )
        assert session.scalars(sa.select(Peer.base_url)).all() == ["http://mx.example"]


def test_an_invite_to_a_plain_http_node_is_refused_before_any_request(
    inviting: tuple[LocalNode, Database],
) -> None:
    node, database = inviting
    remote = dataclasses.replace(node, base_url="http://us.example.org", settings=LAB)
    with database.session() as session:
        code = issue_invite(session, remote, ADMIN, 3600)
        with pytest.raises(InvalidInput, match="must use https"):
            issue_invite(session, dataclasses.replace(remote, settings=STRICT), ADMIN, 3600)
    accepting = LocalNode("MX", "https://mx.example", "FGR", Ed25519PrivateKey.generate(), STRICT)
    with (
        database.session() as session,
        pytest.raises(InvalidInput, match=r"invite's base URL .* must use https"),
    ):
        accept_invite(session, accepting, RecordTypes(), code, ADMIN)


def test_a_refused_peering_request_is_counted_then_audited_and_changes_nothing(
    inviting: tuple[LocalNode, Database],
) -> None:
    node, database = inviting
    forged = _request(node, database, "https://mx.example")
    forged["body"]["secret"] = "not-the-secret"  # the signature no longer matches either
    with database.session() as session:
        audited_before = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        with pytest.raises(env.EnvelopeRejected):
            handle_peering_request(session, node, RecordTypes(), forged, address="127.0.0.1")
        assert session.scalar(sa.select(sa.func.count()).select_from(Peer)) == 0
        window = session.scalars(sa.select(RefusalWindow)).one()
        assert (window.address, window.refused, window.last_claimed_sender) == (
            "127.0.0.1",
            1,
            "MX",
        )
        assert window.first_reason.startswith("bad_signature")
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audited_before
        assert close_ended_windows(session, window.closes_at) == 1
        session.commit()
        refusal = session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
        ).one()
        assert (refusal.action, refusal.actor, refusal.address) == (
            "federation.refusals",
            "MX",
            "127.0.0.1",
        )


def test_the_handshake_keeps_the_record_types_each_side_says_it_handles(
    inviting: tuple[LocalNode, Database],
) -> None:
    node, database = inviting
    mine = RecordTypes([ADVERTISEMENT])
    older = _request(node, database, "https://mx.example")  # says nothing: an older node
    newer = _request(node, database, "https://ca.example", "CA", record_types=["pen.register", "x"])
    garbled = _request(node, database, "https://mx.example", record_types="pen.register")
    with database.session() as session:
        with pytest.raises(InvalidInput, match="record_types must be a list"):
            handle_peering_request(session, node, mine, garbled, address="127.0.0.1")
        session.rollback()
        answer = handle_peering_request(session, node, mine, older, address="127.0.0.1")
        assert answer["body"]["record_types"] == ["node.record_types"]
        peer = session.scalars(sa.select(Peer).where(Peer.name == "MX")).one()
        assert (peer.record_types, peer.told_record_types) == (None, ["node.record_types"])
        handle_peering_request(session, node, mine, newer, address="127.0.0.1")
        said = session.scalars(sa.select(Peer.record_types).where(Peer.name == "CA")).one()
        assert said == ["pen.register", "x"]

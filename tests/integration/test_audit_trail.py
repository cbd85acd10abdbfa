"""The audit trail's module: every entry names its full actor (user with role, agency and
address; the system; a peer node), one view writes one entry, counting writes none,
entries from before migration 0005 still verify, and federation sits above the audit
module without reaching into services."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

import liaison
from liaison.audit import Actor, UserRead, canonical_json, record, verify_chain
from liaison.config import NodeConfig
from liaison.store import Database, utcnow
from liaison.store.audit import GENESIS_HASH
from liaison.store.federation_tables import Peer

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

PACKAGE = Path(liaison.__file__).resolve().parent


def _entries(node: NodeConfig, after: int = 0) -> list[dict[str, Any]]:
    engine = Database(node.database_url).engine
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "select seq, actor, actor_kind, role, agency, address, action, record_id "
                "from audit_entries where seq > :after order by seq"
            ),
            {"after": after},
        )
        found = [dict(row._mapping) for row in rows]
    engine.dispose()
    return found


def _last_seq(node: NodeConfig) -> int:
    return max(entry["seq"] for entry in _entries(node))


def test_entries_name_the_user_with_role_agency_and_address(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    before = _last_seq(node)
    admin = accounts.bearer(client, "admin")
    assert client.post("/api/v1/peers/invite", json={}, headers=admin).status_code == 200
    issued, invited = _entries(node, before)
    assert issued["action"] == "auth.token_issue"
    # Peering used to record a bare username: now the whole actor, as every other entry.
    assert invited == {
        "seq": invited["seq"],
        "actor": "admin",
        "actor_kind": "user",
        "role": "admin",
        "agency": issued["agency"],
        "address": "testclient",
        "action": "peer.invite_issued",
        "record_id": None,
    }
    assert issued["agency"] and issued["role"] == "admin"


def test_the_system_is_an_actor_of_its_own_kind(node: NodeConfig) -> None:
    created, *added = _entries(node)[:3]
    assert (created["action"], created["actor"], created["actor_kind"]) == (
        "node.init",
        "system",
        "system",
    )
    # `liaison init` creates the admin's agency and account as the system.
    assert [(entry["action"], entry["actor_kind"]) for entry in added] == [
        ("agency.create", "system"),
        ("user.create", "system"),
    ]


def test_one_view_is_one_entry_and_counting_is_not_audited(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    accounts.browser_login(client, "olivia")
    before = _last_seq(node)
    assert client.get("/hotline", params={"q": "precursor"}).status_code == 200
    assert [entry["action"] for entry in _entries(node, before)] == ["hotline.threads_listed"]

    headers = accounts.bearer(client, "olivia")
    before = _last_seq(node)
    counts = client.get("/api/v1/hotline/inbox", headers=headers)
    assert counts.status_code == 200 and counts.json()["unread"] == 0
    assert _entries(node, before) == []


def _old_hash(fields: dict[str, Any]) -> str:
    """The hash of an entry as written before 0005 (no actor kind, no role)."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def test_entries_written_before_0005_still_verify(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade("0003_audit_append_only")
    at = utcnow()
    fields = {
        "seq": 1,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": "system",
        "agency": None,
        "action": "node.init",
        "record_type": "node",
        "record_id": "US",
        "address": None,
        "detail": "{}",
        "prev_hash": GENESIS_HASH,
    }
    old_hash = _old_hash(fields)
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into audit_entries (seq, at, actor, agency, action, record_type, "
                "record_id, address, detail, prev_hash, hash) values (1, :at, 'system', null, "
                "'node.init', 'node', 'US', null, '{}', :prev, :hash)"
            ),
            {"at": at.replace(tzinfo=None), "prev": GENESIS_HASH, "hash": old_hash},
        )
        connection.execute(
            sa.text("update audit_head set seq = 1, hash = :hash"), {"hash": old_hash}
        )
    database.upgrade()
    with database.session() as session:
        entry = record(session, Actor("olivia", "DEA", "10.0.0.1", "officer"), UserRead())
        session.commit()
        assert entry.prev_hash == old_hash and entry.actor_kind == "user"
        result = verify_chain(session)
    database.dispose()
    assert result.intact, result.message()
    assert result.entries == 2


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_audit_sits_below_services_and_federation() -> None:
    audit_imports = _imports(PACKAGE / "audit.py")
    assert not {name for name in audit_imports if name.startswith("liaison.")} - {
        "liaison.errors",
        "liaison.messages",  # texts the web layer translates; pure, imports nothing of ours
        "liaison.store.audit",
        "liaison.store.base",
    }
    for path in sorted((PACKAGE / "federation").glob("*.py")):
        reaching_up = {
            name
            for name in _imports(path)
            if name.startswith(("liaison.services", "liaison.web", "liaison.cli"))
        }
        assert not reaching_up, f"{path.name} imports {reaching_up}"
    assert not (PACKAGE / "services" / "audit.py").exists()


def test_the_audit_page_asks_the_peers_on_request(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    accounts.browser_login(client, "audrey")
    page = client.get("/audit")
    assert "Check against the checkpoints the peers hold" in page.text
    assert "no active peer to ask" in client.get("/audit", params={"peers": 1}).text

    database = Database(node.database_url)
    with database.session() as session:  # a peer that does not answer
        session.add(
            Peer(name="CN", base_url="http://127.0.0.1:9", public_key="k", default_agency="NNCC")
        )
        session.commit()
    database.dispose()
    before = _last_seq(node)
    page = client.get("/audit", params={"peers": 1})
    assert page.status_code == 200
    assert "peer CN: could not ask" in page.text
    assert [entry["action"] for entry in _entries(node, before)] == ["audit.search"]

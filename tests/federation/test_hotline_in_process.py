"""The hotline in-process on one node (US), with CN as a peer known only by its key: what
the API serves, and what the inbox accepts from CN. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from liaison.cli.node import add_node_user, create_node
from liaison.config import NodeConfig
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.services import hotline
from liaison.services.accounts import Actor
from liaison.store import Database
from liaison.store.federation_tables import Peer
from liaison.store.hotline_tables import HotlineAttachment
from liaison.web.app import create_app

OFFICER_PASSWORD = "officer password"


@dataclass
class UsNode:
    config: NodeConfig
    node: LocalNode
    database: Database
    cn_key: Ed25519PrivateKey
    officer: Actor


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    directory = tmp_path / "us"
    config = create_node(directory, "US", "admin", "admin password 1", database_url, agency="DEA")
    add_node_user(directory, "olivia", OFFICER_PASSWORD, "officer", "DEA")
    cn_key = Ed25519PrivateKey.generate()
    database = Database(config.database_url)
    with database.session() as session:
        session.add(
            Peer(
                name="CN",
                base_url="http://127.0.0.1:9",
                public_key=env.public_key_text(cn_key.public_key()),
                default_agency="NNCC",
                status="active",
                last_seq=0,
            )
        )
        session.commit()
    yield UsNode(config, LocalNode.from_config(config), database, cn_key, Actor("olivia", "DEA"))
    database.dispose()


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
            us.officer,
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

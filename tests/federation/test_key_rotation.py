"""`liaison key rotate DIR` with two real nodes: US rotates its signing key while stopped;
CN, told the new key signed by the old one, accepts US's envelopes signed by the new key,
and messages flow both ways again; an announcement whose proof the new key did not sign is
refused, and one signed by the old key after the rotation is too."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from federation.nodes import NodeProcess, Pair, start_pair, wait_until
from liaison.cli import app
from liaison.config import load_node
from liaison.federation import envelope as env
from liaison.federation.key_rotation import ANNOUNCE_KIND, KEY_ROTATION_PATH
from liaison.federation.keys import generate_private_key, load_private_key

pytestmark = pytest.mark.slow
runner = CliRunner()


def _bodies(node: NodeProcess, owner: str) -> Counter[str]:
    with node.database().engine.connect() as connection:
        rows = connection.execute(
            sa.text("select body from hotline_messages where owner_node = :owner"),
            {"owner": owner},
        ).scalars()
        return Counter(rows)


def _post(client: httpx.Client, thread_id: object, body: str) -> None:
    response = client.post(f"/api/v1/threads/{thread_id}/messages", json={"body": body})
    assert response.status_code == 201, response.text


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    pair = start_pair(tmp_path, us_database=database_url, cn_database=second_database_url)
    yield pair
    pair.close()


def test_a_rotated_key_is_accepted_by_the_peer_and_messages_flow_again(pair: Pair) -> None:
    us, cn = pair.us.client(), pair.cn.client()
    opened = us.post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "Key rotation",
            "priority": "routine",
            "kind": "note",
            "body": "before",
        },
    )
    assert opened.status_code == 201, opened.text
    us_thread, global_id = opened.json()["id"], opened.json()["global_id"]
    wait_until(lambda: _bodies(pair.cn, "US") == {"before": 1}, "the thread on CN")
    [cn_thread] = [t["id"] for t in cn.get("/api/v1/threads").json() if t["global_id"] == global_id]
    us.close()
    old_key = load_private_key(pair.us.directory / "node_key.pem")
    old_public = load_node(pair.us.directory).public_key

    def announcement(new_public_key: str, proof: str) -> httpx.Response:
        sealed = env.seal(
            old_key,
            sender="US",
            recipient="CN",
            kind=ANNOUNCE_KIND,
            body={"new_public_key": new_public_key, "proof": proof},
        )
        return httpx.post(pair.cn.base_url + KEY_ROTATION_PATH, json=sealed.to_json())

    # Signed by US's key, but the key it names did not sign the proof: refused.
    intruder = env.public_key_text(generate_private_key().public_key())
    forged = announcement(intruder, env.b64encode(old_key.sign(b"not the proof")))
    assert forged.status_code >= 400, forged.text
    assert pair.cn.scalar("select public_key from peers where name = 'US'") == old_public

    pair.us.stop()
    result = runner.invoke(app, ["key", "rotate", str(pair.us.directory)])
    assert result.exit_code == 0, result.output
    new_public = load_node(pair.us.directory).public_key
    assert new_public != old_public and "peer CN: told the new key" in result.output
    assert pair.cn.scalar("select public_key from peers where name = 'US'") == new_public
    assert len(list(pair.us.directory.glob("node_key.*.pem"))) == 1  # the old key, kept
    # The old key speaks for US no more.
    late = announcement(intruder, env.b64encode(old_key.sign(b"anything")))
    assert late.status_code >= 400, late.text
    assert pair.cn.scalar("select public_key from peers where name = 'US'") == new_public

    pair.us.start()
    us = pair.us.client()
    try:
        _post(us, us_thread, "after, from US")
        _post(cn, cn_thread, "after, from CN")
        wait_until(lambda: _bodies(pair.cn, "US")["after, from US"] == 1, "US's message on CN")
        wait_until(lambda: _bodies(pair.us, "CN")["after, from CN"] == 1, "CN's message on US")
    finally:
        us.close()
        cn.close()
    with pair.cn.database().engine.connect() as connection:
        [detail] = connection.execute(
            sa.text("select detail from audit_entries where action = 'peer.key_rotated'")
        ).scalars()
    assert json.loads(detail)["new_public_key"] == new_public
    assert json.loads(detail)["old_public_key"] == old_public
    for node in (pair.us, pair.cn):
        verify = runner.invoke(app, ["audit", "verify", str(node.directory)])
        assert verify.exit_code == 0, verify.output
    told = pair.us.scalar("select detail from audit_entries where action = 'node.key_rotated'")
    assert json.loads(told)["peers_told"] == ["CN"]


def test_nothing_changes_when_a_peer_does_not_answer(pair: Pair) -> None:
    old_public = load_node(pair.us.directory).public_key
    pair.us.stop()
    pair.cn.stop()
    result = runner.invoke(app, ["key", "rotate", str(pair.us.directory)])
    assert result.exit_code == 1
    assert "peer CN" in result.output and "nothing was changed" in result.output
    assert load_node(pair.us.directory).public_key == old_public
    assert not list(pair.us.directory.glob("node_key.*.pem"))

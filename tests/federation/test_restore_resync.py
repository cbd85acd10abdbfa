"""A node restored from an older backup while its peer kept writing: two real nodes.

US is backed up while running, both sides write more, US is lost and restored from the
backup, CN writes on while US is down and US writes at once when it is back. Then: CN
holds every US message once (the numbers US gave after the restore were moved past what
CN had applied, not taken for those), US holds every CN message once (CN sent again what
US had acknowledged but lost), US holds every one of its own messages once (those the
backup lacked came back from CN, through a signed request), and US's audit chain
verifies with the restore and what came back in it.
"""

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

pytestmark = pytest.mark.slow
runner = CliRunner()
PASSPHRASE = "restore drill passphrase"


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


def _thread_on(client: httpx.Client, global_id: str) -> object:
    [thread] = [t for t in client.get("/api/v1/threads").json() if t["global_id"] == global_id]
    return thread["id"]


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    pair = start_pair(tmp_path, us_database=database_url, cn_database=second_database_url)
    yield pair
    pair.close()


def _open_drill_thread(pair: Pair, us: httpx.Client) -> tuple[object, object]:
    """US opens a thread with CN ("us 0"); its id on US and on CN once CN has it."""
    opened = us.post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "Restore drill",
            "priority": "routine",
            "kind": "note",
            "body": "us 0",
        },
    )
    assert opened.status_code == 201, opened.text
    global_id = str(opened.json()["global_id"])
    us_thread = opened.json()["id"]
    cn = pair.cn.client()
    try:
        cn_thread = wait_until(
            lambda: _thread_on(cn, global_id) if _bodies(pair.cn, "US") else None,
            "the thread on CN",
        )
    finally:
        cn.close()
    return us_thread, cn_thread


def _backup(pair: Pair, backup: Path) -> None:
    result = runner.invoke(
        app, ["backup", str(pair.us.directory), str(backup), "--passphrase-stdin"], input=PASSPHRASE
    )
    assert result.exit_code == 0, result.output


def _restore_us(pair: Pair, backup: Path, restored: Path, database_url: str) -> None:
    """Stop US and restore it from `backup` into `restored` (stopped, moved there)."""
    pair.us.close()
    args = ["restore", str(backup), str(restored), "--passphrase-stdin"]
    if not database_url.startswith("sqlite"):
        args += ["--database-url", database_url]  # back into the same PostgreSQL database
    result = runner.invoke(app, args, input=PASSPHRASE)
    assert result.exit_code == 0, result.output
    pair.us.move_to(restored)


def test_a_restored_node_and_its_peer_lose_and_double_nothing(
    pair: Pair, tmp_path: Path, database_url: str
) -> None:
    us, cn = pair.us.client(), pair.cn.client()
    us_thread, cn_thread = _open_drill_thread(pair, us)

    def write(first: int, last: int) -> None:
        for i in range(first, last + 1):
            _post(us, us_thread, f"us {i}")
            _post(cn, cn_thread, f"cn {i}")

    write(1, 3)
    wait_until(
        lambda: len(_bodies(pair.cn, "US")) == 4 and len(_bodies(pair.us, "CN")) == 3,
        "messages 1-3 on both sides",
    )
    backup = tmp_path / "us.lbk"
    _backup(pair, backup)
    write(4, 6)  # after the backup: the restore loses these on US
    wait_until(
        lambda: len(_bodies(pair.cn, "US")) == 7 and len(_bodies(pair.us, "CN")) == 6,
        "messages 4-6 on both sides",
    )
    us.close()

    restored = tmp_path / "us-restored"
    _restore_us(pair, backup, restored, database_url)
    assert len(_bodies(pair.cn, "US")) == 7
    _post(cn, cn_thread, "cn 7")  # CN writes on while US is down
    # What the restore lost, read before US starts (CN resends at once once it answers).
    assert _bodies(pair.us, "CN") == Counter(f"cn {i}" for i in range(1, 4))
    assert _bodies(pair.us, "US") == Counter(f"us {i}" for i in range(0, 4))
    pair.us.start()
    us = pair.us.client()
    try:
        # At once, likely before US has heard from CN: these must not be taken for 4-6.
        _post(us, us_thread, "us 7")
        _post(us, us_thread, "us 8")
        _post(cn, cn_thread, "cn 8")
        on_us = {f"cn {i}": 1 for i in range(1, 9)}
        on_cn = {f"us {i}": 1 for i in range(0, 9)}
        wait_until(lambda: _bodies(pair.us, "CN") == on_us, "every CN message once on US", 90)
        wait_until(lambda: _bodies(pair.cn, "US") == on_cn, "every US message once on CN", 90)
        # US's own messages 4-6, which the backup lacked, came back from CN, once each.
        wait_until(lambda: _bodies(pair.us, "US") == on_cn, "every US message once on US", 90)
    finally:
        us.close()
        cn.close()
    # Nothing more arrives later (no record doubled by a late resend).
    assert pair.us.scalar("select resync_from from peers where name = 'CN'") is None
    wait_until(
        lambda: (
            pair.us.scalar("select acked_seq from peer_delivery join peers on peers.id = peer_id")
            == pair.us.scalar("select last_seq from peers where name = 'CN'")
        ),
        "US's stream to CN to be acknowledged",
    )
    assert _bodies(pair.cn, "US") == on_cn and _bodies(pair.us, "CN") == on_us
    assert _bodies(pair.us, "US") == on_cn
    assert pair.us.scalar("select recover_from from peers where name = 'CN'") is None
    with pair.us.database().engine.connect() as connection:
        [detail] = connection.execute(
            sa.text(
                "select detail from audit_entries where action = 'federation.own_records_recovered'"
            )
        ).scalars()
        lost = connection.execute(
            sa.text("select global_id from hotline_messages where body in ('us 4', 'us 5', 'us 6')")
        ).scalars()
        assert sorted(json.loads(detail)["recovered"]) == sorted(
            f"hotline.message {global_id}" for global_id in lost
        )
    # CN kept every row it delivered (retention), which is what let it send 4-6 again.
    admin = pair.cn.client("admin")
    try:
        [state] = admin.get("/api/v1/peers").json()
    finally:
        admin.close()
    assert state["retention"]["kept_from_seq"] == 1
    assert state["retention"]["kept_delivered"] == state["outbox"]["acked_seq"] >= 8
    verify = runner.invoke(app, ["audit", "verify", str(restored)])
    assert verify.exit_code == 0, verify.output
    actions = pair.us.scalar("select count(*) from audit_entries where action = 'node.restore'")
    assert actions == 1


def test_a_peer_with_nothing_new_sends_again_what_the_restore_lost_at_once(
    pair: Pair, tmp_path: Path, database_url: str
) -> None:
    us = pair.us.client()
    try:
        _, cn_thread = _open_drill_thread(pair, us)
    finally:
        us.close()
    backup = tmp_path / "us.lbk"
    _backup(pair, backup)
    cn = pair.cn.client()
    try:
        for i in range(1, 4):  # after the backup: US acknowledges them, the restore loses them
            _post(cn, cn_thread, f"cn {i}")
    finally:
        cn.close()
    on_us = Counter(f"cn {i}" for i in range(1, 4))
    wait_until(lambda: _bodies(pair.us, "CN") == on_us, "CN's messages on US")
    _restore_us(pair, backup, tmp_path / "us-restored", database_url)
    assert _bodies(pair.us, "CN") == Counter()
    pair.us.start()
    # CN writes nothing more: US's resynchronisation alone makes it send them again.
    wait_until(lambda: _bodies(pair.us, "CN") == on_us, "CN's lost messages again on US, once")
    assert _bodies(pair.us, "US") == Counter(["us 0"])

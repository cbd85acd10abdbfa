"""Exactly once, in order, whatever crashes: two real nodes, kill -9, outages.

The sending node's officer writes 200 messages in one thread through the API while one
of the nodes is killed with SIGKILL and later restarted; the receiving node must end up
with all 200, each once, in the order written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from federation.nodes import NodeProcess, Pair, start_pair, wait_until

pytestmark = pytest.mark.slow

MESSAGES = 200


def _received(node: NodeProcess) -> int:
    return int(node.scalar("select count(*) from hotline_messages where owner_node = 'US'"))


def _applied(node: NodeProcess) -> int:
    """The last sequence from US that CN applied (read from CN's database, running or not)."""
    return int(
        node.scalar(
            "select last_applied_seq from peer_inbound join peers on peers.id = peer_id "
            "where peers.name = 'US'"
        )
    )


def _check_exactly_once_in_order(pair: Pair, thread_global_id: str) -> None:
    wait_until(lambda: _received(pair.cn) == MESSAGES, f"all {MESSAGES} messages on CN", 90)
    cn = pair.cn.client()
    try:
        [thread] = [
            t for t in cn.get("/api/v1/threads").json() if t["global_id"] == thread_global_id
        ]
        messages = cn.get(f"/api/v1/threads/{thread['id']}/messages").json()
    finally:
        cn.close()
    assert [m["body"] for m in messages] == [f"message {i:03d}" for i in range(MESSAGES)]
    assert len({m["global_id"] for m in messages}) == MESSAGES
    # The receiver applied exactly the sender's stream: no sequence skipped or doubled.
    sent = pair.us.scalar("select last_seq from peers where name = 'CN'")
    assert _applied(pair.cn) == sent == MESSAGES + 1  # the thread record, then 200 messages


def _open_thread(us: httpx.Client) -> dict[str, object]:
    response = us.post(
        "/api/v1/threads",
        json={
            "peer": "CN",
            "subject": "Stream of 200",
            "priority": "routine",
            "kind": "note",
            "body": "message 000",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _post(us: httpx.Client, thread_id: object, index: int) -> None:
    response = us.post(
        f"/api/v1/threads/{thread_id}/messages", json={"body": f"message {index:03d}"}
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def pair_on_backend(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    # Small batches make the stream many round trips long, so a kill lands inside it.
    pair = start_pair(
        tmp_path,
        us_database=database_url,
        cn_database=second_database_url,
        us_env={"LIAISON_FEDERATION_BATCH_SIZE": "2"},
    )
    yield pair
    pair.close()


def test_receiver_killed_while_200_messages_are_sent_gets_each_once_in_order(
    pair_on_backend: Pair,
) -> None:
    pair = pair_on_backend
    us = pair.us.client()
    try:
        # A backlog first, so that CN is killed while the stream to it is in flight.
        pair.cn.stop()
        thread = _open_thread(us)
        for index in range(1, 120):
            _post(us, thread["id"], index)
        pair.cn.start()
        wait_until(lambda: _received(pair.cn) > 0, "the stream to reach CN", interval=0.002)
        pair.cn.kill()
        queued = pair.us.scalar("select last_seq from peers where name = 'CN'")
        assert _applied(pair.cn) < queued, "the stream finished before the receiver was killed"
        for index in range(120, MESSAGES):
            _post(us, thread["id"], index)
        # While CN is down, US records why it cannot deliver.
        wait_until(
            lambda: pair.us.scalar("select last_error from peer_delivery"),
            "US to record the delivery error",
        )
    finally:
        us.close()
    pair.cn.start()
    _check_exactly_once_in_order(pair, str(thread["global_id"]))


def test_sender_killed_mid_batch_resends_and_the_receiver_applies_each_once(
    tmp_path: Path,
) -> None:
    # Small batches make the stream many round trips long, so the kill lands inside it.
    pair = start_pair(tmp_path, us_env={"LIAISON_FEDERATION_BATCH_SIZE": "2"})
    try:
        pair.cn.stop()
        us = pair.us.client()
        try:
            thread = _open_thread(us)
            for index in range(1, MESSAGES):
                _post(us, thread["id"], index)
        finally:
            us.close()
        pair.cn.start()
        wait_until(lambda: _received(pair.cn) > 0, "the first batch on CN", interval=0.002)
        pair.us.kill()
        at_kill = _received(pair.cn)
        assert at_kill < MESSAGES, "the stream finished before the sender was killed"
        pair.us.start()
        _check_exactly_once_in_order(pair, str(thread["global_id"]))
    finally:
        pair.close()


def test_partition_queues_messages_shows_the_backlog_and_delivers_after_it_ends(
    tmp_path: Path,
) -> None:
    pair = start_pair(tmp_path)
    us = pair.us.client()
    admin = pair.us.client("admin")
    try:
        thread = _open_thread(us)
        wait_until(
            lambda: admin.get("/api/v1/peers").json()[0]["outbox"]["pending"] == 0,
            "US to learn that CN has the thread",
        )
        pair.cn.kill()
        for index in range(1, 6):
            _post(us, thread["id"], index)

        def backlog() -> dict[str, object] | None:
            [state] = admin.get("/api/v1/peers").json()
            outbox = state["outbox"]
            return outbox if outbox["pending"] == 5 and outbox["last_error"] else None

        outbox = wait_until(backlog, "the admin view to show 5 pending and the error")
        assert outbox["oldest_pending_age_seconds"] is not None
        assert outbox["oldest_pending_age_seconds"] >= 0
        assert outbox["failures"] >= 1
        success_before = outbox["last_success_at"]
        page = admin.get("/admin/peers")
        assert page.status_code == 200
        assert re.search(r'<td class="pending"[^>]*>5</td>', page.text)
        assert _received(pair.cn) == 1

        pair.cn.start()
        wait_until(
            lambda: admin.get("/api/v1/peers").json()[0]["outbox"]["pending"] == 0,
            "the backlog to drain",
        )
        [state] = admin.get("/api/v1/peers").json()
        assert state["outbox"]["failures"] == 0
        assert state["outbox"]["last_success_at"] > success_before
        cn = pair.cn.client()
        try:
            [received] = cn.get("/api/v1/threads").json()
            bodies = [
                m["body"] for m in cn.get(f"/api/v1/threads/{received['id']}/messages").json()
            ]
        finally:
            cn.close()
        assert bodies == [f"message {i:03d}" for i in range(6)]
    finally:
        us.close()
        admin.close()
        pair.close()

"""A node under hostile federation traffic (real `liaison serve` processes, real HTTP): each
test reproduces an attack found by probing.

- A flood of anonymous bogus envelopes used to write one audit entry each: now it is
  counted per address and window, audited once when the window closes, and turned away
  unread once over the limit.
- Large bodies used to be parsed before any check: now the claimed sender, the size and
  the number of JSON objects decide before parsing, deep nesting is refused without a
  traceback, and only a few unverified requests are read at once.
- A record the peer refused used to count as delivered: now the acknowledgement names it,
  and the sender shows it as refused on the message and in the peers view.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.nodes import (
    ADMIN_PASSWORD,
    OFFICER_PASSWORD,
    NodeProcess,
    Pair,
    make_node,
    peer,
    start_pair,
    wait_until,
)
from liaison.federation.refusals import Throttle

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile_traffic")]

LIMIT = 10
GUARDED = {
    "LIAISON_FEDERATION_REFUSALS_PER_WINDOW": str(LIMIT),
    "LIAISON_FEDERATION_REFUSAL_WINDOW_SECONDS": "600",
    "LIAISON_FEDERATION_UNVERIFIED_CONCURRENCY": "2",
}


@pytest.fixture(scope="module")
def cn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """CN, running, peered with US (which is not running)."""
    root: Path = tmp_path_factory.mktemp("hostile")
    us, cn = make_node(root, "US"), make_node(root, "CN", env=GUARDED)
    cn.start()
    peer(cn, us)
    yield cn
    cn.close()
    us.close()


def _audit_rows(node: NodeProcess) -> int:
    return int(node.scalar("select count(*) from audit_entries"))


def _window(node: NodeProcess) -> dict[str, Any] | None:
    with node.database().engine.connect() as connection:
        row = connection.exec_driver_sql(
            "select refused, throttled, first_reason, last_reason, last_claimed_sender "
            "from federation_refusal_windows where address = '127.0.0.1'"
        ).first()
    return None if row is None else dict(row._mapping)


def _raw_request(node: NodeProcess, head: str, body: bytes = b"") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", node.port), timeout=30)
    connection.sendall(head.encode("latin-1") + body)
    return connection


def _head(length: int, sender: str | None = None) -> str:
    named = f"X-Liaison-Sender: {sender}\r\n" if sender else ""
    return (
        "POST /federation/v1/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{named}Content-Length: {length}\r\n\r\n"
    )


def _answer(connection: socket.socket) -> bytes:
    """The whole answer: headers, then the body as long as Content-Length says (they may
    arrive in separate packets)."""
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer) < _answer_length(answer):
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def _answer_length(answer: bytes) -> int:
    head, _, _ = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(head) + 4


@pytest.fixture
def flooded(tmp_path: Path) -> Iterator[NodeProcess]:
    """A node of its own: once flooded, its address stays turned away for the window."""
    node = make_node(tmp_path, "CN", env=GUARDED)
    node.start()
    yield node
    node.close()


def test_a_flood_of_bogus_envelopes_is_counted_once_per_window_and_throttled(
    flooded: NodeProcess,
) -> None:
    cn = flooded
    audited = _audit_rows(cn)
    kinds = [
        b"{not json",
        json.dumps({"sender": "X" * 20_000, "records": []}).encode(),
        json.dumps([{}] * 50).encode(),
    ]
    statuses = []
    with httpx.Client(base_url=cn.base_url, timeout=30) as client:
        for index in range(200):
            path = "/federation/v1/peering" if index % 4 == 3 else "/federation/v1/inbox"
            response = client.post(path, content=kinds[index % 3])
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) > 0
                assert "were refused since" in response.json()["detail"]
    assert 429 not in statuses[:LIMIT] and set(statuses[LIMIT:]) == {429}
    # Not one audit entry per request: one per address and window, when it closes.
    assert _audit_rows(cn) == audited
    window = _window(cn)
    assert window is not None
    # The first request over the limit is recorded at once, the next ones by the hundred.
    throttled = 1 + (200 - LIMIT - 1) // Throttle.FLUSH_EVERY * Throttle.FLUSH_EVERY
    assert (window["refused"], window["throttled"]) == (LIMIT, throttled)
    assert window["first_reason"].startswith("malformed: the request body is not JSON")
    assert window["last_reason"].startswith("malformed")
    # The admin sees the count while it runs.
    page = _browser(cn, "admin").get("/admin/peers").text
    assert 'data-address="127.0.0.1"' in page and "the request body is not JSON" in page
    audited = _audit_rows(cn)  # the admin's login and reads are audited
    # The window ends (moved to the past here rather than waited for): the delivery
    # worker closes it with one audit entry.
    with cn.database().engine.begin() as connection:
        connection.exec_driver_sql(
            "update federation_refusal_windows set closes_at = opened_at "
            "where address = '127.0.0.1'"
        )
    wait_until(lambda: _window(cn) is None, "the window to be closed")
    assert _audit_rows(cn) == audited + 1
    detail = json.loads(
        cn.scalar(
            "select detail from audit_entries where action = 'federation.refusals' "
            "order by seq desc limit 1"
        )
    )
    assert (detail["refused"], detail["throttled"]) == (LIMIT, throttled)
    assert detail["first_reason"].startswith("malformed") and detail["last_reason"]


def test_a_sender_that_is_no_peer_is_refused_before_its_body_is_read(cn: NodeProcess) -> None:
    # 20 MiB announced, none sent: the answer comes on the headers alone.
    connection = _raw_request(cn, _head(20 * 1024 * 1024, sender="EU"))
    try:
        answer = _answer(connection)
    finally:
        connection.close()
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert b"is not an active peer" in answer
    # Without naming itself, an envelope is limited to what a peering request needs.
    anonymous = httpx.post(
        f"{cn.base_url}/federation/v1/inbox", content=b" " * (100 * 1024), timeout=30
    )
    assert anonymous.status_code == 413
    assert "the limit is 65536" in anonymous.json()["detail"]


def test_a_body_of_many_small_objects_is_refused_before_it_is_parsed(cn: NodeProcess) -> None:
    bomb = b"[" + b",".join([b"{}"] * 300_000) + b"]"
    response = httpx.post(
        f"{cn.base_url}/federation/v1/inbox",
        content=bomb,
        headers={"X-Liaison-Sender": "US"},
        timeout=30,
    )
    assert response.status_code == 413
    assert "JSON objects and arrays" in response.json()["detail"]


def test_json_nested_5000_deep_is_refused_without_a_traceback(cn: NodeProcess) -> None:
    for document in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        response = httpx.post(
            f"{cn.base_url}/federation/v1/inbox",
            content=document,
            headers={"X-Liaison-Sender": "US"},
            timeout=30,
        )
        assert response.status_code == 422, response.text
        assert "nests deeper than" in response.json()["detail"]
    assert "Traceback" not in cn.log.read_text()


def test_only_a_few_unverified_requests_are_read_at_once(cn: NodeProcess) -> None:
    # Two senders claiming to be US start large bodies and stall: they hold the two slots.
    stalled = [_raw_request(cn, _head(1024 * 1024, sender="US"), b"[") for _ in range(2)]
    try:

        def third_is_turned_away() -> bool:
            response = httpx.post(f"{cn.base_url}/federation/v1/inbox", content=b"[]", timeout=30)
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
                return True
            return False

        wait_until(third_is_turned_away, "a third request to be answered 503")
        # Other routes are not affected.
        assert httpx.get(f"{cn.base_url}/healthz", timeout=30).status_code == 200
    finally:
        for connection in stalled:
            connection.close()

    def served_again() -> bool:
        response = httpx.post(f"{cn.base_url}/federation/v1/inbox", content=b"[]", timeout=30)
        return response.status_code != 503

    wait_until(served_again, "the slots to be free again")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nodes = start_pair(tmp_path_factory.mktemp("refused"))
    yield nodes
    nodes.close()


def test_a_record_the_peer_refuses_comes_back_as_refused_and_the_stream_goes_on(
    pair: Pair,
) -> None:
    us = pair.us.client()
    opened = us.post(
        "/api/v1/threads",
        json={"peer": "CN", "subject": "s", "priority": "routine", "kind": "note", "body": "b"},
    )
    assert opened.status_code == 201, opened.text
    thread = opened.json()
    cn_client = pair.cn.client()

    def on_cn() -> bool:
        threads = cn_client.get("/api/v1/threads").json()
        return any(t["global_id"] == thread["global_id"] for t in threads)

    wait_until(on_cn, "the thread on CN")
    pair.cn.stop()
    refused = us.post(f"/api/v1/threads/{thread['id']}/messages", json={"body": "placeholder"})
    assert refused.status_code == 201, refused.text
    # A NUL in the queued record, as an older node that accepted it would have sent it.
    with pair.us.database().engine.begin() as connection:
        changed = connection.exec_driver_sql(
            "update outbox set payload = replace(payload, '\"placeholder\"', '\"a\\u0000b\"') "
            "where payload like '%placeholder%'"
        ).rowcount
    assert changed == 1
    later = us.post(f"/api/v1/threads/{thread['id']}/messages", json={"body": "after it"})
    assert later.status_code == 201, later.text
    pair.cn.start()

    def delivered() -> dict[str, Any] | None:
        [state] = us.get("/api/v1/peers", headers=_admin(pair)).json()
        return state if state["outbox"]["pending"] == 0 else None

    state = wait_until(delivered, "US's outbox to CN to be acknowledged")
    assert state["outbox"]["refused"] == 1
    assert state["outbox"]["last_refused"]["record_id"] == refused.json()["global_id"]
    assert "U+0000" in state["outbox"]["last_refused"]["reason"]
    messages = {
        m["global_id"]: m for m in us.get(f"/api/v1/threads/{thread['id']}/messages").json()
    }
    assert "CN refused it" in messages[refused.json()["global_id"]]["refused_by_peer"]
    assert messages[later.json()["global_id"]]["refused_by_peer"] is None
    cn_bodies = pair.cn.scalar("select group_concat(body, '|') from hotline_messages")
    assert "after it" in cn_bodies and "placeholder" not in cn_bodies
    # The admin's peers page and the officer's thread page say so too.
    admin_page = _browser(pair.us, "admin").get("/admin/peers").text
    assert "1 not delivered" in admin_page
    thread_page = _browser(pair.us, "officer").get(f"/hotline/threads/{thread['id']}").text
    assert "Not delivered" in thread_page and "CN refused it" in thread_page


def _admin(pair: Pair) -> dict[str, str]:
    client = pair.us.client("admin")
    headers = {"Authorization": client.headers["Authorization"]}
    client.close()
    return headers


def _browser(node: NodeProcess, username: str) -> httpx.Client:
    client = httpx.Client(base_url=node.base_url, timeout=30, follow_redirects=True)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": ADMIN_PASSWORD if username == "admin" else OFFICER_PASSWORD,
            "csrf_token": token,
            "next": "/",
        },
    )
    assert response.status_code == 200, response.text
    return client

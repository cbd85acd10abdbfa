"""Nothing urgent missed (issue 9), on one node (US) with CN as a peer known by its key:
replies, read receipts only for what was shown, deadlines before they pass, the unread
badge, the addressee list, my desk. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from federation.test_hotline_in_process import (
    OFFICER_PASSWORD,
    UsNode,
    _api,
    _audit,
    _from_cn,
    _message_record,
    _thread_record,
    us,
)
from liaison.store.federation_tables import OutboxRecord
from liaison.store.hotline_tables import HotlineMessage, HotlineThread
from liaison.web.app import create_app

__all__ = ["us"]  # the fixture, shared with the in-process hotline tests


def _browser(us: UsNode, language: str = "en") -> tuple[TestClient, str]:
    """A logged-in browser session; returns the client and its CSRF token."""
    client = TestClient(
        create_app(us.config),
        base_url="http://testserver",
        headers={"Accept-Language": language},
    )
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": "olivia", "password": OFFICER_PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/preferences").text
    return client, page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def _urgent_from_cn(us: UsNode, due_in: timedelta) -> tuple[int, int]:
    """A CN thread with one urgent message due `due_in` from now: (thread id, message id)."""
    now = datetime.now(UTC).replace(microsecond=0)
    thread = _thread_record(us, created_at=_stamp(now))
    _from_cn(us, [thread])
    message = _message_record(
        us,
        thread["payload"]["global_id"],
        created_at=_stamp(now),
        priority="urgent",
        ack_due_at=_stamp(now + due_in),
    )
    _from_cn(us, [message])
    with us.database.session() as session:
        thread_id = session.scalars(sa.select(HotlineThread.id)).one()
        message_id = session.scalars(
            sa.select(HotlineMessage.id).where(
                HotlineMessage.global_id == message["payload"]["global_id"]
            )
        ).one()
    return thread_id, message_id


def _message(us: UsNode, message_id: int) -> HotlineMessage:
    with us.database.session() as session:
        message = session.get(HotlineMessage, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_a_reply_is_routine_unless_its_writer_picks_another_priority(us: UsNode) -> None:
    thread_id, _message_id = _urgent_from_cn(us, timedelta(hours=4))
    api = _api(us)
    plain = api.post(f"/api/v1/threads/{thread_id}/messages", json={"body": "Noted."})
    assert plain.status_code == 201, plain.text
    # Before issue 9 the reply inherited the thread's `urgent` and demanded an ack.
    assert (plain.json()["priority"], plain.json()["ack_due_at"]) == ("routine", None)
    chosen = api.post(
        f"/api/v1/threads/{thread_id}/messages", json={"body": "Now.", "priority": "flash"}
    )
    assert chosen.json()["priority"] == "flash"
    client, _csrf = _browser(us)
    form = client.get(f"/hotline/threads/{thread_id}").text
    assert '<option value="routine" selected>' in form


def test_a_reply_from_the_receiving_side_acknowledges_unless_unticked(us: UsNode) -> None:
    thread_id, message_id = _urgent_from_cn(us, timedelta(hours=4))
    client, csrf = _browser(us)
    page = client.get(f"/hotline/threads/{thread_id}").text
    assert 'name="acknowledge" value="true" checked' in page
    assert "This reply acknowledges the 1 message awaiting your acknowledgement." in page

    # Unticked: the checkbox is not sent.
    unticked = client.post(
        f"/hotline/threads/{thread_id}/messages",
        data={"body": "Looking into it.", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert unticked.status_code == 303
    assert _message(us, message_id).acked_at is None

    ticked = client.post(
        f"/hotline/threads/{thread_id}/messages",
        data={"body": "Received, acting.", "acknowledge": "true", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ticked.status_code == 303
    acked = _message(us, message_id)
    assert acked.acked_at is not None and acked.acked_by == "olivia (DEA)"
    with us.database.session() as session:
        kinds = session.scalars(
            sa.select(OutboxRecord.record_type).order_by(OutboxRecord.seq)
        ).all()
    # The acknowledgement travels before the reply that answers it.
    assert kinds[-2:] == ["hotline.ack", "hotline.message"]
    assert "This reply acknowledges" not in client.get(f"/hotline/threads/{thread_id}").text


def test_the_thread_page_sends_no_read_receipt_until_the_message_is_shown(us: UsNode) -> None:
    thread_id, message_id = _urgent_from_cn(us, timedelta(hours=4))
    client, csrf = _browser(us)
    # A live refresh in a background tab reloads the page: that is not reading.
    page = client.get(f"/hotline/threads/{thread_id}")
    assert f'data-message-id="{message_id}" data-unread="1"' in page.text
    assert _message(us, message_id).read_at is None
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxRecord)) == 0

    shown = client.post(
        f"/hotline/threads/{thread_id}/shown",
        json={"messages": [message_id]},
        headers={"X-CSRF-Token": csrf},
    )
    assert shown.status_code == 204, shown.text
    assert _message(us, message_id).read_by == "olivia (DEA)"
    with us.database.session() as session:
        assert session.scalars(sa.select(OutboxRecord.record_type)).all() == ["hotline.read"]
    assert _audit(us, "hotline.messages_shown") == [{"newly_read": 1}]
    # Reported twice (two tabs): one receipt.
    client.post(
        f"/hotline/threads/{thread_id}/shown",
        json={"messages": [message_id]},
        headers={"X-CSRF-Token": csrf},
    )
    with us.database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxRecord)) == 1
    # Without the CSRF token the browser's session cannot report.
    forged = client.post(f"/hotline/threads/{thread_id}/shown", json={"messages": [message_id]})
    assert forged.status_code == 403


def test_the_inbox_says_what_awaits_acknowledgement_before_it_is_overdue(us: UsNode) -> None:
    _urgent_from_cn(us, timedelta(minutes=18, seconds=30))
    client, _csrf = _browser(us)
    inbox = client.get("/hotline").text
    assert "Awaiting your acknowledgement" in inbox
    assert re.search(
        r"awaiting your acknowledgement, due <time [^>]+>[^<]+</time> "
        r'<span class="time-left">\(in 1[89] min\)</span>',
        inbox,
    ), inbox
    assert "0 overdue" in inbox

    chinese, _csrf = _browser(us, "zh-CN,zh;q=0.9")
    inbox_zh = chinese.get("/hotline").text
    assert '<html lang="zh-CN">' in inbox_zh
    assert re.search(r"等待您确认，截止 .*（?\(还剩 1[89]分钟\)", inbox_zh), inbox_zh


def test_the_unread_count_is_in_the_navigation_and_the_title_of_every_page(us: UsNode) -> None:
    client, _csrf = _browser(us)
    quiet = client.get("/preferences").text
    assert '<span id="nav-unread" class="badge status-review" hidden>' in quiet
    _urgent_from_cn(us, timedelta(hours=4))
    # The figures page still holds its read transaction when it renders: the count must not
    # need a second one (on SQLite that waited for the lock until it timed out).
    for path in ("/preferences", "/substances", "/hotline", "/desk", "/notifications/figures"):
        page = client.get(path).text
        assert re.search(r"<title>\(1\) ", page), path
        assert '<span id="nav-unread" class="badge status-review">1 unread</span>' in page, path


def test_the_addressee_agency_is_chosen_from_those_known_for_the_peer(us: UsNode) -> None:
    client, _csrf = _browser(us)
    page = client.get("/hotline/new").text
    assert '<select id="to-agency" name="to_agency"' in page
    assert '<optgroup label="CN"><option value="NNCC" >NNCC</option></optgroup>' in page
    _from_cn(us, [_thread_record(us, from_agency="CN Customs")])
    page = client.get("/hotline/new").text
    assert '<option value="CN Customs" >CN Customs</option>' in page


def test_my_desk_shows_what_waits_for_the_user(us: UsNode) -> None:
    client, _csrf = _browser(us)
    landing = client.get("/", follow_redirects=False)
    assert landing.headers["location"] == "/desk"
    empty = client.get("/desk").text
    assert "Nothing awaits your acknowledgement." in empty
    assert "No screenings yet." in empty
    _urgent_from_cn(us, timedelta(hours=4))
    desk = client.get("/desk").text
    assert "Precursor shipment" in desk
    assert "(in 4 hr)" in desk or "(in 3 hr)" in desk

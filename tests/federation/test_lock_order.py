"""The order of locks on PostgreSQL (liaison.audit.lock_head): the inbox holds the audit head
while it changes the rows of shared records; a write of this node that changes the same row
(a step of a verification case, a step of a notification) changes it only after it has the
head, so the two wait for each other in turn instead of deadlocking. Two real transactions,
on two connections, interleaved where the inversion would bite."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from federation.test_notifications_in_process import form
from federation.verification_node import IMMIGRATION_OFFICER, event_record, open_case_for_cn
from liaison.audit import Actor, lock_head
from liaison.runtime import node_record_types
from liaison.services.notifications.commands import lodge, withdraw
from liaison.services.notifications.records import StepPayload
from liaison.services.verification.commands import take_step
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer
from liaison.store.notification_tables import PenNotification
from liaison.store.verification_tables import CaseStatus, VerificationCase
from support import UsNode, us_with_stopped_cn

REGULATOR = Actor("rita", "DEA", role="regulator")


def _waiting_for_a_lock(us: UsNode) -> bool:
    with us.database.engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def _inbox_meets_a_write(
    us: UsNode, write: Callable[[Session], Any], peer_record: dict[str, Any]
) -> None:
    """The inbox's transaction takes the audit head; meanwhile `write` runs in another and
    waits for the head; then the inbox applies `peer_record`, which changes the row the
    write changes too. Both must commit."""
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with us.database.session() as session:
                write(session)
                session.commit()
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=writer)
    with us.database.session() as inbox:
        lock_head(inbox)  # as receive_batch does before applying a batch
        thread.start()
        deadline = time.monotonic() + 30
        while not _waiting_for_a_lock(us):
            assert thread.is_alive() and time.monotonic() < deadline, failures
            time.sleep(0.02)
        cn = inbox.scalars(sa.select(Peer)).one()
        node_record_types().apply(inbox, us.node, cn, peer_record["type"], peer_record["payload"])
        inbox.commit()
    thread.join(30)
    assert not thread.is_alive()
    assert failures == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_case_step_and_the_peer_s_decision_on_the_same_case_do_not_deadlock(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url, "DHS") as us:
        with us.database.session() as session:
            case = open_case_for_cn(session, us.config, "A-9")
            session.commit()
            case_id, case_gid = case.id, case.global_id
        decision = event_record(
            us, case_gid, "decision", "not_confirmed", {"reason": "No such person"}
        )
        _inbox_meets_a_write(
            us,
            lambda session: take_step(
                session,
                us.config,
                IMMIGRATION_OFFICER,
                case_id,
                "withdrawn",
                {"reason": "Left the country"},
            ),
            decision,
        )
        with us.database.session() as session:
            case = session.get_one(VerificationCase, case_id)
            assert sorted(e.name for e in case.events) == ["not_confirmed", "withdrawn"]
            assert case.status == CaseStatus.WITHDRAWN  # the step committed last


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_notification_step_and_the_peer_s_step_on_the_same_notification_do_not_deadlock(
    tmp_path: Path, database_url: str
) -> None:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        with us.database.session() as session:
            notification = lodge(session, us.config, REGULATOR, form())
            session.commit()
            notification_id = notification.id
            # The importing side's acknowledgement, as CN would send it.
            payload = StepPayload(
                global_id=str(uuid.uuid4()),
                owner_node="CN",
                notification=notification.global_id,
                created_at=utcnow(),
                step="acknowledge",
                text="",
                outcome=None,
                incident=None,
                quantity=None,
                author="li",
                author_agency="NNCC",
            ).to_payload()
        _inbox_meets_a_write(
            us,
            lambda session: withdraw(
                session, us.config, REGULATOR, notification_id, "Order cancelled"
            ),
            {"seq": 1, "type": "pen.response", "payload": payload},
        )
        with us.database.session() as session:
            notification = session.get_one(PenNotification, notification_id)
            assert sorted(e.kind for e in notification.events) == ["acknowledge", "withdraw"]
            assert notification.withdrawn_at is not None
            assert notification.acknowledged_at is not None

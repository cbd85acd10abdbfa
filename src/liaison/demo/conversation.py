"""A short, realistic hotline exchange between a US and a CN agency, for the demo.

Every name, number and company below is invented for the demonstration. The exchange
goes through the real services and the real transport (signed batches, sequence
numbers, acknowledgements), delivered in-process so the nodes need not be running.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import Actor
from liaison.config import NodeConfig, load_node
from liaison.errors import NotFound
from liaison.federation.loopback import deliver_between
from liaison.federation.records import RecordTypes
from liaison.node import node_database
from liaison.services import hotline
from liaison.services.accounts import user_actor
from liaison.store.accounts import User
from liaison.store.database import Database
from liaison.store.hotline_tables import HotlineMessage, HotlineThread

LEAD_SUBJECT = "Lead: suspected 4-AP consignment, air waybill DEMO-784-2231"
LEAD_BODY = (
    "Our port team at Cincinnati/Northern Kentucky held an express consignment declared as "
    "'pharmaceutical intermediate, 25 kg'. Field testing points to 4-anilinopiperidine (4-AP). "
    "The consignor on the waybill is 'Demo Fine Chemical Co.' with an address in Wuhan.\n\n"
    "Can you confirm whether this company is registered to trade this chemical and whether "
    "an export notification was filed for this shipment? Lab report attached."
)
LAB_REPORT = (
    b"DEMO LAB REPORT (invented for the demonstration)\n"
    b"Sample: DEMO-784-2231-A, white powder, 25 kg consignment\n"
    b"Method: GC-MS, FTIR\n"
    b"Result: consistent with 4-anilinopiperidine (4-AP); purity estimate 96 %\n"
)
ACK_NOTE = "Received. Checking the company registration and export records now."
RESPONSE_BODY = (
    "The consignor is registered in Hubei for reagent trading, not for this chemical. No "
    "export notification was filed for waybill DEMO-784-2231. Local police have opened a "
    "case and scheduled an inspection of the premises. We will share the findings here."
)
REQUEST_SUBJECT = "Request: consignee details for DEMO-784-2231"
REQUEST_BODY = (
    "To connect the shipment to the buyer, please share the consignee name, address and "
    "any telephone number on the waybill, and whether other consignments went to the "
    "same consignee in the last 12 months."
)
REPLY_BODY = (
    "Consignee: 'DEMO Logistics LLC', a mail-forwarding address in Ohio; two earlier "
    "consignments in March and July from the same consignor. Details in the attached list."
)
CONSIGNMENTS_CSV = (
    b"waybill,date,declared_as,weight_kg\n"
    b"DEMO-611-0417,2026-03-14,pharmaceutical intermediate,20\n"
    b"DEMO-702-9930,2026-07-02,laboratory reagent,25\n"
)


def demo_actor(database: Database, username: str) -> Actor:
    with database.session() as session:
        user = session.execute(
            sa.select(User).where(User.username == username)
        ).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username!r} on this node")
        return user_actor(user, "demo-seed")


def _received_thread(session: Session, global_id: str) -> int:
    return session.execute(
        sa.select(HotlineThread.id).where(HotlineThread.global_id == global_id)
    ).scalar_one()


def seed_demo_conversation(
    us_dir: Path | str,
    cn_dir: Path | str,
    *,
    us_username: str,
    cn_username: str,
    record_types: RecordTypes,
) -> None:
    """Seed the exchange on two peered nodes (US wrote the lead; CN answers), delivered
    between them with `record_types` (the runtime's).

    `us_username` and `cn_username` are existing users; the threads are addressed to the
    CN user's agency, so that user (and colleagues of that agency) see them.
    """
    us: NodeConfig = load_node(us_dir)
    cn: NodeConfig = load_node(cn_dir)
    with node_database(us) as us_db, node_database(cn) as cn_db:
        us_officer, cn_officer = demo_actor(us_db, us_username), demo_actor(cn_db, cn_username)

        with us_db.session() as session:
            lead = hotline.open_thread(
                session,
                us,
                us_officer,
                peer=cn.name,
                subject=LEAD_SUBJECT,
                priority="urgent",
                kind="lead",
                body=LEAD_BODY,
                to_agency=cn_officer.agency,
                attachments=[
                    hotline.AttachmentUpload(
                        "lab-report-DEMO-784-2231.txt", "text/plain", LAB_REPORT
                    )
                ],
            )
            session.commit()
            lead_id = lead.global_id
        deliver_between(us_dir, cn_dir, record_types)

        with cn_db.session() as session:
            thread_id = _received_thread(session, lead_id)
            first = session.execute(
                sa.select(HotlineMessage.id)
                .where(HotlineMessage.thread_id == thread_id)
                .order_by(HotlineMessage.id)
                .limit(1)
            ).scalar_one()
            hotline.read_thread(session, cn, cn_officer, thread_id)
            hotline.acknowledge(session, cn, cn_officer, first)
            hotline.post_message(session, cn, cn_officer, thread_id, ACK_NOTE, priority="routine")
            hotline.post_message(
                session, cn, cn_officer, thread_id, RESPONSE_BODY, priority="routine"
            )
            request = hotline.open_thread(
                session,
                cn,
                cn_officer,
                peer=us.name,
                subject=REQUEST_SUBJECT,
                priority="urgent",
                kind="request",
                body=REQUEST_BODY,
                to_agency=us_officer.agency,
            )
            session.commit()
            request_id = request.global_id
        deliver_between(cn_dir, us_dir, record_types)

        with us_db.session() as session:
            request_thread = _received_thread(session, request_id)
            _thread, received = hotline.read_thread(session, us, us_officer, request_thread)
            hotline.acknowledge(session, us, us_officer, received[0].id)
            hotline.post_message(
                session,
                us,
                us_officer,
                request_thread,
                REPLY_BODY,
                priority="routine",
                attachments=[
                    hotline.AttachmentUpload(
                        "earlier-consignments.csv", "text/csv", CONSIGNMENTS_CSV
                    )
                ],
            )
            session.commit()
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)

"""A year of pre-export notifications both ways between the demo nodes, with registers.

Every company, number and quantity below is invented for the demonstration, and so are
the registers' annual requirements (they are not the INCB's published estimates). The
notifications go through the real services, lodged and answered at moments spread over
the past year (some answered late, some objected to, a few still waiting), and travel
through the real transport, delivered in-process.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.progress import Progress

from liaison.config import NodeConfig, load_node
from liaison.demo.conversation import demo_actor
from liaison.federation.loopback import deliver_between
from liaison.federation.records import RecordTypes
from liaison.node import node_database
from liaison.services import notifications
from liaison.store.base import utcnow
from liaison.store.notification_tables import PenNotification

PER_MONTH = 3  # notifications each way per month
DEMO_CITATION = "demo figure for the demonstration; not the INCB's published estimate"
EXPORTS = {
    "US": [
        ("4-piperidone", "Piperidin-4-one monohydrate HCl", "kg", "200"),
        ("1-boc-4-piperidone", "N-Boc-4-piperidone", "kg", "50"),
        ("pseudoephedrine", "Pseudoephedrine HCl USP", "kg", "120"),
    ],
    "CN": [
        ("4-anilinopiperidine", "4-AP", "kg", "25"),
        ("N-phenethyl-4-piperidone", "NPP", "kg", "40"),
        ("ephedrine", "Ephedrine HCl BP", "kg", "300"),
        ("1-boc-4-piperidone", "N-Boc-4-piperidone", "kg", "60"),
    ],
}
COMPANIES = {
    "US": [
        ("Demo Lakeside Pharmaceuticals Inc.", "400 Demo Parkway, Columbus OH", "RD0452911"),
        ("Demo Keystone Fine Chemicals LLC", "12 Demo Road, Allentown PA", "RK0873320"),
    ],
    "CN": [
        (
            "Demo Jiangnan Pharmaceutical Co., Ltd.",
            "88 Demo Road, Nanjing, Jiangsu",
            "JS-DEMO-0113",
        ),
        ("Demo Binhai Reagents Co., Ltd.", "6 Demo Street, Tianjin", "TJ-DEMO-2207"),
    ],
}
PORTS = {"US": ("Port of Newark", "LAX"), "CN": ("Shanghai Yangshan", "PVG")}


def _register(node: str) -> list[dict[str, Any]]:
    annual = {"US": ("800", "2500", "5", "2"), "CN": ("1500", "4000", "10", "5")}[node]
    names = ("ephedrine", "pseudoephedrine", "3,4-MDP-2-P", "P-2-P")
    entries = [
        {"substance": name, "annual_kg": kg, "citation": DEMO_CITATION}
        for name, kg in zip(names, annual, strict=True)
    ]
    entries += [
        {"substance": name, "citation": "demo: requested under article 12(10)(a)"}
        for name in ("4-piperidone", "4-anilinopiperidine", "N-phenethyl-4-piperidone")
    ]
    return entries


def _form(
    exporter: str, importer: str, index: int, rng: random.Random, when: datetime
) -> dict[str, Any]:
    substance, trade_name, unit, quantity = EXPORTS[exporter][index % len(EXPORTS[exporter])]
    seller = COMPANIES[exporter][index % 2]
    buyer = COMPANIES[importer][(index // 2) % 2]
    exit_port, entry_port = PORTS[exporter][index % 2], PORTS[importer][index % 2]
    by_air = index % 2 == 1
    return {
        "importing_peer": importer,
        "exporter": dict(zip(("name", "address", "licence"), seller, strict=True)),
        "importer": dict(zip(("name", "address", "licence"), buyer, strict=True)),
        "substance": substance,
        "trade_name": trade_name,
        "quantity": quantity,
        "unit": unit,
        "form": "crystalline powder",
        "packaging": "fibre drums, 25 kg each, sealed",
        "ship_date": (when + timedelta(days=rng.randint(20, 40))).date().isoformat(),
        "route": [exporter, importer],
        "port_of_exit": exit_port,
        "port_of_entry": entry_port,
        "transport_mode": "air" if by_air else "sea",
        "transport_number": f"DEMO-{rng.randint(100, 999)}",
        "end_use": "manufacture of licensed pharmaceutical products",
        "export_authorisation": f"{exporter}-EXP-DEMO-{when:%y%m}-{index:03d}",
        "if_no_reply": "does_not_proceed" if index % 3 else "proceeds",
    }


def _lodge_month(
    config: NodeConfig, database: Any, username: str, peer: str, month: datetime, rng: random.Random
) -> None:
    actor = demo_actor(database, username)
    with database.session() as session:
        for index in range(PER_MONTH):
            when = month + timedelta(days=3 + 9 * index, hours=rng.randint(1, 8))
            if when > utcnow():
                continue
            form = _form(config.name, peer, index + month.month, rng, when)
            notifications.lodge(session, config, actor, form, now=when)
        session.commit()


def _answer_all(config: NodeConfig, database: Any, username: str, rng: random.Random) -> None:
    """Answer what arrived, like a regulator who is sometimes late: the last weeks' still
    wait; the rest get an answer 1 to 20 days after lodging, a few objected to."""
    actor = demo_actor(database, username)
    now = utcnow()
    with database.session() as session:
        incoming = session.execute(
            sa.select(PenNotification)
            .where(PenNotification.owner_node != config.name, PenNotification.decision.is_(None))
            .order_by(PenNotification.created_at)
        ).scalars()
        for notification in list(incoming):
            delay = timedelta(
                days=rng.choice([1, 2, 3, 4, 6, 8, 10, 12, 14, 17, 20]), hours=rng.randint(0, 9)
            )
            answer_at = notification.created_at + delay
            if answer_at > now:
                continue
            notifications.acknowledge(
                session, config, actor, notification.id, now=notification.created_at + delay / 3
            )
            roll = rng.random()
            if roll < 0.1:
                notifications.respond(
                    session,
                    config,
                    actor,
                    notification.id,
                    "objection",
                    "The importer's licence does not cover this substance.",
                    now=answer_at,
                )
            elif roll < 0.2:
                notifications.respond(
                    session,
                    config,
                    actor,
                    notification.id,
                    "information_requested",
                    "Please give the end user's name and licence number.",
                    now=answer_at,
                )
            else:
                notifications.respond(
                    session, config, actor, notification.id, "no_objection", now=answer_at
                )
        session.commit()


def _close_requests(config: NodeConfig, database: Any, username: str) -> None:
    """The exporting side answers the requests for information it received."""
    actor = demo_actor(database, username)
    with database.session() as session:
        asked = session.execute(
            sa.select(PenNotification.id, PenNotification.answered_at).where(
                PenNotification.owner_node == config.name,
                PenNotification.decision == "information_requested",
            )
        ).all()
        for notification_id, answered_at in asked:
            notifications.answer_information(
                session,
                config,
                actor,
                notification_id,
                "End user: Demo Municipal Hospital Pharmacy, licence DEMO-H-552.",
                now=answered_at + timedelta(days=2),
            )
        session.commit()


def seed_demo_notifications(
    us_dir: Path | str,
    cn_dir: Path | str,
    *,
    us_username: str,
    cn_username: str,
    record_types: RecordTypes,
) -> int:
    """Seed registers and a year of notifications both ways; return how many were lodged."""
    us, cn = load_node(us_dir), load_node(cn_dir)
    rng = random.Random(11)
    start = (utcnow() - timedelta(days=365)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    months = [(start + timedelta(days=31 * i)).replace(day=1) for i in range(13)]
    with node_database(us) as us_db, node_database(cn) as cn_db, Progress() as progress:
        task = progress.add_task("Pre-export notifications", total=len(months) + 3)
        for config, database, username in ((us, us_db, us_username), (cn, cn_db, cn_username)):
            with database.session() as session:
                notifications.set_register(
                    session,
                    config,
                    demo_actor(database, username),
                    utcnow().year,
                    _register(config.name),
                )
                session.commit()
        progress.advance(task)
        for month in months:
            _lodge_month(us, us_db, us_username, cn.name, month, rng)
            _lodge_month(cn, cn_db, cn_username, us.name, month, rng)
            progress.advance(task)
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)
        _answer_all(cn, cn_db, cn_username, rng)
        _answer_all(us, us_db, us_username, rng)
        progress.advance(task)
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)
        _close_requests(us, us_db, us_username)
        _close_requests(cn, cn_db, cn_username)
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)
        progress.advance(task)
        with us_db.session() as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(PenNotification)) or 0)

"""Seizure and incident reports for the demo: a few hundred on each node over two years,
with plausible routes, ports and quantities, some shared with the peer, and a small
network of companies, wallets and phones that recurs across incidents and a hotline
thread, so the dashboard and the entity search have something to show.

Deterministic (a seeded random generator): a second run of the demo reuses the nodes and
seeds nothing again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from liaison.config import NodeConfig, load_node
from liaison.demo.conversation import demo_actor
from liaison.federation.loopback import deliver_between
from liaison.federation.records import RecordTypes
from liaison.node import node_database
from liaison.services import hotline, incidents
from liaison.services.entities import EntityInput

PER_NODE = 200
START = date(2024, 12, 1)
DAYS = 730


@dataclass(frozen=True)
class Lane:
    """A way consignments travel: route, where they are seized, how they travel."""

    route: tuple[str, ...]
    country: str
    place: str
    port_code: str | None
    conveyance: str


US_LANES = (
    Lane(("CN", "MX", "US"), "US", "Nogales port of entry", "USNOG", "vehicle"),
    Lane(("CN", "US"), "US", "Port of Los Angeles", "USLAX", "sea_container"),
    Lane(("CN", "US"), "US", "JFK International Mail Facility", "USJFK", "postal"),
    Lane(("CN", "US"), "US", "Memphis express hub", "USMEM", "express_courier"),
    Lane(("IN", "US"), "US", "Cincinnati express hub", "USCVG", "express_courier"),
    Lane(("MX", "US"), "US", "San Ysidro port of entry", "USSYS", "person"),
)
CN_LANES = (
    Lane(("CN", "MX"), "CN", "Shanghai Pudong airport cargo", "CNPVG", "air_cargo"),
    Lane(("CN", "MX"), "CN", "Port of Shenzhen Yantian", "CNYTN", "sea_container"),
    Lane(("CN", "US"), "CN", "Guangzhou international mail centre", "CNCAN", "postal"),
    Lane(("CN", "CA"), "CN", "Wuhan express hub", "CNWUH", "express_courier"),
)
# (substance as an officer writes it, unit, low, high, form, share of incidents)
US_ITEMS = (
    ("fentanyl", "kg", 0.5, 40.0, "powder", 5),
    ("fentanyl", "tablets", 500, 200_000, "tablets", 4),
    ("CC1=CC=CC(C)=C1NC1=NCCCS1", "kg", 0.2, 10.0, "powder", 1),  # xylazine
    ("4-ANPP", "kg", 1.0, 25.0, "powder", 1),
)
CN_ITEMS = (
    ("4-ANPP", "kg", 5.0, 200.0, "powder", 3),
    ("N-phenethyl-4-piperidone", "kg", 10.0, 500.0, "powder", 3),
    ("1-boc-4-AP", "kg", 5.0, 100.0, "powder", 2),
    ("fentanyl", "g", 50.0, 2000.0, "powder", 1),
)
KINDS = (("seizure", 7), ("stopped_shipment", 2), ("suspicious_shipment", 2))
# The network the demo's entity search uncovers: each recurs on both nodes.
NETWORK = (
    EntityInput("company", "Wuhan Yuancheng Gongchuang Technology Co., Ltd.", "consignor"),
    EntityInput("company", "Hubei Amarvel Biotech Co Ltd", "consignor"),
    EntityInput("company", "Transportes Rapidos del Norte S.A.", "consignee"),
    EntityInput("crypto_wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "payee", "tron"),
    EntityInput("crypto_wallet", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "payee", "ethereum"),
    EntityInput("crypto_wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "payer", "bitcoin"),
    EntityInput("phone", "+86 27 8765 4321", "contact"),
    EntityInput("email", "sales@yuancheng-chem.example", "contact"),
)
HANDLING = (("none", 8), ("info_only", 1), ("no_onward", 1))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]


def _incidents(
    rng: random.Random,
    lanes: tuple[Lane, ...],
    items: tuple[tuple[str, str, float, float, str, int], ...],
    peer: str,
) -> list[incidents.IncidentInput]:
    made = []
    for _ in range(PER_NODE):
        lane = rng.choice(lanes)
        substance, unit, low, high, form, _share = rng.choices(items, [i[5] for i in items])[0]
        quantity = rng.uniform(low, high)
        quantity = round(quantity) if unit == "tablets" else round(quantity, 2)
        network = rng.sample(NETWORK, rng.choice((0, 0, 1, 2)))
        made.append(
            incidents.IncidentInput(
                kind=_pick(rng, KINDS),
                occurred_on=START + timedelta(days=rng.randrange(DAYS)),
                country=lane.country,
                place=lane.place,
                port_code=lane.port_code,
                conveyance=lane.conveyance,
                route=lane.route,
                narrative=f"{quantity:g} {unit} of {substance} found in a consignment "
                f"declared as {rng.choice(('printer ink', 'dye', 'food additive', 'auto parts'))}.",
                items=[
                    incidents.ItemInput(
                        substance,
                        quantity,
                        unit,
                        rng.choice((None, None, round(rng.uniform(5, 95), 1))),
                        form,
                        rng.choice(("vacuum-sealed bags", "drums", "envelopes", "")),
                    )
                ],
                entities=network,
                share_with=[peer] if rng.random() < 0.35 else [],
                urgent=rng.random() < 0.05,
                handling_code=_pick(rng, HANDLING),
                source_reliability=rng.choice(("A", "B", "C", None)),
                information_accuracy=rng.choice(("1", "2", "3", None)),
            )
        )
    return made


def seed_demo_incidents(
    us_dir: Path | str,
    cn_dir: Path | str,
    *,
    us_username: str,
    cn_username: str,
    record_types: RecordTypes,
) -> int:
    """Seed both nodes and deliver what each shared; returns how many were written."""
    us: NodeConfig = load_node(us_dir)
    cn: NodeConfig = load_node(cn_dir)
    rng = random.Random(10)
    written = 0
    with node_database(us) as us_db, node_database(cn) as cn_db:
        for node, database, username, lanes, items, peer in (
            (us, us_db, us_username, US_LANES, US_ITEMS, cn.name),
            (cn, cn_db, cn_username, CN_LANES, CN_ITEMS, us.name),
        ):
            actor = demo_actor(database, username)
            with database.session() as session:
                # The officer is the agency's focal point: urgent arrivals show on the list.
                incidents.set_focal_points(session, actor, actor.agency or "", [username])
                made = _incidents(rng, lanes, items, peer)
                written += len(
                    incidents.report_incidents(session, node.name, actor, made, node.settings)
                )
                session.commit()
        with cn_db.session() as session:
            hotline.open_thread(
                session,
                cn,
                demo_actor(cn_db, cn_username),
                peer=us.name,
                subject="Payments to the consignor's wallet",
                priority="routine",
                kind="lead",
                body="The TRON wallet in your seizures also received payments from a "
                "Hubei supplier; the consignor's phone answers for both companies.",
                entities=[NETWORK[3], NETWORK[1], NETWORK[6]],
            )
            session.commit()
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)
    return written

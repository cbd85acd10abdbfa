"""Nationality verification cases for the demo: a synthetic registry extract on CN
(`liaison identity synth`, imported as `liaison registry import` would), and a few cases
opened from US with people as a foreign officer writes them; CN confirms one, one is held
(asylum claim pending), one waits for CN's decision.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from liaison.config import NodeConfig, load_node
from liaison.demo.conversation import demo_actor
from liaison.federation.loopback import deliver_between
from liaison.federation.records import RecordTypes
from liaison.node import node_database, terminal_operator
from liaison.services import verification
from liaison.services.verification import registry
from liaison.store.verification_tables import VerificationCase

REGISTRY_PEOPLE = 1000
CASES = 3
SEED = 12
GROUNDS = (
    "Final order of removal (immigration judge, 2026-10-14); no travel document held.",
    "Visa overstay; voluntary departure agreed; passport reported lost.",
    "Removal ordered after completed sentence; nationality claimed at interview.",
)


def _subject(row: dict[str, Any], index: int) -> dict[str, Any]:
    subject = {key: str(value) for key, value in row.items() if key != "request_id" and value}
    documents = (
        [{"kind": "passport_photocopy", "number": f"E{48213907 + index}"}],
        [{"kind": "statement", "description": "says born near Fuzhou", "protection_claim": True}],
        [],
    )[index % 3]
    return {**subject, "documents": documents}


def seed_demo_verifications(
    us_dir: Path, cn_dir: Path, *, us_username: str, cn_username: str, record_types: RecordTypes
) -> None:
    """Import a synthetic registry on CN and open the cases from US; idempotent (does
    nothing when US has cases already)."""
    import pandas as pd

    from liaison.identity.synth import write

    us: NodeConfig = load_node(us_dir)
    cn: NodeConfig = load_node(cn_dir)
    with node_database(us) as us_db, node_database(cn) as cn_db:
        with us_db.session() as session:
            if session.query(VerificationCase.id).first() is not None:
                return
        with tempfile.TemporaryDirectory() as scratch:
            registry_csv, requests_csv, _truth = write(Path(scratch), REGISTRY_PEOPLE, CASES, SEED)
            with cn_db.session() as session:
                registry.import_registry(session, cn, terminal_operator(), registry_csv)
            requests = pd.read_csv(requests_csv, dtype=str, keep_default_na=False)
        officer, verifier = demo_actor(us_db, us_username), demo_actor(cn_db, cn_username)
        opened = []
        with us_db.session() as session:
            for index, row in enumerate(requests.to_dict("records")):
                case = verification.open_case(
                    session,
                    us,
                    officer,
                    peer=cn.name,
                    subject=_subject(row, index),
                    grounds=GROUNDS[index % len(GROUNDS)],
                    reference=f"DHS-ERO-2026-{4100 + index}",
                )
                opened.append(case.global_id)
            session.commit()
        deliver_between(us_dir, cn_dir, record_types)
        with cn_db.session() as session:
            first = session.query(VerificationCase).filter_by(global_id=opened[0]).one()
            found = registry.candidates(session, cn, verifier, first.id, "demo decision", k=1)
            if found:
                verification.decide(
                    session,
                    cn,
                    verifier,
                    first.id,
                    decision="confirmed",
                    person_id=found[0].person_id,
                    reason="Registry record matches name, date of birth and identity number.",
                )
            session.commit()
        with us_db.session() as session:
            held = session.query(VerificationCase).filter_by(global_id=opened[1]).one()
            verification.record_hold(
                session,
                us,
                officer,
                held.id,
                kind="asylum",
                reason="Asylum application pending before the immigration court.",
            )
            session.commit()
        deliver_between(us_dir, cn_dir, record_types)
        deliver_between(cn_dir, us_dir, record_types)

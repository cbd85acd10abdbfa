"""A customs seizure list as Chinese Windows saves it (GBK CSV), screened on the CN node for
its officer, so the demo shows a screening run with evidence and downloads from the start.

Every number and description in the example file is invented for the demonstration.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from liaison.config import load_node
from liaison.errors import NotFound
from liaison.node import node_database
from liaison.services.accounts import user_actor
from liaison.services.substances import screen_upload
from liaison.store.accounts import User
from liaison.store.screening import ScreeningRun

SEIZURE_LIST = Path(__file__).resolve().parent / "examples" / "seizure_list_gbk.csv"


def seed_demo_screening(node_dir: Path | str, username: str) -> bool:
    """Screen the seizure list as `username` unless they have screened something already;
    True when a run was added."""
    node = load_node(node_dir)
    with node_database(node) as database, database.session() as session:
        user = session.execute(
            sa.select(User).where(User.username == username)
        ).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username!r} on this node")
        runs = sa.select(sa.func.count(ScreeningRun.id)).where(ScreeningRun.user_id == user.id)
        if session.execute(runs).scalar_one() > 0:
            return False
        screen_upload(
            session,
            user,
            user_actor(user, "demo-seed"),
            SEIZURE_LIST.name,
            SEIZURE_LIST.read_bytes(),
            None,
            None,
            node.settings,
        )
        session.commit()
    return True

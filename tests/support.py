"""Helpers shared by the test packages (importable as `support`: pytest puts tests/ on the path)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on right now (tests run in parallel: never a fixed port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_stopped_peer(database_url: str, public_key: str, name: str = "CN") -> None:
    """Make `name` an active peer of the node's database, at an address where nothing
    listens (nothing is delivered during the test)."""
    from liaison.store import Database
    from liaison.store.federation_tables import Peer

    database = Database(database_url)
    with database.session() as session:
        session.add(
            Peer(
                name=name,
                base_url="http://127.0.0.1:9",
                public_key=public_key,
                default_agency="NNCC",
                status="active",
                last_seq=0,
            )
        )
        session.commit()
    database.dispose()

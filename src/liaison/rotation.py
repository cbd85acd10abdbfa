"""`liaison key rotate DIR`: a new signing key for the node, announced to its peers.

Run with the node stopped and its peers running. Every active peer must answer before
anything changes (else nothing is changed); each is then told the new key, signed by the
old one (liaison.federation.key_rotation). The new key replaces node_key.pem, the old one
is kept beside it (node_key.<time>.pem), node.toml names the new public key, and the audit
trail says which peers were told.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from liaison.audit import record
from liaison.config import NODE_FILE, write_node_file
from liaison.errors import InvalidInput, LiaisonError
from liaison.federation.context import LocalNode
from liaison.federation.key_rotation import NodeKeyRotated, announce
from liaison.federation.keys import generate_private_key, public_key_base64, save_private_key
from liaison.node import open_node, terminal_operator
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus


@dataclass(frozen=True)
class Rotation:
    new_public_key: str
    old_key_file: Path
    peers_told: list[str]
    peers_not_told: list[str]  # "NAME (why)"


def rotate_key(directory: Path | str, client: httpx.Client | None = None) -> Rotation:
    directory = Path(directory)
    with open_node(directory) as (config, database):
        node = LocalNode.from_config(config)
        with database.session() as session:
            peers = [
                (peer.name, peer.base_url, peer.public_key)
                for peer in session.execute(
                    sa.select(Peer).where(Peer.status == PeerStatus.ACTIVE).order_by(Peer.name)
                ).scalars()
            ]
        timeout = config.settings.federation_request_timeout_seconds
        http = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=timeout))
        try:
            for name, url, _key in peers:  # a peer that is down would never hear of the key
                try:
                    status = http.get(url + "/healthz").status_code
                except httpx.HTTPError as error:
                    status, why = 0, str(error)
                else:
                    why = f"HTTP {status}"
                if status != 200:
                    raise InvalidInput(
                        f"peer {name} ({url}) does not answer ({why}); nothing was changed"
                    )
            new_key = generate_private_key()
            told: list[str] = []
            not_told: list[str] = []
            for name, url, key in peers:
                try:
                    announce(node, new_key, name, url, key, http)
                    told.append(name)
                except (httpx.HTTPError, ValueError, LiaisonError) as error:
                    detail = error.detail if isinstance(error, LiaisonError) else str(error)
                    not_told.append(f"{name} ({detail})")
        finally:
            if client is None:
                http.close()
        if peers and not told:
            raise InvalidInput(
                "no peer accepted the new key; nothing was changed: " + "; ".join(not_told)
            )
        old_file = directory / f"node_key.{utcnow():%Y%m%dT%H%M%SZ}.pem"
        os.replace(config.key_path, old_file)
        save_private_key(new_key, config.key_path)
        new_public = public_key_base64(new_key)
        with (directory / NODE_FILE).open("rb") as handle:
            written = tomllib.load(handle)["node"]
        write_node_file(
            directory,
            name=written["name"],
            database_url=written["database_url"],
            base_url=written["base_url"],
            default_agency=written["default_agency"],
            public_key=new_public,
            time_zone=written.get("time_zone", "UTC"),
        )
        with database.session() as session:
            record(
                session,
                terminal_operator(),
                NodeKeyRotated(
                    old_public_key=node.public_key,
                    new_public_key=new_public,
                    peers_told=told,
                    peers_not_told=not_told,
                ),
            )
            session.commit()
    return Rotation(new_public, old_file, told, not_told)

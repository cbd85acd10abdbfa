"""Which shared record types each node handles, told to its peers.

A node says which record types it handles in the peering handshake (both the request and
the answer carry them) and, when that changes (a newer version started), in a statement
sent through the outbox (`ADVERTISEMENT`, checked on each start) to the peers that said
they handle that statement. The peer keeps what it was told on the peer's row: the
cooperation overview then says "the peer does not handle X" instead of showing zeros. A
peer that never said (an older node) has None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.federation.context import LocalNode
from liaison.federation.outbox import share
from liaison.federation.peer_locks import one_process_at_a_time
from liaison.federation.records import ProtocolViolation, RecordType, RecordTypes
from liaison.store.database import Database
from liaison.store.federation_tables import Peer, PeerStatus

MAX_NAMES = 200
MAX_NAME_LENGTH = 64
TELLING_RECORD_TYPES = 1  # the task number of `tell_changes` for one_process_at_a_time


def said_record_types(value: Any, where: str) -> list[str] | None:
    """The record types a peer says it handles, sorted; None when it says nothing."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_NAMES
        or not all(isinstance(n, str) and 0 < len(n) <= MAX_NAME_LENGTH for n in value)
    ):
        raise ProtocolViolation(f"{where} must be a list of at most {MAX_NAMES} record type names")
    return sorted(set(value))


@dataclass(frozen=True)
class RecordTypesPayload:
    names: tuple[str, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"record_types": list(self.names)}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        names = said_record_types(data.get("record_types"), "'record_types'")
        if names is None:
            raise ProtocolViolation("'record_types' is missing")
        return cls(tuple(names))


def receive_record_types(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: RecordTypesPayload,
    related: Sequence[Any],
) -> None:
    peer.record_types = list(payload.names)


# A statement of the sender about itself (not audited: it names no record, like a checkpoint).
ADVERTISEMENT: RecordType[RecordTypesPayload] = RecordType(
    name="node.record_types", payload=RecordTypesPayload, handle=receive_record_types
)


def note_handshake(peer: Peer, said: list[str] | None, record_types: RecordTypes) -> None:
    """Keep what the peer said in the handshake and that this node told it its own."""
    peer.record_types = said
    peer.told_record_types = record_types.names()


def tell_changes(database: Database, record_types: RecordTypes) -> int:
    """On start: tell every active peer that handles the statement this node's record types
    if they changed since it was last told; returns how many peers were told.

    A peer that never said it handles `node.record_types` (an older node) is not sent it:
    its inbox stops at a record type it does not know until it is upgraded, which would
    hold back everything queued after it. Such a peering learns at its next handshake.
    """
    names = record_types.names()
    told = 0
    with database.session() as session:
        # The processes of `serve --workers N` start together: one tells, the others then
        # read what it told (each statement takes the same lock until its commit).
        one_process_at_a_time(session, TELLING_RECORD_TYPES)
        peers = session.scalars(sa.select(Peer).where(Peer.status == PeerStatus.ACTIVE))
        for peer in peers:
            handles = peer.record_types is not None and ADVERTISEMENT.name in peer.record_types
            if handles and peer.told_record_types != names:
                share(
                    session, peer, ADVERTISEMENT.name, RecordTypesPayload(tuple(names)).to_payload()
                )
                peer.told_record_types = names
                told += 1
        session.commit()
    return told

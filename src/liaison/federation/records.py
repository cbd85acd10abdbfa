"""Shared record types, declared once: payload, owner, what the peer may do, inbox handler.

A service declares each record type it shares with a peer as a `RecordType`; the
runtime registers them in a `RecordTypes` when it is built (never on import), and the
inbox applies a peer's record through it. The ownership rules are checked here, the same
way for every type, before the type's handler runs:

- a record the peer *writes* (`within` or nothing above it) must be owned by the peer
  and new here; written within another record (a message in a thread), that record
  must be shared with the peer, and if this node owns it, it must let the peer `REPLY`;
- a record the peer *sends about* records of this node (`acts_on`, e.g. an
  acknowledgement) must name records this node owns, shared with that peer, whose type
  lets the peer do that (`ACKNOWLEDGE`, `ANSWER`);
- a *statement* of the peer about itself (neither, e.g. a signed checkpoint of its audit
  head) has no shared identity: its handler keeps it under the peer that sent it.

Anything else is a `ProtocolViolation`, which the inbox skips and audits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.federation.context import LocalNode
from liaison.store.base import SharedRecord
from liaison.store.federation_tables import Peer

GLOBAL_ID_LENGTH = 36


class ProtocolViolation(InvalidInput):
    """A peer sent a record the protocol does not let it send."""


class PeerMay(StrEnum):
    """What the node that does not own a record may do to it."""

    REPLY = "reply"  # write its own records within it (messages in a thread)
    ACKNOWLEDGE = "acknowledge"  # acknowledge it, send read receipts
    ANSWER = "answer"  # fill in the receiving side's part (a PEN response, a decision)
    NOTHING = "nothing"


class Payload(Protocol):
    """The typed wire form of one record type."""

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self: ...

    def to_payload(self) -> dict[str, Any]: ...


class WrittenPayload(Payload, Protocol):
    """A record its sender writes and owns."""

    @property
    def global_id(self) -> str: ...

    @property
    def owner_node(self) -> str: ...

    @property
    def within_id(self) -> str | None:
        """The global id of the record it is written within, if any."""


class ActingPayload(Payload, Protocol):
    """A record about records of the receiving node."""

    @property
    def target_ids(self) -> Sequence[str]: ...


P = TypeVar("P", bound=Payload)
# Applies one checked record from `peer`, in the caller's transaction. `related` holds the
# records the ownership check loaded: the one it is written within, or the ones it acts on.
Handler = Callable[[Session, LocalNode, Peer, P, Sequence[Any]], None]
# A record of a type shared with several peers that this node has, sent back after a restore
# by `peer`, which therefore holds it: records that the record is shared with `peer` too;
# False when that was known already.
HeldBy = Callable[[Session, Any, Peer], bool]
# Runs when a peering becomes active (on both sides, in the handshake's transaction): a
# record type that keeps standing state (a register) queues its current state for the peer.
PeerActivated = Callable[[Session, LocalNode, Peer], None]


@dataclass(frozen=True)
class RecordType(Generic[P]):
    """One shared record type. It writes records (`model`, `shared_with`, maybe `within`),
    acts on another type's records (`acts_on`, `action`), or is a statement (neither)."""

    name: str  # on the wire, e.g. "hotline.thread"
    payload: type[P]
    handle: Handler[P]
    peer_may: PeerMay = PeerMay.NOTHING  # what the other node may do to records of this type
    model: type[SharedRecord] | None = None  # the table of the records it writes
    # The peers.id a record is shared with, or the set of them (an incident shared widely).
    shared_with: Callable[[Any], int | frozenset[int]] | None = None
    within: RecordType[Any] | None = None
    acts_on: RecordType[Any] | None = None
    action: PeerMay = PeerMay.NOTHING  # with `acts_on`: the right it exercises
    on_peer_activated: PeerActivated | None = None
    # A record this node wrote, lost in a restore from an older backup and sent back by
    # `peer`, which holds it (liaison.federation.resync); None: this type is not taken back.
    recover: Handler[P] | None = None
    # With `recover`, for a record shared with several peers: every peer that sends it back
    # is a peer it was shared with, not only the first (see `HeldBy`).
    held_by: HeldBy | None = None

    def __post_init__(self) -> None:
        writes = self.model is not None or self.shared_with is not None
        if (self.model is None) != (self.shared_with is None) or (writes and self.acts_on):
            raise ValueError(
                f"record type {self.name!r} must write records (model and shared_with), act "
                "on another type's records (acts_on), or be a statement (neither)"
            )

    def table(self) -> type[SharedRecord]:
        if self.model is None:
            raise ValueError(f"record type {self.name!r} writes no records")
        return self.model

    def is_shared_with(self, record: Any, peer_id: int) -> bool:
        if self.shared_with is None:
            raise ValueError(f"record type {self.name!r} writes no records")
        shared = self.shared_with(record)
        return peer_id in shared if isinstance(shared, frozenset) else shared == peer_id


def require(data: dict[str, Any], name: str, kind: type = str) -> Any:
    """A field of a peer's payload that must be there with the given type (non-empty str)."""
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
        raise ProtocolViolation(f"{name!r} is missing or not a {kind.__name__}")
    return value


def global_id(data: dict[str, Any], name: str) -> str:
    """A global id from the peer: refused (not cut) when it cannot be one of ours."""
    value = str(require(data, name))
    if len(value) > GLOBAL_ID_LENGTH:
        raise ProtocolViolation(
            f"{name!r} is longer than a global id ({GLOBAL_ID_LENGTH} characters)"
        )
    return value


def stamp(moment: datetime | None) -> str | None:
    """A timestamp as the wire carries it (ISO 8601), or None."""
    return None if moment is None else moment.isoformat()


def parse_stamp(value: Any, where: str) -> datetime:
    """A timestamp from the peer: ISO 8601 with a time zone."""
    if not isinstance(value, str):
        raise ProtocolViolation(f"{where} must be an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise ProtocolViolation(f"{where} is not an ISO 8601 timestamp: {value!r}") from error
    if moment.tzinfo is None:
        raise ProtocolViolation(f"{where} has no time zone")
    return moment


def of_row(cls: type[Any], row: Any, **given: Any) -> Any:
    """A payload with the row's attributes of the same names, except those `given`."""
    names = [f.name for f in fields(cls)]
    return cls(**{name: given[name] if name in given else getattr(row, name) for name in names})


def wire(payload: Any, **given: Any) -> dict[str, Any]:
    """The payload's fields as JSON values (timestamps as ISO 8601), except those `given`."""
    values = {f.name: getattr(payload, f.name) for f in fields(payload)}
    return {
        name: given[name]
        if name in given
        else stamp(value)
        if isinstance(value, datetime)
        else value
        for name, value in values.items()
    }


def find(session: Session, model: type[SharedRecord], record_id: str) -> Any:
    return session.execute(
        sa.select(model).where(model.global_id == record_id)
    ).scalar_one_or_none()


def _what(record_type: RecordType[Any]) -> str:
    return record_type.name.rpartition(".")[2]


def check_ownership(
    session: Session,
    peer: Peer,
    record_type: RecordType[Any],
    payload: WrittenPayload | ActingPayload,
) -> list[Any]:
    """The protocol's ownership rules for one record from `peer`; returns the related
    records it loaded (see `Handler`)."""
    if record_type.acts_on is not None:
        return _check_acting(
            session, peer, record_type, record_type.acts_on, cast(ActingPayload, payload)
        )
    if record_type.model is None:
        return []  # a statement: the envelope's signature already names its author
    payload = cast(WrittenPayload, payload)
    what = _what(record_type)
    if payload.owner_node != peer.name:
        raise ProtocolViolation(f"a peer can only send a {what} it owns")
    if find(session, record_type.table(), payload.global_id) is not None:
        raise ProtocolViolation(f"{what} {payload.global_id} already exists")
    if record_type.within is None:
        return []
    parent_type, parent_id = record_type.within, payload.within_id
    if parent_id is None:
        raise ProtocolViolation(f"a {what} must name the {_what(parent_type)} it is written in")
    parent = find(session, parent_type.table(), parent_id)
    if parent is None:
        raise ProtocolViolation(f"unknown {_what(parent_type)} {parent_id}")
    if not parent_type.is_shared_with(parent, peer.id):
        raise ProtocolViolation(
            f"{_what(parent_type)} {parent_id} is not shared with {peer.name!r}"
        )
    if parent.owner_node != peer.name and parent_type.peer_may is not PeerMay.REPLY:
        raise ProtocolViolation(f"a peer cannot reply in a {_what(parent_type)}")
    return [parent]


def _check_acting(
    session: Session,
    peer: Peer,
    record_type: RecordType[Any],
    target_type: RecordType[Any],
    payload: ActingPayload,
) -> list[Any]:
    if target_type.peer_may is not record_type.action:
        raise ProtocolViolation(f"a peer may not {record_type.action.value} a {_what(target_type)}")
    targets = []
    for target_id in payload.target_ids:
        target = find(session, target_type.table(), target_id)
        if target is None:
            raise ProtocolViolation(f"unknown {_what(target_type)} {target_id}")
        if target.owner_node == peer.name:
            raise ProtocolViolation(
                f"a peer cannot {record_type.action.value} its own {_what(target_type)}"
            )
        if not target_type.is_shared_with(target, peer.id):
            raise ProtocolViolation(
                f"{_what(target_type)} {target_id} was not sent to {peer.name!r}"
            )
        targets.append(target)
    return targets


class Recovered(StrEnum):
    """What taking back one of this node's own records after a restore did."""

    WRITTEN = "written"  # lost in the restore, written back
    SHARED = "shared"  # held here; now known to be shared with the peer that sent it too
    HELD = "held"  # held here as it was, or not a type taken back


class RecordTypes:
    """The record types this node can receive, registered when its runtime is built."""

    def __init__(self, record_types: Iterable[RecordType[Any]] = ()) -> None:
        self._types: dict[str, RecordType[Any]] = {}
        for record_type in record_types:
            self.register(record_type)

    def register(self, record_type: RecordType[Any]) -> None:
        if record_type.name in self._types:
            raise ValueError(f"record type {record_type.name!r} is registered twice")
        self._types[record_type.name] = record_type

    def names(self) -> list[str]:
        return sorted(self._types)

    def knows(self, name: str) -> bool:
        return name in self._types

    def peer_activated(self, session: Session, node: LocalNode, peer: Peer) -> None:
        """Let every record type send its standing state to a peer just activated."""
        for name in self.names():
            hook = self._types[name].on_peer_activated
            if hook is not None:
                hook(session, node, peer)

    def can_recover(self, name: str) -> bool:
        """Whether records of this type are taken back after a restore (see `recover`)."""
        record_type = self._types.get(name)
        return record_type is not None and record_type.recover is not None

    def apply(
        self, session: Session, node: LocalNode, peer: Peer, name: str, data: dict[str, Any]
    ) -> None:
        """Parse, check ownership of, and apply one record of a known type from `peer`."""
        record_type = self._types[name]
        payload = record_type.payload.from_payload(data)
        related = check_ownership(session, peer, record_type, payload)
        record_type.handle(session, node, peer, payload, related)

    def within_id(self, name: str, data: dict[str, Any]) -> str | None:
        """The global id of the record a record of a type that writes records is written
        within (None: none, or not such a type)."""
        record_type = self._types[name]
        if record_type.within is None:
            return None
        return cast(WrittenPayload, record_type.payload.from_payload(data)).within_id

    def recover(
        self, session: Session, node: LocalNode, peer: Peer, name: str, data: dict[str, Any]
    ) -> Recovered:
        """Take back one of this node's own records that `peer` holds and this node lost (a
        restore from an older backup): written back; or held here already (a record shared
        with several peers is then shared with `peer` too, see `held_by`); or its type is
        not taken back (acts and statements: see `recover`)."""
        record_type = self._types[name]
        if record_type.recover is None or record_type.model is None:
            return Recovered.HELD
        payload = record_type.payload.from_payload(data)
        written = cast(WrittenPayload, payload)
        if written.owner_node != node.name:
            raise ProtocolViolation(f"{name} {written.global_id} is not a record of this node")
        held = find(session, record_type.table(), written.global_id)
        if held is not None:
            shared = record_type.held_by is not None and record_type.held_by(session, held, peer)
            return Recovered.SHARED if shared else Recovered.HELD
        related: list[Any] = []
        if record_type.within is not None and written.within_id is not None:
            parent = find(session, record_type.within.table(), written.within_id)
            if parent is None or not record_type.within.is_shared_with(parent, peer.id):
                raise ProtocolViolation(
                    f"{name} {written.global_id}: no such {_what(record_type.within)} "
                    f"shared with {peer.name!r}"
                )
            related = [parent]
        record_type.recover(session, node, peer, payload, related)
        return Recovered.WRITTEN

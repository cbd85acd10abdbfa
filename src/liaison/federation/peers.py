"""Peering, the protocol: the handshake between two nodes (the workflow around it,
invite, accept, revoke, with audit, is liaison.services.peering).

The handshake, started by `accept` on the invited node while the inviting node runs:
1. the accepting node sends a "peering-request" envelope, signed with its own key, whose
   body carries its name, base URL, public key, default agency and the invite's secret;
2. the inviting node checks the secret against the stored hash (unused, unexpired), that
   the envelope verifies with the key it carries (the requester holds that key), stores
   the peer, marks the invite used and answers with a "peering-accepted" envelope;
3. the accepting node verifies the answer with the key from the invite code and stores
   the inviting node as its peer.
If step 3 never happens (a crash), running `accept` again with the same code completes
it: an invite used by the same node with the same key is answered again.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import Actor, PeerAccepted, record
from liaison.config import Settings
from liaison.errors import Conflict, InvalidInput, NotFound
from liaison.federation import envelope as env
from liaison.federation.capabilities import note_handshake, said_record_types
from liaison.federation.context import LocalNode
from liaison.federation.delivery import delivery_state
from liaison.federation.inbox import refusals_counted
from liaison.federation.invites import Invite, secret_hash, secret_matches
from liaison.federation.records import RecordTypes
from liaison.messages import T
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerInbound, PeerInvite, PeerStatus

PEERING_PATH = "/federation/v1/peering"
REQUEST_KIND = "peering-request"
ACCEPTED_KIND = "peering-accepted"
NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")  # as `liaison init` allows


def _check_node_name(name: str) -> None:
    if not NODE_NAME.match(name):
        raise InvalidInput(
            T("node name %(name)s must be a short code of letters, digits, _ or -", name=repr(name))
        )


def check_peer_url(url: str, settings: Settings, what: str) -> None:
    """Nodes talk over HTTPS (signatures protect integrity, not confidentiality). Plain
    http:// is allowed to a loopback host, or anywhere with
    LIAISON_FEDERATION_ALLOW_INSECURE_HTTP=true (a lab without certificates)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as error:
        raise InvalidInput(
            T(
                "%(what)s %(url)s is not a URL: %(error)s",
                what=what,
                url=repr(url),
                error=str(error),
            )
        ) from error
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(
            T("%(what)s %(url)s must be an https:// URL with a host", what=what, url=repr(url))
        )
    if parts.scheme == "https" or settings.federation_allow_insecure_http:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidInput(
            T(
                "%(what)s %(url)s must use https:// (http:// is allowed only to "
                "127.0.0.0/8, ::1 and localhost, or with "
                "LIAISON_FEDERATION_ALLOW_INSECURE_HTTP=true)",
                what=what,
                url=repr(url),
            )
        )


def store_peer(
    session: Session, name: str, base_url: str, public_key: str, default_agency: str
) -> Peer:
    """Insert the peer, or re-activate a revoked one with its new key and URL.

    Re-peering keeps the sequence state on both sides, so a link that comes back after a
    revocation continues its streams instead of replaying or skipping records.
    """
    peer = session.execute(sa.select(Peer).where(Peer.name == name)).scalar_one_or_none()
    if peer is None:
        peer = Peer(
            name=name,
            base_url=base_url,
            public_key=public_key,
            default_agency=default_agency,
            status=PeerStatus.ACTIVE,
            last_seq=0,
        )
        session.add(peer)
        session.flush()
        session.add(PeerInbound(peer_id=peer.id, last_applied_seq=0))
        delivery_state(session, peer.id)
        return peer
    if peer.status == PeerStatus.ACTIVE and peer.public_key != public_key:
        raise Conflict(
            T(
                "%(name)s is already an active peer with another key; revoke it first",
                name=repr(name),
            )
        )
    peer.base_url = base_url
    peer.public_key = public_key
    peer.default_agency = default_agency
    peer.status = PeerStatus.ACTIVE
    peer.revoked_at = None
    return peer


def handle_peering_request(
    session: Session,
    node: LocalNode,
    record_types: RecordTypes,
    document: Any,
    *,
    address: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The inviting node's side of the handshake for a request from client `address`;
    returns the signed answer. The record types send the new peer their standing state.

    Refusals (a bad or used invite, a bad signature, a malformed request) are counted per
    address and audited once per window (liaison.federation.refusals).
    """
    with refusals_counted(session, node, document, address):
        return _answer_peering_request(session, node, record_types, document, now)


def _answer_peering_request(
    session: Session,
    node: LocalNode,
    record_types: RecordTypes,
    document: Any,
    now: float | None,
) -> dict[str, Any]:
    sealed = env.parse(document)
    body = sealed.body
    if not isinstance(body, dict):
        raise InvalidInput(T("peering request body must be an object"))
    for field_name in ("node", "base_url", "public_key", "secret", "default_agency"):
        if not isinstance(body.get(field_name), str) or not body[field_name]:
            raise InvalidInput(
                T("peering request is missing %(field_name)s", field_name=repr(field_name))
            )
    _check_node_name(body["node"])
    check_peer_url(body["base_url"], node.settings, "the requesting node's base URL")
    if body["node"] != sealed.sender:
        raise env.EnvelopeRejected("bad_sender", "peering request body names another node")
    if body["node"] == node.name:
        raise InvalidInput(T("a node cannot peer with itself (both are named the same)"))
    env.verify(
        sealed,
        env.public_key_from_text(body["public_key"]),
        recipient=node.name,
        kind=REQUEST_KIND,
        window_seconds=node.settings.federation_clock_window_seconds,
        now=now,
    )
    invite = session.execute(
        sa.select(PeerInvite).where(PeerInvite.secret_hash == secret_hash(body["secret"]))
    ).scalar_one_or_none()
    if invite is None or not secret_matches(body["secret"], invite.secret_hash):
        raise env.EnvelopeRejected("bad_invite", "the invite code is not one this node issued")
    if invite.used_at is not None and (
        invite.used_by_node != body["node"] or invite.used_by_key != body["public_key"]
    ):
        raise env.EnvelopeRejected("bad_invite", "the invite code was already used")
    if invite.used_at is not None:
        # Completing an interrupted handshake again is allowed; bringing back a peer that
        # was revoked since is not: that takes a new invite.
        existing = session.execute(
            sa.select(Peer.status).where(Peer.name == body["node"])
        ).scalar_one_or_none()
        if existing != PeerStatus.ACTIVE:
            raise env.EnvelopeRejected(
                "bad_invite", "the invite code was already used; ask for a new one"
            )
    if invite.used_at is None and invite.expires_at <= utcnow():
        raise env.EnvelopeRejected("bad_invite", "the invite code has expired")
    peer = store_peer(
        session,
        body["node"],
        body["base_url"].rstrip("/"),
        body["public_key"],
        body["default_agency"],
    )
    note_handshake(
        peer,
        said_record_types(body.get("record_types"), "the request's record_types"),
        record_types,
    )
    if invite.used_at is None:
        invite.used_at = utcnow()
        invite.used_by_node = peer.name
        invite.used_by_key = peer.public_key
    record(
        session,
        Actor.peer(peer.name),
        PeerAccepted(record_id=peer.name, base_url=peer.base_url, public_key=peer.public_key),
    )
    record_types.peer_activated(session, node, peer)
    session.commit()
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ACCEPTED_KIND,
        body={
            "node": node.name,
            "base_url": node.base_url,
            "default_agency": node.default_agency,
            "record_types": record_types.names(),
        },
        now=now,
    ).to_json()


def request_peering(
    node: LocalNode,
    record_types: RecordTypes,
    invite: Invite,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """The invited node's side of the handshake: send the signed request (saying which
    record types this node handles) to the inviting node (which must be running) and
    return the body of its verified answer."""
    if invite.is_expired():
        raise InvalidInput(T("the invite code has expired; ask the other node for a new one"))
    if invite.node == node.name:
        raise InvalidInput(
            T("this invite was issued by this node (%(node)s)", node=repr(node.name))
        )
    check_peer_url(invite.base_url, node.settings, "the invite's base URL")
    check_peer_url(node.base_url, node.settings, "this node's base URL")
    request = env.seal(
        node.private_key,
        sender=node.name,
        recipient=invite.node,
        kind=REQUEST_KIND,
        body={
            "node": node.name,
            "base_url": node.base_url,
            "public_key": node.public_key,
            "default_agency": node.default_agency,
            "secret": invite.secret,
            "record_types": record_types.names(),
        },
    )
    own_client = client is None
    http = client or httpx.Client(timeout=node.settings.federation_request_timeout_seconds)
    try:
        response = http.post(invite.base_url + PEERING_PATH, json=request.to_json())
    except httpx.HTTPError as error:
        raise Conflict(
            T(
                "cannot reach %(node)s at %(base_url)s: %(error)s; the inviting node "
                "must be running",
                node=repr(invite.node),
                base_url=invite.base_url,
                error=str(error),
            )
        ) from error
    finally:
        if own_client:
            http.close()
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise Conflict(
            T(
                "%(node)s refused the invite (HTTP %(status_code)s): %(detail)s",
                node=repr(invite.node),
                status_code=response.status_code,
                detail=detail,
            )
        )
    answer = env.parse(response.json())
    body = env.verify(
        answer,
        env.public_key_from_text(invite.public_key),
        recipient=node.name,
        kind=ACCEPTED_KIND,
        window_seconds=node.settings.federation_clock_window_seconds,
    )
    if not isinstance(body, dict) or body.get("node") != invite.node:
        raise InvalidInput(T("the inviting node answered for another node name"))
    return body


def active_peer(session: Session, name: str) -> Peer:
    peer = session.execute(sa.select(Peer).where(Peer.name == name)).scalar_one_or_none()
    if peer is None:
        raise NotFound(T("no peer named %(name)s", name=repr(name)))
    if peer.status != PeerStatus.ACTIVE:
        raise Conflict(T("peer %(name)s is %(status)s", name=repr(name), status=peer.status))
    return peer

"""Federation endpoints, peer to peer (the admin API for peers is in api/peers.py).

`/federation/v1/...` is called by other nodes, not by users: it carries no session or
token, and is authenticated by the Ed25519 signature on every envelope instead
(see liaison.federation.inbox and .peers).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from liaison.errors import InvalidInput, LiaisonError
from liaison.federation.inbox import receive_batch
from liaison.federation.peers import handle_peering_request
from liaison.web.auth import public_endpoint
from liaison.web.context import runtime_of

peer_router = APIRouter(prefix="/federation/v1", tags=["federation"])


# A batch is cut at about 8 MiB of records (base64 attachments included); this leaves room
# for the envelope and refuses anything larger before reading it whole.
MAX_BATCH_ENVELOPE_BYTES = 32 * 1024 * 1024
MAX_PEERING_ENVELOPE_BYTES = 64 * 1024
ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A signed envelope (see liaison.federation.envelope).",
    }
}


class EnvelopeTooLarge(LiaisonError):
    status = 413
    title = "Envelope too large"


async def _read_envelope(request: Request, limit: int) -> Any:
    """The JSON body, read up to `limit` bytes (checked before the signature can be)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise EnvelopeTooLarge(f"the envelope has {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise EnvelopeTooLarge(f"the envelope is larger than the limit of {limit} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"the request body is not JSON: {error}") from error


def _receive(request: Request, document: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    with runtime.database.session() as session:
        return receive_batch(session, runtime.node, runtime.record_types, document)


def _handshake(request: Request, document: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    with runtime.database.session() as session:
        return handle_peering_request(session, runtime.node, document)


@peer_router.post("/inbox", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def inbox(request: Request) -> dict[str, Any]:
    """Apply a signed batch from a peer; answers with a signed acknowledgement."""
    document = await _read_envelope(request, MAX_BATCH_ENVELOPE_BYTES)
    return await run_in_threadpool(_receive, request, document)


@peer_router.post("/peering", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def peering(request: Request) -> dict[str, Any]:
    """Complete a handshake started with one of this node's invite codes."""
    document = await _read_envelope(request, MAX_PEERING_ENVELOPE_BYTES)
    return await run_in_threadpool(_handshake, request, document)

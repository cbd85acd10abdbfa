"""Deliver between two nodes of this machine without going through their servers.

Used to seed the demo before the nodes are started, and by tests: the real delivery
worker signs and sends, but its HTTP client is wired straight to the other node's inbox
function. Everything else (sequencing, signatures, acknowledgements) is the real path,
so running this while the servers are also up is harmless: the inbox deduplicates.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from liaison.config import load_node
from liaison.errors import LiaisonError
from liaison.federation.context import LocalNode
from liaison.federation.delivery import INBOX_PATH, DeliveryWorker
from liaison.federation.inbox import receive_batch
from liaison.federation.records import RecordTypes
from liaison.store.database import Database


def deliver_between(
    sender_dir: Path | str, receiver_dir: Path | str, record_types: RecordTypes
) -> None:
    """Send everything the sender has queued for the receiver, until acknowledged; the
    receiver applies what arrives with `record_types`."""
    sender_config, receiver_config = load_node(sender_dir), load_node(receiver_dir)
    receiver_node = LocalNode.from_config(receiver_config)
    sender_database = Database(sender_config.database_url)
    receiver_database = Database(receiver_config.database_url)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path != INBOX_PATH:
            return httpx.Response(404, json={"detail": f"no route {request.url.path}"})
        try:
            with receiver_database.session() as session:
                answer = receive_batch(
                    session,
                    receiver_node,
                    record_types,
                    json.loads(request.content),
                    address="loopback",
                )
        except LiaisonError as error:
            return httpx.Response(error.status, json={"detail": error.detail})
        return httpx.Response(200, json=answer)

    worker = DeliveryWorker(
        sender_database,
        LocalNode.from_config(sender_config),
        client=httpx.Client(transport=httpx.MockTransport(handle)),
    )
    try:
        for target in worker.targets():
            if target.name == receiver_config.name and not worker.deliver_to(target):
                raise LiaisonError(f"delivery from {sender_config.name} to {target.name} failed")
    finally:
        worker.client.close()
        sender_database.dispose()
        receiver_database.dispose()

"""Federation: the transport that carries records between peered nodes.

It knows nothing about the records themselves. Services queue a record for a peer in the
same transaction that writes it (`outbox.share`); the delivery worker signs and sends
batches; the peer's inbox verifies and applies them exactly once, in order, and
acknowledges. `keys` (the node's Ed25519 key pair) belongs to the node set-up.
"""

"""The hotline: threads between the agencies of two peered nodes, with deadlines.

Agencies across nodes: a thread runs between one agency on each node. `from_agency` is
the author's agency on the node that opened it; `to_agency` is an agency of the peer,
named as the peer names it (by default the peer's default agency, learned when the two
nodes peered). On each node the thread is visible to the users of its local agency:
`from_agency` on the node that opened it, `to_agency` on the other.

Ownership: a thread and each message belong to the node that wrote them. The other node
may only add messages to the thread, acknowledge the messages it received and send read
receipts for them (see `records`).

Deadlines: an `urgent` or `flash` message must be acknowledged by the receiving side by
`ack_due_at`, fixed by the writing node from its settings (defaults 4 h and 30 min) and
carried with the message, so both sides flag the same moment as overdue.

Split by concern: `rules` (limits, deadlines, pure), `commands` (writes), `queries`
(reads), `records` (payloads, owner rules and inbox handlers). This module is the public
surface the web layer and the CLI use.
"""

from liaison.services.hotline.commands import acknowledge, mark_shown, open_thread, post_message
from liaison.services.hotline.queries import (
    InboxCounts,
    ThreadSummary,
    addressees,
    awaiting_acknowledgement,
    count_inbox,
    inbox_counts,
    list_threads,
    next_deadline,
    overdue_messages,
    peer_agencies,
    read_attachment,
    read_thread,
    refused_by_peer,
)
from liaison.services.hotline.rules import (
    ALLOWED_CONTENT_TYPES,
    MAX_ATTACHMENTS,
    MAX_BODY,
    MAX_SUBJECT,
    AttachmentUpload,
    Handling,
    ack_deadline,
    check_attachment,
    display_filename,
    is_incoming,
    is_overdue,
    local_agency,
    needs_ack,
)

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "MAX_ATTACHMENTS",
    "MAX_BODY",
    "MAX_SUBJECT",
    "AttachmentUpload",
    "Handling",
    "InboxCounts",
    "ThreadSummary",
    "ack_deadline",
    "acknowledge",
    "addressees",
    "awaiting_acknowledgement",
    "check_attachment",
    "count_inbox",
    "display_filename",
    "inbox_counts",
    "is_incoming",
    "is_overdue",
    "list_threads",
    "local_agency",
    "mark_shown",
    "needs_ack",
    "next_deadline",
    "open_thread",
    "overdue_messages",
    "peer_agencies",
    "post_message",
    "read_attachment",
    "read_thread",
    "refused_by_peer",
]

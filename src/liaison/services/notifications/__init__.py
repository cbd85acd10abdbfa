"""Pre-export notifications (PEN) of precursor chemicals between the two nodes' precursor
authorities (1988 Convention, article 12(10)).

The exporting node's regulator lodges a notification; it is screened as of the ship date
on both nodes and sent to the importing peer, whose regulator acknowledges it and answers
(no_objection, objection with a reason, information_requested) by `respond_by`, fixed by
the exporting node and carried with the notification, so both sides flag the same moment
as overdue. The exporting side may withdraw it, answer a request for information and
record the outcome (shipped, drawn down against the notified total; stopped; seized).
Each node keeps a register of what it requires notification for and its annual
requirements, shared with the peer.

Split by concern as the hotline is: `rules` (vocabularies, form, deadlines, figures;
pure), `screening` (the substance engine), `commands` (writes), `queries` (reads),
`records` (payloads, owner rules, inbox handlers). This module is the public surface.
"""

from liaison.services.notifications.commands import (
    ImportedBatch,
    acknowledge,
    answer_information,
    import_csv,
    lodge,
    record_outcome,
    remaining_quantity,
    respond,
    set_register,
    withdraw,
)
from liaison.services.notifications.queries import (
    Filters,
    Reminders,
    list_notifications,
    metrics,
    preview_screening,
    read_attachment,
    read_notification,
    registers,
    reminder_count,
    reminders,
)
from liaison.services.notifications.rules import (
    ESTIMATED_SUBSTANCES,
    Decision,
    Direction,
    IfNoReply,
    Outcome,
    Status,
    Step,
    TransportMode,
    is_outgoing,
    is_overdue,
    status_of,
)

__all__ = [
    "ESTIMATED_SUBSTANCES",
    "Decision",
    "Direction",
    "Filters",
    "IfNoReply",
    "ImportedBatch",
    "Outcome",
    "Reminders",
    "Status",
    "Step",
    "TransportMode",
    "acknowledge",
    "answer_information",
    "import_csv",
    "is_outgoing",
    "is_overdue",
    "list_notifications",
    "lodge",
    "metrics",
    "preview_screening",
    "read_attachment",
    "read_notification",
    "record_outcome",
    "registers",
    "remaining_quantity",
    "reminder_count",
    "reminders",
    "respond",
    "set_register",
    "status_of",
    "withdraw",
]

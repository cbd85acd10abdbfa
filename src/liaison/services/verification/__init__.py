"""Nationality verification cases between two peered nodes (issue 12).

The requesting node opens a case with the person's details as known; the verifying node
matches them against its registry extract, decides (`confirmed` naming the registry
person, `not_confirmed`, `information_requested`) and the decision travels back; then
the return steps, each with a deadline from the agreement with that peer. Either side
may record a protection hold, which blocks the travel and return steps on both nodes
until a supervisor lifts it with a reason. Personal fields are sealed at rest with the
node's own key; every read of them is audited with who and why.

Split by concern: `rules` (statuses, sides, holds, deadlines, pure), `commands` (writes),
`queries` (reads), `records` (payloads and inbox handlers), `sealing` (AES-GCM at rest),
`registry` (the registry extract and the ranked candidates). This module is the public
surface the web layer and the CLI use.
"""

from liaison.services.verification.commands import (
    decide,
    lift_hold,
    open_case,
    purge,
    record_hold,
    rotate_key,
    set_agreement,
    take_step,
)
from liaison.services.verification.queries import (
    CaseSummary,
    CaseView,
    EventView,
    agreement_json,
    agreement_with,
    current_registry,
    get_case,
    list_cases,
    photograph,
    read_case,
    step_statistics,
    subject_access_export,
    summary_of,
)
from liaison.services.verification.rules import (
    DOCUMENT_KINDS,
    STEP_FIELDS,
    STEP_SIDE,
    SUBJECT_FIELDS,
    Deadline,
    Side,
    StepTimes,
    is_overdue,
    without_photographs,
)

__all__ = [
    "DOCUMENT_KINDS",
    "STEP_FIELDS",
    "STEP_SIDE",
    "SUBJECT_FIELDS",
    "CaseSummary",
    "CaseView",
    "Deadline",
    "EventView",
    "Side",
    "StepTimes",
    "agreement_json",
    "agreement_with",
    "current_registry",
    "decide",
    "get_case",
    "is_overdue",
    "lift_hold",
    "list_cases",
    "open_case",
    "photograph",
    "purge",
    "read_case",
    "record_hold",
    "rotate_key",
    "set_agreement",
    "step_statistics",
    "subject_access_export",
    "summary_of",
    "take_step",
    "without_photographs",
]

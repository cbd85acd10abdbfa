"""Seizure and incident reports shared between the nodes (issue 10).

Ownership: an incident belongs to the node that wrote it and is shared with the peers
named in `share_with`; they may add follow-ups within it, which travel back. Each item
carries the verdicts the substance engine gave when it was written (a snapshot).
Entities (companies, wallets, phones, ...) are normalised so one entity written two ways
is one, and are searched across incidents, follow-ups and hotline messages.

Split by concern: `rules` (units, entities, dose equivalents; pure), `commands`
(writes), `queries` (reads, entity search, export, dashboard), `records` (payloads,
owner rules and inbox handlers). This module is the public surface.
"""

from liaison.services.entities import MAX_ENTITIES, Entity, EntityInput, normalize_entity
from liaison.services.incidents.commands import (
    ImportResult,
    IncidentInput,
    ItemInput,
    import_csv,
    mark_alert_seen,
    post_follow_up,
    report_incident,
    report_incidents,
    revise_incident,
    set_focal_points,
)
from liaison.services.incidents.queries import (
    GROUPINGS,
    DeskIncidents,
    EntitySearch,
    IncidentFilters,
    IncidentView,
    SeizureDashboard,
    alerts_for,
    awaiting_follow_up,
    export_csv,
    focal_points,
    list_incidents,
    may_pass_on,
    read_attachment,
    read_incident,
    search_entity,
    seizure_dashboard,
    visible_incident,
)
from liaison.services.incidents.records import REVISABLE, REVISABLE_FIELDS, current_value
from liaison.services.incidents.rules import (
    DOSE_DEFAULTS,
    MAX_ITEMS,
    DoseEquivalent,
    dose_equivalents,
    parse_route,
    to_grams,
)

__all__ = [
    "DOSE_DEFAULTS",
    "GROUPINGS",
    "MAX_ENTITIES",
    "MAX_ITEMS",
    "REVISABLE",
    "REVISABLE_FIELDS",
    "DeskIncidents",
    "DoseEquivalent",
    "Entity",
    "EntityInput",
    "EntitySearch",
    "ImportResult",
    "IncidentFilters",
    "IncidentInput",
    "IncidentView",
    "ItemInput",
    "SeizureDashboard",
    "alerts_for",
    "awaiting_follow_up",
    "current_value",
    "dose_equivalents",
    "export_csv",
    "focal_points",
    "import_csv",
    "list_incidents",
    "mark_alert_seen",
    "may_pass_on",
    "normalize_entity",
    "parse_route",
    "post_follow_up",
    "read_attachment",
    "read_incident",
    "report_incident",
    "report_incidents",
    "revise_incident",
    "search_entity",
    "seizure_dashboard",
    "set_focal_points",
    "to_grams",
    "visible_incident",
]

"""Permissions as capabilities, defined once: what each role may do.

Routes declare the capability they need (liaison.web.auth.require); the roles that may
use a route are derived from `GRANTS` when a request is checked, so this table is the
one place that says who may do what.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from liaison.store.accounts import Role


class Capability(StrEnum):
    SIGN_IN = "sign_in"  # use the node at all: own pages, sign out
    SCREEN_SUBSTANCES = "screen_substances"
    USE_HOTLINE = "use_hotline"  # read and write the agency's hotline threads
    READ_INCIDENTS = "read_incidents"  # incidents, entity search, dashboard, export
    REPORT_INCIDENTS = "report_incidents"  # report, import, follow up
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_PEERS = "manage_peers"
    READ_NOTIFICATIONS = "read_notifications"  # pre-export notifications, their figures
    ANSWER_NOTIFICATIONS = "answer_notifications"  # lodge, answer, withdraw; the register
    USE_TARIFFS = "use_tariffs"  # the duty calculator and the measure timeline
    VIEW_COOPERATION = "view_cooperation"  # the cooperation overview (figures only)
    READ_VERIFICATIONS = "read_verifications"  # see cases and their personal data (audited)
    REQUEST_VERIFICATION = "request_verification"  # open cases, requesting-side steps
    VERIFY_NATIONALITY = "verify_nationality"  # decide, verifying-side steps, the registry
    RECORD_HOLDS = "record_holds"  # record that a protection claim is pending
    LIFT_HOLDS = "lift_holds"


_CASEWORK = frozenset(
    {
        Capability.SIGN_IN,
        Capability.SCREEN_SUBSTANCES,
        Capability.USE_HOTLINE,
        Capability.READ_INCIDENTS,
        Capability.REPORT_INCIDENTS,
        Capability.READ_NOTIFICATIONS,
        Capability.USE_TARIFFS,
        Capability.VIEW_COOPERATION,
    }
)
_VERIFICATIONS = frozenset(
    {Capability.SIGN_IN, Capability.READ_VERIFICATIONS, Capability.RECORD_HOLDS}
)
GRANTS: Mapping[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.OFFICER: _CASEWORK,
    # Analysts read and search incidents; officers report them.
    Role.ANALYST: _CASEWORK - {Capability.REPORT_INCIDENTS},
    Role.AUDITOR: frozenset({Capability.SIGN_IN, Capability.READ_AUDIT}),
    Role.REGULATOR: frozenset(
        {
            Capability.SIGN_IN,
            Capability.SCREEN_SUBSTANCES,
            Capability.READ_NOTIFICATIONS,
            Capability.ANSWER_NOTIFICATIONS,
            Capability.VIEW_COOPERATION,
        }
    ),
    Role.IMMIGRATION_OFFICER: _VERIFICATIONS | {Capability.REQUEST_VERIFICATION},
    Role.VERIFIER: _VERIFICATIONS | {Capability.VERIFY_NATIONALITY},
    Role.SUPERVISOR: _VERIFICATIONS
    | {
        Capability.REQUEST_VERIFICATION,
        Capability.VERIFY_NATIONALITY,
        Capability.LIFT_HOLDS,
        Capability.VIEW_COOPERATION,
    },
}


def may(role: str, capability: Capability) -> bool:
    # A Role is a str: a role name from the database looks up its grants as it is.
    return capability in GRANTS.get(role, frozenset())  # type: ignore[call-overload]


def roles_with(capability: Capability) -> frozenset[Role]:
    return frozenset(role for role, granted in GRANTS.items() if capability in granted)

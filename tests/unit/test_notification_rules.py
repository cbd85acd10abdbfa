"""Pre-export notification rules: status with an injected clock, the declared form, and
the figures against a hand-computed set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liaison.errors import InvalidInput
from liaison.services.notifications import rules
from liaison.store.notification_tables import PenNotification

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _notification(**changes: Any) -> PenNotification:
    values: dict[str, Any] = {
        "respond_by": T0,
        "decision": None,
        "withdrawn_at": None,
        **changes,
    }
    return PenNotification(**values)


def test_a_notification_falls_overdue_when_the_clock_passes_respond_by() -> None:
    notification = _notification()
    assert rules.status_of(notification, T0 - timedelta(seconds=1)) == "pending"
    assert rules.status_of(notification, T0) == "pending"
    assert rules.status_of(notification, T0 + timedelta(seconds=1)) == "overdue"
    assert rules.is_overdue(notification, T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"decision": "no_objection"}, "no_objection"),
        ({"decision": "information_requested"}, "information_requested"),
        ({"decision": "objection", "withdrawn_at": T0}, "withdrawn"),
        ({"withdrawn_at": T0 - timedelta(days=1)}, "withdrawn"),
    ],
)
def test_an_answered_or_withdrawn_notification_is_never_overdue(
    changes: dict[str, Any], status: str
) -> None:
    notification = _notification(**changes)
    later = T0 + timedelta(days=30)
    assert rules.status_of(notification, later) == status
    assert not rules.is_overdue(notification, later)


def _form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "exporter": {"name": "Acme", "address": "1 Main St", "licence": "RA1"},
        "importer": {"name": "Tianjin Pharma", "address": "8 Binhai Rd", "licence": "TJ7"},
        "substance": "4-anilinopiperidine",
        "trade_name": "4-AP",
        "quantity": "25.5",
        "unit": "kg",
        "form": "powder",
        "packaging": "drums",
        "ship_date": "2026-12-15",
        "route": "US > KR > CN",
        "port_of_exit": "Newark",
        "port_of_entry": "Tianjin",
        "transport_mode": "sea",
        "end_use": "pharmaceutical manufacture",
        "export_authorisation": "EXP-1",
        "if_no_reply": "proceeds",
    }
    return {**form, **changes}


def test_the_declared_form_is_normalised() -> None:
    declared = rules.check_form(_form())
    assert declared["route"] == ["US", "KR", "CN"]
    assert declared["quantity"] == "25.5" and declared["consignee"] is None
    assert declared["shipments"] == 1 and declared["period_months"] is None


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"quantity": "-3"}, "quantity must be a positive number"),
        ({"unit": "barrels"}, "unit must be one of"),
        ({"ship_date": "15/12/2026"}, "ship_date must be a date"),
        ({"route": ["US", "China"]}, "'CHINA' is not a two-letter country code"),
        ({"transport_mode": "camel"}, "transport_mode must be one of"),
        ({"if_no_reply": "maybe"}, "if_no_reply must be one of"),
        ({"importer": {"name": "X", "address": "Y"}}, "licence is required"),
        ({"shipments": 3}, "period_months 6 or 12"),
        ({"end_use": "  "}, "end_use must not be empty"),
    ],
)
def test_a_bad_form_is_refused_naming_the_field(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        rules.check_form(_form(**changes))


def _row(
    exporting: str,
    created: datetime,
    answered_after: timedelta | None,
    decision: str | None,
    agency: str,
    substance: str = "4-ap",
) -> rules.Answered:
    return rules.Answered(
        exporting_node=exporting,
        importing_node="CN" if exporting == "US" else "US",
        to_agency=agency,
        substance=substance,
        created_at=created,
        respond_by=created + timedelta(days=15),
        answered_at=None if answered_after is None else created + answered_after,
        decision=decision,
    )


def test_the_figures_match_a_hand_computed_set() -> None:
    day = timedelta(days=1)
    rows = [
        _row("US", datetime(2026, 1, 10, tzinfo=UTC), day, "no_objection", "NMPA"),
        _row("US", datetime(2026, 1, 20, tzinfo=UTC), 2 * day, "objection", "NMPA"),
        _row("CN", datetime(2026, 2, 1, tzinfo=UTC), 20 * day, "no_objection", "DEA", "p-2-p"),
        _row("CN", datetime(2026, 2, 5, tzinfo=UTC), None, None, "DEA", "p-2-p"),  # overdue
        _row("CN", datetime(2026, 2, 25, tzinfo=UTC), None, None, "DEA", "p-2-p"),  # not due
    ]
    figures = rules.figures(rows, "US", now=datetime(2026, 3, 1, tzinfo=UTC))
    assert figures["per_month"] == [
        {"month": "2026-01", "sent": 2, "received": 0, "flows": {"US->CN": 2}},
        {"month": "2026-02", "sent": 0, "received": 3, "flows": {"CN->US": 3}},
    ]
    # Waits 24 h, 48 h, 480 h; due: the three answered and the one past its deadline.
    assert figures["overall"] == {
        "notifications": 5,
        "answered": 3,
        "due": 4,
        "answered_in_time": 2,
        "share_answered_in_time": 0.5,
        "median_hours_to_answer": 48.0,
        "p90_hours_to_answer": 393.6,  # (48 * 2 + 480 * 8) / 10, inclusive method
        "objection_rate": 0.3333,
    }
    cn = figures["per_importing_node"]["CN"]
    assert (cn["share_answered_in_time"], cn["median_hours_to_answer"]) == (1.0, 36.0)
    assert (cn["p90_hours_to_answer"], cn["objection_rate"]) == (45.6, 0.5)
    us = figures["per_importing_node"]["US"]
    assert (us["due"], us["answered_in_time"], us["share_answered_in_time"]) == (2, 0, 0.0)
    assert us["p90_hours_to_answer"] == 480.0
    assert figures["per_counterpart_agency"]["DEA"]["notifications"] == 3
    assert figures["per_substance"]["p-2-p"]["objection_rate"] == 0.0
    # The same records seen from CN: the same figures, sent and received swapped.
    from_cn = rules.figures(rows, "CN", now=datetime(2026, 3, 1, tzinfo=UTC))
    assert from_cn["overall"] == figures["overall"]
    assert [m["sent"] for m in from_cn["per_month"]] == [0, 3]


@pytest.mark.parametrize(
    ("register_name", "declared", "named"),
    [
        ("ephedrine", "Ephedrine hydrochloride", True),
        ("ephedrine", "pseudoephedrine", False),
        ("pseudoephedrine", "pseudoephedrine sulfate", True),
        ("P-2-P", "P-2-P (phenylacetone)", True),
        ("3,4-MDP-2-P", "4-MDP-2-P", False),
    ],
)
def test_a_register_line_names_a_substance_only_as_a_whole_word(
    register_name: str, declared: str, named: bool
) -> None:
    assert rules.names_substance(register_name, declared) is named

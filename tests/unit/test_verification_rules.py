"""Verification rules: the subject's checks, evidence tiers, who takes which step when,
holds, deadlines from the agreement with a peer, and times per step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liaison.errors import Conflict, InvalidInput
from liaison.services.verification import rules
from liaison.store.verification_tables import VerificationCase, VerificationEvent

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _case(status: str = "requested", **changes: object) -> VerificationCase:
    case = VerificationCase(
        owner_node="US", status=status, created_at=NOW, silence_agrees=False, **changes
    )
    case.events = []
    return case


def _hold(name: str = "asylum", global_id: str = "h1") -> VerificationEvent:
    return VerificationEvent(kind="hold", name=name, global_id=global_id)


def test_the_subject_is_cleaned_and_checked_naming_the_field() -> None:
    clean = rules.check_subject(
        {"family_name": " Wong ", "aliases": ["", "Huang"], "documents": [{"kind": "passport"}]}
    )
    assert clean["family_name"] == "Wong" and clean["aliases"] == ["Huang"]
    assert rules.evidence_tier(clean) == "proving"
    for bad, where in (
        ({"family_name": "X", "shoe_size": "42"}, "unknown fields"),
        ({"family_name": "X", "sex": "Q"}, "subject.sex"),
        ({"family_name": "X", "date_of_birth": "12/03/1990"}, "subject.date_of_birth"),
        ({"family_name": "X", "documents": [{"kind": "library_card"}]}, "documents[0].kind"),
        ({"school": "No. 3 Middle School"}, "must name the person"),
    ):
        with pytest.raises(InvalidInput, match=where.replace("[", r"\[").replace("]", r"\]")):
            rules.check_subject(bad)


def test_evidence_tiers_and_protection_claims() -> None:
    starting = rules.check_subject(
        {"family_name": "Lin", "documents": [{"kind": "statement", "protection_claim": True}]}
    )
    assert rules.evidence_tier(starting) == "starting"
    assert rules.has_protection_claim(starting)
    assert rules.evidence_tier(rules.check_subject({"family_name": "Lin"})) == "none"


def test_each_side_takes_only_its_steps_in_order() -> None:
    confirmed = _case("confirmed")
    doc = {"number": "TD-1", "valid_until": "2027-01-01"}
    with pytest.raises(Conflict, match="verifying side"):
        rules.check_step(confirmed, rules.Side.REQUESTING, "travel_document_issued", doc, [])
    assert (
        rules.check_step(confirmed, rules.Side.VERIFYING, "travel_document_issued", doc, [])
        == "travel_document_issued"
    )
    with pytest.raises(Conflict, match="cannot follow status confirmed"):
        rules.check_step(confirmed, rules.Side.REQUESTING, "returned", {"date": "x"}, [])
    with pytest.raises(InvalidInput, match="needs flight"):
        rules.check_step(
            _case("travel_document_issued"),
            rules.Side.REQUESTING,
            "travel_scheduled",
            {"date": "2027-01-02"},
            [],
        )
    with pytest.raises(InvalidInput, match="date must be a date"):
        rules.check_step(
            _case("travel_document_issued"),
            rules.Side.REQUESTING,
            "travel_scheduled",
            {"date": "soon", "flight": "CA982"},
            [],
        )
    with pytest.raises(Conflict, match="only the verifying side decides"):
        rules.check_decision(_case(), rules.Side.REQUESTING, {"decision": "confirmed"})
    with pytest.raises(InvalidInput, match="person_id"):
        rules.check_decision(
            _case(), rules.Side.VERIFYING, {"decision": "confirmed", "reason": "r"}
        )


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("confirmed", "travel_document_issued"),
        ("travel_document_issued", "travel_scheduled"),
        ("travel_scheduled", "returned"),
    ],
)
def test_a_standing_hold_refuses_every_travel_and_return_step(status: str, step: str) -> None:
    data = {"number": "n", "valid_until": "2027-01-01", "date": "2027-01-01", "flight": "f"}
    data["place"] = "Fuzhou"
    side = rules.STEP_SIDE[step]
    with pytest.raises(Conflict, match="protection hold stands \\(court_order\\)"):
        rules.check_step(_case(status), side, step, data, [_hold("court_order")])
    assert rules.check_step(_case(status), side, step, data, []) == step


def test_a_lifted_hold_no_longer_stands() -> None:
    lift = VerificationEvent(kind="lift", name="asylum", target="h1", global_id="l1")
    assert rules.standing_holds([_hold(), lift]) == []
    assert [h.global_id for h in rules.standing_holds([_hold(), _hold(global_id="h2"), lift])] == [
        "h2"
    ]


def test_deadlines_come_from_the_agreement_with_the_peer() -> None:
    agreement = rules.parse_agreement(
        '{"decision": {"days": 15, "extendable_to": 45, "silence_agrees": true}}', "{}"
    )
    assert rules.next_due("requested", agreement, NOW) == ("decision", NOW + timedelta(days=15))
    assert rules.next_due("confirmed", agreement, NOW) == (
        "travel_document_issued",
        NOW + timedelta(days=14),
    )
    case = _case(due_at=NOW + timedelta(days=15), due_step="decision")
    assert rules.extended_due(case, agreement) == NOW + timedelta(days=45)
    assert not rules.is_overdue(case, NOW)
    later = NOW + timedelta(days=16)
    assert rules.is_overdue(case, later)
    case.silence_agrees = True
    assert rules.silence_counts(case, later)
    with pytest.raises(Conflict, match="no extension"):
        rules.extended_due(case, rules.parse_agreement('{"decision": {"days": 30}}', "{}"))


def test_fields_the_law_forbids_are_named_with_why() -> None:
    agreement = rules.parse_agreement("{}", '{"criminal_record": "Art. 7 of the agreement"}')
    subject = rules.check_subject({"family_name": "Lin", "criminal_record": "2019"})
    assert rules.refused_fields(subject, agreement) == {
        "criminal_record": "Art. 7 of the agreement"
    }
    assert rules.refused_fields(rules.check_subject({"family_name": "Lin"}), agreement) == {}


def test_median_and_90th_percentile_per_step() -> None:
    days = [timedelta(days=d) for d in (1, 2, 3, 4, 10)]
    [decision] = rules.step_times({"decision": days})
    assert (decision.count, decision.median_days) == (5, 3.0)
    assert 4 < decision.p90_days <= 10
    [single] = rules.step_times({"closed": [timedelta(hours=12)]})
    assert single.median_days == single.p90_days == 0.5


def test_supplied_information_completes_the_subject_within_the_agreement() -> None:
    agreement = rules.Agreement({}, {"criminal_record": "the law forbids sharing convictions"})
    subject = {"family_name": "Lin", "date_of_birth": "1985"}
    supplied = {"information": "born in Putian", "place_of_birth": "Putian", "sex": "M"}
    assert rules.supplemented(subject, supplied, agreement, "CN") == {
        "family_name": "Lin", "date_of_birth": "1985", "place_of_birth": "Putian", "sex": "M",
    }  # fmt: skip
    with pytest.raises(InvalidInput, match="subject fields only"):
        rules.check_supplement({"information": "x", "favourite_colour": "blue"})
    with pytest.raises(InvalidInput, match="date_of_birth"):
        rules.check_supplement({"information": "x", "date_of_birth": "14 July 1985"})
    with pytest.raises(InvalidInput, match="criminal_record may not be shared with CN"):
        rules.supplemented(subject, {"criminal_record": "theft"}, agreement, "CN")


def test_photographs_must_be_small_images_of_the_type_they_say() -> None:
    import base64

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode()
    subject = {"family_name": "Lin", "photographs": [{"content_type": "image/png", "data": png}]}
    clean = rules.check_subject(subject)
    assert rules.without_photographs(clean)["photographs"] == [
        {"content_type": "image/png", "bytes": 108}
    ]
    for photographs, message in (
        ([{"content_type": "image/gif", "data": png}], "content_type must be one of"),
        ([{"content_type": "image/jpeg", "data": png}], "does not look like image/jpeg"),
        ([{"content_type": "image/png", "data": "not base64!"}], "not base64"),
        ([{"content_type": "image/png", "data": png}] * 4, "at most 3"),
    ):
        with pytest.raises(InvalidInput, match=message):
            rules.check_subject({**subject, "photographs": photographs})
    big = base64.b64encode(
        b"\x89PNG\r\n\x1a\n" + b"\0" * (rules.MAX_PHOTOGRAPH_BYTES // 2)
    ).decode()
    with pytest.raises(InvalidInput, match="the limit is"):
        rules.check_subject(
            {**subject, "photographs": [{"content_type": "image/png", "data": big}] * 3}
        )

"""Screening a declared substance through the substance engine as of the ship date, on
each node (the exporting node when it is lodged, the importing node when it arrives).

What the procedure is for is a listed precursor (in either country or a UN table, or on
a side's register); a controlled drug declared as a precursor needs drug import and
export authorisations instead (an alert); a substance matching nothing raises the
question why it is notified at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from liaison.config import Settings
from liaison.services.notifications.rules import names_substance
from liaison.services.substances import identify_queries
from liaison.store.notification_tables import PenRequirement

CONTROLLED_DRUG = "controlled_drug"
NOT_LISTED = "not_listed"
UNIDENTIFIED = "unidentified"
REVIEW = "review"
EXCEEDS_REQUIREMENT = "exceeds_requirement"


def _alert(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def on_register(substance: str, register: Iterable[PenRequirement]) -> list[str]:
    """The register entries (as 'NODE: name') the declared substance names."""
    return sorted(
        f"{entry.node}: {entry.substance}"
        for entry in register
        if entry.requires_notification and names_substance(entry.substance, substance)
    )


def screen(
    substance: str, ship_date: date, register: Iterable[PenRequirement], settings: Settings
) -> dict[str, Any]:
    """The screening stored with a notification: per jurisdiction status and basis (the
    rules that matched, cited), the registers that list it, the alerts, a depiction."""
    [found] = identify_queries([substance], ship_date, None, settings=settings)
    identification = found.identification
    jurisdictions: dict[str, Any] = {}
    for code, verdict in identification.verdicts.items():
        jurisdictions[code] = {
            "status": verdict.status,
            "explanation": verdict.explanation,
            "basis": [
                {
                    "list": basis.list,
                    "name": basis.name,
                    "status": basis.status,
                    "citation": basis.citation,
                    "in_force_from": basis.in_force_from.isoformat(),
                }
                for basis in verdict.basis
            ],
        }
    statuses = {code: item["status"] for code, item in jurisdictions.items()}
    registers = on_register(substance, register)
    alerts = []
    controlled = sorted(code for code, status in statuses.items() if status == "controlled")
    listed = sorted(code for code, status in statuses.items() if status == "precursor")
    if controlled and listed:
        # P-2-P: a UN Table I precursor, and a controlled substance in the US.
        alerts.append(
            _alert(
                CONTROLLED_DRUG,
                f"also a controlled drug in {', '.join(controlled)} (a listed precursor in "
                f"{', '.join(listed)}): that side needs its drug import or export "
                "authorisations as well",
            )
        )
    elif controlled:
        alerts.append(
            _alert(
                CONTROLLED_DRUG,
                f"a controlled drug in {', '.join(controlled)}: it needs drug import and "
                "export authorisations, not a precursor notification",
            )
        )
    if identification.error or identification.query_kind == "unknown":
        alerts.append(
            _alert(
                UNIDENTIFIED,
                f"the engine could not identify {substance!r}"
                + (f" ({identification.error})" if identification.error else ""),
            )
        )
    elif "review" in statuses.values():
        alerts.append(_alert(REVIEW, "close to a controlled class: an expert should look"))
    if not registers and set(statuses.values()) <= {"no_match", "invalid"}:
        alerts.append(_alert(NOT_LISTED, "not a listed precursor: why notify?"))
    return {
        "as_of": ship_date.isoformat(),
        "query_kind": identification.query_kind,
        "standardized_smiles": identification.standardized_smiles,
        "jurisdictions": jurisdictions,
        "registers": registers,
        "alerts": alerts,
        "svg": found.depictions.get(found.headline_jurisdiction, ""),
    }

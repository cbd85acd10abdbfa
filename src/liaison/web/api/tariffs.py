"""Tariff duties over the API: `liaison tariffs duty` as a GET with the same parameters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from liaison.capabilities import Capability
from liaison.tariffs import calculate, entry_from_fields
from liaison.web.auth import Principal, require

router = APIRouter(prefix="/api/v1/tariffs", tags=["tariffs"])
calculators = require(Capability.USE_TARIFFS)


class EntryOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    origin: str
    entry_date: str
    customs_value: str
    hts: str | None
    usmca: bool
    ordinary_rate: str | None


class MeasureOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    citation: str
    rate_percent: str
    amount: str = Field(description="US dollars, rounded to the cent half-up.")
    ieepa: bool = Field(description="Collected under IEEPA (held unlawful on 2026-02-20).")


class DutyOut(BaseModel):
    """The CLI's json shape (`liaison tariffs duty --format json`)."""

    model_config = ConfigDict(extra="allow")

    entry: EntryOut
    measures: list[MeasureOut]
    total_additional: str
    ieepa_total: str = Field(description="The part collected under IEEPA: potentially refundable.")
    ordinary_duty: str | None
    exempted: list[dict[str, Any]]
    notes: list[str]


@router.get("/duty", response_model=DutyOut)
def duty(
    origin: str = Query(..., max_length=8, description="Country of origin (CN, CA, MX...)."),
    entry_date: str = Query(
        ..., max_length=32, description="Date of entry for consumption (YYYY-MM-DD)."
    ),
    customs_value: str = Query(..., max_length=32, description="Customs value in US dollars."),
    hts: str | None = Query(None, max_length=32, description="HTS code (recorded)."),
    usmca: bool = Query(False, description="The goods qualify under USMCA."),
    ordinary_rate: str | None = Query(
        None, max_length=32, description="Ordinary (column 1) duty rate in percent."
    ),
    category: str | None = Query(
        None, max_length=32, description="energy | potash | donation | informational_materials"
    ),
    loaded_on: str | None = Query(
        None, max_length=32, description="Day the goods were loaded for the US (in transit)."
    ),
    de_minimis: bool = Query(False, description="Entered under de minimis (19 U.S.C. 1321)."),
    principal: Principal = Depends(calculators),
) -> Any:
    """The additional duties that applied to one entry, each with its measure and citation,
    the total and the part collected under IEEPA. A malformed or missing field is a 422
    problem naming it."""
    fields = {
        "origin": origin,
        "entry_date": entry_date,
        "customs_value": customs_value,
        "hts": hts,
        "usmca": usmca,
        "ordinary_rate": ordinary_rate,
        "category": category,
        "loaded_on": loaded_on,
        "de_minimis": de_minimis,
    }
    return calculate(entry_from_fields(fields)).to_dict()

"""The registry extract on the verifying node: `liaison registry import` (bad rows reported,
nothing usable refused, replaced atomically, sealed at rest) and the ranked candidates of a
case with the evidence per field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from federation.verification_node import (
    PASSWORD,
    UsNode,
    api_client,
    case_id_of,
    case_record,
    form_token,
    verifying_node,
)
from liaison.cli import app
from liaison.identity.synth import write
from liaison.services.verification.registry import REGISTRY_DIR
from liaison.web.app import create_app
from liaison.web.i18n import translate_to
from support import batch_from_cn


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    with verifying_node(tmp_path, database_url) as node:
        yield node


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    registry, requests, truth = write(tmp_path_factory.mktemp("synth"), 400, 30, seed=5)
    frame = pd.read_csv(registry, dtype=str, keep_default_na=False)
    # One bad field: read without it, reported with its row, never dropped.
    frame.loc[3, "date_of_birth"] = "1990-02-31"
    frame.to_csv(registry, index=False)
    wanted = pd.read_csv(requests, dtype=str, keep_default_na=False).merge(
        pd.read_csv(truth, dtype=str, keep_default_na=False), on="request_id"
    )
    return registry, frame, wanted


def test_import_reports_bad_rows_and_refuses_nothing_usable(
    us: UsNode, population: tuple[Path, pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    registry, frame, _wanted = population
    runner = CliRunner()
    result = runner.invoke(app, ["registry", "import", str(us.config.directory), str(registry)])
    assert result.exit_code == 0, result.output
    assert "row 4: date_of_birth" in result.output and "Imported 400 people" in result.output
    sealed = list((us.config.directory / REGISTRY_DIR).glob("*.sealed"))
    assert len(sealed) == 1
    assert frame.loc[0, "family_name_native"].encode() not in sealed[0].read_bytes()

    empty = tmp_path / "empty.csv"
    empty.write_text("person_id,family_name\n", encoding="utf-8")
    refused = runner.invoke(app, ["registry", "import", str(us.config.directory), str(empty)])
    assert refused.exit_code == 1 and "no usable registry record" in refused.output
    # The earlier extract is still the one in use.
    assert list((us.config.directory / REGISTRY_DIR).glob("*.sealed")) == sealed
    state = api_client(us, "vera").get("/api/v1/verifications/registry").json()["registry"]
    assert state["people"] == 400 and state["problems"] >= 1


def test_candidates_are_ranked_with_evidence_per_field(
    us: UsNode, population: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    registry, _frame, wanted = population
    CliRunner().invoke(app, ["registry", "import", str(us.config.directory), str(registry)])
    known = wanted[wanted["person_id"] != ""].iloc[0]
    subject = {
        name: known[name]
        for name in ("family_name", "given_name", "sex", "date_of_birth", "id_number", "address")
        if known[name]
    }
    record = case_record(us, subject)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    api = api_client(us, "vera")
    assert api.get(f"/api/v1/verifications/{case_id}/candidates").status_code == 422  # no why
    answer = api.get(f"/api/v1/verifications/{case_id}/candidates", params={"reason": "decide"})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert items and items[0]["person_id"] == known["person_id"]
    probabilities = [c["match_probability"] for c in items]
    assert probabilities == sorted(probabilities, reverse=True)
    evidence = items[0]["evidence"]
    assert {"level", "weight"} <= set(evidence["date_of_birth"])
    assert items[0]["person"]["person_id"] == known["person_id"]
    # On a Chinese page the case names each field's comparison level in Chinese.
    browser = TestClient(
        create_app(us.config), base_url="http://testserver", headers={"Accept-Language": "zh-CN"}
    )
    browser.post(
        "/login",
        data={"username": "vera", "password": PASSWORD,
              "csrf_token": form_token(browser.get("/login").text)},
    )  # fmt: skip
    page = browser.get(f"/verifications/{case_id}", params={"reason": "decide"}).text
    evidence_line = page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    for field in evidence.values():
        chinese = translate_to("zh-CN", field["level"])
        assert chinese != field["level"] and chinese in evidence_line
        assert field["level"] not in evidence_line
    # The requesting side has no registry to match against.
    assert (
        api_client(us, "ian")
        .get(f"/api/v1/verifications/{case_id}/candidates", params={"reason": "x"})
        .status_code
        == 403
    )


def test_a_passport_mrz_fills_the_request_and_is_compared_with_each_candidate(
    us: UsNode, population: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    from datetime import date

    from liaison.identity.passport import write_td3

    registry, frame, _wanted = population
    CliRunner().invoke(app, ["registry", "import", str(us.config.directory), str(registry)])
    person = frame.iloc[7]
    zone = write_td3(
        person["family_name"],
        person["given_name"],
        "E12345678",
        "CHN",
        date.fromisoformat(person["date_of_birth"]),
        person["sex"],
        date(2031, 5, 1),
    )
    # The officer wrote only the family name and the year; the zone holds the rest.
    subject = {
        "family_name": person["family_name"],
        "date_of_birth": person["date_of_birth"][:4],
        "passport_mrz": zone,
        "documents": [{"kind": "passport", "number": "E12345678"}],
    }
    record = case_record(us, subject)
    batch_from_cn(us.database, us.node, us.cn_key, [record])
    case_id = case_id_of(us, record["payload"]["global_id"])
    api = api_client(us, "vera")
    items = api.get(
        f"/api/v1/verifications/{case_id}/candidates", params={"reason": "decide"}
    ).json()["items"]
    assert items[0]["person_id"] == person["person_id"]
    evidence = items[0]["evidence"]
    assert evidence["date_of_birth"]["level"] == "same date"  # the MRZ's full date was used
    assert evidence["mrz_check_digits"]["level"] == "every check digit holds"
    assert evidence["mrz_name"]["level"] == "same name"
    assert evidence["mrz_date_of_birth"]["level"] == "same date of birth"
    assert (
        evidence["mrz_document_number"]["level"] == "document E12345678, as the passport declared"
    )
    page = api.get(f"/verifications/{case_id}", params={"reason": "decide"}).text
    assert 'id="mrz-ok"' in page and "E12345678" in page

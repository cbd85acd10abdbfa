"""Incidents between two real nodes (separate `liaison serve` processes, real HTTP): a
shared incident arrives once with its verdict snapshot and alerts the focal points, a
follow-up travels back, a not-shared incident never leaves, entities are found across
incidents and hotline messages of both nodes, "do not pass on" holds on export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from federation.nodes import AGENCIES, Pair, start_pair, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("incidents_pair")]

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
WALLET = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    nodes = start_pair(tmp_path_factory.mktemp("incidents"))
    yield nodes
    nodes.close()


@pytest.fixture(scope="module")
def us(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.us.client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def cn(pair: Pair) -> Iterator[httpx.Client]:
    client = pair.cn.client()
    yield client
    client.close()


def _report(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "kind": "seizure",
        "occurred_on": "2026-05-02",
        "country": "US",
        "place": "Port of Long Beach",
        "port_code": "USLGB",
        "conveyance": "sea_container",
        "route": ["CN", "US"],
        "narrative": "Container manifest: industrial chemicals",
        "items": [{"substance": FENTANYL, "quantity": 12, "unit": "kg", "purity_percent": 80}],
        "entities": [{"kind": "crypto_wallet", "chain": "tron", "value": WALLET, "role": "payee"}],
        **fields,
    }
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _on(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    response = client.get("/api/v1/incidents", params={"origin": "US"})
    assert response.status_code == 200, response.text
    return next((i for i in response.json()["items"] if i["global_id"] == global_id), None)


def test_a_shared_incident_arrives_once_with_its_snapshot_and_a_follow_up_comes_back(
    pair: Pair, us: httpx.Client, cn: httpx.Client
) -> None:
    admin = pair.cn.client("admin")
    points = admin.put(f"/api/v1/focal-points/{AGENCIES['CN']}", json={"usernames": ["officer"]})
    assert points.status_code == 200, points.text
    admin.close()

    secret = _report(us, narrative="Kept at home", share_with=[])
    sent = _report(us, share_with=["CN"], urgent=True)
    assert sent["shared_with"] == ["CN"]
    assert sent["items"][0]["verdicts"]["US"]["status"] == "controlled"

    received = wait_until(lambda: _on(cn, sent["global_id"]), "the incident on CN")
    assert received["origin"] == "US" and received["reporting_agency"] == AGENCIES["US"]
    # The snapshot travels as written: the same verdicts and day, not re-judged on arrival.
    assert received["items"] == sent["items"]
    detail = cn.get(f"/api/v1/incidents/{received['id']}").json()
    assert detail["entities"][0]["normalized"] == WALLET
    assert detail["shared_with"] == ["US"]

    [alert] = cn.get("/api/v1/incident-alerts").json()
    assert alert["incident_global_id"] == sent["global_id"]

    follow = cn.post(
        f"/api/v1/incidents/{received['id']}/follow-ups",
        json={
            "body": "Consignor identified; two arrests",
            "status": "arrests",
            "entities": [{"kind": "phone", "value": "+86 21 6321 0000", "role": "consignor"}],
        },
    )
    assert follow.status_code == 201, follow.text

    def follow_ups_on_us() -> list[dict[str, Any]]:
        return list(us.get(f"/api/v1/incidents/{sent['id']}").json()["follow_ups"])

    [back] = wait_until(follow_ups_on_us, "the follow-up on US")
    assert (back["origin"], back["status"], back["author_agency"]) == (
        "CN",
        "arrests",
        AGENCIES["CN"],
    )
    assert back["entities"][0]["normalized"] == "+862163210000"

    # Once: one row on CN; the not-shared one was written first and never left US.
    sql = "SELECT count(*) FROM incidents WHERE global_id = :g"
    assert pair.cn.scalar(sql, g=sent["global_id"]) == 1
    assert pair.cn.scalar(sql, g=secret["global_id"]) == 0
    assert _on(cn, secret["global_id"]) is None
    queued = "SELECT count(*) FROM outbox WHERE payload LIKE :p"
    assert pair.us.scalar(queued, p=f"%{secret['global_id']}%") == 0
    assert pair.us.scalar(queued, p=f"%{sent['global_id']}%") >= 1


def test_entities_are_found_across_incidents_and_hotline_messages_of_both_nodes(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _report(us, share_with=["CN"])
    wait_until(lambda: _on(cn, sent["global_id"]), "the incident on CN")
    thread = cn.post(
        "/api/v1/threads",
        json={
            "peer": "US",
            "subject": "Wallet seen again",
            "body": "The payee wallet received 40,000 USDT",
            "handling_code": "info_only",
            "source_reliability": "B",
            "information_accuracy": "2",
            "entities": [
                {"kind": "crypto_wallet", "chain": "tron", "value": WALLET, "role": "payee"},
                {"kind": "company", "value": "Shenzhen Example Chem Co., Ltd.", "role": "payer"},
            ],
        },
    )
    assert thread.status_code == 201, thread.text

    def search() -> dict[str, Any] | None:
        found = us.get("/api/v1/entities", params={"kind": "crypto_wallet", "value": WALLET})
        assert found.status_code == 200, found.text
        answer = dict(found.json())
        return answer if "hotline_message" in {m["source"] for m in answer["mentions"]} else None

    answer = wait_until(search, "the hotline message's wallet on US")
    sources = {(m["source"], m["origin"]) for m in answer["mentions"]}
    assert ("incident", "US") in sources and ("hotline_message", "CN") in sources
    assert ("company", "shenzhen example chem") in {
        (c["kind"], c["normalized"]) for c in answer["co_occurring"]
    }
    [message] = us.get(
        f"/api/v1/threads/{_thread_id(us, thread.json()['global_id'])}/messages"
    ).json()
    assert {e["kind"] for e in message["entities"]} == {"crypto_wallet", "company"}
    grading = (message["source_reliability"], message["information_accuracy"])
    assert message["handling_code"] == "info_only" and grading == ("B", "2")


def _thread_id(client: httpx.Client, global_id: str) -> int:
    return int(
        next(t["id"] for t in client.get("/api/v1/threads").json() if t["global_id"] == global_id)
    )


def test_do_not_pass_on_is_shown_and_withheld_from_the_receivers_export(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _report(us, share_with=["CN"], handling_code="no_onward", narrative="Restricted")
    received = wait_until(lambda: _on(cn, sent["global_id"]), "the incident on CN")
    assert received["handling_code"] == "no_onward" and received["may_pass_on"] is False
    exported = cn.get("/api/v1/incidents/export.csv")
    assert exported.status_code == 200, exported.text
    references = {row["reference"] for row in csv.DictReader(io.StringIO(exported.text))}
    assert sent["global_id"] not in references
    own = us.get("/api/v1/incidents/export.csv").text
    assert sent["global_id"] in own  # the owner decides about its own incidents


def test_an_edit_travels_as_a_new_version_and_the_old_values_are_kept(
    us: httpx.Client, cn: httpx.Client
) -> None:
    sent = _report(us, share_with=["CN"], narrative="First account")
    received = wait_until(lambda: _on(cn, sent["global_id"]), "the incident on CN")
    refused = cn.patch(f"/api/v1/incidents/{received['id']}", json={"narrative": "Mine now"})
    assert refused.status_code == 403, refused.text
    edited = us.patch(
        f"/api/v1/incidents/{sent['id']}",
        json={"narrative": "Corrected account", "route": ["CN", "MX", "US"]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2

    def second_version() -> dict[str, Any] | None:
        found = cn.get(f"/api/v1/incidents/{received['id']}").json()
        return dict(found) if found["version"] == 2 else None

    now = wait_until(second_version, "version 2 on CN")
    assert now["narrative"] == "Corrected account" and now["route"] == ["CN", "MX", "US"]
    [revision] = now["revisions"]
    assert revision["previous"] == {"narrative": "First account", "route": "CN>US"}
    assert revision["changed_by"] == "officer"
    assert now["items"] == sent["items"]  # the snapshot is not touched by an edit

    # The items are corrected: they travel with the owner's new snapshot, the old kept.
    corrected = us.patch(
        f"/api/v1/incidents/{sent['id']}",
        json={"items": [{"substance": "caffeine", "quantity": 12, "unit": "kg"}]},
    )
    assert corrected.status_code == 200, corrected.text

    def third_version() -> dict[str, Any] | None:
        found = cn.get(f"/api/v1/incidents/{received['id']}").json()
        return dict(found) if found["version"] == 3 else None

    now = wait_until(third_version, "version 3 on CN")
    assert now["items"] == corrected.json()["items"]
    assert now["items"][0]["verdicts"]["US"]["status"] == "no_match"
    assert now["revisions"][1]["previous"]["items"][0]["verdicts"] == sent["items"][0]["verdicts"]

"""A verification case between two real nodes (`liaison serve` processes, real HTTP), on
SQLite and PostgreSQL: opened on US, decided on CN, the return steps, a protection hold
from either side blocking every travel and return step on both nodes until a supervisor
lifts it, and a node killed while records are in flight."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from federation.nodes import OFFICER_PASSWORD, NodeProcess, Pair, start_pair, wait_until
from liaison.node import add_node_user

pytestmark = [pytest.mark.slow]

SUBJECT = {
    "family_name": "Lim",
    "given_name": "Ah Kow",
    "family_name_native": "林",
    "given_name_native": "阿狗",
    "sex": "M",
    "date_of_birth": "1985-07",
    "place_of_birth": "Putian",
    "passport_mrz": "P<CHNLIN<<AH<KOW<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
    "documents": [{"kind": "passport", "number": "E99887766"}],
}


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    nodes = start_pair(tmp_path, us_database=database_url, cn_database=second_database_url)
    for node, users in (
        (nodes.us, (("ian", "immigration_officer"), ("sue", "supervisor"))),
        (nodes.cn, (("vera", "verifier"), ("sam", "supervisor"))),
    ):
        for user, role in users:
            add_node_user(node.directory, user, OFFICER_PASSWORD, role)
    yield nodes
    nodes.close()


def _case_on(client: httpx.Client, global_id: str) -> dict[str, Any] | None:
    items = client.get("/api/v1/verifications").json()["items"]
    return next((c for c in items if c["global_id"] == global_id), None)


def _status_on(client: httpx.Client, global_id: str, status: str, holds: int | None = None) -> bool:
    case = _case_on(client, global_id)
    return case is not None and case["status"] == status and holds in (None, case["holds"])


def _post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 201) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_a_case_round_trip_with_a_hold_and_a_node_killed(pair: Pair) -> None:
    ian, sue = pair.us.client("ian"), pair.us.client("sue")
    vera, sam = pair.cn.client("vera"), pair.cn.client("sam")
    try:
        # CN is down when the case is opened: it arrives once CN is back.
        pair.cn.kill()
        opened = _post(
            ian,
            "/api/v1/verifications",
            {
                "peer": "CN",
                "subject": SUBJECT,
                "grounds": "Removal order 2026-11",
                "reference": "A-1",
            },
        )
        pair.cn.start()
        gid = opened["global_id"]
        on_cn = wait_until(lambda: _case_on(vera, gid), "the case on CN")
        assert (on_cn["direction"], on_cn["evidence"], on_cn["due_step"]) == (
            "incoming", "proving", "decision",
        )  # fmt: skip
        assert on_cn["due_at"] == _case_on(ian, gid)["due_at"]  # type: ignore[index]
        cn_id, us_id = on_cn["id"], opened["id"]
        detail = vera.get(f"/api/v1/verifications/{cn_id}", params={"reason": "decide"}).json()
        assert detail["subject"]["given_name_native"] == "阿狗"

        # The requesting side may not issue the travel document; nor decide.
        doc = {"step": "travel_document_issued", "number": "TD-7", "valid_until": "2027-02-01"}
        assert ian.post(f"/api/v1/verifications/{us_id}/steps", json=doc).status_code == 403
        _post(
            vera,
            f"/api/v1/verifications/{cn_id}/decision",
            {
                "decision": "confirmed",
                "person_id": "P-4411",
                "reason": "passport and registry agree",
            },
        )
        wait_until(lambda: _status_on(ian, gid, "confirmed"), "the decision on US")
        decision = ian.get(f"/api/v1/verifications/{us_id}", params={"reason": "plan"}).json()
        assert decision["events"][0]["data"] == {
            "person_id": "P-4411", "reason": "passport and registry agree",
        }  # fmt: skip
        _post(vera, f"/api/v1/verifications/{cn_id}/steps", doc)
        wait_until(lambda: _status_on(ian, gid, "travel_document_issued"), "the document on US")
        for client, case_id in ((vera, cn_id), (ian, us_id)):
            pdf = client.get(
                f"/api/v1/verifications/{case_id}/travel-document.pdf", params={"reason": "print"}
            )
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
            assert b"TD-7" in pdf.content and b"vera" in pdf.content

        # A hold from US reaches CN at once and blocks every travel and return step on both.
        hold = _post(
            ian,
            f"/api/v1/verifications/{us_id}/holds",
            {"kind": "non_refoulement", "reason": "claim lodged with the immigration court"},
        )
        wait_until(lambda: _case_on(vera, gid)["holds"] == 1, "the hold on CN")  # type: ignore[index]
        travel = {"step": "travel_scheduled", "date": "2027-01-10", "flight": "CA982"}
        refused = ian.post(f"/api/v1/verifications/{us_id}/steps", json=travel)
        assert refused.status_code == 409 and "non_refoulement" in refused.json()["detail"]
        # A hold recorded on CN too; CN's second document is refused there as well.
        _post(
            vera, f"/api/v1/verifications/{cn_id}/holds", {"kind": "court_order", "reason": "court"}
        )
        wait_until(lambda: _case_on(ian, gid)["holds"] == 2, "CN's hold on US")  # type: ignore[index]
        again = vera.post(f"/api/v1/verifications/{cn_id}/steps", json=doc)
        assert again.status_code == 409 and "protection hold" in again.json()["detail"]

        # The immigration officer may not lift; a supervisor lifts each, on either node.
        lift = {"reason": "claim withdrawn by the applicant"}
        path = f"/api/v1/verifications/{us_id}/holds/{hold['id']}/lift"
        assert ian.post(path, json=lift).status_code == 403
        _post(sue, path, lift)
        cn_holds = vera.get(f"/api/v1/verifications/{cn_id}", params={"reason": "lift"}).json()
        court = next(e for e in cn_holds["events"] if e["name"] == "court_order")
        _post(sam, f"/api/v1/verifications/{cn_id}/holds/{court['id']}/lift", {"reason": "vacated"})
        wait_until(lambda: _case_on(ian, gid)["holds"] == 0, "both lifts on US")  # type: ignore[index]
        wait_until(lambda: _case_on(vera, gid)["holds"] == 0, "both lifts on CN")  # type: ignore[index]

        # US is killed just after scheduling; the step reaches CN once US is back.
        _post(ian, f"/api/v1/verifications/{us_id}/steps", travel)
        pair.us.kill()
        pair.us.start()
        wait_until(lambda: _status_on(vera, gid, "travel_scheduled"), "the schedule on CN")
        ian = pair.us.client("ian")
        _post(
            ian,
            f"/api/v1/verifications/{us_id}/steps",
            {"step": "returned", "date": "2027-01-10", "place": "Fuzhou"},
        )
        _post(ian, f"/api/v1/verifications/{us_id}/steps", {"step": "closed"})
        wait_until(lambda: _status_on(vera, gid, "closed"), "the case closed on CN")
        for client in (ian, vera):
            steps = {
                s["step"] for s in client.get("/api/v1/verifications/statistics").json()["items"]
            }
            assert steps == {
                "decision", "travel_document_issued", "travel_scheduled", "returned", "closed",
            }  # fmt: skip
        # Nothing of the person is stored in clear on either node: not in the case
        # tables, not in the outbox where records wait for the peer, not in the audit trail.
        for node in (pair.us, pair.cn):
            assert _tables_containing(node, ("阿狗", "AH<KOW", "E99887766")) == []
    finally:
        for client in (ian, sue, vera, sam):
            client.close()


def test_information_requested_then_supplied_returns_the_case_to_matching(pair: Pair) -> None:
    ian, vera = pair.us.client("ian"), pair.cn.client("vera")
    try:
        sparse = {"family_name": "Lim", "given_name": "Ah Kow", "date_of_birth": "1985"}
        opened = _post(
            ian,
            "/api/v1/verifications",
            {"peer": "CN", "subject": sparse, "grounds": "Removal order", "reference": "A-2"},
        )
        gid, us_id = opened["global_id"], opened["id"]
        cn_id = wait_until(lambda: _case_on(vera, gid), "the case on CN")["id"]
        supply = {
            "step": "information_supplied",
            "information": "born in Putian; father Lin Guoqiang",
            "subject": {"place_of_birth": "Putian", "date_of_birth": "1985-07-14"},
        }
        # Nothing was asked yet: the step cannot follow `requested`.
        early = ian.post(f"/api/v1/verifications/{us_id}/steps", json=supply)
        assert early.status_code == 409 and "information_requested" in early.json()["detail"]
        _post(
            vera,
            f"/api/v1/verifications/{cn_id}/decision",
            {"decision": "information_requested", "reason": "hundreds of Lin Akou born 1985"},
        )
        wait_until(lambda: _status_on(ian, gid, "information_requested"), "the request on US")
        # Only the requesting side supplies; a field that is not the subject's is refused.
        assert vera.post(f"/api/v1/verifications/{cn_id}/steps", json=supply).status_code == 403
        odd = {**supply, "subject": {"favourite_colour": "blue"}}
        assert ian.post(f"/api/v1/verifications/{us_id}/steps", json=odd).status_code == 422
        _post(ian, f"/api/v1/verifications/{us_id}/steps", supply)
        assert _case_on(ian, gid)["due_step"] == "decision"  # type: ignore[index]
        wait_until(lambda: _status_on(vera, gid, "requested"), "back to matching on CN")
        for client, case_id in ((vera, cn_id), (ian, us_id)):
            detail = client.get(
                f"/api/v1/verifications/{case_id}", params={"reason": "re-match"}
            ).json()
            assert detail["subject"]["place_of_birth"] == "Putian"
            assert detail["subject"]["date_of_birth"] == "1985-07-14"
            assert detail["subject"]["family_name"] == "Lim"
            step = next(e for e in detail["events"] if e["name"] == "information_supplied")
            assert step["data"]["information"] == "born in Putian; father Lin Guoqiang"
        # Decided again on the supplied information.
        _post(
            vera,
            f"/api/v1/verifications/{cn_id}/decision",
            {"decision": "not_confirmed", "reason": "no such person born in Putian"},
        )
        wait_until(lambda: _status_on(ian, gid, "not_confirmed"), "the second decision on US")
        written = _audited(pair.us, "verification.event_written")
        received = _audited(pair.cn, "verification.event_received")
        assert any('"information_supplied"' in detail for detail in written)
        assert any('"information_supplied"' in detail for detail in received)
        for node in (pair.us, pair.cn):
            assert _tables_containing(node, ("Putian", "Guoqiang")) == []
    finally:
        for client in (ian, vera):
            client.close()


def _audited(node: NodeProcess, action: str) -> list[str]:
    from liaison.store.audit import AuditEntry

    with node.database().engine.connect() as connection:
        rows = connection.execute(
            sa.select(AuditEntry.detail).where(AuditEntry.action == action)
        ).scalars()
        return [str(detail) for detail in rows]


def _tables_containing(node: NodeProcess, needles: tuple[str, ...]) -> list[str]:
    engine = node.database().engine
    found = []
    with engine.connect() as connection:
        for table in sa.inspect(engine).get_table_names():
            rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            text = repr(rows)
            found += [f"{table}: {needle}" for needle in needles if needle in text]
    return found

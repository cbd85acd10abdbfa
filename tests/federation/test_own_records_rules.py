"""The own-records request in one process: US answers CN, signed, with the records of CN's
stream it applied past a position; a replayed request, or one not signed by CN, is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.federation import envelope as env
from liaison.federation.resync import ANSWER_KIND, REQUEST_KIND, answer_own_records_request
from liaison.store.federation_tables import Peer, PeerInbound, PeerInboundRecord
from support import UsNode, us_with_stopped_cn


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        with us.database.session() as session:
            [cn] = session.query(Peer).all()
            for seq in range(1, 6):
                session.add(
                    PeerInboundRecord(
                        peer_id=cn.id,
                        seq=seq,
                        record_type="hotline.message",
                        payload=json.dumps({"global_id": f"m{seq}", "body": "短信"}),
                    )
                )
            session.add(PeerInbound(peer_id=cn.id, last_applied_seq=5))
            session.commit()
        yield us


def _ask(us: UsNode, request: env.Envelope) -> dict[str, Any]:
    with us.database.session() as session:
        return answer_own_records_request(session, us.node, request.to_json(), address="127.0.0.1")


def test_the_records_past_the_position_come_back_signed_and_a_replay_is_refused(
    us: UsNode,
) -> None:
    request = env.seal(us.cn_key, sender="CN", recipient="US", kind=REQUEST_KIND, body={"after": 2})
    answer = _ask(us, request)
    body = env.verify(
        env.parse(answer),
        env.public_key_from_text(us.node.public_key),
        recipient="CN",
        kind=ANSWER_KIND,
        window_seconds=300,
    )
    assert body["request_nonce"] == request.nonce and body["last_applied"] == 5
    assert [r["seq"] for r in body["records"]] == [3, 4, 5]
    assert body["records"][0]["payload"] == {"global_id": "m3", "body": "短信"}
    with pytest.raises(env.EnvelopeRejected) as replay:
        _ask(us, request)
    assert replay.value.reason == "replay"


def test_a_request_not_signed_by_the_peer_is_refused(us: UsNode) -> None:
    impostor = Ed25519PrivateKey.generate()
    request = env.seal(impostor, sender="CN", recipient="US", kind=REQUEST_KIND, body={"after": 0})
    with pytest.raises(env.EnvelopeRejected):
        _ask(us, request)

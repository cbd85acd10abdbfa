"""A signed question to a peer and its signed answer, for what is asked outside the record
stream: audit checkpoints, a restored node's own records, a new signing key."""

from __future__ import annotations

from typing import Any

import httpx

from liaison.errors import InvalidInput
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode


def ask_peer(
    node: LocalNode,
    client: httpx.Client,
    *,
    peer: str,
    url: str,
    peer_key: str,
    kind: str,
    answer_kind: str,
    body: Any,
) -> dict[str, Any]:
    """POST `body` sealed as `kind` to `url`; the answer's body, once its signature is the
    peer's, it is addressed to this node as `answer_kind` and it names this question's nonce
    (an answer replayed from another question is refused). InvalidInput otherwise."""
    question = env.seal(node.private_key, sender=node.name, recipient=peer, kind=kind, body=body)
    response = client.post(url, json=question.to_json())
    if response.status_code != 200:
        raise InvalidInput(f"HTTP {response.status_code}: {response.text[:300]}")
    answer = env.verify(
        env.parse(response.json()),
        env.public_key_from_text(peer_key),
        recipient=node.name,
        kind=answer_kind,
        window_seconds=node.settings.federation_clock_window_seconds,
    )
    if not isinstance(answer, dict) or answer.get("request_nonce") != question.nonce:
        raise InvalidInput(f"the answer is not for this {kind} (nonce differs)")
    return answer

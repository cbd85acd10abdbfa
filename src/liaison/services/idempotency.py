"""Idempotent POSTs: a client that retries with the same `Idempotency-Key` (after a lost
answer or a crash) gets the first answer again instead of a second record.

Keys are per user and kept for KEY_LIFETIME. The answer is stored in the transaction that
writes the record, so either both exist or neither; two retries racing each other meet at
the unique (user, key) constraint and the loser answers with the winner's result.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.store.base import utcnow
from liaison.store.idempotency import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: Any


def check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise InvalidInput(
            T("the Idempotency-Key header must be 1 to 200 visible ASCII characters (e.g. a UUID)")
        )


def request_hash(method: str, path: str, body: Any) -> str:
    text = json.dumps([method, path, body], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def stored_answer(
    session: Session, user_id: int, key: str, fingerprint: str
) -> StoredAnswer | None:
    """The answer first given to this user's `key`, if it has not expired."""
    row = session.execute(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at > utcnow(),
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise InvalidInput(
            T(
                "the Idempotency-Key %(key)s was already used for another request; use "
                "a new key for a new request",
                key=repr(key),
            )
        )
    return StoredAnswer(row.status, json.loads(row.response))


def remember_answer(
    session: Session, user_id: int, key: str, fingerprint: str, status: int, body: Any
) -> None:
    """Keep the answer in the caller's transaction (expired keys are dropped first)."""
    now = utcnow()
    session.execute(
        sa.delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.expires_at <= now
        )
    )
    session.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            request_hash=fingerprint,
            status=status,
            response=json.dumps(body),
            created_at=now,
            expires_at=now + KEY_LIFETIME,
        )
    )
    session.flush()

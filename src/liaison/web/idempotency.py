"""`Idempotency-Key` on API POSTs that create records (liaison.services.idempotency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liaison.services import idempotency
from liaison.web.auth import Principal

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader: Any = Header(
    default=None,
    alias="Idempotency-Key",
    description="Any unique string (e.g. a UUID): a retry with the same key and request "
    "gets the first answer again (for 24 hours) instead of creating a second record.",
)


def create_once(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    create: Callable[[], BaseModel],
    status: int = 201,
) -> Any:
    """Run `create` and commit, or answer as the first request with this key was answered."""
    if key is None:
        result = create()
        session.commit()
        return result
    idempotency.check_key(key)
    user_id = principal.user.id
    fingerprint = idempotency.request_hash(
        request.method, request.url.path, body.model_dump(mode="json")
    )
    answer = idempotency.stored_answer(session, user_id, key, fingerprint)
    if answer is None:
        result = create()
        try:
            idempotency.remember_answer(
                session, user_id, key, fingerprint, status, result.model_dump(mode="json")
            )
            session.commit()
        except IntegrityError:
            # A retry with the same key committed first: this record is rolled back.
            session.rollback()
            answer = idempotency.stored_answer(session, user_id, key, fingerprint)
            if answer is None:
                raise
        else:
            return result
    return JSONResponse(answer.body, status_code=answer.status, headers={REPLAYED_HEADER: "true"})

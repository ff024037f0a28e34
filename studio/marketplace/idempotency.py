"""``Idempotency-Key``: a repeated mutating request returns the first response, changing nothing.

Keys are per user.  The stored response is written in the same transaction as the change it
describes, so either both exist or neither does; two concurrent requests with one key race on
the (user, key) unique constraint and the loser's change is rolled back and replaced by the
winner's response.  A key reused for a different request (method, path or body) is a 422.
Failed requests (4xx) are not stored: retrying them with the same key runs them again.

Anonymous endpoints (register, log-in, refresh) accept the header and ignore it: their
responses carry fresh secrets, which are never stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, Callable

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from studio.marketplace.deps import Ctx
from studio.marketplace.errors import ApiError
from studio.marketplace.models import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"
MAX_KEY = 200


def _request_hash(ctx: Ctx, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    text = json.dumps([ctx.request.method, ctx.request.url.path, payload], sort_keys=True,
                      ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _valid_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY) or not key.isprintable() or not key.isascii():
        raise ApiError(422, f"The {HEADER} header must be 1–{MAX_KEY} printable ASCII "
                       "characters (a UUID is a good key).", "invalid_idempotency_key")
    return key


def _lookup(ctx: Ctx, key: str) -> IdempotencyKey | None:
    return ctx.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.user_id == ctx.user_id, IdempotencyKey.key == key))


def _replay(row: IdempotencyKey, request_hash: str, key: str) -> JSONResponse:
    if row.request_hash != request_hash:
        raise ApiError(422, f"The {HEADER} {key!r} was already used for a different request "
                       f"({row.method} {row.path} with another body); use a new key for a new "
                       "request.", "idempotency_key_reused")
    return JSONResponse(row.response, status_code=row.status_code,
                        headers={"Idempotent-Replayed": "true"})


def run(ctx: Ctx, body: BaseModel | None, action: Callable[[], Any],
        status_code: int = 200) -> JSONResponse:
    """Run ``action`` (which must not commit) once per (user, key) and commit its result."""
    raw_key = ctx.request.headers.get(HEADER)
    if raw_key is None or ctx.user is None:
        payload = jsonable_encoder(action())
        ctx.commit()
        return JSONResponse(payload, status_code=status_code)
    key = _valid_key(raw_key)
    request_hash = _request_hash(ctx, body)
    existing = _lookup(ctx, key)
    if existing is not None:
        return _replay(existing, request_hash, key)
    payload = jsonable_encoder(action())
    now = utcnow()
    ctx.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == ctx.user_id,
        IdempotencyKey.created_at < now - timedelta(days=ctx.settings.idempotency_days)))
    ctx.session.add(IdempotencyKey(
        user_id=ctx.user_id, key=key, method=ctx.request.method,
        path=ctx.request.url.path[:300], request_hash=request_hash,
        status_code=status_code, response=payload, created_at=now))
    try:
        ctx.commit()
    except IntegrityError:
        ctx.session.rollback()
        winner = _lookup(ctx, key)
        if winner is None:
            raise
        return _replay(winner, request_hash, key)
    return JSONResponse(payload, status_code=status_code)

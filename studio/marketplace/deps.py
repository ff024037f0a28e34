"""The per-request context: one database session whose transactions carry the caller's id.

Reads use the read engine, everything else the write engine.  A bearer token, when sent, is
checked before the handler runs (a bad token is a 401 even where logging in is optional).
Handlers commit explicitly; whatever is not committed is rolled back when the request ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from studio.marketplace.auth import authenticate
from studio.marketplace.db import Database
from studio.marketplace.errors import unauthorized
from studio.marketplace.models import AuthToken, User
from studio.marketplace.settings import Settings

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Ctx:
    request: Request
    db: Database
    settings: Settings
    session: Session
    user: User | None = None
    token: AuthToken | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    def require_user(self) -> User:
        if self.user is None:
            raise unauthorized("This request needs you to be logged in: send "
                               "'Authorization: Bearer <access token>'.")
        return self.user

    def expose_story(self, public_id: str) -> None:
        """The request names this story: an unlisted one becomes readable (by link)."""
        self.db.set_rls(self.session, "app.story_ref", public_id)

    def commit(self) -> None:
        self.session.commit()

    @property
    def client(self) -> str:
        return self.request.client.host if self.request.client else "unknown"


def get_ctx(request: Request) -> Iterator[Ctx]:
    state = request.app.state
    session = state.db.session(write=request.method not in READ_METHODS)
    try:
        ctx = Ctx(request, state.db, state.settings, session)
        header = request.headers.get("authorization")
        if header:
            ctx.user, ctx.token = authenticate(state.db, session, header)
        yield ctx
    finally:
        session.close()


def get_user_ctx(ctx: Ctx = Depends(get_ctx)) -> Ctx:
    ctx.require_user()
    return ctx

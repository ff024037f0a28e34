"""Accounts and sessions: register, log in, refresh, log out, who am I; admins set roles."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from studio.marketplace import auth, idempotency
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.errors import ApiError, forbidden
from studio.marketplace.models import Story, User
from studio.marketplace.models_ops import DELETED_PREFIX
from studio.marketplace.routers.common import stories_out
from studio.marketplace.schemas import USERNAME_RE, ChangeRole, Login, Refresh, Register

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post("/accounts", status_code=201, summary="Create an account")
def register(body: Register, ctx: Ctx = Depends(get_ctx)) -> JSONResponse:
    taken = ctx.session.scalar(select(User.id).where(User.username == body.username))
    if taken is not None:
        raise ApiError(409, f"The username {body.username!r} is taken; choose another.",
                       "username_taken")
    user = User(username=body.username, password_hash=auth.hash_password(body.password),
                role="user")
    ctx.session.add(user)
    try:
        ctx.commit()
    except IntegrityError:
        raise ApiError(409, f"The username {body.username!r} is taken; choose another.",
                       "username_taken") from None
    return JSONResponse(jsonable_encoder(auth.user_out(user)), status_code=201)


@router.post("/auth/login", summary="Log in: an access token and a refresh token")
def login(body: Login, ctx: Ctx = Depends(get_ctx)) -> dict:
    result = auth.login(ctx.db, ctx.session, ctx.settings, body.username, body.password,
                        ctx.client)
    ctx.commit()
    return result


@router.post("/auth/refresh", summary="Trade a refresh token for a new pair (rotation)")
def refresh(body: Refresh, ctx: Ctx = Depends(get_ctx)) -> dict:
    result = auth.refresh(ctx.db, ctx.session, ctx.settings, body.refresh_token)
    ctx.commit()
    return result


@router.post("/auth/logout", summary="Revoke this session's tokens")
def logout(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    auth.revoke_session(ctx.session, ctx.token.session_id, "logout")
    ctx.commit()
    return {"logged_out": True}


@router.get("/accounts/me", summary="The logged-in account")
def me(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    return auth.user_out(ctx.user)


@router.get("/accounts/me/stories", summary="My stories, unlisted ones included")
def my_stories(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    # A deleted story keeps its row for the forks that reference it, under a retired id.
    stories = list(ctx.session.scalars(select(Story).where(
        Story.owner_id == ctx.user_id, Story.public_id.not_like(DELETED_PREFIX + "%"))
        .order_by(Story.updated_at.desc(), Story.id.desc())))
    return {"items": stories_out(ctx, stories)}


@router.put("/admin/users/{username}/role", summary="Set an account's role (admins only)")
def set_role(body: ChangeRole, username: str = Path(pattern=USERNAME_RE),
             ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    if ctx.user.role != "admin":
        raise forbidden("Only admins can change roles.")

    def action() -> dict:
        user = ctx.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise ApiError(404, f"No account {username!r}.", "not_found")
        user.role = body.role
        ctx.session.flush()
        return auth.user_out(user)

    return idempotency.run(ctx, body, action)

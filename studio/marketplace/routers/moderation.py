"""Moderation and quotas: users flag items, moderators resolve flags and hide or unhide items;
every user reads their quota, admins set tiers.

- Any logged-in user may flag a story, community chapter or voice template they can see (not
  their own) with a reason; one open flag per user and item.  A user's flags are private to
  them and to moderators (row-level security on PostgreSQL).
- Moderators and admins list flags (oldest first), dismiss a flag, or hide its item — which
  resolves every open flag on that item.  They may also hide or unhide an item directly.  A
  hidden item vanishes from every list and is 404 by id, except to its owner (marked) and to
  moderators.  Everyone else gets 403 on these endpoints.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from studio.marketplace import idempotency, quotas
from studio.marketplace.deps import Ctx, get_user_ctx
from studio.marketplace.errors import ApiError, forbidden, not_found
from studio.marketplace.models import Story, User, utcnow
from studio.marketplace.models_community import (
    FLAG_ITEM_KINDS, FLAG_STATUSES, CommunityChapter, ModerationFlag, VoiceTemplate,
)
from studio.marketplace.routers.common import load_story, new_public_id
from studio.marketplace.routers.community import single_valued_query
from studio.marketplace.schemas import USERNAME_RE
from studio.marketplace.schemas_community import (
    FLAG_ID_RE, ITEM_ID_RE, ITEM_PREFIXES, ReportItem, ResolveFlag, SetTier,
)
from studio.marketplace.security_community import (
    check_not_hidden, is_moderator, visible_flag_clause, visible_item_clause,
)
from studio.marketplace.settings import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1", tags=["moderation"],
                   dependencies=[Depends(single_valued_query)])

FlagId = Annotated[str, Path(pattern=FLAG_ID_RE, description="a flag id, fl_…")]
ItemKind = Annotated[Literal[FLAG_ITEM_KINDS], Path(description="story, chapter or "
                                                    "voice_template")]
ItemId = Annotated[str, Path(pattern=ITEM_ID_RE, description="st_…, ch_… or vt_…")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

MODELS = {"story": Story, "chapter": CommunityChapter, "voice_template": VoiceTemplate}
FLAG_COLUMNS = {"story": "story_id", "chapter": "chapter_id", "voice_template": "template_id"}
NAMES = {"story": "story", "chapter": "community chapter", "voice_template": "voice template"}


def _require_moderator(ctx: Ctx) -> None:
    if not is_moderator(ctx.user):
        raise forbidden("Only moderators and admins can do this.")


def _title(item) -> str:
    return item.name if isinstance(item, VoiceTemplate) else item.title


def _check_id(kind: str, public_id: str) -> None:
    if not public_id.startswith(ITEM_PREFIXES[kind]):
        raise ApiError(422, f"A {NAMES[kind]} id starts with {ITEM_PREFIXES[kind]!r}.",
                       "invalid_request")


def _reportable(ctx: Ctx, kind: str, public_id: str):
    """The item as the reporter sees it: visible to them and not hidden from them."""
    if kind == "story":
        item = load_story(ctx, public_id)
    else:
        model = MODELS[kind]
        ctx.expose_story(public_id)
        item = ctx.session.scalar(select(model).where(
            model.public_id == public_id, visible_item_clause(model, ctx.user, public_id)))
        if item is None:
            raise not_found(NAMES[kind], public_id)
    check_not_hidden(ctx.user, item, NAMES[kind], public_id)
    return item


def _moderated_item(ctx: Ctx, kind: str, public_id: str, pk: int | None = None):
    """Any item, for a moderator (the policies let moderators read every row); by its key
    when a flag names it (a deleted story's public id changes)."""
    _check_id(kind, public_id)
    model = MODELS[kind]
    where = model.id == pk if pk is not None else model.public_id == public_id
    item = ctx.session.scalar(select(model).where(where))
    if item is None:
        raise not_found(NAMES[kind], public_id)
    if ctx.db.is_postgres:
        ctx.session.refresh(item, with_for_update=True)
    return item


def _item_out(ctx: Ctx, kind: str, item) -> dict:
    owner = ctx.session.scalar(select(User.username).where(User.id == item.owner_id))
    return {"type": kind, "id": item.public_id, "title": _title(item), "owner": owner,
            "hidden": item.hidden}


def flags_out(ctx: Ctx, flags: list[ModerationFlag]) -> list[dict]:
    """A reporter sees what they reported and what became of it; moderators see more."""
    if not flags:
        return []
    moderator = is_moderator(ctx.user)
    extra: dict[int, dict] = {}
    if moderator:
        items: dict[tuple[str, int], object] = {}
        for kind, model in MODELS.items():
            ids = [getattr(f, FLAG_COLUMNS[kind]) for f in flags if f.item_kind == kind]
            if ids:
                items.update(((kind, x.id), x) for x in ctx.session.scalars(
                    select(model).where(model.id.in_(ids))))
        users = {f.reporter_id for f in flags} | {f.resolved_by_id for f in flags}
        users |= {x.owner_id for x in items.values()}
        names = dict(ctx.session.execute(select(User.id, User.username)
                                         .where(User.id.in_(users - {None}))).all())
        open_counts = dict(ctx.session.execute(
            select(ModerationFlag.open_item, func.count())
            .where(ModerationFlag.open_item.in_({f.item_public_id for f in flags}))
            .group_by(ModerationFlag.open_item)).all())
        for f in flags:
            item = items.get((f.item_kind, getattr(f, FLAG_COLUMNS[f.item_kind])))
            extra[f.id] = {
                "item": {"type": f.item_kind, "id": f.item_public_id,
                         "title": _title(item) if item else None,
                         "owner": names.get(item.owner_id) if item else None,
                         "hidden": item.hidden if item else None,
                         "open_flags": open_counts.get(f.item_public_id, 0)},
                "reporter": names.get(f.reporter_id),
                "resolved_by": names.get(f.resolved_by_id),
                "resolution_note": f.resolution_note,
            }
    return [{
        "id": f.public_id, "item": {"type": f.item_kind, "id": f.item_public_id},
        "reason": f.reason, "note": f.note, "status": f.status, "created_at": f.created_at,
        "resolved_at": f.resolved_at, **extra.get(f.id, {}),
    } for f in flags]


def _page(ctx: Ctx, query, order, limit: int, offset: int) -> dict:
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery()))
    flags = list(ctx.session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    next_offset = offset + len(flags) if offset + len(flags) < total else None
    return {"items": flags_out(ctx, flags), "total": total, "limit": limit, "offset": offset,
            "next_offset": next_offset}


def _close(ctx: Ctx, flags: list[ModerationFlag], status: str, note: str) -> list[str]:
    now = utcnow()
    for flag in flags:
        flag.status, flag.open_item = status, None
        flag.resolved_by_id, flag.resolved_at, flag.resolution_note = ctx.user_id, now, note
    ctx.session.flush()
    return [f.public_id for f in flags]


def _hide(ctx: Ctx, kind: str, item, note: str) -> list[str]:
    """Hide the item and resolve its open flags as 'hidden'."""
    item.hidden = True
    open_flags = list(ctx.session.scalars(select(ModerationFlag).where(
        getattr(ModerationFlag, FLAG_COLUMNS[kind]) == item.id,
        ModerationFlag.status == "open")))
    return _close(ctx, open_flags, "hidden", note)


# --- flags -------------------------------------------------------------------------------

@router.post("/flags", status_code=201, summary="Report a story, chapter or voice template")
def report(body: ReportItem, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        kind, what = body.item_type, NAMES[body.item_type]
        item = _reportable(ctx, kind, body.item_id)
        if item.owner_id == ctx.user_id:
            raise ApiError(422, f"You cannot report your own {what}.", "own_item")
        existing = ctx.session.scalar(select(ModerationFlag).where(
            ModerationFlag.reporter_id == ctx.user_id,
            ModerationFlag.open_item == item.public_id))
        if existing is not None:
            raise ApiError(409, f"You already reported this {what} (flag {existing.public_id}"
                           ", still open); a moderator will look at it.", "already_reported",
                           flag_id=existing.public_id)
        flag = ModerationFlag(
            public_id=new_public_id("fl_"), reporter_id=ctx.user_id, item_kind=kind,
            item_public_id=item.public_id, reason=body.reason, note=body.note,
            status="open", open_item=item.public_id, resolution_note="",
            created_at=utcnow(), **{FLAG_COLUMNS[kind]: item.id})
        ctx.session.add(flag)
        ctx.session.flush()
        return flags_out(ctx, [flag])[0]

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/accounts/me/flags", summary="The flags I reported, newest first")
def my_flags(ctx: Ctx = Depends(get_user_ctx), limit: Limit = 20,
             offset: Offset = 0) -> dict:
    query = select(ModerationFlag).where(ModerationFlag.reporter_id == ctx.user_id)
    return _page(ctx, query, [ModerationFlag.created_at.desc(), ModerationFlag.id.desc()],
                 limit, offset)


@router.get("/moderation/flags", summary="Flags to review, oldest first (moderators)")
def list_flags(
    ctx: Ctx = Depends(get_user_ctx),
    status: Literal[FLAG_STATUSES + ("all",)] = "open",
    item_type: Literal[FLAG_ITEM_KINDS] | None = None,
    limit: Limit = 20, offset: Offset = 0,
) -> dict:
    _require_moderator(ctx)
    query = select(ModerationFlag).where(visible_flag_clause(ctx.user))
    if status != "all":
        query = query.where(ModerationFlag.status == status)
    if item_type:
        query = query.where(ModerationFlag.item_kind == item_type)
    return _page(ctx, query, [ModerationFlag.created_at, ModerationFlag.id], limit, offset)


@router.post("/moderation/flags/{flag_id}/resolve",
             summary="Dismiss a flag, or hide its item (resolving all its open flags)")
def resolve(body: ResolveFlag, flag_id: FlagId,
            ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    _require_moderator(ctx)

    def action() -> dict:
        flag = ctx.session.scalar(select(ModerationFlag)
                                  .where(ModerationFlag.public_id == flag_id))
        if flag is None:
            raise not_found("flag", flag_id)
        if ctx.db.is_postgres:
            ctx.session.refresh(flag, with_for_update=True)
        if flag.status != "open":
            raise ApiError(409, f"This flag was already resolved ({flag.status}); nothing "
                           "to do.", "already_resolved", flag_status=flag.status)
        kind = flag.item_kind
        item = _moderated_item(ctx, kind, flag.item_public_id,
                               getattr(flag, FLAG_COLUMNS[kind]))
        if body.action == "dismiss":
            closed = _close(ctx, [flag], "dismissed", body.note)
        else:
            closed = _hide(ctx, kind, item, body.note)
        return {"flag": flags_out(ctx, [flag])[0], "item": _item_out(ctx, kind, item),
                "closed_flags": closed}

    return idempotency.run(ctx, body, action)


@router.post("/moderation/items/{item_type}/{item_id}/hide",
             summary="Hide an item from everyone but its owner and moderators")
def hide(item_type: ItemKind, item_id: ItemId, ctx: Ctx = Depends(get_user_ctx)
         ) -> JSONResponse:
    _require_moderator(ctx)

    def action() -> dict:
        item = _moderated_item(ctx, item_type, item_id)
        closed = _hide(ctx, item_type, item, "hidden directly")
        return {"item": _item_out(ctx, item_type, item), "closed_flags": closed}

    return idempotency.run(ctx, None, action)


@router.post("/moderation/items/{item_type}/{item_id}/unhide",
             summary="Show a hidden item again")
def unhide(item_type: ItemKind, item_id: ItemId, ctx: Ctx = Depends(get_user_ctx)
           ) -> JSONResponse:
    _require_moderator(ctx)

    def action() -> dict:
        item = _moderated_item(ctx, item_type, item_id)
        item.hidden = False
        ctx.session.flush()
        return {"item": _item_out(ctx, item_type, item), "closed_flags": []}

    return idempotency.run(ctx, None, action)


@router.get("/moderation/hidden", summary="Hidden items of one type (moderators)")
def hidden_items(ctx: Ctx = Depends(get_user_ctx),
                 item_type: Literal[FLAG_ITEM_KINDS] = "story",
                 limit: Limit = 20, offset: Offset = 0) -> dict:
    _require_moderator(ctx)
    model = MODELS[item_type]
    query = select(model).where(model.hidden.is_(True))
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(ctx.session.scalars(query.order_by(model.id.desc()).limit(limit)
                                     .offset(offset)))
    next_offset = offset + len(items) if offset + len(items) < total else None
    return {"items": [_item_out(ctx, item_type, x) for x in items], "total": total,
            "limit": limit, "offset": offset, "next_offset": next_offset}


# --- quotas ------------------------------------------------------------------------------

@router.get("/accounts/me/quota", tags=["quotas"], summary="My tier, limits and usage")
def my_quota(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    return quotas.quota_out(ctx, ctx.user)


@router.put("/admin/users/{username}/tier", tags=["quotas"],
            summary="Set an account's tier (admins only)")
def set_tier(body: SetTier, username: str = Path(pattern=USERNAME_RE),
             ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    if ctx.user.role != "admin":
        raise forbidden("Only admins can change tiers.")

    def action() -> dict:
        user = ctx.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise ApiError(404, f"No account {username!r}.", "not_found")
        user.tier = body.tier
        ctx.session.flush()
        return {"username": user.username, "role": user.role, "tier": user.tier,
                "limits": quotas.limits_of(ctx, user).out()}

    return idempotency.run(ctx, body, action)

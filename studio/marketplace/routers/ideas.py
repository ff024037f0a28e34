"""The ideas board: curated categories and topics, and the story prompts users submit.

Categories and topics are created and changed by moderators and admins, deleted by admins
(only while no idea uses them), read by everyone.  A submitted idea is ``pending`` until a
moderator approves or rejects it (a rejection carries a reason).  Approved ideas are public;
pending and rejected ones are visible to their author and to moderators only — on PostgreSQL
the ``ideas_*`` policies of migration 0003 enforce that in the database, and
``visible_idea_clause`` applies the same rule in every query on both backends.  The author may
edit their idea (which sends it back to review) or delete it; moderators may delete any.

(No ``from __future__ import annotations`` here: the curated routes are made in a function,
and FastAPI must see their body types as objects, not as names.)
"""

import secrets
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import exists, or_, select, true, tuple_

from studio.marketplace import idempotency
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.errors import ApiError, forbidden, not_found
from studio.marketplace.models import User, utcnow
from studio.marketplace.models_ops import Idea, IdeaCategory, IdeaTag, IdeaTopic
from studio.marketplace.schemas import Tag
from studio.marketplace.schemas_ops import (
    IDEA_ID_RE, MAX_IDEA_TAGS, SLUG_RE, NewCategory, NewIdea, NewTopic, Review, UpdateCategory,
    UpdateIdea, UpdateTopic, decode_cursor, encode_cursor,
)
from studio.marketplace.security_community import is_moderator
from studio.marketplace.settings import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/ideas", tags=["ideas"])

IdeaId = Annotated[str, Path(pattern=IDEA_ID_RE, description="an idea id, idea_…")]
SlugPath = Annotated[str, Path(pattern=SLUG_RE)]


def visible_idea_clause(user: User | None):
    """The query-layer twin of the ``ideas_read`` policy."""
    if is_moderator(user):
        return true()
    if user is None:
        return Idea.status == "approved"
    return or_(Idea.status == "approved", Idea.author_id == user.id)


def _require_moderator(ctx: Ctx) -> None:
    if not is_moderator(ctx.require_user()):
        raise forbidden("Only moderators and admins can do this.")


def _require_admin(ctx: Ctx) -> None:
    user = ctx.require_user()
    if user.role != "admin" or user.disabled:
        raise forbidden("Only admins can do this.")


# --- categories and topics ---------------------------------------------------------------

def _curated_out(row) -> dict:
    return {"slug": row.slug, "name": row.name, "description": row.description,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _curated_routes(model, what: str, path: str, new_body, update_body) -> None:
    """GET list, POST, PATCH and DELETE of one curated kind (categories or topics)."""

    def find(ctx: Ctx, slug: str):
        row = ctx.session.scalar(select(model).where(model.slug == slug))
        if row is None:
            raise not_found(what, slug)
        return row

    @router.get(f"/{path}", summary=f"The {what} list (everyone)", name=f"list_{path}")
    def list_rows(ctx: Ctx = Depends(get_ctx)) -> dict:
        rows = ctx.session.scalars(select(model).order_by(model.name, model.slug))
        return {"items": [_curated_out(r) for r in rows]}

    @router.post(f"/{path}", status_code=201, summary=f"Create a {what} (moderators, admins)",
                 name=f"create_{path}")
    def create(body: new_body, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
        _require_moderator(ctx)

        def action() -> dict:
            if ctx.session.scalar(select(model.id).where(model.slug == body.slug)):
                raise ApiError(409, f"A {what} {body.slug!r} exists already.", "exists")
            now = utcnow()
            row = model(slug=body.slug, name=body.name, description=body.description,
                        created_at=now, updated_at=now)
            ctx.session.add(row)
            ctx.session.flush()
            return _curated_out(row)

        return idempotency.run(ctx, body, action, status_code=201)

    @router.patch(f"/{path}/{{slug}}", summary=f"Rename or describe a {what} (moderators, "
                  "admins)", name=f"update_{path}")
    def change(body: update_body, slug: SlugPath,
               ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
        _require_moderator(ctx)

        def action() -> dict:
            row = find(ctx, slug)
            for name in ("name", "description"):
                if getattr(body, name) is not None:
                    setattr(row, name, getattr(body, name))
            row.updated_at = utcnow()
            ctx.session.flush()
            return _curated_out(row)

        return idempotency.run(ctx, body, action)

    @router.delete(f"/{path}/{{slug}}", summary=f"Delete an unused {what} (admins)",
                   name=f"delete_{path}")
    def remove(slug: SlugPath, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
        _require_admin(ctx)

        def action() -> dict:
            row = find(ctx, slug)
            column = Idea.category_id if model is IdeaCategory else Idea.topic_id
            if ctx.session.scalar(select(Idea.id).where(column == row.id).limit(1)):
                raise ApiError(409, f"Ideas use the {what} {slug!r}; move them first.",
                               "in_use")
            ctx.session.delete(row)
            ctx.session.flush()
            return {"deleted": slug}

        return idempotency.run(ctx, None, action)


_curated_routes(IdeaCategory, "category", "categories", NewCategory, UpdateCategory)
_curated_routes(IdeaTopic, "topic", "topics", NewTopic, UpdateTopic)


# --- ideas -------------------------------------------------------------------------------

def _category(ctx: Ctx, slug: str) -> IdeaCategory:
    row = ctx.session.scalar(select(IdeaCategory).where(IdeaCategory.slug == slug))
    if row is None:
        raise ApiError(422, f"There is no category {slug!r} (GET /v1/ideas/categories lists "
                       "them).", "unknown_category")
    return row


def _topic(ctx: Ctx, slug: str | None) -> IdeaTopic | None:
    if slug is None:
        return None
    row = ctx.session.scalar(select(IdeaTopic).where(IdeaTopic.slug == slug))
    if row is None:
        raise ApiError(422, f"There is no topic {slug!r} (GET /v1/ideas/topics lists them).",
                       "unknown_topic")
    return row


def _set_tags(ctx: Ctx, idea: Idea, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    current = set(ctx.session.scalars(select(IdeaTag.tag).where(IdeaTag.idea_id == idea.id)))
    stale = current - set(wanted)
    if stale:
        ctx.session.execute(IdeaTag.__table__.delete().where(
            IdeaTag.idea_id == idea.id, IdeaTag.tag.in_(stale)))
    ctx.session.add_all(IdeaTag(idea_id=idea.id, tag=t) for t in wanted if t not in current)


def _load(ctx: Ctx, public_id: str) -> Idea:
    idea = ctx.session.scalar(select(Idea).where(Idea.public_id == public_id,
                                                 visible_idea_clause(ctx.user)))
    if idea is None:
        raise not_found("idea", public_id)
    return idea


def ideas_out(ctx: Ctx, ideas: list[Idea]) -> list[dict]:
    if not ideas:
        return []
    s = ctx.session
    ids = [i.id for i in ideas]
    tags: dict[int, list[str]] = {}
    for idea_id, tag in s.execute(select(IdeaTag.idea_id, IdeaTag.tag)
                                  .where(IdeaTag.idea_id.in_(ids)).order_by(IdeaTag.tag)):
        tags.setdefault(idea_id, []).append(tag)
    categories = {c.id: c for c in s.scalars(select(IdeaCategory).where(
        IdeaCategory.id.in_({i.category_id for i in ideas})))}
    topic_ids = {i.topic_id for i in ideas if i.topic_id}
    topics = {t.id: t for t in s.scalars(select(IdeaTopic).where(IdeaTopic.id.in_(topic_ids)))} \
        if topic_ids else {}
    moderator = is_moderator(ctx.user)
    user_ids = {i.author_id for i in ideas} | ({i.reviewed_by for i in ideas if i.reviewed_by}
                                               if moderator else set())
    names = dict(s.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    out = []
    for i in ideas:
        category, topic = categories.get(i.category_id), topics.get(i.topic_id)
        item = {
            "id": i.public_id, "title": i.title, "prompt": i.prompt,
            "tags": tags.get(i.id, []),
            "category": {"slug": category.slug, "name": category.name} if category else None,
            "topic": {"slug": topic.slug, "name": topic.name} if topic else None,
            "author": names.get(i.author_id), "status": i.status,
            "created_at": i.created_at, "updated_at": i.updated_at,
            "reviewed_at": i.reviewed_at,
        }
        # The review's reason is for the author and the moderators only.
        if moderator or (ctx.user is not None and i.author_id == ctx.user.id):
            item["reason"] = i.reason
        if moderator:
            item["reviewed_by"] = names.get(i.reviewed_by)
        out.append(item)
    return out


@router.post("", status_code=201, summary="Submit an idea (pending until reviewed)")
def submit(body: NewIdea, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        category, topic = _category(ctx, body.category), _topic(ctx, body.topic)
        now = utcnow()
        idea = Idea(public_id="idea_" + secrets.token_urlsafe(12), author_id=ctx.user_id,
                    category_id=category.id, topic_id=topic.id if topic else None,
                    title=body.title, prompt=body.prompt, status="pending", created_at=now,
                    updated_at=now)
        ctx.session.add(idea)
        ctx.session.flush()
        _set_tags(ctx, idea, body.tags)
        ctx.session.flush()
        return ideas_out(ctx, [idea])[0]

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("", summary="Ideas: approved ones for everyone; your own and, for moderators, "
            "the review queue")
def list_ideas(
    ctx: Ctx = Depends(get_ctx),
    status: Literal["approved", "pending", "rejected"] | None = None,
    mine: Annotated[bool, Query(description="only ideas I submitted (any status)")] = False,
    category: Annotated[str | None, Query(pattern=SLUG_RE)] = None,
    topic: Annotated[str | None, Query(pattern=SLUG_RE)] = None,
    tags: Annotated[list[Tag], Query(max_length=MAX_IDEA_TAGS,
                                     description="any of these tags")] = [],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict:
    """Newest first.  Without ``status`` and ``mine`` the list is the public board (approved
    ideas); ``status=pending`` is the review queue for moderators, and a user's own pending
    ideas for anyone else."""
    if mine and ctx.user is None:
        ctx.require_user()
    query = select(Idea).where(visible_idea_clause(ctx.user))
    if mine:
        query = query.where(Idea.author_id == ctx.user_id)
    if status or not mine:
        query = query.where(Idea.status == (status or "approved"))
    if category:
        query = query.where(Idea.category_id == select(IdeaCategory.id).where(
            IdeaCategory.slug == category).scalar_subquery())
    if topic:
        query = query.where(Idea.topic_id == select(IdeaTopic.id).where(
            IdeaTopic.slug == topic).scalar_subquery())
    if tags:
        query = query.where(exists(select(IdeaTag.idea_id).where(
            IdeaTag.idea_id == Idea.id, IdeaTag.tag.in_(tags))))
    if cursor:
        created, last_id = decode_cursor(cursor, "ideas", (datetime, int))
        query = query.where(tuple_(Idea.created_at, Idea.id) < (created, last_id))
    rows = list(ctx.session.scalars(query.order_by(Idea.created_at.desc(), Idea.id.desc())
                                    .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": ideas_out(ctx, rows), "limit": limit,
            "next_cursor": encode_cursor("ideas", [rows[-1].created_at, rows[-1].id])
            if more else None}


@router.get("/{idea_id}", summary="An idea (approved; or yours; or any, for moderators)")
def get_idea(idea_id: IdeaId, ctx: Ctx = Depends(get_ctx)) -> dict:
    return ideas_out(ctx, [_load(ctx, idea_id)])[0]


@router.patch("/{idea_id}", summary="Edit your idea (it goes back to review)")
def update_idea(body: UpdateIdea, idea_id: IdeaId,
                ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        idea = _load(ctx, idea_id)
        if idea.author_id != ctx.user_id:
            raise forbidden("Only the idea's author can edit it.")
        changed = body.model_fields_set
        if changed:  # first: an author's row may only ever be written as pending
            idea.status, idea.reason, idea.reviewed_by, idea.reviewed_at = (
                "pending", None, None, None)
            idea.updated_at = utcnow()
        for name in ("title", "prompt"):
            if name in changed and getattr(body, name) is not None:
                setattr(idea, name, getattr(body, name))
        if "category" in changed and body.category is not None:
            idea.category_id = _category(ctx, body.category).id
        if "topic" in changed:
            topic = _topic(ctx, body.topic)
            idea.topic_id = topic.id if topic else None
        if "tags" in changed and body.tags is not None:
            _set_tags(ctx, idea, body.tags)
        ctx.session.flush()
        return ideas_out(ctx, [idea])[0]

    return idempotency.run(ctx, body, action)


@router.delete("/{idea_id}", summary="Delete an idea (its author, or a moderator)")
def delete_idea(idea_id: IdeaId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        idea = _load(ctx, idea_id)
        if idea.author_id != ctx.user_id and not is_moderator(ctx.user):
            raise forbidden("Only the idea's author or a moderator can delete it.")
        ctx.session.delete(idea)
        ctx.session.flush()
        return {"deleted": idea_id}

    return idempotency.run(ctx, None, action)


@router.post("/{idea_id}/review", summary="Approve or reject an idea (moderators, admins)")
def review(body: Review, idea_id: IdeaId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    _require_moderator(ctx)

    def action() -> dict:
        idea = _load(ctx, idea_id)
        now = utcnow()
        idea.status = "approved" if body.decision == "approve" else "rejected"
        idea.reason = body.reason
        idea.reviewed_by, idea.reviewed_at, idea.updated_at = ctx.user_id, now, now
        ctx.session.flush()
        return ideas_out(ctx, [idea])[0]

    return idempotency.run(ctx, body, action)


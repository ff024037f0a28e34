"""Reference stories: publish, new versions, browse and search, read, like, lineage."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import load_only

from studio.marketplace import content, idempotency
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.models import Like, Story, StoryDailyStats, StoryStats, StoryTag, \
    StoryVersion, User
from studio.marketplace.routers.common import (
    StoryId, VersionNumber, bump, create_story, load_story, load_version, owned_story,
    set_tags, stories_out, trending_since,
)
from studio.marketplace.schemas import (
    MAX_TAGS, NewVersion, PublishStory, Tag, Text, UpdateStory, USERNAME_RE,
)
from studio.marketplace.security import listed_story_clause
from studio.marketplace.settings import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/stories", tags=["stories"])


def _publish(ctx: Ctx, story, content_model, changelog: str) -> dict:
    data = content_model.model_dump()
    manifest = content.build_manifest(ctx.db, ctx.session, data["manuscript"])
    version = content.add_version(ctx.session, story, ctx.user, manifest, data, changelog)
    return {"story": stories_out(ctx, [story])[0], "version": version_out(version)}


def version_out(v: StoryVersion) -> dict:
    return {"number": v.number, "changelog": v.changelog, "created_at": v.created_at,
            "segment_count": v.segment_count}


@router.post("", status_code=201, summary="Publish a new story (its version 1)")
def publish(body: PublishStory, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = create_story(ctx, body)
        return _publish(ctx, story, body.content, body.changelog)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("", summary="Browse and search public stories")
def browse(
    ctx: Ctx = Depends(get_ctx),
    q: Annotated[Text | None, Query(max_length=200, description="words in title or "
                                    "description")] = None,
    genre: Annotated[Text | None, Query(max_length=60)] = None,
    tags: Annotated[list[Tag], Query(max_length=MAX_TAGS,
                                     description="any of these tags")] = [],
    owner: Annotated[str | None, Query(pattern=USERNAME_RE)] = None,
    sort: Literal["popular", "recent", "trending"] = "recent",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict:
    query = select(Story).join(StoryStats, StoryStats.story_id == Story.id) \
        .where(listed_story_clause())
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(or_(func.lower(Story.title).contains(needle, autoescape=True),
                                func.lower(Story.description).contains(needle,
                                                                       autoescape=True)))
    if genre:
        query = query.where(func.lower(Story.genre) == genre.strip().lower())
    if tags:
        query = query.where(exists(select(StoryTag.story_id).where(
            StoryTag.story_id == Story.id, StoryTag.tag.in_(tags))))
    if owner:
        query = query.where(Story.owner_id == select(User.id).where(User.username == owner)
                            .scalar_subquery())
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery()))
    if sort == "recent":
        query = query.order_by(Story.updated_at.desc(), Story.id.desc())
    elif sort == "popular":
        query = query.order_by((StoryStats.likes + StoryStats.forks).desc(),
                               Story.updated_at.desc(), Story.id.desc())
    else:
        recent = select(StoryDailyStats.story_id,
                        func.sum(StoryDailyStats.downloads).label("downloads")) \
            .where(StoryDailyStats.day >= trending_since(ctx.settings.trending_days)) \
            .group_by(StoryDailyStats.story_id).subquery()
        query = query.outerjoin(recent, recent.c.story_id == Story.id).order_by(
            func.coalesce(recent.c.downloads, 0).desc(),
            (StoryStats.likes + StoryStats.forks).desc(), Story.id.desc())
    stories = list(ctx.session.scalars(query.limit(limit).offset(offset)))
    next_offset = offset + len(stories) if offset + len(stories) < total else None
    return {"items": stories_out(ctx, stories), "total": total, "limit": limit,
            "offset": offset, "next_offset": next_offset, "sort": sort}


@router.get("/{story_id}", summary="A story (public, or unlisted by its id)")
def get_story(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = load_story(ctx, story_id)
    out = stories_out(ctx, [story])[0]
    bump(ctx, story.id, views=1, separate=True)
    out["stats"]["views"] += 1
    return out


@router.patch("/{story_id}", summary="Change a story's metadata (owner only)")
def update_story(body: UpdateStory, story_id: StoryId,
                 ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = owned_story(ctx, story_id)
        for name in ("title", "description", "genre", "licence", "visibility"):
            if name in body.model_fields_set and getattr(body, name) is not None:
                setattr(story, name, getattr(body, name))
        if "tags" in body.model_fields_set and body.tags is not None:
            set_tags(ctx, story, body.tags)
        ctx.session.flush()
        return stories_out(ctx, [story])[0]

    return idempotency.run(ctx, body, action)


@router.post("/{story_id}/versions", status_code=201,
             summary="Publish a new immutable version (owner only)")
def new_version(body: NewVersion, story_id: StoryId,
                ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = owned_story(ctx, story_id)
        return _publish(ctx, story, body.content, body.changelog)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/{story_id}/versions", summary="A story's versions with their changelogs")
def list_versions(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = load_story(ctx, story_id)
    versions = ctx.session.scalars(
        select(StoryVersion).options(load_only(
            StoryVersion.number, StoryVersion.changelog, StoryVersion.created_at,
            StoryVersion.segment_count))
        .where(StoryVersion.story_id == story.id).order_by(StoryVersion.number))
    return {"story_id": story.public_id, "items": [version_out(v) for v in versions]}


@router.get("/{story_id}/versions/{number}", summary="A version's manifest (hashes, no texts)")
def get_version(story_id: StoryId, number: VersionNumber, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = load_story(ctx, story_id)
    v = load_version(ctx, story, number)
    return {"story_id": story.public_id, **version_out(v), "manifest": v.manifest,
            "modules": v.modules, "scene_bible": v.scene_bible,
            "chapter_graph": v.chapter_graph}


@router.get("/{story_id}/versions/{number}/content",
            summary="A version's full content (counts as a download)")
def get_content(story_id: StoryId, number: VersionNumber, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = load_story(ctx, story_id)
    v = load_version(ctx, story, number)
    out = {"story_id": story.public_id, **version_out(v),
           "content": content.version_content(ctx.session, v)}
    bump(ctx, story.id, downloads=1, separate=True)
    return out


@router.get("/{story_id}/lineage", summary="Forked from, and the public remixes of it")
def lineage(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = load_story(ctx, story_id)
    remixes = list(ctx.session.scalars(
        select(Story).where(Story.forked_from_story_id == story.id, listed_story_clause())
        .order_by(Story.created_at, Story.id)))
    summary = stories_out(ctx, [story])[0]
    return {"story_id": story.public_id, "forked_from": summary["forked_from"],
            "forked_by": stories_out(ctx, remixes), "forks": summary["stats"]["forks"]}


@router.put("/{story_id}/like", summary="Like a story (once per user)")
def like(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = load_story(ctx, story_id)
        added = ctx.session.scalar(ctx.db.insert(Like).values(
            user_id=ctx.user_id, story_id=story.id).on_conflict_do_nothing()
            .returning(Like.story_id))
        if added is not None:
            bump(ctx, story.id, likes=1)
        return {"story_id": story.public_id, "liked": True, "likes": _likes(ctx, story.id)}

    return idempotency.run(ctx, None, action)


@router.delete("/{story_id}/like", summary="Take a like back")
def unlike(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = load_story(ctx, story_id)
        removed = ctx.session.scalar(delete(Like).where(
            Like.user_id == ctx.user_id, Like.story_id == story.id).returning(Like.story_id))
        if removed is not None:
            bump(ctx, story.id, likes=-1)
        return {"story_id": story.public_id, "liked": False, "likes": _likes(ctx, story.id)}

    return idempotency.run(ctx, None, action)


def _likes(ctx: Ctx, story_id: int) -> int:
    return ctx.session.scalar(select(StoryStats.likes).where(StoryStats.story_id == story_id))

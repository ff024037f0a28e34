"""Reference stories: publish, new versions, browse and search, read, like, lineage."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import delete, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import load_only

from studio.marketplace import content, idempotency, jobs, quotas
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.errors import ApiError
from studio.marketplace.models import Like, Story, StoryStats, StoryTag, StoryVersion, User
from studio.marketplace.models_ops import find_deletion, retire_story, search_clause
from studio.marketplace.routers.common import (
    StoryId, VersionNumber, bump, check_base, create_story, editable_story, load_story,
    load_version, owned_story, set_tags, set_visibility, stories_out,
)
from studio.marketplace.schemas import (
    MAX_TAGS, NewVersion, PublishStory, Tag, Text, UpdateStory, USERNAME_RE,
)
from studio.marketplace.schemas_ops import ErrorOut, StoryPage, decode_cursor, encode_cursor
from studio.marketplace.security import listed_story_clause
from studio.marketplace.security_community import check_not_hidden, moderation_marker
from studio.marketplace.settings import BROWSE_TOTAL_CAP, MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/stories", tags=["stories"])


def _publish(ctx: Ctx, story, content_model, changelog: str) -> dict:
    data = content_model.model_dump()
    new_texts = quotas.new_text_bytes(ctx, data["manuscript"])  # before they are stored
    manifest = content.build_manifest(ctx.db, ctx.session, data["manuscript"])
    version = content.add_version(ctx.session, story, ctx.user, manifest, data, changelog)
    jobs.enqueue_analysis(ctx.db, ctx.session, story, version.number)
    quotas.charge(ctx, new_texts + quotas.story_version_bytes(manifest, data))
    return {"story": stories_out(ctx, [story])[0],
            "version": version_out(version, version_names(ctx, [version]))}


def _load(ctx: Ctx, story_id: str):
    """A story the caller may read: hidden ones only for their owner and moderators."""
    story = load_story(ctx, story_id)
    check_not_hidden(ctx.user, story, "story", story_id)
    return story


def version_names(ctx: Ctx, versions: list[StoryVersion]) -> dict[int, str]:
    """Usernames of the versions' authors and credited users, by user id."""
    ids = {v.author_id for v in versions} | {u for v in versions for u in (v.credits or [])}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.username)
                                    .where(User.id.in_(ids))).all())


def version_out(v: StoryVersion, names: dict[int, str]) -> dict:
    """A version as JSON; ``names`` from ``version_names``.  ``credits``: the contributors
    whose accepted proposal the version is."""
    return {"number": v.number, "changelog": v.changelog, "created_at": v.created_at,
            "segment_count": v.segment_count, "author": names.get(v.author_id),
            "credits": [names[u] for u in (v.credits or []) if u in names]}


@router.post("", status_code=201, summary="Publish a new story (its version 1)")
def publish(body: PublishStory, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        quotas.check_new_item(ctx)
        story = create_story(ctx, body)
        return _publish(ctx, story, body.content, body.changelog)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("", summary="Browse and search public stories", response_model=StoryPage)
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
    cursor: Annotated[str | None, Query(max_length=500, description="the previous page's "
                                        "next_cursor (stable while stories are added)")] = None,
) -> Response:
    """Listed stories only (public, not hidden, not deleted), whoever asks.  Anonymous
    answers may come from the server's short-lived cache (``browse_cache``).

    ``total`` counts up to ``BROWSE_TOTAL_CAP`` stories (then ``total_is_lower_bound``); a
    last page needs no count (it is its offset plus its items), and a cursor page reports
    the total its walk's first page counted (the cursor carries it)."""
    query = select(Story).join(StoryStats, StoryStats.story_id == Story.id) \
        .where(listed_story_clause())
    if q and q.strip():  # word prefixes, the same on both backends (models_ops)
        query = query.where(search_clause(ctx.db.is_postgres, q))
    if genre:  # PostgreSQL keeps statistics of lower(genre) (0005)
        query = query.where(func.lower(Story.genre) == genre.strip().lower())
    if tags:
        query = query.where(exists(select(StoryTag.story_id).where(
            StoryTag.story_id == Story.id, StoryTag.tag.in_(tags))))
    if owner:
        query = query.where(Story.owner_id == select(User.id).where(User.username == owner)
                            .scalar_subquery())
    # The sort keys walk an index each (0005): stories by updated_at; story_stats by
    # popularity, or by the stored trending count (studio.marketplace.trending).
    if sort == "recent":
        keys = [Story.updated_at, Story.id]
    elif sort == "popular":
        keys = [StoryStats.popularity(), StoryStats.story_id]
    else:
        keys = [StoryStats.downloads_7d, StoryStats.popularity(), StoryStats.story_id]
    # Keyset pagination: the cursor is the last item's sort key (and id), so pages neither
    # repeat nor skip stories when new ones are published meanwhile.  offset still works.
    counted = None
    page_query = query
    if cursor:
        if offset:
            raise ApiError(422, "Pass either cursor or offset, not both.", "invalid_request")
        after, counted = _decode_cursor(cursor, sort)
        page_query = query.where(tuple_(*keys) < tuple(after))
    # The page with what stories_out would read next (its counters, owner, tags, and the
    # caller's like): one statement instead of five.
    extras = [StoryStats, User.username, _tag_list(ctx.db.is_postgres)]
    if ctx.user:
        extras.append(exists(select(Like.story_id).where(Like.user_id == ctx.user_id,
                                                         Like.story_id == Story.id)))
    rows = ctx.session.execute(
        page_query.join(User, User.id == Story.owner_id).add_columns(*extras, *keys)
        .order_by(*(k.desc() for k in keys)).limit(limit + 1).offset(offset)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if counted is None and not cursor and not more and (rows or not offset):
        counted = offset + len(rows)  # the last page: nothing after it
    if counted is None:  # up to one past the cap: "1,000+" costs 1,001 rows, not all
        counted = ctx.session.scalar(select(func.count()).select_from(
            query.with_only_columns(Story.id).limit(BROWSE_TOTAL_CAP + 1).subquery()))
    stories = [row[0] for row in rows]
    items = stories_out(ctx, stories, stats={row[0].id: row[1] for row in rows},
                        names={row[0].owner_id: row[2] for row in rows},
                        tags={row[0].id: _tags_of(row[3]) for row in rows},
                        liked={row[0].id for row in rows if row[4]} if ctx.user else None)
    page = StoryPage.model_validate({
        "items": items, "total": min(counted, BROWSE_TOTAL_CAP),
        "total_is_lower_bound": counted > BROWSE_TOTAL_CAP, "limit": limit, "offset": offset,
        "next_offset": offset + len(stories) if more and not cursor else None,
        "next_cursor": encode_cursor(sort, [*rows[-1][-len(keys):],
                                            min(counted, BROWSE_TOTAL_CAP + 1)])
        if more else None,
        "sort": sort})
    return Response(page.model_dump_json(), media_type="application/json")


def _tag_list(postgres: bool):
    """A story's tags in one column, in the order stories_out lists them (by tag)."""
    if postgres:
        return select(func.array_agg(aggregate_order_by(StoryTag.tag, StoryTag.tag))) \
            .where(StoryTag.story_id == Story.id).scalar_subquery()
    return select(func.json_group_array(StoryTag.tag)) \
        .where(StoryTag.story_id == Story.id).scalar_subquery()


def _tags_of(value) -> list[str]:
    if value is None:  # PostgreSQL: no tags
        return []
    if isinstance(value, str):  # SQLite: a JSON array, sorted here (BINARY, as ORDER BY)
        return sorted(json.loads(value))
    return list(value)


# A cursor holds the last item's sort keys, then the (capped) count of its walk's first page.
CURSOR_KEYS = {"recent": (datetime, int), "popular": (int, int),
               "trending": (int, int, int)}
# Cursors of earlier servers: without the count; popular ones ordered by (likes + forks,
# updated_at, id) before 0005, which resume after their (likes + forks, id).
OLD_CURSOR_KEYS = {"recent": [(datetime, int)], "popular": [(int, datetime, int)],
                   "trending": [(int, int, int)]}


def _decode_cursor(cursor: str, sort: str) -> tuple[list, int | None]:
    """(the sort keys to continue after, the first page's count or None)."""
    try:
        *keys, counted = decode_cursor(cursor, sort, (*CURSOR_KEYS[sort], int))
    except ApiError as error:
        for shape in OLD_CURSOR_KEYS[sort]:
            try:
                keys = decode_cursor(cursor, sort, shape)
            except ApiError:
                continue
            return ([keys[0], keys[-1]] if shape != CURSOR_KEYS[sort] else keys), None
        raise error
    if not 0 <= counted <= BROWSE_TOTAL_CAP + 1:
        raise ApiError(422, "Invalid cursor (bad count): pass back the next_cursor of a "
                       "previous page unchanged, with the same sort.", "invalid_cursor")
    return keys, counted


@router.get("/{story_id}", summary="A story (public; unlisted by its id; private to its owner and collaborators)",
            responses={410: {"model": ErrorOut, "description": "Deleted by its owner"}})
def get_story(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    if find_deletion(ctx.session, story_id) is not None:
        raise _gone(story_id)
    story = _load(ctx, story_id)
    out = stories_out(ctx, [story])[0]
    if story.hidden:
        out.update(moderation_marker(story))
    bump(ctx, story.id, views=1, separate=True)
    out["stats"]["views"] += 1
    return out


@router.patch("/{story_id}", summary="Change a story's metadata (owner only)")
def update_story(body: UpdateStory, story_id: StoryId,
                 ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = owned_story(ctx, story_id)
        for name in ("title", "description", "genre", "licence"):
            if name in body.model_fields_set and getattr(body, name) is not None:
                setattr(story, name, getattr(body, name))
        if body.visibility is not None:
            set_visibility(story, body.visibility)
        if "tags" in body.model_fields_set and body.tags is not None:
            set_tags(ctx, story, body.tags)
        ctx.session.flush()
        return stories_out(ctx, [story])[0]

    return idempotency.run(ctx, body, action)


@router.delete("/{story_id}", summary="Delete a story (owner only; forks of it keep working)",
               responses={410: {"model": ErrorOut, "description": "Deleted already"}})
def delete_story(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    """The story leaves browse, search and lookups: its detail answers 410 afterwards, any
    other path under its id 404.  Versions stay (forks read them; texts are shared by hash).
    Deleting it again is a no-op for its owner."""
    def action() -> dict:
        tombstone = find_deletion(ctx.session, story_id)
        if tombstone is None:
            tombstone = retire_story(ctx.session, owned_story(ctx, story_id), ctx.user_id)
        elif tombstone.deleted_by != ctx.user_id:
            raise _gone(story_id)
        return {"id": story_id, "deleted": True, "deleted_at": tombstone.deleted_at}

    return idempotency.run(ctx, None, action)


def _gone(story_id: str) -> ApiError:
    return ApiError(410, f"The story {story_id!r} was deleted by its owner.", "story_deleted")


@router.post("/{story_id}/versions", status_code=201,
             summary="Publish a new immutable version (owner and editors)")
def new_version(body: NewVersion, story_id: StoryId,
                ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    """With ``base_version`` (the version the publisher's copy is based on) the publish is
    optimistic: if another version was published since, it is refused (409
    ``version_moved``, with ``latest_version``) and the publisher pulls, merges and publishes
    again.  Concurrent publishes of one story queue on its row (FOR UPDATE on PostgreSQL,
    the write lock on SQLite), so of two with the same base exactly one wins."""
    def action() -> dict:
        story = editable_story(ctx, story_id)
        if body.base_version is not None:
            check_base(ctx, story, body.base_version)
        return _publish(ctx, story, body.content, body.changelog)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/{story_id}/versions", summary="A story's versions with their changelogs")
def list_versions(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = _load(ctx, story_id)
    versions = list(ctx.session.scalars(
        select(StoryVersion).options(load_only(
            StoryVersion.number, StoryVersion.changelog, StoryVersion.created_at,
            StoryVersion.segment_count, StoryVersion.author_id, StoryVersion.credits))
        .where(StoryVersion.story_id == story.id).order_by(StoryVersion.number)))
    names = version_names(ctx, versions)
    return {"story_id": story.public_id, "items": [version_out(v, names) for v in versions]}


@router.get("/{story_id}/versions/{number}", summary="A version's manifest (hashes, no texts)")
def get_version(story_id: StoryId, number: VersionNumber, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = _load(ctx, story_id)
    v = load_version(ctx, story, number)
    return {"story_id": story.public_id, **version_out(v, version_names(ctx, [v])),
            "manifest": v.manifest,
            "modules": v.modules, "scene_bible": v.scene_bible,
            "chapter_graph": v.chapter_graph}


@router.get("/{story_id}/versions/{number}/content",
            summary="A version's full content (counts as a download)")
def get_content(story_id: StoryId, number: VersionNumber, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = _load(ctx, story_id)
    v = load_version(ctx, story, number)
    out = {"story_id": story.public_id, **version_out(v, version_names(ctx, [v])),
           "content": content.version_content(ctx.session, v)}
    bump(ctx, story.id, downloads=1, separate=True)
    return out


@router.get("/{story_id}/lineage", summary="Forked from, and the public remixes of it")
def lineage(story_id: StoryId, ctx: Ctx = Depends(get_ctx)) -> dict:
    story = _load(ctx, story_id)
    remixes = list(ctx.session.scalars(
        select(Story).where(Story.forked_from_story_id == story.id, listed_story_clause())
        .order_by(Story.created_at, Story.id)))
    summary = stories_out(ctx, [story])[0]
    return {"story_id": story.public_id, "forked_from": summary["forked_from"],
            "forked_by": stories_out(ctx, remixes), "forks": summary["stats"]["forks"]}


@router.put("/{story_id}/like", summary="Like a story (once per user)")
def like(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = _load(ctx, story_id)
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
        story = _load(ctx, story_id)
        removed = ctx.session.scalar(delete(Like).where(
            Like.user_id == ctx.user_id, Like.story_id == story.id).returning(Like.story_id))
        if removed is not None:
            bump(ctx, story.id, likes=-1)
        return {"story_id": story.public_id, "liked": False, "likes": _likes(ctx, story.id)}

    return idempotency.run(ctx, None, action)


def _likes(ctx: Ctx, story_id: int) -> int:
    return ctx.session.scalar(select(StoryStats.likes).where(StoryStats.story_id == story_id))

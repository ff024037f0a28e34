"""Helpers the routers share: finding visible stories and forks, and shaping them as JSON."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Path
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio.marketplace.deps import Ctx
from studio.marketplace.models_ops import is_deleted
from studio.marketplace.errors import ApiError, forbidden, not_found
from studio.marketplace.models import (
    Fork, Like, Story, StoryDailyStats, StoryStats, StoryTag, StoryVersion, User, utcnow,
)
from studio.marketplace.schemas import FORK_ID_RE, STORY_ID_RE, StoryMeta
from studio.marketplace.security import visible_story_clause
from studio.marketplace.security_collab import role_of
from studio.marketplace.security_community import check_not_hidden

StoryId = Annotated[str, Path(pattern=STORY_ID_RE, description="a story id, st_…")]
ForkId = Annotated[str, Path(pattern=FORK_ID_RE, description="a fork id, fk_…")]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]


def new_public_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(12)


def load_story(ctx: Ctx, public_id: str, *, invited: bool = False) -> Story:
    """A story the caller may read, else 404; ``invited``: an invitee may load a private
    story too (the invitation and collaborator routes only: never its content)."""
    ctx.expose_story(public_id)
    story = ctx.session.scalar(select(Story).where(
        Story.public_id == public_id,
        visible_story_clause(ctx.user_id, public_id, invited=invited)))
    if story is None:
        raise not_found("story", public_id)
    return story


def visibility_of(story: Story) -> str:
    """The API's visibility: "private" is stored as 'unlisted' + ``members_only`` (0006)."""
    return "private" if story.members_only else story.visibility


def set_visibility(story: Story, visibility: str) -> None:
    story.members_only = visibility == "private"
    story.visibility = "unlisted" if visibility == "private" else visibility


SOURCE_PRIVATE = ("The story this fork was made from is private and you are no longer one of "
                  "its collaborators, so the server no longer serves its text; the copy on "
                  "your computer stays yours.")


def fork_source(ctx: Ctx, fork: Fork, *, required: bool = True) -> Story | None:
    """The fork's source story if the caller may still read it (a private story: only while
    they are its owner or a member; the same rule as ``stories_private_read``).  Otherwise
    None, or with ``required`` 403 ``source_private``."""
    source = ctx.session.scalar(select(Story).where(
        Story.id == fork.source_story_id, visible_story_clause(ctx.user_id)))
    if source is None and required:
        raise ApiError(403, SOURCE_PRIVATE, "source_private")
    return source


def owned_story(ctx: Ctx, public_id: str) -> Story:
    story = load_story(ctx, public_id)
    if story.owner_id != ctx.user_id:
        raise forbidden("Only the story's owner can change it; fork it to make your own "
                        "version.")
    if ctx.db.is_postgres:  # serialise concurrent publishes of the same story
        ctx.session.refresh(story, with_for_update=True)
    return story


def story_role(ctx: Ctx, story: Story) -> str | None:
    """The caller's role on the story: 'owner', 'editor', 'contributor', 'viewer',
    'invited' (not accepted yet) or None (``security_collab.role_of``)."""
    return role_of(ctx.session, story, ctx.user_id)


EDITOR_ONLY = ("Only the story's owner and its editors can publish new versions; "
               "contributors propose changes.")


def editable_story(ctx: Ctx, public_id: str, message: str = EDITOR_ONLY,
                   code: str = "editor_only") -> Story:
    """A story the caller owns or edits, its row locked (PostgreSQL) so that concurrent
    publishes of it queue; anyone else is refused (403 ``code``)."""
    story = load_story(ctx, public_id)
    role = story_role(ctx, story)
    if role not in ("owner", "editor"):
        raise ApiError(403, message, code)
    if role != "owner":
        check_not_hidden(ctx.user, story, "story", public_id)
    if ctx.db.is_postgres:
        ctx.session.refresh(story, with_for_update=True)
    return story


def check_base(ctx: Ctx, story: Story, base: int) -> None:
    """Refuse a publish based on a version that is no longer the latest (409
    ``version_moved``, naming who published the latest)."""
    latest = story.latest_version
    if base == latest:
        return
    if base > latest:
        raise ApiError(422, f"Version {base} of this story does not exist; the latest is "
                       f"{latest}.", "unknown_base_version", latest_version=latest)
    author = ctx.session.scalar(select(User.username).join(
        StoryVersion, StoryVersion.author_id == User.id).where(
        StoryVersion.story_id == story.id, StoryVersion.number == latest))
    raise ApiError(409, f"Version {latest} was published by {author} since your version "
                   f"{base}; pull it, merge, and publish again.", "version_moved",
                   latest_version=latest)


def load_version(ctx: Ctx, story: Story, number: int) -> StoryVersion:
    version = ctx.session.scalar(select(StoryVersion).where(
        StoryVersion.story_id == story.id, StoryVersion.number == number))
    if version is None:
        raise not_found("version", f"{story.public_id} v{number}")
    return version


def load_fork(ctx: Ctx, public_id: str) -> Fork:
    fork = ctx.session.scalar(select(Fork).where(Fork.public_id == public_id,
                                                 Fork.owner_id == ctx.user_id))
    if fork is None:
        raise not_found("fork", public_id)
    return fork


def set_tags(ctx: Ctx, story: Story, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    current = set(ctx.session.scalars(select(StoryTag.tag).where(StoryTag.story_id == story.id)))
    for tag in current - set(wanted):
        ctx.session.execute(StoryTag.__table__.delete().where(
            StoryTag.story_id == story.id, StoryTag.tag == tag))
    ctx.session.add_all(StoryTag(story_id=story.id, tag=t) for t in wanted if t not in current)


def create_story(ctx: Ctx, meta: StoryMeta, **lineage) -> Story:
    now = utcnow()
    story = Story(public_id=new_public_id("st_"), owner_id=ctx.user_id, title=meta.title,
                  description=meta.description, genre=meta.genre, licence=meta.licence,
                  latest_version=0, created_at=now, updated_at=now, **lineage)
    set_visibility(story, meta.visibility)
    ctx.session.add(story)
    ctx.session.flush()
    ctx.session.add(StoryStats(story_id=story.id, views=0, likes=0, forks=0, downloads=0))
    set_tags(ctx, story, meta.tags)
    ctx.session.flush()
    return story


def counter_session(ctx: Ctx) -> Session:
    """A lazy write session for a GET's counters, taken only after the request's own read
    transaction has ended: a request never holds two pooled connections at once, so a burst of
    concurrent reads cannot leave every connection waiting for a second one (pool deadlock)."""
    ctx.session.commit()  # a read: ends the transaction and returns its connection
    return ctx.db.session(write=True, durable=False)


def bump(ctx: Ctx, story_id: int, *, views: int = 0, downloads: int = 0,
         forks: int = 0, likes: int = 0, separate: bool = False) -> None:
    """Add to a story's public counters (in a transaction of its own when ``separate``:
    GET requests count views and downloads without turning their read into a write)."""
    counters = {"views": views, "downloads": downloads, "forks": forks, "likes": likes,
                "downloads_7d": downloads}  # the trending window's, refreshed by the jobs
    session = counter_session(ctx) if separate else ctx.session
    try:
        session.execute(update(StoryStats).where(StoryStats.story_id == story_id).values(
            {name: getattr(StoryStats, name) + n for name, n in counters.items() if n}))
        if views or downloads:
            stmt = ctx.db.insert(StoryDailyStats).values(
                story_id=story_id, day=utcnow().date(), views=views, downloads=downloads)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["story_id", "day"],
                set_={"views": StoryDailyStats.views + views,
                      "downloads": StoryDailyStats.downloads + downloads}))
        if separate:
            session.commit()
    finally:
        if separate:
            session.close()


def stories_out(ctx: Ctx, stories: list[Story], *, stats: dict[int, StoryStats] | None = None,
                names: dict[int, str] | None = None, tags: dict[int, list[str]] | None = None,
                liked: set[int] | None = None) -> list[dict]:
    """The stories as JSON.  What the caller read already (browse reads it with the page):
    ``stats`` by story id, ``names`` (usernames by user id), ``tags`` by story id (sorted),
    ``liked`` (the caller's liked story ids, when logged in)."""
    if not stories:
        return []
    ids = [s.id for s in stories]
    s = ctx.session
    if tags is None:
        tags = {}
        for story_id, tag in s.execute(select(StoryTag.story_id, StoryTag.tag)
                                       .where(StoryTag.story_id.in_(ids))
                                       .order_by(StoryTag.tag)):
            tags.setdefault(story_id, []).append(tag)
    if stats is None:
        stats = {row.story_id: row for row in s.scalars(select(StoryStats)
                                                        .where(StoryStats.story_id.in_(ids)))}
    names = dict(names or {})
    user_ids = ({x.owner_id for x in stories} | {x.forked_from_owner_id for x in stories
                                                 if x.forked_from_owner_id}) - set(names)
    if user_ids:
        names.update(s.execute(select(User.id, User.username)
                               .where(User.id.in_(user_ids))).all())
    source_ids = [x.forked_from_story_id for x in stories if x.forked_from_story_id]
    sources = dict(s.execute(select(Story.id, Story.public_id).where(
        Story.id.in_(source_ids), visible_story_clause(ctx.user_id))).all()) \
        if source_ids else {}
    if liked is None and ctx.user:
        liked = set(s.scalars(select(Like.story_id).where(Like.user_id == ctx.user_id,
                                                          Like.story_id.in_(ids))))
    liked = liked or set()
    out = []
    for x in stories:
        st = stats.get(x.id)
        out.append({
            "id": x.public_id, "title": x.title, "description": x.description,
            "genre": x.genre, "tags": tags.get(x.id, []), "licence": x.licence,
            "visibility": visibility_of(x), "owner": names.get(x.owner_id),
            "latest_version": x.latest_version, "created_at": x.created_at,
            "updated_at": x.updated_at,
            "stats": {"views": st.views, "likes": st.likes, "forks": st.forks,
                      "downloads": st.downloads} if st else None,
            "forked_from": None if x.forked_from_version is None else {
                "story_id": sources.get(x.forked_from_story_id),
                "version": x.forked_from_version,
                "owner": names.get(x.forked_from_owner_id)},
            "liked_by_me": (x.id in liked) if ctx.user else None,
        })
    return out


def fork_out(ctx: Ctx, fork: Fork) -> dict:
    # read as the stories policies allow (a private source: only while a member), so that
    # both backends answer alike: an unreadable source has no id, title or versions
    source = fork_source(ctx, fork, required=False)
    remix = ctx.session.get(Story, fork.remix_story_id) if fork.remix_story_id else None
    return {
        "id": fork.public_id, "title": fork.title, "strategy": fork.strategy,
        "source": {"story_id": (None if is_deleted(source) else
                                source.public_id if source else None),
                   # a source row never goes (retired: ``is_deleted``); None = unreadable
                   "deleted": is_deleted(source), "readable": source is not None,
                   "title": source.title if source else None,
                   "synced_version": fork.synced_version,
                   "latest_version": source.latest_version if source else None,
                   "behind": bool(source and source.latest_version > fork.synced_version)},
        "parts_overridden": [p for p in ("modules", "scene_bible", "chapter_graph")
                             if getattr(fork, p) is not None],
        "remix_story_id": remix.public_id if remix else None,
        "created_at": fork.created_at, "updated_at": fork.updated_at,
    }


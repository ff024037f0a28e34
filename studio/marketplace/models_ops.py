"""ORM models of the ideas board, the job queue, reference analyses, story search and
story deletion (migration 0003).

- ``idea_categories`` / ``idea_topics``: curated by moderators and admins, read by everyone.
- ``ideas`` (+ ``idea_tags``): prompts users submit; ``pending`` until a moderator approves or
  rejects them.  Private rows: an idea that is not approved is visible to its author and to
  moderators only (row-level security on PostgreSQL, ``visible_idea_clause`` everywhere).
- ``jobs``: the work queue (one ``analysis`` job per published story version, unique by its
  ``idempotency_key``), claimed by workers under a lease (``studio.marketplace.jobs``).
- ``analyses``: the reference analysis of a story version, one per analyser version.
- ``story_search``: the searchable words (title and description, normalised by
  ``search_words``) of each *listed* story (public, not hidden, not deleted), kept in sync by
  the mapper events below whenever a story is inserted or its words, visibility, ``hidden``
  flag or public id (deletion) change, whatever router does it: a story that stops being
  listed loses its row, so the table holds nothing private and has no row-level security
  (migration 0005; a policy would keep PostgreSQL from using the GIN index).  On PostgreSQL
  its ``tsv`` column is a generated ``tsvector`` of those words with a GIN index; on SQLite
  the same column is a generated NULL and search is a word-prefix LIKE on ``document`` — the
  two match exactly the same stories, since neither runs a text parser over the words.
- ``story_deletions``: the tombstone of a story its owner deleted (its retired public id).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON, CheckConstraint, Computed, Float, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, and_, cast, delete, event, exists, false, inspect, literal, select,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnElement

from studio.marketplace.models import Base, Story, UTCDateTime, _in, utcnow

IDEA_STATUSES = ("pending", "approved", "rejected")
JOB_KINDS = ("analysis",)
JOB_STATUSES = ("queued", "running", "done", "failed")


# --- the ideas board ---------------------------------------------------------------------

class IdeaCategory(Base):
    __tablename__ = "idea_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdeaTopic(Base):
    __tablename__ = "idea_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (
        CheckConstraint(_in("status", IDEA_STATUSES), name="status"),
        Index("ix_ideas_status_created_at", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("idea_categories.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("idea_topics.id"), nullable=True,
                                                 index=True)
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdeaTag(Base):
    __tablename__ = "idea_tags"

    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"),
                                         primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


# --- jobs and analyses -------------------------------------------------------------------

class Job(Base):
    """A unit of background work.  ``queued`` → ``running`` (a worker holds it until
    ``locked_until``) → ``done``, or back to ``queued`` (retry after ``run_after``) until
    ``max_attempts`` is reached, then ``failed`` with ``last_error``."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("kind", JOB_KINDS), name="kind"),
        CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        Index("ix_jobs_status_run_after", "status", "run_after"),
        Index("ix_jobs_story_id_version", "story_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="analysis")
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # The story's owner: the worker reads the version as them (row-level security), and
    # they may follow the job.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                          index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    stage: Mapped[str] = mapped_column(String(60), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Analysis(Base):
    """The reference analysis of one story version by one analyser version (append-only)."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("story_id", "version", "analyser_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    analyser_version: Mapped[str] = mapped_column(String(40))
    result: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- story search and deletion -----------------------------------------------------------

class _SearchVector(ColumnElement):
    """The generated ``story_search.tsv``: the words as a tsvector on PostgreSQL (no parser,
    no stemming: exactly ``search_words``), NULL elsewhere."""

    inherit_cache = True


@compiles(_SearchVector, "postgresql")
def _search_vector_pg(_element, _compiler, **_kw) -> str:
    return "array_to_tsvector(string_to_array(document, ' '::text))"


@compiles(_SearchVector)
def _search_vector_other(_element, _compiler, **_kw) -> str:
    return "NULL"


class StorySearch(Base):
    __tablename__ = "story_search"
    __table_args__ = (Index("ix_story_search_tsv", "tsv", postgresql_using="gin"),)

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    document: Mapped[str] = mapped_column(Text, default="")
    tsv: Mapped[Any | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"), Computed(_SearchVector(), persisted=True),
        nullable=True)


class StoryDeletion(Base):
    """A story its owner deleted: the row stays (forks still reference its versions), under
    a new internal public id; ``public_id`` here is the retired one, so it answers 410."""

    __tablename__ = "story_deletions"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- search words ------------------------------------------------------------------------

MAX_WORD = 60
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


def search_words(text: str) -> list[str]:
    """Lower-case words (runs of letters and digits), each at most ``MAX_WORD`` characters,
    in order, without repeats.  Queries and documents go through the same function."""
    normal = unicodedata.normalize("NFKC", text or "").lower()
    return list(dict.fromkeys(w[:MAX_WORD] for w in _WORD.findall(normal)))


def search_document(title: str, description: str) -> str:
    return " ".join(search_words(f"{title} {description}"))


def is_listed(story: Story) -> bool:
    """Listed: public, not hidden by moderation, not deleted (``security.listed_story_clause``
    in Python).  Only listed stories have ``story_search`` rows."""
    return (story.visibility == "public" and not story.hidden
            and not story.public_id.startswith(DELETED_PREFIX))


# What decides a story's search row: its words and whether it is listed.
_SEARCH_ATTRIBUTES = ("title", "description", "visibility", "hidden", "public_id")


@event.listens_for(Story, "after_insert")
def _index_new_story(_mapper, connection, story: Story) -> None:
    if is_listed(story):
        connection.execute(StorySearch.__table__.insert().values(
            story_id=story.id, document=search_document(story.title, story.description)))


@event.listens_for(Story, "after_update")
def _reindex_story(_mapper, connection, story: Story) -> None:
    state = inspect(story)
    if any(state.attrs[name].history.has_changes() for name in _SEARCH_ATTRIBUTES):
        sync_search(connection, story)


def sync_search(connection, story: Story) -> None:
    """Make the story's search row match it: its current words while it is listed, no row
    otherwise (unlisted, hidden or deleted stories are never found by search).  The stories
    row is locked by the update that got here, so concurrent changes of one story queue."""
    table = StorySearch.__table__
    if not is_listed(story):
        connection.execute(delete(table).where(table.c.story_id == story.id))
        return
    document = search_document(story.title, story.description)
    done = connection.execute(update(table).where(table.c.story_id == story.id)
                              .values(document=document))
    if done.rowcount == 0:  # listed again (or from before migration 0003)
        connection.execute(table.insert().values(story_id=story.id, document=document))


def unindex_story(session, story_id: int) -> None:
    session.execute(delete(StorySearch).where(StorySearch.story_id == story_id))


def search_clause(postgres: bool, q: str):
    """Stories whose title or description has a word starting with each word of ``q`` (all
    of them; at most ``MAX_QUERY_WORDS``).  ``q`` without any word matches nothing."""
    words = search_words(q)[:MAX_QUERY_WORDS]
    if not words:
        return false()
    if postgres:  # the GIN index: a tsquery built from the words, no parser involved
        query = " & ".join(f"'{w}':*" for w in words)
        match = StorySearch.tsv.op("@@")(cast(literal(query, Text), TSQUERY))
    else:  # a word-prefix LIKE on the same words
        padded = " " + StorySearch.document
        match = and_(*(padded.like(f"% {w}%") for w in words))
    return exists(select(StorySearch.story_id).where(StorySearch.story_id == Story.id, match))


# --- deletion ----------------------------------------------------------------------------

DELETED_PREFIX = "deleted_"


def is_deleted(story: Story | None) -> bool:
    return story is not None and story.public_id.startswith(DELETED_PREFIX)


def find_deletion(session, public_id: str) -> StoryDeletion | None:
    return session.scalar(select(StoryDeletion).where(StoryDeletion.public_id == public_id))


def retire_story(session, story: Story, user_id: int) -> StoryDeletion:
    """Delete a story for everyone but the forks of it: the tombstone keeps its public id,
    the row gets an internal one (``deleted_…``, which no API path accepts) and becomes
    unlisted, so it leaves every list, search and lookup by id, while forks keep reading the
    versions they reference (and may still sync to later ones)."""
    now = utcnow()
    tombstone = StoryDeletion(story_id=story.id, public_id=story.public_id,
                              deleted_by=user_id, deleted_at=now)
    session.add(tombstone)
    story.public_id = DELETED_PREFIX + secrets.token_hex(8)
    story.visibility = "unlisted"
    story.updated_at = now
    unindex_story(session, story.id)
    session.flush()
    return tombstone

"""ORM models of the community features (migration 0002): community chapters with immutable
numbered versions, voice templates, moderation flags and the per-user storage counter.

- A community chapter is one chapter-graph chapter (``chapter_graph.schema.json`` →
  ``definitions/chapter``) published on its own; its versions are append-only like story
  versions, and a fork of it is a new community chapter that records where it came from.
- A voice template is permanent reference data: never updated (but for the moderation flag
  ``hidden``) and never deleted.  A newer template may *supersede* an older one of the same
  owner (at most one successor each; ``superseded_by`` is derived from the successor's row).
- A moderation flag names exactly one story, community chapter or voice template (a foreign key,
  plus its public id so the reporter can always tell what they reported).  While the flag is
  open, ``open_item`` repeats that public id, so that a unique constraint allows one open flag
  per reporter and item (NULLs never collide, so resolved flags do not count).
- ``user_usage`` keeps each user's stored bytes, updated on every publish, so that quota checks
  need no scan (``studio.marketplace.quotas``).

Row-level security of these tables on PostgreSQL: ``studio.marketplace.security_community``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from studio.marketplace.models import LICENCES, VISIBILITIES, Base, UTCDateTime, _in, utcnow

FLAG_ITEM_KINDS = ("story", "chapter", "voice_template")
FLAG_REASONS = ("spam", "abuse", "copyright", "other")
FLAG_STATUSES = ("open", "dismissed", "hidden")

_ONE_ITEM = " OR ".join(
    f"(item_kind = '{kind}' AND " + " AND ".join(
        f"{col} IS {'NOT ' if col == own else ''}NULL"
        for col in ("story_id", "chapter_id", "template_id")) + ")"
    for kind, own in zip(FLAG_ITEM_KINDS, ("story_id", "chapter_id", "template_id")))


class CommunityChapter(Base):
    __tablename__ = "community_chapters"
    __table_args__ = (
        CheckConstraint(_in("licence", LICENCES), name="licence"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(String(24))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    forked_from_chapter_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_chapters.id", ondelete="SET NULL"), nullable=True, index=True)
    forked_from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    forked_from_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CommunityChapterTag(Base):
    __tablename__ = "community_chapter_tags"

    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("community_chapters.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class CommunityChapterVersion(Base):
    """An immutable, numbered version: the chapter document itself (a few KB at most)."""

    __tablename__ = "community_chapter_versions"
    __table_args__ = (UniqueConstraint("chapter_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("community_chapters.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    changelog: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chapter: Mapped[Any] = mapped_column(JSON)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunityChapterStats(Base):
    """Public counters (no row-level security), bumped by any reader."""

    __tablename__ = "community_chapter_stats"

    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("community_chapters.id", ondelete="CASCADE"), primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    forks: Mapped[int] = mapped_column(Integer, default=0)


class VoiceTemplate(Base):
    __tablename__ = "voice_templates"
    __table_args__ = (
        CheckConstraint(_in("licence", LICENCES), name="licence"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    emotion: Mapped[str] = mapped_column(String(40), index=True)
    parameters: Mapped[Any] = mapped_column(JSON)
    licence: Mapped[str] = mapped_column(String(24))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("voice_templates.id"), nullable=True, unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class VoiceTemplateTag(Base):
    __tablename__ = "voice_template_tags"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("voice_templates.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class VoiceTemplateStats(Base):
    __tablename__ = "voice_template_stats"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("voice_templates.id", ondelete="CASCADE"), primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class ModerationFlag(Base):
    """A user's report of an item; private to its reporter and to moderators."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        CheckConstraint(_in("item_kind", FLAG_ITEM_KINDS), name="item_kind"),
        CheckConstraint(_in("reason", FLAG_REASONS), name="reason"),
        CheckConstraint(_in("status", FLAG_STATUSES), name="status"),
        CheckConstraint(_ONE_ITEM, name="one_item"),
        UniqueConstraint("reporter_id", "open_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                             index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_public_id: Mapped[str] = mapped_column(String(32))
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), nullable=True, index=True)
    chapter_id: Mapped[int | None] = mapped_column(
        ForeignKey("community_chapters.id", ondelete="CASCADE"), nullable=True, index=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("voice_templates.id", ondelete="CASCADE"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    open_item: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserUsage(Base):
    """Bytes a user has stored (an approximation; see ``studio.marketplace.quotas``)."""

    __tablename__ = "user_usage"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    storage_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

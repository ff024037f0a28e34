"""ORM models of the marketplace database.

The schema is owned by Alembic (``migrations/marketplace``); these classes describe the same
tables, which ``tests/marketplace/test_schema.py`` checks.  Tables holding a user's private rows
(auth_tokens, forks, likes, idempotency_keys) and the stories family carry
row-level security policies on PostgreSQL (``studio.marketplace.security``).

Reference data is immutable: a story version and a segment text are written once and never
updated (the app role is granted only SELECT and INSERT on them).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary,
    MetaData, String, Text, TypeDecorator, UniqueConstraint, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("user", "moderator", "admin")
LICENCES = ("CC-BY", "CC-BY-NC", "all-rights-reserved")
VISIBILITIES = ("public", "unlisted")
# what the API shows and accepts for a story: "private" is unlisted + ``members_only``
STORY_VISIBILITIES = (*VISIBILITIES, "private")
STRATEGIES = ("reference", "delta", "full")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both backends (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    tier: Mapped[str] = mapped_column(String(16), default="free")  # quotas come later
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthToken(Base):
    """An opaque bearer token, stored as its sha256; access and refresh tokens of one log-in
    share a ``session_id`` so that log-out and refresh-reuse detection end them together."""

    __tablename__ = "auth_tokens"
    __table_args__ = (CheckConstraint(_in("kind", ("access", "refresh")), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_client", "username", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (
        CheckConstraint(_in("licence", LICENCES), name="licence"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str] = mapped_column(String(60), default="", index=True)
    licence: Mapped[str] = mapped_column(String(24))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    forked_from_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True)
    forked_from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    forked_from_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # moderation comes later
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Visibility "private" (0006): stored as visibility 'unlisted' plus this flag, so code
    # that knows only public/unlisted never lists it; readable only by the owner and the
    # accepted collaborators (``security.visible_story_clause``, ``security_collab``).
    members_only: Mapped[bool] = mapped_column(Boolean, default=False,
                                               server_default=false())


class StoryTag(Base):
    __tablename__ = "story_tags"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class StoryStats(Base):
    """Public counters (not private: no row-level security), bumped by any reader.

    ``downloads_7d`` is the downloads of the trending window (``Settings.trending_days``,
    from ``story_daily_stats``): bumped with each download, recomputed by the job workers
    (``studio.marketplace.trending``) so that old days fall out.  Browse walks the two
    indexes below instead of sorting every listed story (migration 0005; PostgreSQL)."""

    __tablename__ = "story_stats"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    forks: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    downloads_7d: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @classmethod
    def popularity(cls):
        """The sort=popular key (and the expression its index holds)."""
        return (cls.likes + cls.forks).self_group()


# sort=popular and sort=trending, newest story first among equals (0005).  PostgreSQL only:
# SQLite (small deployments) sorts, and SQLAlchemy cannot reflect its expression indexes.
Index("ix_story_stats_popular", StoryStats.popularity().desc(),
      StoryStats.story_id.desc()).ddl_if(dialect="postgresql")
Index("ix_story_stats_trending", StoryStats.downloads_7d.desc(), StoryStats.popularity().desc(),
      StoryStats.story_id.desc()).ddl_if(dialect="postgresql")


class StoryDailyStats(Base):
    __tablename__ = "story_daily_stats"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class StoryVersion(Base):
    """An immutable, numbered version: a manifest of segment ids → text hashes plus the
    story's other parts."""

    __tablename__ = "story_versions"
    __table_args__ = (UniqueConstraint("story_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          index=True)
    number: Mapped[int] = mapped_column(Integer)
    changelog: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    manifest: Mapped[Any] = mapped_column(JSON)
    modules: Mapped[Any] = mapped_column(JSON)
    scene_bible: Mapped[Any] = mapped_column(JSON)
    chapter_graph: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # user ids credited besides the author: a proposal's author when it was accepted (0006)
    credits: Mapped[Any | None] = mapped_column(JSON, nullable=True)


class SegmentText(Base):
    """Every distinct segment text, once, keyed by its sha256."""

    __tablename__ = "segment_texts"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    length: Mapped[int] = mapped_column(Integer)


class Fork(Base):
    __tablename__ = "forks"
    __table_args__ = (CheckConstraint(_in("strategy", STRATEGIES), name="strategy"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                          index=True)
    source_story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    # The source version the fork was made from or last synced to: the merge base.
    source_version_id: Mapped[int] = mapped_column(ForeignKey("story_versions.id"))
    synced_version: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(10), default="reference")
    manifest: Mapped[Any | None] = mapped_column(JSON, nullable=True)  # full only
    # delta only: the fork's own texts, zlib-compressed JSON {segment id: text} (content.py)
    overrides: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    modules: Mapped[Any | None] = mapped_column(JSON, nullable=True)  # None: the source's
    scene_bible: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    chapter_graph: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    remix_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Like(Base):
    __tablename__ = "likes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


from studio.marketplace import models_community  # noqa: E402,F401

from studio.marketplace import models_ops  # noqa: E402,F401

from studio.marketplace import models_collab  # noqa: E402,F401

"""ORM models of the local database.

The schema itself is owned by Alembic (``migrations/studio``); these classes must describe the
same tables, which ``tests/store/test_migrations.py`` checks by comparing the migrated database
with this metadata.  JSON payloads are stored as TEXT holding JSON so that a database file stays
readable with any SQLite tool.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Index,
    CheckConstraint,
    Float,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    logline: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str] = mapped_column(String(200), default="")
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # Number of the version the story was last saved as or restored from (not an FK: a
    # story ↔ version cycle of foreign keys would make every SQLite migration a batch rebuild).
    active_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    word_target: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    modules: Mapped[list["Module"]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="Module.position"
    )


class Module(Base):
    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("story_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    input_text: Mapped[str] = mapped_column(Text, default="")
    output_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    story: Mapped[Story] = relationship(back_populates="modules")


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("story_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Snapshots can be large; the version list never needs them, so they load only on access.
    snapshot_json: Mapped[str] = deferred(mapped_column(Text, nullable=False))


class MetadataEntry(Base):
    """Key → JSON value attached to a story, module, version (later: chapter, scene…)."""

    __tablename__ = "metadata_entries"
    __table_args__ = (UniqueConstraint("owner_type", "owner_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    value_json: Mapped[str] = mapped_column(Text)


class CustomField(Base):
    """A user-defined, typed field that applies to characters, locations or scenes of a story."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("story_id", "applies_to", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    field_type: Mapped[str] = mapped_column(String(16))
    applies_to: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    values: Mapped[list["CustomFieldValue"]] = relationship(
        back_populates="field", cascade="all, delete-orphan", order_by="CustomFieldValue.target"
    )


class CustomFieldValue(Base):
    __tablename__ = "custom_field_values"
    __table_args__ = (UniqueConstraint("field_id", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    # What the value belongs to: a character or location name/id, a scene id.
    target: Mapped[str] = mapped_column(String(200))
    value_json: Mapped[str] = mapped_column(Text)

    field: Mapped[CustomField] = relationship(back_populates="values")


class EditHistory(Base):
    """Who changed what, when, and how — the raw material of the edit history view."""

    __tablename__ = "edit_history"
    __table_args__ = (Index("ix_edit_history_story_at", "story_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    change_json: Mapped[str] = mapped_column(Text)


class Chapter(Base):
    __tablename__ = "chapters"
    __table_args__ = (UniqueConstraint("story_id", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500), default="")
    synopsis: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    word_target: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Scene(Base):
    __tablename__ = "scenes"
    __table_args__ = (UniqueConstraint("story_id", "uid"),
                      Index("ix_scenes_chapter_position", "chapter_id", "position"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500), default="")
    synopsis: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    words: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # Copy-on-write for local forks: while set, the scene's segments are this blob of the
    # cached reference version (no segment rows); the first edit writes rows and clears it.
    shared_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SegmentRow(Base):
    """One paragraph of a scene.  ``segments_fts`` (FTS5, external content) mirrors ``text``
    through triggers, inside the same transaction, so search can never drift from the prose."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("story_id", "uid"),
                      Index("ix_segments_scene_position", "scene_id", "position"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    gap: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)


class TextBlob(Base):
    """Content-addressed text (a scene's segments as JSON) shared by every version that has it."""

    __tablename__ = "text_blobs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class WritingDay(Base):
    """Net words written per story per local day: the progress chart and "today" count."""

    __tablename__ = "writing_days"
    __table_args__ = (UniqueConstraint("story_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    words: Mapped[int] = mapped_column(Integer, default=0)


class Series(Base):
    """A series of stories (books 1–3…) that share one scene bible."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SeriesMember(Base):
    """A story's membership of a series (a story belongs to at most one)."""

    __tablename__ = "series_members"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"),
                                           index=True)


class BibleVersion(Base):
    """One saved state of a scene bible, owned by a story or by a series.

    Versions are never updated: every save adds the next number.  The unique (owner, number)
    pair is the optimistic lock — two writers who both saw version 7 cannot both write 8.
    """

    __tablename__ = "bible_versions"
    __table_args__ = (
        UniqueConstraint("story_id", "number"),
        UniqueConstraint("series_id", "number"),
        CheckConstraint("(story_id IS NULL) <> (series_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), nullable=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), nullable=True)
    number: Mapped[int] = mapped_column(Integer)
    data_json: Mapped[str] = mapped_column(Text, nullable=False, deferred=True)
    cause_segment: Mapped[str | None] = mapped_column(String(40), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CharacterEmotion(Base):
    """A character's emotional state in one scene (JSON: see ``studio.domain.emotions``)."""

    __tablename__ = "character_emotions"
    __table_args__ = (UniqueConstraint("story_id", "character_id", "scene_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    character_id: Mapped[str] = mapped_column(String(64))
    scene_uid: Mapped[str] = mapped_column(String(40))
    data_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContinuityDismissal(Base):
    """A continuity finding the author dismissed; its key is stable across checker runs."""

    __tablename__ = "continuity_dismissals"
    __table_args__ = (UniqueConstraint("story_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GraphChapter(Base):
    """A node of the story's chapter graph (JSON: ``resources/schemas/chapter_graph.schema.json``
    minus the id, which is ``uid``).  Numbers and prerequisites are checked as a whole graph by
    ``studio.domain.chapters`` before any row is written."""

    __tablename__ = "graph_chapters"
    __table_args__ = (UniqueConstraint("story_id", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    data_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChapterVersion(Base):
    """One adaptation of a graph chapter (auto-relax, auto-adapt, alternate, manual)."""

    __tablename__ = "chapter_versions"
    __table_args__ = (UniqueConstraint("story_id", "chapter_uid", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    chapter_uid: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(32))
    data_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Playthrough(Base):
    """A saved playtest: the turns the author played (so it can be replayed), the current
    story state and each chapter's progress."""

    __tablename__ = "playthroughs"
    __table_args__ = (UniqueConstraint("story_id", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    state_json: Mapped[str] = mapped_column(Text)
    progress_json: Mapped[str] = mapped_column(Text)
    turns_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DivergenceLogEntry(Base):
    """What the playtest engine measured and did for one chapter at one turn."""

    __tablename__ = "divergence_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    playthrough_id: Mapped[int] = mapped_column(
        ForeignKey("playthroughs.id", ondelete="CASCADE"), index=True)
    turn: Mapped[int] = mapped_column(Integer)
    chapter_uid: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str] = mapped_column(String(32))
    data_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MarketplaceServer(Base):
    """A marketplace the author uses; the signed-in user's token lives in the OS keyring."""

    __tablename__ = "marketplace_servers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str | None] = mapped_column(String(80), nullable=True)
    signed_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEntry(Base):
    """A marketplace operation waiting to land exactly once (its idempotency key goes with
    every attempt, so a retry after a lost answer changes nothing on the server)."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sending', 'done', 'failed', 'cancelled')",
                        name="state"),
        Index("ix_outbox_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_url: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(500), default="")
    payload_json: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferenceStory(Base):
    """A marketplace story the author opened or forked (read-only, usable offline)."""

    __tablename__ = "reference_stories"
    __table_args__ = (UniqueConstraint("server_url", "public_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_url: Mapped[str] = mapped_column(String(500))
    public_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500), default="")
    owner: Mapped[str] = mapped_column(String(80), default="")
    licence: Mapped[str] = mapped_column(String(40), default="")
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferenceVersion(Base):
    """One version of a reference story, stored once: chapters and scenes with the hash of each
    scene's segments blob (``text_blobs``), and the story's other parts as JSON."""

    __tablename__ = "reference_versions"
    __table_args__ = (UniqueConstraint("reference_story_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference_story_id: Mapped[int] = mapped_column(
        ForeignKey("reference_stories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    changelog: Mapped[str] = mapped_column(Text, default="")
    manifest_json: Mapped[str] = mapped_column(Text)
    modules_json: Mapped[str] = mapped_column(Text, default="{}")
    scene_bible_json: Mapped[str] = mapped_column(Text, default="{}")
    chapter_graph_json: Mapped[str] = mapped_column(Text, default="{}")
    words: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoryLink(Base):
    """A local story's tie to the marketplace: the reference version it was forked from (its
    merge base for pulls) and/or the remote story it is published as."""

    __tablename__ = "story_links"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    server_url: Mapped[str] = mapped_column(String(500))
    source_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_versions.id"), nullable=True)
    remote_story_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    remote_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_fork_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # for remixes
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


from studio.store import models_ai as _models_ai  # noqa: E402,F401  (one metadata for all)

from studio.store import models_voice as _models_voice  # noqa: E402,F401

from studio.store import models_branches as _models_branches  # noqa: E402,F401

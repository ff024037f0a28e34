"""ORM models of the voice features (migration 0008).

Voice templates are permanent reference data: the database itself refuses to delete one (a
trigger), so narrations that point at a template never break.  Audio lives in files under the
data folder (``voice/samples/``, ``voice/renders/``); rows hold their metadata and checksums.
Narrations and roleplays *refer to* a story (own or forked: ``story_id``; a cached reference
version: ``reference_version_id``) and own nothing of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from studio.store.models import Base, utcnow


class VoiceTemplateRow(Base):
    __tablename__ = "voice_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    emotion: Mapped[str] = mapped_column(String(40), default="")
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    sample_line: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="author")
    remote_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # marketplace
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VoiceSample(Base):
    """One recording of the author's, stored as a file in the data folder."""

    __tablename__ = "voice_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    template_uid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    emotion: Mapped[str] = mapped_column(String(40), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    file_name: Mapped[str] = mapped_column(String(200))       # relative to voice/samples/
    original_name: Mapped[str] = mapped_column(String(500), default="")
    format: Mapped[str] = mapped_column(String(16))
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    sample_rate: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[int] = mapped_column(Integer, default=0)
    bytes_size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    peaks_json: Mapped[str] = mapped_column(Text, default="[]")  # a waveform to draw
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EmotionVoice(Base):
    """A voice cloned from the author's samples by a voice provider (not tied to a story)."""

    __tablename__ = "emotion_voices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    emotion: Mapped[str] = mapped_column(String(40), default="")
    template_uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_configs.id", ondelete="SET NULL"), nullable=True)
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    provider_voice_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="training")
    error: Mapped[str] = mapped_column(Text, default="")
    sample_uids_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Narration(Base):
    __tablename__ = "narrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True)
    reference_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_versions.id", ondelete="SET NULL"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    narrator_json: Mapped[str] = mapped_column(Text, default="{}")  # the narrator's voice
    voice_type: Mapped[str] = mapped_column(String(40), default="provider")
    voices_json: Mapped[str] = mapped_column(Text, default="{}")    # character id → voice
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NarrationSegment(Base):
    """The author's choice for one paragraph (no row: the automatic suggestion)."""

    __tablename__ = "narration_segments"
    __table_args__ = (UniqueConstraint("narration_id", "segment_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    narration_id: Mapped[int] = mapped_column(ForeignKey("narrations.id", ondelete="CASCADE"))
    segment_uid: Mapped[str] = mapped_column(String(40))
    voice: Mapped[str] = mapped_column(String(64))
    template_uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    emotion: Mapped[str] = mapped_column(String(40), default="")
    settings_json: Mapped[str] = mapped_column(Text, default="{}")


class VoiceRender(Base):
    """A rendered piece of audio, reused whenever text, voice and settings match."""

    __tablename__ = "voice_renders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    render_key: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))       # relative to voice/renders/
    mime: Mapped[str] = mapped_column(String(40))
    bytes_size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Roleplay(Base):
    __tablename__ = "roleplays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True)
    reference_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_versions.id", ondelete="SET NULL"), nullable=True)
    character_id: Mapped[str] = mapped_column(String(64))
    character_name: Mapped[str] = mapped_column(String(200))
    player: Mapped[str] = mapped_column(String(200), default="")   # whose roleplay it is
    voice_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoleplayLine(Base):
    __tablename__ = "roleplay_lines"
    __table_args__ = (UniqueConstraint("roleplay_id", "segment_uid", "line_index"),
                      Index("ix_roleplay_lines_roleplay_id", "roleplay_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roleplay_id: Mapped[int] = mapped_column(ForeignKey("roleplays.id", ondelete="CASCADE"))
    segment_uid: Mapped[str] = mapped_column(String(40))
    line_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    voice_json: Mapped[str] = mapped_column(Text, default="{}")
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    sample_uid: Mapped[str | None] = mapped_column(String(40), nullable=True)  # recorded
    render_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # rendered

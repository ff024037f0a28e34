"""ORM models of what the providers issue added (migration 0007).

Kept apart from ``models.py`` (which imports this module at its end so one metadata holds
every table).  No key or token is ever a column here: keys live in the OS keyring.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from studio.store.models import Base, utcnow


class ProviderConfigRow(Base):
    """A provider the author configured: its kind, name and non-secret settings (JSON)."""

    __tablename__ = "provider_configs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProviderDefault(Base):
    """The provider used for a capability (no row: the offline provider, where it can)."""

    __tablename__ = "provider_defaults"

    capability: Mapped[str] = mapped_column(String(20), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider_configs.id", ondelete="CASCADE"))


class ProviderUsage(Base):
    """One successful provider call: what it consumed and what it probably cost.  The
    provider's name is copied so the record survives the provider's removal."""

    __tablename__ = "provider_usage"
    __table_args__ = (Index("ix_provider_usage_at", "at"),
                      Index("ix_provider_usage_story_id_at", "story_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_configs.id", ondelete="SET NULL"), nullable=True)
    provider_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    capability: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(80), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    characters: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class StoryAnalysis(Base):
    """The offline analysis of one state of a story, keyed by the hash of what was analysed
    (so an unchanged story or version is never analysed twice) and the analyser's version."""

    __tablename__ = "story_analyses"
    __table_args__ = (UniqueConstraint("story_id", "content_hash", "insights_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    insights_version: Mapped[int] = mapped_column(Integer)
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    words: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result_json: Mapped[str] = deferred(mapped_column(Text, nullable=False))


class ImagePresetRow(Base):
    """A named way to make pictures: provider, model, parameters, style words, LoRAs."""

    __tablename__ = "image_presets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_configs.id", ondelete="SET NULL"), nullable=True)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SceneImage(Base):
    """An illustration of a scene, stored with the story (so backups and exports carry it)."""

    __tablename__ = "scene_images"
    __table_args__ = (Index("ix_scene_images_story_id_scene_uid", "story_id", "scene_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    scene_uid: Mapped[str] = mapped_column(String(40))
    prompt: Mapped[str] = mapped_column(Text, default="")
    preset_name: Mapped[str] = mapped_column(String(200), default="")
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    mime: Mapped[str] = mapped_column(String(40), default="image/png")
    bytes_size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

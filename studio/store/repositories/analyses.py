"""Stored story analyses, keyed by story, content hash and analyser version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.store.models_ai import StoryAnalysis


def find(s: Session, story_id: int, digest: str, version: int) -> StoryAnalysis | None:
    return s.scalar(select(StoryAnalysis).where(
        StoryAnalysis.story_id == story_id, StoryAnalysis.content_hash == digest,
        StoryAnalysis.insights_version == version))


def newest(s: Session, story_id: int, version: int) -> StoryAnalysis | None:
    return s.scalar(select(StoryAnalysis).where(
        StoryAnalysis.story_id == story_id, StoryAnalysis.insights_version == version)
        .order_by(StoryAnalysis.id.desc()).limit(1))


def version_numbers(s: Session, story_id: int, version: int) -> list[int]:
    return sorted(v for v in s.scalars(select(StoryAnalysis.version_number).where(
        StoryAnalysis.story_id == story_id, StoryAnalysis.version_number.is_not(None),
        StoryAnalysis.insights_version == version)))


def add(s: Session, **fields) -> None:
    s.add(StoryAnalysis(**fields))

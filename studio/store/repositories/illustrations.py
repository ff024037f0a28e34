"""Scene illustrations (image bytes stored with the story)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from studio.store.models_ai import SceneImage


def add(s: Session, **fields) -> SceneImage:
    row = SceneImage(**fields)
    s.add(row)
    s.flush()
    return row


def of_story(s: Session, story_id: int, scene_uid: str | None = None,
             with_data: bool = False) -> list[SceneImage]:
    q = select(SceneImage).where(SceneImage.story_id == story_id)
    if scene_uid is not None:
        q = q.where(SceneImage.scene_uid == scene_uid)
    if with_data:
        q = q.options(undefer(SceneImage.data))
    return list(s.scalars(q.order_by(SceneImage.id)))


def get(s: Session, story_id: int, image_id: int) -> SceneImage | None:
    row = s.get(SceneImage, image_id)
    return row if row is not None and row.story_id == story_id else None

"""Emotion voices: voices a provider cloned from the author's samples."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.store.models_voice import EmotionVoice


def all_rows(s: Session) -> list[EmotionVoice]:
    return list(s.scalars(select(EmotionVoice).order_by(EmotionVoice.id)))


def by_uid(s: Session, uid: str) -> EmotionVoice | None:
    return s.scalar(select(EmotionVoice).where(EmotionVoice.uid == uid))


def add(s: Session, row: EmotionVoice) -> EmotionVoice:
    s.add(row)
    s.flush()
    return row


def remove(s: Session, row: EmotionVoice) -> None:
    s.delete(row)
    s.flush()


def ready_for_emotion(s: Session, emotion: str) -> EmotionVoice | None:
    """The most recently trained ready voice of an emotion."""
    return s.scalar(select(EmotionVoice)
                    .where(EmotionVoice.emotion == emotion, EmotionVoice.status == "ready",
                           EmotionVoice.provider_voice_id.is_not(None))
                    .order_by(EmotionVoice.updated_at.desc(), EmotionVoice.id.desc())
                    .limit(1))


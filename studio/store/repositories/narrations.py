"""Narrations, the author's per-paragraph choices, and the shared cache of rendered audio.

A narration *refers to* a story (or a cached reference version) and owns nothing of it, so
every query here is by the narration's own rows.  ``voice_renders`` is shared by narrations
and roleplays: a piece of audio is found by its render key (text + voice + settings), never by
who asked for it, which is what lets a second narration of the same text reuse it.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete as sa_delete, select
from sqlalchemy.orm import Session

from studio.store.models import utcnow
from studio.store.models_voice import EmotionVoice, Narration, NarrationSegment, VoiceRender


# --- narrations ------------------------------------------------------------------------------

def add(s: Session, **fields) -> Narration:
    now = utcnow()
    row = Narration(created_at=now, updated_at=now, **fields)
    s.add(row)
    s.flush()
    return row


def by_uid(s: Session, uid: str) -> Narration | None:
    return s.scalar(select(Narration).where(Narration.uid == uid))


def list_for(s: Session, story_id: int | None = None,
             reference_version_id: int | None = None) -> list[Narration]:
    """The narrations of a story or of a cached reference version (all when both are None)."""
    q = select(Narration)
    if story_id is not None:
        q = q.where(Narration.story_id == story_id)
    if reference_version_id is not None:
        q = q.where(Narration.reference_version_id == reference_version_id)
    return list(s.scalars(q.order_by(Narration.id)))


def touch(row: Narration) -> None:
    row.updated_at = utcnow()


def delete(s: Session, row: Narration) -> None:
    """The narration and its per-paragraph choices (first, in one statement: the ORM knows no
    relation between the two); the renders stay."""
    s.execute(sa_delete(NarrationSegment).where(NarrationSegment.narration_id == row.id))
    s.delete(row)
    s.flush()


# --- the author's per-paragraph choices ------------------------------------------------------

def segments(s: Session, narration_id: int) -> dict[str, NarrationSegment]:
    rows = s.scalars(select(NarrationSegment).where(
        NarrationSegment.narration_id == narration_id))
    return {r.segment_uid: r for r in rows}


def segment(s: Session, narration_id: int, segment_uid: str) -> NarrationSegment | None:
    return s.scalar(select(NarrationSegment).where(
        NarrationSegment.narration_id == narration_id,
        NarrationSegment.segment_uid == segment_uid))


def put_segment(s: Session, narration_id: int, segment_uid: str, voice: str,
                template_uid: str | None, emotion: str, settings_json: str) -> None:
    row = segment(s, narration_id, segment_uid)
    if row is None:
        row = NarrationSegment(narration_id=narration_id, segment_uid=segment_uid)
        s.add(row)
    row.voice, row.template_uid, row.emotion = voice, template_uid, emotion
    row.settings_json = settings_json
    s.flush()


def delete_segment(s: Session, narration_id: int, segment_uid: str) -> None:
    row = segment(s, narration_id, segment_uid)
    if row is not None:
        s.delete(row)
        s.flush()


# --- the render cache (shared with roleplays) ------------------------------------------------

def render(s: Session, key: str) -> VoiceRender | None:
    return s.scalar(select(VoiceRender).where(VoiceRender.render_key == key))


def renders(s: Session, keys: Iterable[str]) -> dict[str, VoiceRender]:
    wanted = sorted(set(keys))
    out: dict[str, VoiceRender] = {}
    for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
        chunk = wanted[start:start + 500]
        for row in s.scalars(select(VoiceRender).where(VoiceRender.render_key.in_(chunk))):
            out[row.render_key] = row
    return out


def put_render(s: Session, key: str, file_name: str, mime: str, bytes_size: int, sha256: str,
               provider_name: str) -> VoiceRender:
    """Add the render of ``key`` (or point an existing row at its new file)."""
    row = render(s, key)
    if row is None:
        row = VoiceRender(render_key=key, created_at=utcnow())
        s.add(row)
    row.file_name, row.mime, row.bytes_size = file_name, mime, bytes_size
    row.sha256, row.provider_name = sha256, provider_name
    s.flush()
    return row


# --- emotion voices, read by their uid (the author's cloned voices) --------------------------

def emotion_voice(s: Session, uid: str) -> EmotionVoice | None:
    return s.scalar(select(EmotionVoice).where(EmotionVoice.uid == uid))

"""The author's voice samples (rows only: the audio is a file the service writes), and who uses
a sample — emotion voices trained from it, roleplay lines recorded as it — so a delete can warn
first."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio.store.models_voice import EmotionVoice, Roleplay, RoleplayLine, VoiceSample


def add(s: Session, **fields) -> VoiceSample:
    row = VoiceSample(**fields)
    s.add(row)
    s.flush()
    return row


def by_uid(s: Session, uid: str) -> VoiceSample | None:
    return s.scalar(select(VoiceSample).where(VoiceSample.uid == uid))


def listing(s: Session, template_uid: str | None = None,
            emotion: str | None = None) -> list[VoiceSample]:
    """Oldest first (the order they were recorded or imported)."""
    q = select(VoiceSample)
    if template_uid is not None:
        q = q.where(VoiceSample.template_uid == template_uid)
    if emotion is not None:
        q = q.where(VoiceSample.emotion == emotion)
    return list(s.scalars(q.order_by(VoiceSample.created_at, VoiceSample.id)))


def file_names(s: Session) -> set[str]:
    return set(s.scalars(select(VoiceSample.file_name)))


def voices_using(s: Session, uid: str) -> list[EmotionVoice]:
    """Emotion voices whose ``sample_uids_json`` lists ``uid``.  A LIKE narrows the rows; the
    JSON is then read properly, so a uid that is a prefix of another does not match."""
    rows = s.scalars(select(EmotionVoice)
                     .where(EmotionVoice.sample_uids_json.contains(json.dumps(uid)))
                     .order_by(EmotionVoice.id))
    out = []
    for row in rows:
        try:
            uids = json.loads(row.sample_uids_json or "[]")
        except ValueError:
            continue
        if isinstance(uids, list) and uid in uids:
            out.append(row)
    return out


def lines_recorded_as(s: Session, uid: str) -> list[tuple[str, str]]:
    """(character name, line text) of each roleplay line whose recording is ``uid``."""
    q = (select(Roleplay.character_name, RoleplayLine.text)
         .join(Roleplay, Roleplay.id == RoleplayLine.roleplay_id)
         .where(RoleplayLine.sample_uid == uid).order_by(RoleplayLine.id))
    return [(name, text) for name, text in s.execute(q)]


def delete(s: Session, row: VoiceSample) -> None:
    """The row goes; roleplay lines recorded as it go back to "not recorded" (their text and
    settings stay), so nothing points at a sample that no longer exists."""
    s.execute(update(RoleplayLine).where(RoleplayLine.sample_uid == row.uid)
              .values(sample_uid=None))
    s.delete(row)
    s.flush()

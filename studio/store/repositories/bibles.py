"""Scene bible versions (per story or per series), series, emotions and dismissed findings."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, undefer

from studio.domain.errors import NotFoundError
from studio.store.models import (
    BibleVersion, CharacterEmotion, ContinuityDismissal, Series, SeriesMember, utcnow,
)

OwnerKind = Literal["story", "series"]


def _owner_filter(kind: OwnerKind, owner_id: int):
    column = BibleVersion.story_id if kind == "story" else BibleVersion.series_id
    return column == owner_id


def latest_number(session: Session, kind: OwnerKind, owner_id: int) -> int:
    return session.scalar(select(func.max(BibleVersion.number))
                          .where(_owner_filter(kind, owner_id))) or 0


def get_version(session: Session, kind: OwnerKind, owner_id: int,
                number: int) -> BibleVersion:
    row = session.scalar(select(BibleVersion).options(undefer(BibleVersion.data_json))
                         .where(_owner_filter(kind, owner_id), BibleVersion.number == number))
    if row is None:
        raise NotFoundError(f"There is no bible version {number}.")
    return row


def latest_data(session: Session, kind: OwnerKind, owner_id: int) -> tuple[int, dict[str, Any]]:
    number = latest_number(session, kind, owner_id)
    if number == 0:
        return 0, {}
    return number, json.loads(get_version(session, kind, owner_id, number).data_json)


def list_versions(session: Session, kind: OwnerKind, owner_id: int) -> list[BibleVersion]:
    return list(session.scalars(select(BibleVersion).where(_owner_filter(kind, owner_id))
                                .order_by(BibleVersion.number)))


def all_with_data(session: Session, kind: OwnerKind, owner_id: int) -> list[BibleVersion]:
    return list(session.scalars(select(BibleVersion).options(undefer(BibleVersion.data_json))
                                .where(_owner_filter(kind, owner_id))
                                .order_by(BibleVersion.number)))


def add_version(session: Session, kind: OwnerKind, owner_id: int, number: int,
                data: dict[str, Any], cause_segment: str | None, summary: str,
                created_at=None) -> BibleVersion:
    row = BibleVersion(number=number, cause_segment=cause_segment, summary=summary,
                       data_json=json.dumps(data, ensure_ascii=False, sort_keys=True),
                       created_at=created_at or utcnow())
    if kind == "story":
        row.story_id = owner_id
    else:
        row.series_id = owner_id
    session.add(row)
    session.flush()  # the unique (owner, number) constraint fires here, inside the caller's txn
    return row


# --- series ------------------------------------------------------------------------------

def series_of(session: Session, story_id: int) -> Series | None:
    return session.scalar(select(Series).join(SeriesMember, SeriesMember.series_id == Series.id)
                          .where(SeriesMember.story_id == story_id))


def series_by_uid(session: Session, uid: str) -> Series | None:
    return session.scalar(select(Series).where(Series.uid == uid))


def all_series(session: Session) -> list[Series]:
    return list(session.scalars(select(Series).order_by(Series.name)))


def create_series(session: Session, uid: str, name: str) -> Series:
    row = Series(uid=uid, name=name)
    session.add(row)
    session.flush()
    return row


def set_series(session: Session, story_id: int, series_id: int | None) -> None:
    session.execute(delete(SeriesMember).where(SeriesMember.story_id == story_id))
    if series_id is not None:
        session.add(SeriesMember(story_id=story_id, series_id=series_id))
    session.flush()


def members(session: Session, series_id: int) -> list[int]:
    return list(session.scalars(select(SeriesMember.story_id)
                                .where(SeriesMember.series_id == series_id)))


# --- emotions ----------------------------------------------------------------------------

def emotions(session: Session, story_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(CharacterEmotion).where(CharacterEmotion.story_id == story_id)
                           .order_by(CharacterEmotion.character_id, CharacterEmotion.scene_uid))
    return [json.loads(r.data_json) for r in rows]


def put_emotion(session: Session, story_id: int, data: dict[str, Any]) -> dict[str, Any] | None:
    """Store ``data`` for its (character, scene); return what it replaced (for undo)."""
    row = session.scalar(select(CharacterEmotion).where(
        CharacterEmotion.story_id == story_id,
        CharacterEmotion.character_id == data["character_id"],
        CharacterEmotion.scene_uid == data["scene_uid"]))
    old = json.loads(row.data_json) if row is not None else None
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if row is None:
        session.add(CharacterEmotion(story_id=story_id, character_id=data["character_id"],
                                     scene_uid=data["scene_uid"], data_json=payload))
    else:
        row.data_json = payload
        row.updated_at = utcnow()
    session.flush()
    return old


def delete_emotion(session: Session, story_id: int, character_id: str,
                   scene_uid: str) -> dict[str, Any] | None:
    row = session.scalar(select(CharacterEmotion).where(
        CharacterEmotion.story_id == story_id, CharacterEmotion.character_id == character_id,
        CharacterEmotion.scene_uid == scene_uid))
    if row is None:
        return None
    old = json.loads(row.data_json)
    session.delete(row)
    session.flush()
    return old


def replace_emotions(session: Session, story_id: int, items: list[dict[str, Any]]) -> None:
    session.execute(delete(CharacterEmotion).where(CharacterEmotion.story_id == story_id))
    for data in items:
        session.add(CharacterEmotion(story_id=story_id, character_id=data["character_id"],
                                     scene_uid=data["scene_uid"],
                                     data_json=json.dumps(data, ensure_ascii=False,
                                                          sort_keys=True)))
    session.flush()


# --- dismissed continuity findings -------------------------------------------------------

def dismissed_keys(session: Session, story_id: int) -> set[str]:
    return set(session.scalars(select(ContinuityDismissal.key)
                               .where(ContinuityDismissal.story_id == story_id)))


def dismiss(session: Session, story_id: int, key: str) -> None:
    if key not in dismissed_keys(session, story_id):
        session.add(ContinuityDismissal(story_id=story_id, key=key))
        session.flush()


def undismiss(session: Session, story_id: int, key: str) -> None:
    session.execute(delete(ContinuityDismissal).where(
        ContinuityDismissal.story_id == story_id, ContinuityDismissal.key == key))

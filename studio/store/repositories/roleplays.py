"""Roleplays and their lines: a player's take on one character of a story they only refer to."""

from __future__ import annotations

from sqlalchemy import delete as sa_delete, select
from sqlalchemy.orm import Session

from studio.store.models import utcnow
from studio.store.models_voice import Roleplay, RoleplayLine


def add(s: Session, **fields) -> Roleplay:
    row = Roleplay(created_at=utcnow(), **fields)
    s.add(row)
    s.flush()
    return row


def by_uid(s: Session, uid: str) -> Roleplay | None:
    return s.scalar(select(Roleplay).where(Roleplay.uid == uid))


def list_for(s: Session, story_id: int | None = None,
             reference_version_id: int | None = None) -> list[Roleplay]:
    q = select(Roleplay)
    if story_id is not None:
        q = q.where(Roleplay.story_id == story_id)
    if reference_version_id is not None:
        q = q.where(Roleplay.reference_version_id == reference_version_id)
    return list(s.scalars(q.order_by(Roleplay.id)))


def find(s: Session, story_id: int | None, reference_version_id: int | None,
         character_id: str, player: str) -> Roleplay | None:
    """The player's roleplay of that character in that story, if they already have one."""
    return s.scalar(select(Roleplay).where(
        Roleplay.story_id.is_(None) if story_id is None else Roleplay.story_id == story_id,
        Roleplay.reference_version_id.is_(None) if reference_version_id is None
        else Roleplay.reference_version_id == reference_version_id,
        Roleplay.character_id == character_id, Roleplay.player == player))


def delete(s: Session, row: Roleplay) -> None:
    """The roleplay and its lines (lines first, in one statement: the ORM knows no relation
    between the two, so it must not be left to order the deletes)."""
    s.execute(sa_delete(RoleplayLine).where(RoleplayLine.roleplay_id == row.id))
    s.delete(row)
    s.flush()


def lines(s: Session, roleplay_id: int) -> list[RoleplayLine]:
    return list(s.scalars(select(RoleplayLine).where(RoleplayLine.roleplay_id == roleplay_id)
                          .order_by(RoleplayLine.id)))


def line(s: Session, roleplay_id: int, segment_uid: str, line_index: int) -> RoleplayLine | None:
    return s.scalar(select(RoleplayLine).where(
        RoleplayLine.roleplay_id == roleplay_id, RoleplayLine.segment_uid == segment_uid,
        RoleplayLine.line_index == line_index))


def replace_lines(s: Session, roleplay_id: int, old: list[RoleplayLine],
                  new: list[dict]) -> None:
    """Swap ``old`` rows for ``new`` ones (delete first, so a line may move to an index
    another row held without tripping the unique constraint)."""
    for row in old:
        s.delete(row)
    s.flush()
    for fields in new:
        s.add(RoleplayLine(roleplay_id=roleplay_id, **fields))
    s.flush()


def existing_samples(s: Session, uids: list[str]) -> set[str]:
    """Which of these voice samples still exist (a recording may have been deleted since)."""
    from studio.store.models_voice import VoiceSample

    if not uids:
        return set()
    return set(s.scalars(select(VoiceSample.uid).where(VoiceSample.uid.in_(sorted(set(uids))))))

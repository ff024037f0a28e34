"""Graph chapters, chapter versions, playthroughs and the divergence log in the database."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError
from studio.store.models import (
    ChapterVersion, DivergenceLogEntry, GraphChapter, Playthrough, utcnow,
)
from studio.store.repositories.stories import aware


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


# --- the graph ---------------------------------------------------------------------------

def graph(session: Session, story_id: int) -> dict[str, Any]:
    rows = session.scalars(select(GraphChapter).where(GraphChapter.story_id == story_id)
                           .order_by(GraphChapter.number, GraphChapter.id))
    return {"chapters": [dict(json.loads(r.data_json), id=r.uid, number=r.number)
                         for r in rows]}


def has_rows(session: Session, story_id: int) -> bool:
    return session.scalar(select(GraphChapter.id).where(GraphChapter.story_id == story_id)
                          .limit(1)) is not None


def write_graph(session: Session, story_id: int, data: dict[str, Any]) -> None:
    """Make the stored graph equal to ``data``, touching only the chapters that changed."""
    rows = {r.uid: r for r in session.scalars(
        select(GraphChapter).where(GraphChapter.story_id == story_id))}
    wanted = {c["id"]: c for c in data.get("chapters", [])}
    for uid, row in rows.items():
        if uid not in wanted:
            session.delete(row)
    for uid, chapter in wanted.items():
        body = {k: v for k, v in chapter.items() if k not in ("id", "number")}
        payload = _dumps(body)
        row = rows.get(uid)
        if row is None:
            session.add(GraphChapter(story_id=story_id, uid=uid, number=chapter["number"],
                                     data_json=payload))
        elif row.data_json != payload or row.number != chapter["number"]:
            row.data_json, row.number, row.updated_at = payload, chapter["number"], utcnow()
    session.flush()


# --- chapter versions --------------------------------------------------------------------

def add_chapter_version(session: Session, story_id: int, chapter_uid: str, description: str,
                        created_by: str, data: dict[str, Any], created_at=None) -> int:
    number = (session.scalar(select(func.max(ChapterVersion.number)).where(
        ChapterVersion.story_id == story_id, ChapterVersion.chapter_uid == chapter_uid)) or 0) + 1
    session.add(ChapterVersion(story_id=story_id, chapter_uid=chapter_uid, number=number,
                               description=description, created_by=created_by,
                               data_json=_dumps(data), created_at=created_at or utcnow()))
    session.flush()
    return number


def chapter_versions(session: Session, story_id: int,
                     chapter_uid: str | None = None) -> list[dict[str, Any]]:
    query = select(ChapterVersion).where(ChapterVersion.story_id == story_id)
    if chapter_uid is not None:
        query = query.where(ChapterVersion.chapter_uid == chapter_uid)
    rows = session.scalars(query.order_by(ChapterVersion.chapter_uid, ChapterVersion.number))
    return [{"chapter": r.chapter_uid, "number": r.number, "description": r.description,
             "created_by": r.created_by, "created_at": aware(r.created_at).isoformat(),
             "data": json.loads(r.data_json)} for r in rows]


def replace_chapter_versions(session: Session, story_id: int, items: list[dict]) -> None:
    session.execute(delete(ChapterVersion).where(ChapterVersion.story_id == story_id))
    from datetime import datetime
    for v in items:
        session.add(ChapterVersion(story_id=story_id, chapter_uid=v["chapter"],
                                   number=v["number"], description=v.get("description", ""),
                                   created_by=v["created_by"], data_json=_dumps(v["data"]),
                                   created_at=datetime.fromisoformat(v["created_at"])))
    session.flush()


# --- playthroughs ------------------------------------------------------------------------

def playthroughs(session: Session, story_id: int) -> list[Playthrough]:
    return list(session.scalars(select(Playthrough).where(Playthrough.story_id == story_id)
                                .order_by(Playthrough.updated_at.desc())))


def playthrough(session: Session, story_id: int, uid: str) -> Playthrough:
    row = session.scalar(select(Playthrough).where(Playthrough.story_id == story_id,
                                                   Playthrough.uid == uid))
    if row is None:
        raise NotFoundError("That playthrough no longer exists.")
    return row


def add_playthrough(session: Session, story_id: int, uid: str, name: str, state: dict,
                    progress: dict, turns: list) -> Playthrough:
    row = Playthrough(story_id=story_id, uid=uid, name=name, state_json=_dumps(state),
                      progress_json=_dumps(progress), turns_json=_dumps(turns))
    session.add(row)
    session.flush()
    return row


def save_playthrough(row: Playthrough, state: dict, progress: dict, turns: list) -> None:
    row.state_json, row.progress_json, row.turns_json = _dumps(state), _dumps(progress), \
        _dumps(turns)
    row.updated_at = utcnow()


def add_log(session: Session, row: Playthrough, entry: dict[str, Any]) -> None:
    session.add(DivergenceLogEntry(
        playthrough_id=row.id, turn=entry["turn"], chapter_uid=entry["chapter"],
        score=entry["score"], strategy=entry["strategy"],
        data_json=_dumps({k: entry[k] for k in ("breakdown", "reason", "change")})))


def log(session: Session, row: Playthrough) -> list[dict[str, Any]]:
    entries = session.scalars(select(DivergenceLogEntry)
                              .where(DivergenceLogEntry.playthrough_id == row.id)
                              .order_by(DivergenceLogEntry.turn, DivergenceLogEntry.id))
    return [dict(json.loads(e.data_json), turn=e.turn, chapter=e.chapter_uid, score=e.score,
                 strategy=e.strategy) for e in entries]


def clear_log(session: Session, row: Playthrough) -> None:
    session.execute(delete(DivergenceLogEntry).where(DivergenceLogEntry.playthrough_id == row.id))


def delete_playthroughs(session: Session, story_id: int) -> None:
    for row in playthroughs(session, story_id):
        session.delete(row)
    session.flush()

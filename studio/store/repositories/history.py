"""The edit history: an append-only journal of who changed what, when, and how."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from studio.store.models import EditHistory, utcnow
from studio.store.repositories.stories import aware


@lru_cache(maxsize=1)
def current_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still record something useful
        return "author"


@dataclass
class HistoryEntry:
    at: datetime
    actor: str
    entity_type: str
    entity_id: str
    action: str
    change: dict[str, Any]
    id: int = 0  # last, with a default: older callers build entries by position


def record(session: Session, story_id: int | None, entity_type: str, entity_id: str | int,
           action: str, change: dict[str, Any], actor: str | None = None) -> None:
    """Append one entry; ``actor`` credits someone else than the local author (a
    collaborator's accepted proposal)."""
    session.add(EditHistory(story_id=story_id, at=utcnow(), actor=actor or current_actor(),
                            entity_type=entity_type, entity_id=str(entity_id), action=action,
                            change_json=json.dumps(change, ensure_ascii=False, sort_keys=True)))


def _entry(row: EditHistory) -> HistoryEntry:
    return HistoryEntry(aware(row.at), row.actor, row.entity_type, row.entity_id, row.action,
                        json.loads(row.change_json), row.id)


def for_story(session: Session, story_id: int, limit: int = 500) -> list[HistoryEntry]:
    rows = session.scalars(select(EditHistory).where(EditHistory.story_id == story_id)
                           .order_by(EditHistory.at.desc(), EditHistory.id.desc()).limit(limit))
    return [_entry(r) for r in rows]


def get(session: Session, story_id: int, entry_id: int) -> HistoryEntry | None:
    row = session.get(EditHistory, entry_id)
    return _entry(row) if row is not None and row.story_id == story_id else None


def _like(text: str) -> str:
    """A LIKE pattern finding ``text`` inside JSON as ``record`` writes it (quotes, backslashes
    and newlines escaped the JSON way; % and _ taken literally)."""
    inner = json.dumps(text, ensure_ascii=False)[1:-1]
    inner = inner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{inner}%"


def query(session: Session, story_id: int, *, entity_types: Iterable[str] | None = None,
          entity_ids: Iterable[str] | None = None, actor: str | None = None,
          action: str | None = None, text: str | None = None,
          text_entity_ids: Iterable[str] = (), text_actions: Iterable[str] = (),
          text_types: Iterable[str] = (), limit: int = 200,
          before_id: int | None = None) -> list[HistoryEntry]:
    """A story's entries, newest first, narrowed by each filter given.

    ``text`` matches inside the change, the actor, the action or the entity type, or any entity
    in ``text_entity_ids``, action in ``text_actions`` or type in ``text_types`` (the caller
    resolves the titles and labels the author sees to the stored keys).  Paging is by
    key: ``before_id`` returns the entries older than that one, so a page never repeats or skips
    an entry when new edits arrive in between.  The (story, at) index serves the order.
    """
    stmt = select(EditHistory).where(EditHistory.story_id == story_id)
    if entity_types is not None:
        stmt = stmt.where(EditHistory.entity_type.in_(list(entity_types)))
    if entity_ids is not None:
        stmt = stmt.where(EditHistory.entity_id.in_([str(i) for i in entity_ids]))
    if actor:
        stmt = stmt.where(EditHistory.actor == actor)
    if action:
        stmt = stmt.where(EditHistory.action == action)
    if text:
        pattern = _like(text)
        matches = [EditHistory.change_json.like(pattern, escape="\\"),
                   EditHistory.actor.like(pattern, escape="\\"),
                   EditHistory.action.like(pattern, escape="\\"),
                   EditHistory.entity_type.like(pattern, escape="\\")]
        ids = [str(i) for i in text_entity_ids]
        if ids:
            matches.append(EditHistory.entity_id.in_(ids))
        if text_actions:
            matches.append(EditHistory.action.in_(list(text_actions)))
        if text_types:
            matches.append(EditHistory.entity_type.in_(list(text_types)))
        stmt = stmt.where(or_(*matches))
    if before_id is not None:
        anchor = session.get(EditHistory, before_id)
        if anchor is not None:
            stmt = stmt.where(or_(EditHistory.at < anchor.at,
                                  and_(EditHistory.at == anchor.at,
                                       EditHistory.id < anchor.id)))
        else:
            stmt = stmt.where(EditHistory.id < before_id)
    rows = session.scalars(stmt.order_by(EditHistory.at.desc(), EditHistory.id.desc())
                           .limit(max(1, limit)))
    return [_entry(r) for r in rows]


def distinct_values(session: Session, story_id: int) -> dict[str, list[str]]:
    """The entity types, actors and actions present in a story's history (filter choices)."""
    out: dict[str, list[str]] = {}
    for name, column in (("entity_types", EditHistory.entity_type),
                         ("actors", EditHistory.actor), ("actions", EditHistory.action)):
        out[name] = sorted(session.scalars(select(column).distinct()
                                           .where(EditHistory.story_id == story_id)))
    return out

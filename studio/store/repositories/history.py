"""The edit history: an append-only journal of who changed what, when, and how."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
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


def record(session: Session, story_id: int | None, entity_type: str, entity_id: str | int,
           action: str, change: dict[str, Any]) -> None:
    session.add(EditHistory(story_id=story_id, at=utcnow(), actor=current_actor(),
                            entity_type=entity_type, entity_id=str(entity_id), action=action,
                            change_json=json.dumps(change, ensure_ascii=False, sort_keys=True)))


def for_story(session: Session, story_id: int, limit: int = 500) -> list[HistoryEntry]:
    rows = session.scalars(select(EditHistory).where(EditHistory.story_id == story_id)
                           .order_by(EditHistory.at.desc(), EditHistory.id.desc()).limit(limit))
    return [HistoryEntry(aware(r.at), r.actor, r.entity_type, r.entity_id, r.action,
                         json.loads(r.change_json)) for r in rows]

"""Numbered full-snapshot versions of a story."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError
from studio.domain.story import VersionInfo
from studio.store.models import Version, utcnow
from studio.store.repositories.stories import aware


def _info(v: Version) -> VersionInfo:
    return VersionInfo(id=v.id, number=v.number, label=v.label, summary=v.summary,
                       created_at=aware(v.created_at), restored_from=v.restored_from)


def add(session: Session, story_id: int, snapshot: dict[str, Any], label: str, summary: str,
        restored_from: int | None = None) -> VersionInfo:
    number = (session.scalar(select(func.max(Version.number))
                             .where(Version.story_id == story_id)) or 0) + 1
    version = Version(story_id=story_id, number=number, label=label, summary=summary,
                      restored_from=restored_from, created_at=utcnow(),
                      snapshot_json=json.dumps(snapshot, ensure_ascii=False, sort_keys=True))
    session.add(version)
    session.flush()
    return _info(version)


def list_for(session: Session, story_id: int) -> list[VersionInfo]:
    rows = session.scalars(select(Version).where(Version.story_id == story_id)
                           .order_by(Version.number.desc()))
    return [_info(v) for v in rows]


def snapshot(session: Session, story_id: int, number: int) -> dict[str, Any]:
    text = session.scalar(select(Version.snapshot_json).where(
        Version.story_id == story_id, Version.number == number))
    if text is None:
        raise NotFoundError(f"Version {number} of this story does not exist.")
    return json.loads(text)


def latest_snapshot(session: Session, story_id: int) -> dict[str, Any] | None:
    text = session.scalar(select(Version.snapshot_json).where(Version.story_id == story_id)
                          .order_by(Version.number.desc()).limit(1))
    return json.loads(text) if text is not None else None


def all_with_snapshots(session: Session, story_id: int) -> list[tuple[VersionInfo, dict]]:
    rows = session.execute(select(Version, Version.snapshot_json)
                           .where(Version.story_id == story_id).order_by(Version.number))
    return [(_info(v), json.loads(text)) for v, text in rows]


def version_id(session: Session, story_id: int, number: int) -> int:
    found = session.scalar(select(Version.id).where(Version.story_id == story_id,
                                                    Version.number == number))
    if found is None:
        raise NotFoundError(f"Version {number} of this story does not exist.")
    return found

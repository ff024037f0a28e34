"""The scene bible's full history (and its series) in the JSON export, and back on import.

A snapshot holds only the live bible; the export also carries every bible version with the
segment that caused it, and the series bible the book inherits, so a story moved to another
machine keeps "what did we know by chapter 12?".
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from studio.domain.errors import ValidationError
from studio.services.schemas import bible_problems
from studio.store.repositories import bibles as repo

SERIES_UID = re.compile(r"^series_[0-9a-f]{4,32}$")


def export_part(session: Session, story_id: int) -> dict[str, Any]:
    result: dict[str, Any] = {"bible_versions": [
        {"number": r.number, "cause_segment": r.cause_segment, "summary": r.summary,
         "created_at": r.created_at.isoformat(), "data": json.loads(r.data_json)}
        for r in repo.all_with_data(session, "story", story_id)]}
    series = repo.series_of(session, story_id)
    if series is not None:
        number, data = repo.latest_data(session, "series", series.id)
        result["series"] = {"uid": series.uid, "name": series.name, "version": number,
                            "data": data}
    return result


def _schema_only(data: Any, where: str, path: list) -> None:
    problems = [p for p in bible_problems(data) if "no character has the id" not in p[1]]
    if problems:
        inner, reason = problems[0]
        raise ValidationError(where, path + [p for p in inner.split("/") if p], reason)


def _time(value: Any, path: list) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError("Bible versions", path, f"{value!r} is not a date and time") \
            from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def check_part(data: dict[str, Any]) -> None:
    """Everything checked before anything is created (import is all or nothing)."""
    versions = data.get("bible_versions", [])
    if not isinstance(versions, list):
        raise ValidationError("Bible versions", [], "must be a list")
    seen: set[int] = set()
    for i, v in enumerate(versions):
        if not isinstance(v, dict) or not isinstance(v.get("number"), int) or v["number"] < 1:
            raise ValidationError("Bible versions", [i, "number"], "must be a positive number")
        if v["number"] in seen:
            raise ValidationError("Bible versions", [i, "number"], "appears twice")
        seen.add(v["number"])
        _time(v.get("created_at"), [i, "created_at"])
        cause = v.get("cause_segment")
        if cause is not None and not (isinstance(cause, str) and cause.startswith("seg_")):
            raise ValidationError("Bible versions", [i, "cause_segment"],
                                  "must be a segment id or null")
        _schema_only(v.get("data"), "Bible versions", [i, "data"])
    series = data.get("series")
    if series is not None:
        if not isinstance(series, dict) or not SERIES_UID.match(str(series.get("uid", ""))):
            raise ValidationError("Series", ["uid"], "is not a series id")
        if not isinstance(series.get("name"), str) or not series["name"].strip():
            raise ValidationError("Series", ["name"], "is missing")
        _schema_only(series.get("data", {}), "Series", ["data"])


def import_part(session: Session, story_id: int, data: dict[str, Any]) -> None:
    series = data.get("series")
    if series is not None:
        row = repo.series_by_uid(session, series["uid"])
        if row is None:
            # A series this library has not seen: bring it with its bible.
            row = repo.create_series(session, series["uid"], series["name"].strip())
            if series.get("data"):
                repo.add_version(session, "series", row.id, 1, series["data"], None,
                                 "imported with a book")
        # A series already here keeps its own bible: a book never overwrites its siblings'.
        repo.set_series(session, story_id, row.id)
    for v in sorted(data.get("bible_versions", []), key=lambda v: v["number"]):
        repo.add_version(session, "story", story_id, v["number"], v["data"],
                         v.get("cause_segment"), v.get("summary", ""),
                         created_at=_time(v["created_at"], []))

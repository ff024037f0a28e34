"""The continuity checker as a use case: load the prose and the bible, check, remember
dismissals.  Runs on the worker thread; ``progress`` may raise to cancel."""

from __future__ import annotations

from typing import Callable

from studio.domain.continuity import ContinuityReport, ProseSegment, check
from studio.services import bible as bible_service
from studio.store.database import Database
from studio.store.repositories import bibles as repo
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo


def run(db: Database, story_id: int,
        progress: Callable[[int, int], None] | None = None) -> ContinuityReport:
    effective = bible_service.effective_bible(db, story_id)
    with db.session() as s:
        complete = bool(stories_repo.get(s, story_id).complete)
        rows = manuscript_repo.reading_order(s, story_id)
        dismissed = repo.dismissed_keys(s, story_id)
    segments = [ProseSegment(seg, chap, scene, text) for seg, chap, scene, text in rows]
    return check(effective, segments, story_complete=complete, dismissed=frozenset(dismissed),
                 progress=progress)


def dismiss(db: Database, story_id: int, key: str) -> None:
    with db.session() as s:
        stories_repo.get(s, story_id)
        repo.dismiss(s, story_id, key)


def undismiss(db: Database, story_id: int, key: str) -> None:
    with db.session() as s:
        repo.undismiss(s, story_id, key)


def dismissed(db: Database, story_id: int) -> list[str]:
    with db.session() as s:
        return sorted(repo.dismissed_keys(s, story_id))

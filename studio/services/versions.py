"""Versions: save a full snapshot, list, compare, restore (as a new version, never a rewrite)."""

from __future__ import annotations

from typing import Any

from studio.domain.story import VersionInfo
from studio.domain.versions import SectionDiff, diff_sections, summarize_changes
from studio.services import snapshot
from studio.store.database import Database
from studio.store.repositories import history
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as repo


def save_version(db: Database, story_id: int, label: str = "") -> VersionInfo:
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        current = snapshot.take(s, story_id)
        summary = summarize_changes(repo.latest_snapshot(s, story_id), current)
        info = repo.add(s, story_id, current, label.strip(), summary)
        story.active_version = info.number
        history.record(s, story_id, "version", info.number, "save",
                       {"label": info.label, "summary": summary})
        return info


def list_versions(db: Database, story_id: int) -> list[VersionInfo]:
    with db.session() as s:
        return repo.list_for(s, story_id)


def version_snapshot(db: Database, story_id: int, number: int) -> dict[str, Any]:
    with db.session() as s:
        return repo.snapshot(s, story_id, number)


def live_snapshot(db: Database, story_id: int) -> dict[str, Any]:
    with db.session() as s:
        return snapshot.take(s, story_id)


def apply_live_snapshot(db: Database, story_id: int, data: dict[str, Any]) -> None:
    """Set the live story to ``data`` (used by undo of a restore); history records it."""
    with db.session() as s:
        snapshot.apply(s, story_id, data)
        history.record(s, story_id, "story", story_id, "apply_snapshot", {})


def diff_versions(db: Database, story_id: int, old: int | None,
                  new: int | None) -> list[SectionDiff]:
    """Compare two versions; ``None`` stands for the story as it is now."""
    with db.session() as s:
        def get(number: int | None) -> dict[str, Any]:
            return snapshot.take(s, story_id) if number is None else \
                repo.snapshot(s, story_id, number)
        return diff_sections(snapshot.render(get(old), s), snapshot.render(get(new), s))


def restore_version(db: Database, story_id: int, number: int) -> VersionInfo:
    """Make the story equal to version ``number`` and record that as a new version."""
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        old = repo.snapshot(s, story_id, number)
        before = snapshot.take(s, story_id)
        snapshot.apply(s, story_id, old)
        s.flush()
        after = snapshot.take(s, story_id)
        info = repo.add(s, story_id, after, f"Restored from version {number}",
                        summarize_changes(before, after), restored_from=number)
        story.active_version = info.number
        history.record(s, story_id, "version", info.number, "restore", {"from": number})
        return info

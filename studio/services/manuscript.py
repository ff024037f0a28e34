"""The manuscript's use cases: outline, scene text, structure edits, search, replace, counts."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from studio.domain.errors import ValidationError
from studio.domain.manuscript import (
    CHAPTER_PREFIX, SCENE_PREFIX, STATUSES, Segment, assign_ids, content_hash, count_words,
    fts_query, fts_spans, join_segments, new_id, snippet,
)
from studio.domain.outline import (
    ChapterInfo, Outline, SceneInfo, SceneSaved, SceneText, SearchHit, SearchResults,
    SegmentChange,
)
from studio.store.database import Database
from studio.store.models import Chapter, Scene, utcnow
from studio.store.repositories import history
from studio.store.repositories import manuscript as repo
from studio.store.repositories import stories as stories_repo

MAX_TITLE = 500


def _check_title(title: str) -> str:
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise ValidationError("Manuscript", ["title"], f"must be text of at most {MAX_TITLE} "
                              "characters")
    return title


def _check_fields(changes: dict[str, Any], allowed: set[str]) -> None:
    for key, value in changes.items():
        if key not in allowed:
            raise ValidationError("Manuscript", [key], "cannot be changed here")
        if key == "status" and value not in STATUSES:
            raise ValidationError("Manuscript", [key], f"must be one of {', '.join(STATUSES)}")
        if key in ("title",):
            _check_title(value)
        if key == "synopsis" and not isinstance(value, str):
            raise ValidationError("Manuscript", [key], "must be text")
        if key == "word_target" and value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValidationError("Manuscript", [key], "must be a positive whole number")


# --- reading -----------------------------------------------------------------------------

def outline(db: Database, story_id: int) -> Outline:
    with db.session() as s:
        return repo.outline(s, story_id)


def load_scene(db: Database, story_id: int, scene_uid: str) -> SceneText:
    with db.session() as s:
        row = repo.scene(s, story_id, scene_uid)
        segments = repo.segments_of(s, row.id)
        return SceneText(scene_uid, join_segments(segments), segments, row.words)


# --- structure ---------------------------------------------------------------------------

def add_chapter(db: Database, story_id: int, title: str = "",
                position: int | None = None) -> ChapterInfo:
    _check_title(title)
    with db.session() as s:
        stories_repo.get(s, story_id)
        chapters = repo.live_chapters(s, story_id)
        title = title or f"Chapter {len(chapters) + 1}"
        row = Chapter(story_id=story_id, uid=new_id(CHAPTER_PREFIX), title=title, synopsis="",
                      status="draft", position=len(chapters))
        s.add(row)
        chapters.insert(len(chapters) if position is None else max(0, position), row)
        repo.renumber(chapters)
        history.record(s, story_id, "chapter", row.uid, "create", {"title": title})
        s.flush()
        return ChapterInfo(row.uid, row.title, "", row.status, None, row.position)


def add_scene(db: Database, story_id: int, chapter_uid: str, title: str = "",
              position: int | None = None, text: str = "") -> SceneInfo:
    _check_title(title)
    with db.session() as s:
        chapter = repo.chapter(s, story_id, chapter_uid)
        scenes = repo.live_scenes(s, chapter.id)
        title = title or f"Scene {len(scenes) + 1}"
        row = Scene(story_id=story_id, chapter_id=chapter.id, uid=new_id(SCENE_PREFIX),
                    title=title, synopsis="", status="draft", position=len(scenes), words=0,
                    content_hash=content_hash([]))
        s.add(row)
        s.flush()
        scenes.insert(len(scenes) if position is None else max(0, position), row)
        repo.renumber(scenes)
        history.record(s, story_id, "scene", row.uid, "create", {"title": title})
        if text:
            _save_text(s, story_id, row, text)
        return SceneInfo(row.uid, chapter.uid, row.title, "", row.status, row.words,
                         row.position)


def update_chapter(db: Database, story_id: int, chapter_uid: str, **changes: Any) -> None:
    _check_fields(changes, {"title", "synopsis", "status", "word_target"})
    with db.session() as s:
        row = repo.chapter(s, story_id, chapter_uid)
        old = {k: getattr(row, k) for k in changes}
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        history.record(s, story_id, "chapter", chapter_uid, "update",
                       {k: {"old": old[k], "new": v} for k, v in changes.items()})


def update_scene(db: Database, story_id: int, scene_uid: str, **changes: Any) -> None:
    _check_fields(changes, {"title", "synopsis", "status"})
    with db.session() as s:
        row = repo.scene(s, story_id, scene_uid)
        old = {k: getattr(row, k) for k in changes}
        for key, value in changes.items():
            setattr(row, key, value)
        repo.touch_scene(row)
        history.record(s, story_id, "scene", scene_uid, "update",
                       {k: {"old": old[k], "new": v} for k, v in changes.items()})


def set_story_target(db: Database, story_id: int, words: int | None) -> None:
    _check_fields({"word_target": words}, {"word_target"})
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        history.record(s, story_id, "story", story_id, "update",
                       {"word_target": {"old": story.word_target, "new": words}})
        story.word_target = words


def set_language(db: Database, story_id: int, language: str) -> None:
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", language or ""):
        raise ValidationError("Story", ["language"], "must be a language code such as en or fr")
    with db.session() as s:
        stories_repo.get(s, story_id).language = language


def move_scene(db: Database, story_id: int, scene_uid: str, chapter_uid: str,
               position: int) -> tuple[str, int]:
    """Move a scene; returns where it was (chapter uid, position) so the move can be undone."""
    with db.session() as s:
        row = repo.scene(s, story_id, scene_uid)
        source = s.get(Chapter, row.chapter_id)
        was = (source.uid, row.position)
        repo.move_scene_rows(s, row, repo.chapter(s, story_id, chapter_uid), position)
        history.record(s, story_id, "scene", scene_uid, "move",
                       {"from": list(was), "to": [chapter_uid, position]})
        return was


def move_chapter(db: Database, story_id: int, chapter_uid: str, position: int) -> int:
    with db.session() as s:
        chapters = repo.live_chapters(s, story_id)
        row = repo.chapter(s, story_id, chapter_uid)
        was = row.position
        chapters.remove(row)
        chapters.insert(max(0, min(position, len(chapters))), row)
        repo.renumber(chapters)
        history.record(s, story_id, "chapter", chapter_uid, "move",
                       {"from": was, "to": position})
        return was


def delete_chapter(db: Database, story_id: int, chapter_uid: str) -> None:
    """To the trash with its scenes; ``restore_chapter`` brings it back (undo)."""
    with db.session() as s:
        row = repo.chapter(s, story_id, chapter_uid)
        row.deleted_at = utcnow()
        repo.renumber(repo.live_chapters(s, story_id))
        history.record(s, story_id, "chapter", chapter_uid, "delete", {"title": row.title})


def restore_chapter(db: Database, story_id: int, chapter_uid: str, position: int) -> None:
    with db.session() as s:
        row = repo.chapter(s, story_id, chapter_uid, deleted=True)
        row.deleted_at = None
        chapters = [c for c in repo.live_chapters(s, story_id) if c.id != row.id]
        chapters.insert(max(0, min(position, len(chapters))), row)
        repo.renumber(chapters)
        history.record(s, story_id, "chapter", chapter_uid, "undelete", {})


def delete_scene(db: Database, story_id: int, scene_uid: str) -> None:
    with db.session() as s:
        row = repo.scene(s, story_id, scene_uid)
        row.deleted_at = utcnow()
        repo.renumber(repo.live_scenes(s, row.chapter_id))
        history.record(s, story_id, "scene", scene_uid, "delete", {"title": row.title})


def restore_scene(db: Database, story_id: int, scene_uid: str, chapter_uid: str,
                  position: int) -> None:
    with db.session() as s:
        row = repo.scene(s, story_id, scene_uid, deleted=True)
        row.deleted_at = None
        s.flush()
        repo.move_scene_rows(s, row, repo.chapter(s, story_id, chapter_uid), position)
        history.record(s, story_id, "scene", scene_uid, "undelete", {})


# --- prose -------------------------------------------------------------------------------

def _save_text(s, story_id: int, row: Scene, text: str) -> SceneSaved:
    old = repo.segments_of(s, row.id)
    return store_segments(s, story_id, row, assign_ids(old, text), old=old)


ADDED_KEPT = 200  # new paragraphs listed in a history entry (ids, positions, some text)
ADDED_TEXT_BUDGET = 20_000  # characters of new paragraphs' text kept for the history view


def _text_change(old: list[Segment], new: list[Segment]) -> dict[str, Any]:
    """What a save replaced, for the edit history: every paragraph it changed or deleted with
    its previous text and place (so "restore this" can put it back), and the new paragraphs."""
    new_text = {seg.id: seg.text for seg in new}
    old_ids = {seg.id for seg in old}
    replaced: list[dict[str, Any]] = []
    for i, seg in enumerate(old):
        if seg.id not in new_text:
            replaced.append({"id": seg.id, "old": seg.text, "new": None, "position": i,
                             "gap": seg.gap, "after": old[i - 1].id if i else None})
        elif new_text[seg.id] != seg.text:
            replaced.append({"id": seg.id, "old": seg.text, "new": new_text[seg.id],
                             "position": i, "gap": seg.gap,
                             "after": old[i - 1].id if i else None})
    added: list[dict[str, Any]] = []
    budget = ADDED_TEXT_BUDGET
    fresh = [(j, seg) for j, seg in enumerate(new) if seg.id not in old_ids]
    for j, seg in fresh[:ADDED_KEPT]:
        item: dict[str, Any] = {"id": seg.id, "position": j}
        if len(seg.text) <= budget:
            item["text"] = seg.text
            budget -= len(seg.text)
        added.append(item)
    change: dict[str, Any] = {"replaced": replaced, "added": added}
    if len(fresh) > ADDED_KEPT:
        change["added_more"] = len(fresh) - ADDED_KEPT
    return change


def store_segments(s, story_id: int, row: Scene, new: list[Segment], *,
                   old: list[Segment] | None = None, action: str = "update",
                   note: dict[str, Any] | None = None) -> SceneSaved:
    """Make a scene's prose ``new`` (segments with their ids) inside the session ``s``: words,
    the full-text index, the day's count and the edit history all follow.  Saving typed text
    goes through here; so does the edit history's "restore this", which must put paragraphs
    back under their own ids (``note`` is added to the history entry, ``action`` names it)."""
    old = repo.segments_of(s, row.id) if old is None else old
    digest = content_hash(new)
    if digest == row.content_hash:
        return SceneSaved(row.uid, row.words, 0, 0, 0, 0)
    inserted, updated, deleted = repo.write_segments(s, row, new)
    words = sum(count_words(seg.text) for seg in new)
    delta = words - row.words
    row.words = words
    row.content_hash = digest
    repo.touch_scene(row)
    repo.add_writing_words(s, story_id, delta)
    change = {"words": words, "delta": delta, "inserted": inserted, "updated": updated,
              "deleted": deleted, **_text_change(old, new), **(note or {})}
    history.record(s, story_id, "scene_text", row.uid, action, change)
    return SceneSaved(row.uid, words, delta, inserted, updated, deleted)


def save_scene_text(db: Database, story_id: int, scene_uid: str, text: str) -> SceneSaved:
    """Store a scene's prose: only paragraphs that changed are written (and re-indexed)."""
    if not isinstance(text, str):
        raise ValidationError("Scene", ["text"], "must be text")
    with db.session() as s:
        return _save_text(s, story_id, repo.scene(s, story_id, scene_uid), text)


# --- search and replace ------------------------------------------------------------------

def search(db: Database, story_id: int, query: str, limit: int = 500) -> SearchResults:
    started = time.perf_counter()
    fts = fts_query(query)
    if not fts:
        return SearchResults(query, [], 0)
    with db.session() as s:
        hits, total = repo.search(s, story_id, fts, limit)
        shared = repo.shared_scenes(s, story_id)
        if shared:  # forked scenes not edited yet: their prose is not in the index
            hits, total = _with_shared_hits(s, story_id, query, hits, total, shared, limit)
    return SearchResults(query, hits, total, 1000 * (time.perf_counter() - started))


def _with_shared_hits(s, story_id: int, query: str, hits: list[SearchHit], total: int,
                      shared: list[tuple], limit: int) -> tuple[list[SearchHit], int]:
    found: list[tuple[tuple, SearchHit]] = []
    for ch_uid, ch_title, sc_uid, sc_title, ch_pos, sc_pos, blob in shared:
        for i, seg in enumerate(repo.blob_segments(s, blob)):
            spans = fts_spans(seg.text, query)
            if spans:
                found.append(((ch_pos, sc_pos, i), SearchHit(
                    ch_uid, ch_title, sc_uid, sc_title, seg.id,
                    snippet(seg.text, spans, repo.HIT_START, repo.HIT_END))))
    if not found:
        return hits, total
    positions = repo.scene_positions(s, story_id)
    indexed = [((*positions.get(h.scene_uid, (0, 0)), -1), h) for h in hits]
    merged = sorted(indexed + found, key=lambda item: item[0][:2])  # stable within a scene
    return [h for _key, h in merged][:limit], total + len(found)


def _pattern(find: str, case_sensitive: bool, whole_word: bool) -> re.Pattern:
    body = re.escape(find)
    if whole_word:
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def replace_all(db: Database, story_id: int, find: str, replacement: str,
                case_sensitive: bool = False, whole_word: bool = False) -> list[SegmentChange]:
    """Replace across the whole story in one transaction; the returned changes undo it."""
    if not find or "\n" in find or "\n" in replacement:
        raise ValidationError("Replace", ["find"], "needs text to find, on one line")
    fts = fts_query(find)
    pattern = _pattern(find, case_sensitive, whole_word)
    changes: list[SegmentChange] = []
    with db.session() as s:
        if fts:  # forked scenes not edited yet get their own rows where the text matches
            repo.materialise_shared(s, story_id, lambda seg: bool(pattern.search(seg.text)))
        candidates = repo.segments_matching(s, story_id, fts) if fts else []
        touched: dict[int, Scene] = {}
        for seg in candidates:
            new_text = pattern.sub(lambda _m: replacement, seg.text)
            if new_text != seg.text:
                scene_row = touched.get(seg.scene_id) or s.get(Scene, seg.scene_id)
                touched[seg.scene_id] = scene_row
                changes.append(SegmentChange(seg.uid, scene_row.uid, seg.text, new_text))
                seg.text = new_text
        _refresh_scenes(s, story_id, touched.values())
        if changes:
            history.record(s, story_id, "manuscript", story_id, "replace_all",
                           {"find": find, "replacement": replacement,
                            "segments": len(changes)})
    return changes


def apply_segment_texts(db: Database, story_id: int, texts: dict[str, str]) -> None:
    """Set segment texts by id (undo and redo of a replace-all)."""
    from sqlalchemy import select

    from studio.store.models import SegmentRow

    with db.session() as s:
        repo.materialise_shared(s, story_id, lambda seg: seg.id in texts)  # forked scenes
        rows = list(s.scalars(select(SegmentRow).where(SegmentRow.story_id == story_id,
                                                       SegmentRow.uid.in_(list(texts)))))
        touched = {}
        for row in rows:
            row.text = texts[row.uid]
            touched[row.scene_id] = s.get(Scene, row.scene_id)
        _refresh_scenes(s, story_id, touched.values())


def _refresh_scenes(s, story_id: int, scenes) -> None:
    s.flush()
    for scene_row in scenes:
        segments = repo.segments_of(s, scene_row.id)
        words = sum(count_words(seg.text) for seg in segments)
        repo.add_writing_words(s, story_id, words - scene_row.words)
        scene_row.words = words
        scene_row.content_hash = content_hash(segments)
        repo.touch_scene(scene_row)


# --- counts and progress -----------------------------------------------------------------

def writing_history(db: Database, story_id: int, days: int = 90) -> list[tuple]:
    with db.session() as s:
        return repo.writing_days(s, story_id, repo.local_today() - timedelta(days=days - 1))


def verify_search_index(db: Database) -> bool:
    """Check the full-text index against the prose; rebuild it if stale. True if it was fine."""
    with db.session() as s:
        if repo.fts_integrity_ok(s):
            return True
    with db.session() as s:
        repo.fts_rebuild(s)
    return False

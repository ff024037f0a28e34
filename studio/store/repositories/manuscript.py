"""Chapters, scenes and segments in the database; full-text search over the segments.

Reads here never touch prose unless asked for one scene: the outline of a 1M-word novel is a
thousand small rows, which is what makes opening it instant.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Callable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError
from studio.domain.manuscript import Segment, content_hash
from studio.domain.outline import ChapterInfo, Outline, SceneInfo, SearchHit
from studio.store.models import (
    Chapter, Scene, SegmentRow, Story, TextBlob, WritingDay, utcnow,
)

HIT_START, HIT_END = "\x02", "\x03"


def local_today() -> date:
    return datetime.now().astimezone().date()


def chapter(session: Session, story_id: int, uid: str, deleted: bool = False) -> Chapter:
    row = session.scalar(select(Chapter).where(Chapter.story_id == story_id, Chapter.uid == uid))
    if row is None or (row.deleted_at is not None and not deleted):
        raise NotFoundError(f"There is no chapter {uid} in this story.")
    return row


def scene(session: Session, story_id: int, uid: str, deleted: bool = False) -> Scene:
    row = session.scalar(select(Scene).where(Scene.story_id == story_id, Scene.uid == uid))
    if row is None or (row.deleted_at is not None and not deleted):
        raise NotFoundError(f"There is no scene {uid} in this story.")
    return row


def live_chapters(session: Session, story_id: int) -> list[Chapter]:
    return list(session.scalars(select(Chapter).where(
        Chapter.story_id == story_id, Chapter.deleted_at.is_(None)).order_by(Chapter.position)))


def live_scenes(session: Session, chapter_id: int) -> list[Scene]:
    return list(session.scalars(select(Scene).where(
        Scene.chapter_id == chapter_id, Scene.deleted_at.is_(None)).order_by(Scene.position)))


def outline(session: Session, story_id: int) -> Outline:
    story = session.get(Story, story_id)
    if story is None or story.deleted_at is not None:
        raise NotFoundError(f"There is no story with id {story_id}.")
    chapters = live_chapters(session, story_id)
    by_id = {c.id: ChapterInfo(c.uid, c.title, c.synopsis, c.status, c.word_target, c.position)
             for c in chapters}
    rows = session.execute(
        select(Scene.chapter_id, Scene.uid, Scene.title, Scene.synopsis, Scene.status,
               Scene.words, Scene.position)
        .where(Scene.story_id == story_id, Scene.deleted_at.is_(None))
        .order_by(Scene.chapter_id, Scene.position))
    for chapter_id, uid, title, synopsis, status, words, position in rows:
        info = by_id.get(chapter_id)
        if info is not None:
            info.scenes.append(SceneInfo(uid, info.uid, title, synopsis, status, words,
                                         position))
    today = session.scalar(select(WritingDay.words).where(
        WritingDay.story_id == story_id, WritingDay.day == local_today().isoformat())) or 0
    return Outline(story_id, [by_id[c.id] for c in chapters], story.word_target,
                   story.language or "en", today)


def renumber(rows: list) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position


def blob_segments(session: Session, digest: str) -> list[Segment]:
    """A scene's segments stored as one content-addressed blob (versions, reference data)."""
    return [Segment(d["id"], d["text"], d.get("gap", 0))
            for d in json.loads(get_blob(session, digest))]


def blob_payload(segments: list[Segment]) -> str:
    return json.dumps([seg.as_dict() for seg in segments], ensure_ascii=False,
                      separators=(",", ":"))


def put_scene_blob(session: Session, segments: list[Segment]) -> str:
    """Store a scene's segments as a blob (once per content); returns its hash."""
    digest = content_hash(segments)
    put_blob(session, digest, blob_payload(segments))
    return digest


def segments_of(session: Session, scene_id: int) -> list[Segment]:
    rows = session.execute(select(SegmentRow.uid, SegmentRow.text, SegmentRow.gap)
                           .where(SegmentRow.scene_id == scene_id)
                           .order_by(SegmentRow.position)).all()
    if not rows:  # a forked scene not edited yet reads its reference blob (copy-on-write)
        shared = session.scalar(select(Scene.shared_blob).where(Scene.id == scene_id))
        if shared:
            return blob_segments(session, shared)
    return [Segment(uid, text_, gap) for uid, text_, gap in rows]


def shared_scenes(session: Session, story_id: int) -> list[tuple]:
    """Live forked scenes still sharing their reference blob, in reading order:
    (chapter uid, chapter title, scene uid, scene title, chapter position, scene position,
    blob hash)."""
    return [tuple(r) for r in session.execute(text(
        "SELECT c.uid, c.title, s.uid, s.title, c.position, s.position, s.shared_blob "
        "FROM scenes s JOIN chapters c ON c.id = s.chapter_id WHERE s.story_id = :story "
        "AND s.shared_blob IS NOT NULL AND s.deleted_at IS NULL AND c.deleted_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM segments g WHERE g.scene_id = s.id) "
        "ORDER BY c.position, s.position"), {"story": story_id})]


def scene_positions(session: Session, story_id: int) -> dict[str, tuple[int, int]]:
    return {uid: (cp, sp) for uid, cp, sp in session.execute(
        select(Scene.uid, Chapter.position, Scene.position)
        .join(Chapter, Chapter.id == Scene.chapter_id).where(Scene.story_id == story_id))}


def materialise_shared(session: Session, story_id: int,
                       wanted: Callable[[Segment], bool]) -> int:
    """Give the forked scenes still sharing their reference blob that hold a segment
    ``wanted`` selects their own rows (copy-on-write before an edit by id or a replace);
    returns how many scenes."""
    shared = session.scalars(select(Scene).where(
        Scene.story_id == story_id, Scene.shared_blob.is_not(None))).all()
    done = 0
    for row in shared:
        segments = blob_segments(session, row.shared_blob)
        if any(wanted(seg) for seg in segments):
            write_segments(session, row, segments)
            done += 1
    if done:
        session.flush()
    return done


def write_segments(session: Session, scene_row: Scene, new: list[Segment]) -> tuple[int, int, int]:
    """Make the scene's stored segments equal to ``new`` with as few writes as possible:
    untouched paragraphs are not rewritten (nor re-indexed).  A forked scene still sharing
    its reference blob gets its own rows now (copy-on-write)."""
    scene_row.shared_blob = None
    rows = {r.uid: r for r in session.scalars(
        select(SegmentRow).where(SegmentRow.scene_id == scene_row.id))}
    inserted = updated = 0
    keep = {s.id for s in new}
    gone = [r.id for uid, r in rows.items() if uid not in keep]
    if gone:
        session.execute(delete(SegmentRow).where(SegmentRow.id.in_(gone)))
    for position, seg in enumerate(new):
        row = rows.get(seg.id)
        if row is None:
            session.add(SegmentRow(story_id=scene_row.story_id, scene_id=scene_row.id,
                                   uid=seg.id, position=position, gap=seg.gap, text=seg.text))
            inserted += 1
            continue
        changed = False
        if row.text != seg.text:
            row.text = seg.text
            changed = True
        if row.position != position:
            row.position = position
        if row.gap != seg.gap:
            row.gap = seg.gap
        updated += changed
    return inserted, updated, len(gone)


def add_writing_words(session: Session, story_id: int, delta: int) -> None:
    if not delta:
        return
    day = local_today().isoformat()
    row = session.scalar(select(WritingDay).where(WritingDay.story_id == story_id,
                                                  WritingDay.day == day))
    if row is None:
        session.add(WritingDay(story_id=story_id, day=day, words=delta))
    else:
        row.words += delta


def writing_days(session: Session, story_id: int, since: date) -> list[tuple[date, int]]:
    rows = session.execute(select(WritingDay.day, WritingDay.words).where(
        WritingDay.story_id == story_id, WritingDay.day >= since.isoformat())
        .order_by(WritingDay.day))
    return [(date.fromisoformat(d), w) for d, w in rows]


def search(session: Session, story_id: int, fts: str, limit: int) -> tuple[list[SearchHit], int]:
    """Segments matching ``fts`` in the story's live scenes, in manuscript order."""
    # CROSS JOIN keeps SQLite from starting at the story's segments and probing the index for
    # each (1.4 s at 1M words): the full-text match runs first, then the joins by primary key.
    base = (
        "FROM segments_fts f CROSS JOIN segments g ON g.id = f.rowid "
        "JOIN scenes s ON s.id = g.scene_id JOIN chapters c ON c.id = s.chapter_id "
        "WHERE segments_fts MATCH :q AND g.story_id = :story "
        "AND s.deleted_at IS NULL AND c.deleted_at IS NULL"
    )
    params = {"q": fts, "story": story_id, "limit": limit,
              "a": HIT_START, "b": HIT_END}
    rows = session.execute(text(
        "SELECT c.uid, c.title, s.uid, s.title, g.uid, "
        "snippet(segments_fts, 0, :a, :b, '…', 24) " + base +
        " ORDER BY c.position, s.position, g.position LIMIT :limit"), params).all()
    total = len(rows)
    if total == limit:
        total = session.execute(text("SELECT count(*) " + base), params).scalar_one()
    return [SearchHit(*r) for r in rows], total


def segments_matching(session: Session, story_id: int, fts: str) -> list[SegmentRow]:
    ids = [r[0] for r in session.execute(text(
        "SELECT g.id FROM segments_fts f CROSS JOIN segments g ON g.id = f.rowid "
        "JOIN scenes s ON s.id = g.scene_id JOIN chapters c ON c.id = s.chapter_id "
        "WHERE segments_fts MATCH :q AND g.story_id = :story "
        "AND s.deleted_at IS NULL AND c.deleted_at IS NULL"), {"q": fts, "story": story_id})]
    if not ids:
        return []
    return list(session.scalars(select(SegmentRow).where(SegmentRow.id.in_(ids))))


def put_blob(session: Session, digest: str, payload: str) -> None:
    if session.get(TextBlob, digest) is None:
        session.add(TextBlob(hash=digest, text=payload))


def get_blob(session: Session, digest: str) -> str:
    blob = session.get(TextBlob, digest)
    if blob is None:
        raise NotFoundError(f"The stored text {digest[:12]}… is missing from the database.")
    return blob.text


def story_words(session: Session, story_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Scene.words), 0))
        .join(Chapter, Chapter.id == Scene.chapter_id)
        .where(Scene.story_id == story_id, Scene.deleted_at.is_(None),
               Chapter.deleted_at.is_(None))) or 0


def touch_scene(row: Scene) -> None:
    row.updated_at = utcnow()


def fts_integrity_ok(session: Session) -> bool:
    try:
        session.execute(text("INSERT INTO segments_fts(segments_fts, rank) "
                             "VALUES('integrity-check', 1)"))
        return True
    except Exception:  # SQLite reports a stale index as a "database disk image malformed"
        return False


def fts_rebuild(session: Session) -> None:
    session.execute(text("INSERT INTO segments_fts(segments_fts) VALUES('rebuild')"))


def move_scene_rows(session: Session, row: Scene, target: Chapter, position: int) -> None:
    source_id = row.chapter_id
    row.chapter_id = target.id
    siblings = [s for s in live_scenes(session, target.id) if s.id != row.id]
    position = max(0, min(position, len(siblings)))
    siblings.insert(position, row)
    renumber(siblings)
    if source_id != target.id:
        renumber(live_scenes(session, source_id))



def reading_order(session: Session, story_id: int,
                  with_text: bool = True) -> list[tuple[str, str, str, str]]:
    """(segment uid, chapter uid, scene uid, text) of every live segment, in reading order
    (forked scenes that still share their reference blob included)."""
    rows = session.execute(text(
        "SELECT g.uid, c.uid, s.uid, " + ("g.text" if with_text else "''") + ", "
        "c.position, s.position "
        "FROM segments g JOIN scenes s ON s.id = g.scene_id JOIN chapters c ON c.id = s.chapter_id "
        "WHERE g.story_id = :story AND s.deleted_at IS NULL AND c.deleted_at IS NULL "
        "ORDER BY c.position, s.position, g.position"), {"story": story_id}).all()
    shared = session.execute(text(
        "SELECT s.shared_blob, c.uid, s.uid, c.position, s.position FROM scenes s "
        "JOIN chapters c ON c.id = s.chapter_id WHERE s.story_id = :story "
        "AND s.shared_blob IS NOT NULL AND s.deleted_at IS NULL AND c.deleted_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM segments g WHERE g.scene_id = s.id)"),
        {"story": story_id}).all()
    if not shared:
        return [tuple(r[:4]) for r in rows]
    merged = [((r[4], r[5], i), tuple(r[:4])) for i, r in enumerate(rows)]
    for digest, ch_uid, sc_uid, ch_pos, sc_pos in shared:
        for i, seg in enumerate(blob_segments(session, digest)):
            merged.append(((ch_pos, sc_pos, i), (seg.id, ch_uid, sc_uid,
                                                 seg.text if with_text else "")))
    merged.sort(key=lambda item: item[0])
    return [row for _key, row in merged]


def scene_fingerprints(session: Session, story_id: int) -> dict[int, list[tuple]]:
    """Per live chapter id, its live scenes in order as (uid, title, synopsis, text digest):
    enough to tell whether the prose changed without reading a word of it."""
    rows = session.execute(
        select(Scene.chapter_id, Scene.uid, Scene.title, Scene.synopsis, Scene.content_hash,
               Scene.shared_blob)
        .where(Scene.story_id == story_id, Scene.deleted_at.is_(None))
        .order_by(Scene.chapter_id, Scene.position))
    out: dict[int, list[tuple]] = {}
    for chapter_id, uid, title, synopsis, digest, shared in rows:
        out.setdefault(chapter_id, []).append((uid, title, synopsis, digest or shared or ""))
    return out

"""Branch rows (``story_branches``), the family of a story, and what a story's rows weigh.

A family is a main story (the trunk) and every branch whose ``trunk_id`` points at it; the
switcher lists it from any member, so every lookup here works given a branch or the main story.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from studio.store.models import Story, utcnow
from studio.store.models_branches import StoryBranch


def get(session: Session, story_id: int) -> StoryBranch | None:
    """The branch row of ``story_id`` (None: it is a main story)."""
    return session.get(StoryBranch, story_id)


def add(session: Session, story_id: int, trunk_id: int, parent_id: int, name: str,
        description: str, base_version: int, branch_chapter: str | None) -> StoryBranch:
    row = StoryBranch(story_id=story_id, trunk_id=trunk_id, parent_id=parent_id, name=name,
                      description=description, base_version=base_version,
                      branch_chapter=branch_chapter, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def trunk_of(session: Session, story_id: int) -> int:
    row = get(session, story_id)
    return row.trunk_id if row is not None else story_id


def of_trunk(session: Session, trunk_id: int, deleted: bool = False) -> list[StoryBranch]:
    """The family's branches in the order they were made; live ones only unless ``deleted``."""
    query = (select(StoryBranch).join(Story, Story.id == StoryBranch.story_id)
             .where(StoryBranch.trunk_id == trunk_id)
             .order_by(StoryBranch.created_at, StoryBranch.story_id))
    if not deleted:
        query = query.where(Story.deleted_at.is_(None))
    return list(session.scalars(query))


def deleted_with(session: Session, trunk_id: int, when: datetime) -> list[Story]:
    """Branch stories of ``trunk_id`` moved to the trash at ``when`` (with their main story)."""
    return list(session.scalars(
        select(Story).join(StoryBranch, StoryBranch.story_id == Story.id)
        .where(StoryBranch.trunk_id == trunk_id, Story.deleted_at == when)))


def is_branch_clause():
    """A WHERE clause true for stories that are branches (the library leaves them out)."""
    return exists().where(StoryBranch.story_id == Story.id)


# --- storage -------------------------------------------------------------------------------

def _story_tables(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every table with a ``story_id`` column, with its columns (name, declared type)."""
    names = [r[0] for r in session.execute(text(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'segments_fts%' AND name != 'alembic_version' ORDER BY name"))]
    out = []
    for name in names:
        columns = [(r[1], r[2]) for r in session.execute(text(f'PRAGMA table_info("{name}")'))]
        if any(c == "story_id" for c, _ in columns):
            out.append((name, columns))
    return out


def _payload(columns: list[tuple[str, str]], alias: str = "") -> str:
    """SQL summing the bytes a row's values hold: text and blobs by length, numbers as 8."""
    prefix = f"{alias}." if alias else ""
    parts = [f"(CASE typeof({prefix}\"{c}\") WHEN 'null' THEN 0 WHEN 'integer' THEN 8 "
             f"WHEN 'real' THEN 8 ELSE length(CAST({prefix}\"{c}\" AS BLOB)) END)"
             for c, _ in columns]
    return " + ".join(parts) or "0"


def row_bytes(session: Session, story_id: int) -> dict[str, dict[str, int]]:
    """Per table, the rows that belong to ``story_id`` and the bytes their values hold (the
    story row itself, and custom field values through their field, included).  Values, not
    pages: SQLite's page and index overhead comes on top (the bench measures the file)."""
    out: dict[str, dict[str, int]] = {}
    story_columns = [(r[1], r[2]) for r in session.execute(text('PRAGMA table_info("stories")'))]
    rows, size = session.execute(text(
        f"SELECT count(*), coalesce(sum({_payload(story_columns)}), 0) FROM stories "
        "WHERE id = :id"), {"id": story_id}).one()
    out["stories"] = {"rows": rows, "bytes": size}
    for name, columns in _story_tables(session):
        rows, size = session.execute(text(
            f'SELECT count(*), coalesce(sum({_payload(columns)}), 0) FROM "{name}" '
            "WHERE story_id = :id"), {"id": story_id}).one()
        if rows:
            out[name] = {"rows": rows, "bytes": size}
    value_columns = [(r[1], r[2]) for r in session.execute(
        text('PRAGMA table_info("custom_field_values")'))]
    if value_columns:
        rows, size = session.execute(text(
            f"SELECT count(*), coalesce(sum({_payload(value_columns, 'v')}), 0) "
            "FROM custom_field_values v JOIN custom_fields f ON f.id = v.field_id "
            "WHERE f.story_id = :id"), {"id": story_id}).one()
        if rows:
            out["custom_field_values"] = {"rows": rows, "bytes": size}
    return out


def scene_sharing(session: Session, story_id: int) -> dict[str, Any]:
    """How many live scenes still share a blob (no rows of their own) and how many do not."""
    shared, own = session.execute(text(
        "SELECT coalesce(sum(CASE WHEN s.shared_blob IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM segments g WHERE g.scene_id = s.id) THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN s.shared_blob IS NULL OR EXISTS "
        "(SELECT 1 FROM segments g WHERE g.scene_id = s.id) THEN 1 ELSE 0 END), 0) "
        "FROM scenes s WHERE s.story_id = :id AND s.deleted_at IS NULL"),
        {"id": story_id}).one()
    return {"shared_scenes": int(shared), "own_scenes": int(own)}


# --- a whole manuscript in a few queries (merging reads three of them) ----------------------

def outline_rows(session: Session, story_id: int) -> dict[str, Any]:
    """The live manuscript's rows of ``story_id`` in four queries (not one per scene):
    ``chapters`` (ORM rows in order), ``scenes`` (tuples: id, chapter id, uid, title,
    synopsis, status, shared blob — in chapter and scene order), ``metadata`` ((owner type,
    owner id) → {key: value}, keys sorted) and ``segments`` (scene id → [(uid, text, gap)])."""
    import json

    from studio.store.models import MetadataEntry, Scene, SegmentRow
    from studio.store.repositories.manuscript import live_chapters

    chapters = live_chapters(session, story_id)
    scenes = [tuple(r) for r in session.execute(
        select(Scene.id, Scene.chapter_id, Scene.uid, Scene.title, Scene.synopsis,
               Scene.status, Scene.shared_blob)
        .where(Scene.story_id == story_id, Scene.deleted_at.is_(None))
        .order_by(Scene.chapter_id, Scene.position))]
    metadata: dict[tuple[str, int], dict[str, Any]] = {}
    for owner_type, owner_id, key, value in session.execute(
            select(MetadataEntry.owner_type, MetadataEntry.owner_id, MetadataEntry.key,
                   MetadataEntry.value_json)
            .where(MetadataEntry.story_id == story_id,
                   MetadataEntry.owner_type.in_(("chapter", "scene")))
            .order_by(MetadataEntry.key)):
        metadata.setdefault((owner_type, owner_id), {})[key] = json.loads(value)
    segments: dict[int, list[tuple[str, str, int]]] = {}
    for scene_id, uid, text_, gap in session.execute(
            select(SegmentRow.scene_id, SegmentRow.uid, SegmentRow.text, SegmentRow.gap)
            .where(SegmentRow.story_id == story_id)
            .order_by(SegmentRow.scene_id, SegmentRow.position)):
        segments.setdefault(scene_id, []).append((uid, text_, gap))
    return {"chapters": chapters, "scenes": scenes, "metadata": metadata,
            "segments": segments}


def blob_texts(session: Session, digests: list[str]) -> dict[str, str]:
    """The stored text of many blobs at once (missing ones are simply absent)."""
    from studio.store.models import TextBlob

    out: dict[str, str] = {}
    for i in range(0, len(digests), 900):
        out.update(session.execute(select(TextBlob.hash, TextBlob.text)
                                   .where(TextBlob.hash.in_(digests[i:i + 900]))).all())
    return out

"""The manuscript's part of every version snapshot and JSON export.

A 1M-word novel cannot be copied into every version: each scene's segments are stored once as a
content-addressed blob (``text_blobs``) and the snapshot lists chapters and scenes with the hash
of their content.  A version of a novel where one scene changed adds one blob and a small
manifest.  Restoring rewrites only the scenes whose hash differs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studio.domain.errors import ValidationError
from studio.domain.manuscript import STATUSES, Segment, content_hash, count_words, join_segments
from studio.services.snapshot import SnapshotPart, register_part
from studio.store.models import Chapter, Scene, utcnow
from studio.store.repositories import manuscript as repo
from studio.store.repositories import stories as stories_repo


_blob_payload = repo.blob_payload


def scene_blob(session: Session, row: Scene) -> str:
    """The scene's content hash, making sure its blob is stored."""
    segments = repo.segments_of(session, row.id)
    digest = content_hash(segments)
    if digest != row.content_hash:
        row.content_hash = digest
    repo.put_blob(session, digest, _blob_payload(segments))
    return digest


def collect(session: Session, story_id: int) -> dict[str, Any]:
    story = stories_repo.get(session, story_id)
    chapters = []
    for ch in repo.live_chapters(session, story_id):
        scenes = []
        for sc in repo.live_scenes(session, ch.id):
            digest = sc.content_hash
            if not digest or session.get(repo.TextBlob, digest) is None:
                digest = scene_blob(session, sc)
            scenes.append({"id": sc.uid, "title": sc.title, "synopsis": sc.synopsis,
                           "status": sc.status, "content": digest,
                           "metadata": stories_repo.get_metadata(session, "scene", sc.id)})
        chapters.append({"id": ch.uid, "title": ch.title, "synopsis": ch.synopsis,
                         "status": ch.status, "word_target": ch.word_target,
                         "metadata": stories_repo.get_metadata(session, "chapter", ch.id),
                         "scenes": scenes})
    return {"word_target": story.word_target, "language": story.language or "en",
            "chapters": chapters}


blob_segments = repo.blob_segments


def restore(session: Session, story_id: int, data: dict[str, Any]) -> None:
    story = stories_repo.get(session, story_id)
    story.word_target = data.get("word_target")
    story.language = data.get("language") or "en"
    from sqlalchemy import select

    chapters = {c.uid: c for c in session.scalars(select(Chapter).where(
        Chapter.story_id == story_id))}
    scenes = {s.uid: s for s in session.scalars(select(Scene).where(Scene.story_id == story_id))}
    wanted_chapters = {c["id"] for c in data.get("chapters", [])}
    wanted_scenes = {s["id"] for c in data.get("chapters", []) for s in c.get("scenes", [])}
    now = utcnow()
    for uid, row in chapters.items():
        if uid not in wanted_chapters and row.deleted_at is None:
            row.deleted_at = now
    for uid, row in scenes.items():
        if uid not in wanted_scenes and row.deleted_at is None:
            row.deleted_at = now
    session.flush()
    for ch_pos, ch in enumerate(data.get("chapters", [])):
        row = chapters.get(ch["id"])
        if row is None:
            row = Chapter(story_id=story_id, uid=ch["id"])
            session.add(row)
        row.title, row.synopsis = ch.get("title", ""), ch.get("synopsis", "")
        row.status, row.word_target = ch.get("status", "draft"), ch.get("word_target")
        row.position, row.deleted_at = ch_pos, None
        session.flush()
        stories_repo.replace_metadata(session, story_id, "chapter", row.id,
                                      ch.get("metadata") or {})
        for sc_pos, sc in enumerate(ch.get("scenes", [])):
            srow = scenes.get(sc["id"])
            if srow is None:
                srow = Scene(story_id=story_id, uid=sc["id"], words=0, content_hash="")
                session.add(srow)
            srow.chapter_id = row.id
            srow.title, srow.synopsis = sc.get("title", ""), sc.get("synopsis", "")
            srow.status, srow.position, srow.deleted_at = sc.get("status", "draft"), sc_pos, None
            session.flush()
            if srow.content_hash != sc["content"]:
                segments = blob_segments(session, sc["content"])
                repo.write_segments(session, srow, segments)
                srow.words = sum(count_words(seg.text) for seg in segments)
                srow.content_hash = sc["content"]
            stories_repo.replace_metadata(session, story_id, "scene", srow.id,
                                          sc.get("metadata") or {})


def validate(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("chapters", []), list):
        raise ValidationError("Manuscript", [], "must be an object with a list of chapters")
    for i, ch in enumerate(data.get("chapters", [])):
        if not isinstance(ch, dict) or not isinstance(ch.get("id"), str):
            raise ValidationError("Manuscript", ["chapters", i, "id"], "is missing")
        if ch.get("status", "draft") not in STATUSES:
            raise ValidationError("Manuscript", ["chapters", i, "status"],
                                  f"must be one of {', '.join(STATUSES)}")
        for j, sc in enumerate(ch.get("scenes", [])):
            if not isinstance(sc, dict) or not isinstance(sc.get("id"), str):
                raise ValidationError("Manuscript", ["chapters", i, "scenes", j, "id"],
                                      "is missing")
            if not isinstance(sc.get("content"), str):
                raise ValidationError("Manuscript", ["chapters", i, "scenes", j, "content"],
                                      "must name the scene's stored text")
            if sc.get("status", "draft") not in STATUSES:
                raise ValidationError("Manuscript", ["chapters", i, "scenes", j, "status"],
                                      f"must be one of {', '.join(STATUSES)}")


def render(data: dict[str, Any], session: Session) -> dict[str, str]:
    sections = {}
    for ch in data.get("chapters", []):
        lines = [f"Synopsis: {ch.get('synopsis', '')}", f"Status: {ch.get('status', '')}"]
        for sc in ch.get("scenes", []):
            lines += ["", f"## {sc.get('title', '')}  [{sc.get('status', '')}]"]
            if sc.get("synopsis"):
                lines.append(f"Synopsis: {sc['synopsis']}")
            lines.append(join_segments(blob_segments(session, sc["content"])))
        sections[f"Manuscript: {ch.get('title') or ch['id']}"] = "\n".join(lines)
    return sections


def referenced_blobs(data: dict[str, Any]) -> set[str]:
    return {sc["content"] for ch in (data or {}).get("chapters", [])
            for sc in ch.get("scenes", [])}


register_part(SnapshotPart("manuscript", collect, restore, render, validate,
                           render_needs_session=True))

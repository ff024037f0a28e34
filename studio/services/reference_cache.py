"""Marketplace stories cached locally: read offline, forked, pulled from.

A cached version is stored once.  Its prose goes where every version snapshot's goes: each
scene's segments as one content-addressed blob in ``text_blobs`` — so a scene that is the same
in versions 1 and 2 (or in the author's own published story) is stored once — and the version
row keeps a small manifest: chapters and scenes with their titles, meta, blob hash and words.
"""

from __future__ import annotations

import time

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from studio.domain.errors import ValidationError
from studio.domain.story_content import read_segments, unusual_gaps, words_of
from studio.store.database import Database
from studio.store.models import ReferenceStory, ReferenceVersion
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import marketplace as repo
from studio.store.repositories.stories import aware


@dataclass(frozen=True)
class ReferenceVersionInfo:
    id: int
    reference_story_id: int
    number: int
    changelog: str
    words: int
    fetched_at: datetime


@dataclass(frozen=True)
class ReferenceStoryInfo:
    id: int
    server_url: str
    public_id: str
    title: str
    owner: str
    licence: str
    latest_version: int
    detail: dict[str, Any] = field(compare=False, hash=False)
    cached_versions: tuple[int, ...] = ()

    @property
    def newest_cached(self) -> int | None:
        return self.cached_versions[-1] if self.cached_versions else None


def story_info(row: ReferenceStory, numbers: list[int] | tuple[int, ...]) -> ReferenceStoryInfo:
    return ReferenceStoryInfo(row.id, row.server_url, row.public_id, row.title, row.owner,
                              row.licence, row.latest_version, json.loads(row.detail_json),
                              tuple(numbers))


def version_info(row: ReferenceVersion) -> ReferenceVersionInfo:
    return ReferenceVersionInfo(row.id, row.reference_story_id, row.number, row.changelog,
                                row.words, aware(row.fetched_at))


def _str(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _check_story_id(story_id: Any) -> str:
    if not isinstance(story_id, str) or not story_id or len(story_id) > 40:
        raise ValidationError("Marketplace story", ["id"], "must be the story's public id")
    return story_id


# --- caching ---------------------------------------------------------------------------------

def cache_story(db: Database, server_url: str, detail: dict[str, Any]) -> ReferenceStoryInfo:
    """Remember (or refresh) a story as the server describes it (``GET /v1/stories/{id}``)."""
    public_id = _check_story_id(detail.get("id") if isinstance(detail, dict) else None)
    with db.session() as s:
        old = repo.reference_story(s, server_url, public_id)
        latest = detail.get("latest_version")
        latest = latest if isinstance(latest, int) and latest >= 0 else 0
        if old is not None:  # a stale detail never makes a known newer version disappear
            latest = max(latest, old.latest_version)
        row = repo.upsert_reference_story(
            s, server_url, public_id, title=_str(detail.get("title"), 500),
            owner=_str(detail.get("owner"), 80), licence=_str(detail.get("licence"), 40),
            latest_version=latest, detail=detail)
        return story_info(row, repo.cached_numbers(s).get(row.id, []))


def _check_content(content: Any) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise ValidationError("Marketplace content", [], "must be an object")
    manuscript = content.get("manuscript") or {}
    if not isinstance(manuscript, dict) or not isinstance(manuscript.get("chapters", []), list):
        raise ValidationError("Marketplace content", ["manuscript"],
                              "must be an object with a list of chapters")
    seen: set[str] = set()
    for i, chapter in enumerate(manuscript.get("chapters", [])):
        if not isinstance(chapter, dict) or not isinstance(chapter.get("id"), str):
            raise ValidationError("Marketplace content", ["manuscript", "chapters", i, "id"],
                                  "is missing")
        for j, scene in enumerate(chapter.get("scenes") or []):
            if not isinstance(scene, dict) or not isinstance(scene.get("id"), str):
                raise ValidationError("Marketplace content",
                                      ["manuscript", "chapters", i, "scenes", j, "id"],
                                      "is missing")
            for k, seg in enumerate(scene.get("segments") or []):
                where = ["manuscript", "chapters", i, "scenes", j, "segments", k]
                if not isinstance(seg, dict) or not isinstance(seg.get("id"), str) \
                        or not isinstance(seg.get("text"), str):
                    raise ValidationError("Marketplace content", where,
                                          "must have an id and a text")
                if seg["id"] in seen:
                    raise ValidationError("Marketplace content", where + ["id"],
                                          f"{seg['id']} appears twice")
                seen.add(seg["id"])
    for part in ("modules", "scene_bible", "chapter_graph"):
        if not isinstance(content.get(part) or {}, dict):
            raise ValidationError("Marketplace content", [part], "must be an object")
    return manuscript


def _container(item: dict[str, Any]) -> dict[str, Any]:
    """A chapter or scene of the manifest: id, title and meta as given (gaps live in the
    scene's blob)."""
    entry: dict[str, Any] = {"id": item["id"], "title": item.get("title") or ""}
    meta = {k: v for k, v in (item.get("meta") or {}).items() if k != "gaps"} \
        if isinstance(item.get("meta"), dict) else {}
    if meta:
        entry["meta"] = meta
    return entry


GIL_BREATHER = 0.0002  # seconds, after each scene stored


def store_content(session: Session, reference_story_id: int, number: int, changelog: str,
                  content: dict[str, Any]) -> ReferenceVersion:
    """Store a version's content once (blobs + manifest); an existing version is kept."""
    existing = repo.reference_version(session, reference_story_id, number)
    if existing is not None:
        return existing
    manuscript = _check_content(content)
    chapters, total = [], 0
    for chapter in manuscript.get("chapters", []):
        scenes = []
        for scene in chapter.get("scenes") or []:
            segments = read_segments(scene)
            words = words_of(segments)
            total += words
            entry = _container(scene)
            entry["blob"] = manuscript_repo.put_scene_blob(session, segments)
            entry["words"] = words
            entry["segments"] = len(segments)
            scenes.append(entry)
            # This runs on the service thread for ~1 s with a 1M-word story; a short sleep
            # per scene hands the GIL to the UI thread, which otherwise waits for it in
            # 20-90 ms stalls (bench/marketplace_download_bench.py). Costs ~0.2 s per 1,000.
            time.sleep(GIL_BREATHER)
        entry = _container(chapter)
        entry["scenes"] = scenes
        chapters.append(entry)
    return repo.add_reference_version(
        session, reference_story_id, number, changelog or "", {"chapters": chapters},
        content.get("modules") or {}, content.get("scene_bible") or {},
        content.get("chapter_graph") or {}, total)


def cache_version(db: Database, server_url: str, story_id: str, number: int, changelog: str,
                  content: dict[str, Any]) -> int:
    """Store version ``number`` of a marketplace story (``GET …/versions/{n}/content``);
    returns its ``reference_versions`` id.  A version is immutable on the server, so caching
    it again changes nothing."""
    _check_story_id(story_id)
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValidationError("Marketplace version", ["number"], "must be a positive number")
    with db.session() as s:
        story = repo.reference_story(s, server_url, story_id)
        if story is None:
            story = repo.upsert_reference_story(s, server_url, story_id,
                                                latest_version=number, detail={"id": story_id})
        elif story.latest_version < number:
            story.latest_version = number
        return store_content(s, story.id, number, changelog, content).id


# --- reading ---------------------------------------------------------------------------------

def cached_versions(db: Database, server_url: str, story_id: str) -> list[ReferenceVersionInfo]:
    with db.session() as s:
        story = repo.reference_story(s, server_url, story_id)
        return [] if story is None else [version_info(v) for v in repo.versions_of(s, story.id)]


def list_cached(db: Database) -> list[ReferenceStoryInfo]:
    with db.session() as s:
        numbers = repo.cached_numbers(s)
        return [story_info(row, numbers.get(row.id, [])) for row in repo.all_reference_stories(s)]


def cached_story(db: Database, reference_version_id: int) -> ReferenceStoryInfo:
    """The cached story a cached version belongs to."""
    with db.session() as s:
        version = repo.reference_version_by_id(s, reference_version_id)
        row = repo.reference_story_by_id(s, version.reference_story_id)
        return story_info(row, repo.cached_numbers(s).get(row.id, []))


def manifest_of(row: ReferenceVersion) -> dict[str, Any]:
    return json.loads(row.manifest_json)


def parts_of(row: ReferenceVersion) -> dict[str, Any]:
    return {"modules": json.loads(row.modules_json),
            "scene_bible": json.loads(row.scene_bible_json),
            "chapter_graph": json.loads(row.chapter_graph_json)}


def manuscript_content(session: Session, manifest: dict[str, Any]) -> dict[str, Any]:
    """A cached manifest with its scenes' segments read back (the content format)."""
    chapters = []
    for chapter in manifest.get("chapters", []):
        scenes = []
        for scene in chapter.get("scenes", []):
            segments = manuscript_repo.blob_segments(session, scene["blob"])
            item = {"id": scene["id"], "title": scene.get("title", "")}
            meta = dict(scene.get("meta") or {})
            gaps = unusual_gaps(segments)
            if gaps:
                meta["gaps"] = gaps
            if meta:
                item["meta"] = meta
            item["segments"] = [{"id": seg.id, "text": seg.text} for seg in segments]
            scenes.append(item)
        item = {"id": chapter["id"], "title": chapter.get("title", "")}
        if chapter.get("meta"):
            item["meta"] = chapter["meta"]
        item["scenes"] = scenes
        chapters.append(item)
    return {"chapters": chapters}


def version_content(session: Session, row: ReferenceVersion) -> dict[str, Any]:
    return {"modules": json.loads(row.modules_json),
            "manuscript": manuscript_content(session, manifest_of(row)),
            "scene_bible": json.loads(row.scene_bible_json),
            "chapter_graph": json.loads(row.chapter_graph_json)}


def reference_content(db: Database, reference_version_id: int) -> dict[str, Any]:
    """A cached version's content, as the server gave it (for reading offline)."""
    with db.session() as s:
        return version_content(s, repo.reference_version_by_id(s, reference_version_id))


def version_outline(session: Session, row: ReferenceVersion) -> list[dict[str, Any]]:
    """A cached version's manuscript in ``services.publishing.local_outline``'s shape (the
    fields as a fork of it stores them), for merging."""
    from studio.domain.story_content import read_attrs

    out = []
    for chapter in manifest_of(row).get("chapters", []):
        out.append({"id": chapter["id"], "attrs": read_attrs(chapter, chapter=True),
                    "scenes": [{"id": sc["id"], "attrs": read_attrs(sc, chapter=False),
                                "segments": manuscript_repo.blob_segments(session, sc["blob"])}
                               for sc in chapter.get("scenes", [])]})
    return out


def find_cached_version(db: Database, server_url: str, story_id: str,
                        number: int) -> int | None:
    """The ``reference_versions`` id of a version already cached, None if it is not."""
    with db.session() as s:
        story = repo.reference_story(s, server_url, story_id)
        if story is None:
            return None
        row = repo.reference_version(s, story.id, number)
        return None if row is None else row.id

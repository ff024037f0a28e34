"""Publishing a local story to the marketplace, through the outbox.

``publish_content`` builds the server's content format from the live story (segment ids are
the story's own, so they are stable from one published version to the next and a reader's
fork can be merged against them).  ``enqueue_publish`` / ``enqueue_remix`` only queue the
operation: the content is built when the outbox sends it (``marketplace_ops``), so an author
who queues a publish offline and keeps writing publishes what they have when the network
comes back, and two queued publishes of a new story become versions 1 and 2 of one story.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy.orm import Session

from studio.domain import bible as bible_rules
from studio.domain.errors import StudioError, ValidationError
from studio.domain.modules import normalise_output
from studio.domain.story_content import (
    CONTENT_PARTS, chapter_content, scene_content,
)
from studio.store.database import Database
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import chapter_graphs as graphs_repo
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo

ALL_PARTS = frozenset(CONTENT_PARTS)
META_FIELDS = ("title", "description", "genre", "tags", "licence", "visibility")
# a published story's visibility: listed; readable by its link; only its owner and
# collaborators (issue 11)
VISIBILITIES = ("public", "unlisted", "private")
MAX_CHANGELOG = 5000


class PublishError(StudioError):
    """A publish that cannot be queued or sent as asked (the message says why)."""


# --- reading the live story in the content format -----------------------------------------

def local_outline(s: Session, story_id: int) -> list[dict[str, Any]]:
    """The live manuscript: ``[{"id", "attrs", "scenes": [{"id", "attrs", "segments"}]}]``
    with ``studio.domain.manuscript.Segment`` objects (gaps included); scenes a fork still
    shares with its reference read the reference's blob."""
    stories_repo.get(s, story_id)
    out = []
    for ch in manuscript_repo.live_chapters(s, story_id):
        scenes = []
        for sc in manuscript_repo.live_scenes(s, ch.id):
            scenes.append({"id": sc.uid, "attrs": {
                "title": sc.title, "synopsis": sc.synopsis, "status": sc.status,
                "word_target": None,
                "metadata": stories_repo.get_metadata(s, "scene", sc.id)},
                "segments": manuscript_repo.segments_of(s, sc.id)})
        out.append({"id": ch.uid, "attrs": {
            "title": ch.title, "synopsis": ch.synopsis, "status": ch.status,
            "word_target": ch.word_target,
            "metadata": stories_repo.get_metadata(s, "chapter", ch.id)}, "scenes": scenes})
    return out


def snapshot_outline(s: Session, manuscript: dict[str, Any]) -> list[dict[str, Any]]:
    """``local_outline``'s shape, read from a version snapshot's manuscript part."""
    out = []
    for ch in manuscript.get("chapters", []):
        scenes = [{"id": sc["id"], "attrs": {
            "title": sc.get("title", ""), "synopsis": sc.get("synopsis", ""),
            "status": sc.get("status", "draft"), "word_target": None,
            "metadata": sc.get("metadata") or {}},
            "segments": manuscript_repo.blob_segments(s, sc["content"])}
            for sc in ch.get("scenes", [])]
        out.append({"id": ch["id"], "attrs": {
            "title": ch.get("title", ""), "synopsis": ch.get("synopsis", ""),
            "status": ch.get("status", "draft"), "word_target": ch.get("word_target"),
            "metadata": ch.get("metadata") or {}}, "scenes": scenes})
    return out


def outline_content(outline: list[dict[str, Any]]) -> dict[str, Any]:
    return {"chapters": [
        chapter_content(ch["id"], ch["attrs"], [
            scene_content(sc["id"], sc["attrs"], sc["segments"]) for sc in ch["scenes"]])
        for ch in outline]}


def local_modules(s: Session, story_id: int) -> dict[str, Any]:
    return {row.name: {"input": row.input_text,
                       "output": normalise_output(row.name, json.loads(row.output_json))}
            for row in stories_repo.get(s, story_id).modules}


def own_bible(s: Session, story_id: int) -> dict[str, Any]:
    return bibles_repo.latest_data(s, "story", story_id)[1]


def effective_bible(s: Session, story_id: int) -> dict[str, Any]:
    """The book's bible with its series' record merged in (a published story stands alone)."""
    own = own_bible(s, story_id)
    series = bibles_repo.series_of(s, story_id)
    if series is None:
        return own
    return bible_rules.merge_series(bibles_repo.latest_data(s, "series", series.id)[1], own)


def local_graph(s: Session, story_id: int) -> dict[str, Any]:
    return graphs_repo.graph(s, story_id)


def check_include(include: Iterable[str] | None) -> frozenset[str]:
    parts = ALL_PARTS if include is None else frozenset(include)
    unknown = sorted(parts - ALL_PARTS)
    if unknown:
        raise ValidationError("Publish", ["include"], f"{', '.join(unknown)} is not a part of "
                              f"a story (choose from {', '.join(CONTENT_PARTS)})")
    return parts


def collect_content(s: Session, story_id: int,
                    include: Iterable[str] | None = None) -> dict[str, Any]:
    parts = check_include(include)
    stories_repo.get(s, story_id)
    content: dict[str, Any] = {"modules": {}, "manuscript": {"chapters": []},
                               "scene_bible": {}, "chapter_graph": {}}
    if "modules" in parts:
        content["modules"] = local_modules(s, story_id)
    if "manuscript" in parts:
        content["manuscript"] = outline_content(local_outline(s, story_id))
    if "scene_bible" in parts:
        content["scene_bible"] = effective_bible(s, story_id)
    if "chapter_graph" in parts:
        graph = local_graph(s, story_id)
        content["chapter_graph"] = graph if graph.get("chapters") else {}
    return content


def content_from_snapshot(s: Session, story_id: int, snap: dict[str, Any],
                          include: Iterable[str] | None = None) -> dict[str, Any]:
    """The content format of a saved version snapshot (what a queued publish froze)."""
    parts = check_include(include)
    content: dict[str, Any] = {"modules": {}, "manuscript": {"chapters": []},
                               "scene_bible": {}, "chapter_graph": {}}
    if "modules" in parts:
        content["modules"] = {key: {"input": m.get("input", ""),
                                    "output": normalise_output(key, m.get("output") or {})}
                              for key, m in (snap.get("modules") or {}).items()}
    if "manuscript" in parts:
        content["manuscript"] = outline_content(
            snapshot_outline(s, snap.get("manuscript") or {}))
    if "scene_bible" in parts:
        own = (snap.get("bible") or {}).get("data") or {}
        series = bibles_repo.series_of(s, story_id)
        content["scene_bible"] = own if series is None else bible_rules.merge_series(
            bibles_repo.latest_data(s, "series", series.id)[1], own)
    if "chapter_graph" in parts:
        graph = (snap.get("chapter_graph") or {}).get("graph") or {}
        content["chapter_graph"] = graph if graph.get("chapters") else {}
    return content


def save_version_in(s: Session, story_id: int, label: str) -> int:
    """``services.versions.save_version`` inside the caller's unit of work (so a publish or a
    pull and the version it saves first commit together); returns the version number."""
    from studio.domain.versions import summarize_changes
    from studio.services import snapshot
    from studio.store.repositories import history
    from studio.store.repositories import versions as versions_repo

    story = stories_repo.get(s, story_id)
    current = snapshot.take(s, story_id)
    summary = summarize_changes(versions_repo.latest_snapshot(s, story_id), current)
    info = versions_repo.add(s, story_id, current, label.strip(), summary)
    story.active_version = info.number
    history.record(s, story_id, "version", info.number, "save",
                   {"label": info.label, "summary": summary})
    return info.number


def publish_content(db: Database, story_id: int,
                    include: set[str] | frozenset[str] = ALL_PARTS) -> dict[str, Any]:
    """The story in the marketplace's content format; parts not in ``include`` are empty."""
    with db.session() as s:
        return collect_content(s, story_id, include)


# --- queueing ------------------------------------------------------------------------------

def check_meta(meta: Any, story_title: str) -> dict[str, Any]:
    """The server's story fields (title, description, genre, tags, licence, visibility);
    the title defaults to the story's.  Refused here rather than by the server later."""
    if not isinstance(meta, dict):
        raise ValidationError("Publish", ["meta"], "must be an object")
    unknown = sorted(set(meta) - set(META_FIELDS))
    if unknown:
        raise ValidationError("Publish", [unknown[0]], "is not a field of a published story "
                              f"({', '.join(META_FIELDS)})")
    out = dict(meta)
    out.setdefault("title", (story_title or "").strip()[:200])
    if not isinstance(out["title"], str) or not out["title"].strip():
        raise ValidationError("Publish", ["title"], "a published story needs a title")
    if len(out["title"]) > 200:
        raise ValidationError("Publish", ["title"], "is longer than 200 characters")
    if not isinstance(out.get("licence"), str) or not out["licence"]:
        raise ValidationError("Publish", ["licence"], "choose the licence readers get")
    if "visibility" in out and out["visibility"] not in VISIBILITIES:
        raise ValidationError("Publish", ["visibility"],
                              f"must be one of {', '.join(VISIBILITIES)}, not "
                              f"{out['visibility']!r}")
    return out


def _check_changelog(changelog: Any) -> str:
    if not isinstance(changelog, str) or len(changelog) > MAX_CHANGELOG:
        raise ValidationError("Publish", ["changelog"],
                              f"must be text of at most {MAX_CHANGELOG} characters")
    return changelog


def _enqueue(s: Session, server_url: str, kind: str, label: str, payload: dict[str, Any],
             story_id: int) -> int:
    from studio.store.repositories import outbox as outbox_repo

    entry = outbox_repo.enqueue(s, server_url, kind, label, payload, story_id=story_id)
    s.flush()
    return entry.id


def enqueue_publish(db: Database, story_id: int, server_url: str, meta: dict[str, Any],
                    changelog: str = "First version",
                    include: set[str] | frozenset[str] = ALL_PARTS) -> int:
    """Queue publishing the story (a new marketplace story, or its next version once it has
    been published); returns the outbox entry's id."""
    parts = check_include(include)
    changelog = _check_changelog(changelog)
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        meta = check_meta(meta, story.title)
        payload = {"story_id": story_id, "meta": meta, "changelog": changelog,
                   "include": sorted(parts)}
        return _enqueue(s, server_url, "publish", f"Publish “{meta['title']}”", payload,
                        story_id)


def enqueue_remix(db: Database, story_id: int, server_url: str, meta: dict[str, Any],
                  changelog: str = "Remix",
                  include: set[str] | frozenset[str] = ALL_PARTS) -> int:
    """Queue publishing a fork as a remix: a new marketplace story crediting the story and
    version it was forked from (the server records the attribution through its fork).  What
    it sends is what the fork changed against that version; ``include`` limits it to some
    parts (the others stay as the source has them)."""
    parts = check_include(include)
    changelog = _check_changelog(changelog)
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        meta = check_meta(meta, story.title)
        from studio.services.forking import base_version

        version = base_version(s, story_id)
        if version is None:
            raise PublishError("Only a fork of a marketplace story can be published as a "
                               "remix; publish this story as a new story instead.")
        ref = repo.reference_story_by_id(s, version.reference_story_id)
        if ref.server_url != server_url:
            raise PublishError(f"This story was forked from {ref.server_url}; a remix is "
                               "published on the marketplace its source lives on.")
        mine = bool(ref.owner) and ref.owner == repo.signed_in_user(s, server_url)
        if ref.licence == "all-rights-reserved" and not mine:
            raise PublishError(f"“{ref.title}” is all-rights-reserved: you may fork it for "
                               "yourself, but not publish a remix of it.")
        if ref.licence == "CC-BY-NC" and meta["licence"] != "CC-BY-NC" and not mine:
            raise PublishError(f"“{ref.title}” is CC-BY-NC, so a remix of it must be "
                               "CC-BY-NC too.")
        payload = {"story_id": story_id, "meta": meta, "changelog": changelog,
                   "include": sorted(parts)}
        return _enqueue(s, server_url, "publish_remix",
                        f"Publish remix “{meta['title']}” of “{ref.title}”", payload, story_id)

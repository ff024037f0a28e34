"""Story analysis use cases: analyse a story (or one of its versions) once, keep the result.

An analysis is keyed by the SHA-256 of what it read (the manuscript and the effective scene
bible, as canonical JSON) and the analyser's ``INSIGHTS_VERSION``: analysing an unchanged story
or a version already analysed returns the stored result without running the analyser again.

The desktop splits the work in three so its single service thread is never held for seconds:
``prepare`` (read + hash + cache lookup, on the service thread), the analyser itself in a
child process (``analysis_process.run``, from a worker thread), then ``store``.
``analyse`` does all three in one call for the CLI and tests.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from studio.domain.insights import INSIGHTS_VERSION
from studio.services import analysis_process
from studio.services.publishing import collect_content, content_from_snapshot
from studio.store.database import Database
from studio.store.repositories import analyses as repo
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo

PARTS = ("manuscript", "scene_bible")


@dataclass(frozen=True)
class Prepared:
    story_id: int
    content_hash: str
    version_number: int | None
    cached: dict | None            # the stored result, when this content was analysed
    content: dict | None           # what to analyse, when it was not


@dataclass(frozen=True)
class StoredAnalysis:
    story_id: int
    content_hash: str
    version_number: int | None
    words: int
    seconds: float
    created_at: datetime
    result: dict
    current: bool = False          # it is the analysis of the story as it is now


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the analysed parts as canonical JSON, fed piece by piece (one scene at a
    time): a single ``json.dumps`` of a 1M-word story is one C call that holds the GIL for a
    tenth of a second, long enough to stall the UI thread."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                 separators=(",", ":")).encode("utf-8"))
        digest.update(b"\x1e")

    manuscript = content.get("manuscript") or {}
    chapters = manuscript.get("chapters") if isinstance(manuscript, dict) else None
    feed({k: v for k, v in manuscript.items() if k != "chapters"}
         if isinstance(manuscript, dict) else manuscript)
    for chapter in chapters if isinstance(chapters, list) else []:
        if not isinstance(chapter, dict):
            feed(chapter)
            continue
        feed({k: v for k, v in chapter.items() if k != "scenes"})
        for scene in chapter.get("scenes") or []:
            feed(scene)
    feed(content.get("scene_bible"))
    return digest.hexdigest()


def encode_result(result: dict[str, Any]) -> str:
    """The result as JSON lines of small pieces (``analysis_process.pieces``): stored and read
    back on the service thread without one long GIL-holding ``json`` call."""
    return "\n".join(json.dumps([kind, list(path), value], ensure_ascii=False,
                                 separators=(",", ":"))
                      for kind, path, value in analysis_process.pieces(result))


def decode_result(text: str) -> dict[str, Any]:
    if text.startswith("{"):  # a whole JSON document (never written now; kept readable)
        return json.loads(text)
    result: dict[str, Any] = {}
    for line in text.split("\n"):
        if line:
            kind, path, value = json.loads(line)
            analysis_process.apply_piece(result, kind, path, value)
    return result


def _content(s, story_id: int, version_number: int | None) -> dict[str, Any]:
    if version_number is None:
        return collect_content(s, story_id, PARTS)
    snap = versions_repo.snapshot(s, story_id, version_number)
    return content_from_snapshot(s, story_id, snap, PARTS)


def _row(s, story_id: int, digest: str):
    return repo.find(s, story_id, digest, INSIGHTS_VERSION)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading a 1M-word story allocates a few hundred thousand objects, which would trigger
    full passes of the cyclic garbage collector over the whole heap — 20-50 ms during which
    every thread stops, the UI's included.  The objects read here are freed by reference
    counting, so the collector can safely wait until the read is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def prepare(db: Database, story_id: int, version_number: int | None = None) -> Prepared:
    with _collector_paused(), db.session() as s:
        stories_repo.get(s, story_id)
        content = _content(s, story_id, version_number)
        digest = content_hash(content)
        row = _row(s, story_id, digest)
        if row is not None:
            return Prepared(story_id, digest, version_number, decode_result(row.result_json), None)
    return Prepared(story_id, digest, version_number, None, content)


def store(db: Database, prepared: Prepared, result: dict, seconds: float) -> None:
    """Keep the result (a second store of the same content is a no-op)."""
    with db.session() as s:
        if _row(s, prepared.story_id, prepared.content_hash) is not None:
            return
        repo.add(s, story_id=prepared.story_id, content_hash=prepared.content_hash,
                 insights_version=INSIGHTS_VERSION, version_number=prepared.version_number,
                 words=int(result.get("words") or 0), seconds=round(seconds, 3),
                 result_json=encode_result(result))


def analyse(db: Database, story_id: int, version_number: int | None = None,
            progress: analysis_process.Progress | None = None,
            cancel: threading.Event | None = None,
            in_process: bool = True) -> tuple[dict, bool]:
    """The analysis (result, was_cached)."""
    prepared = prepare(db, story_id, version_number)
    if prepared.cached is not None:
        return prepared.cached, True
    run = analysis_process.run if in_process else analysis_process.run_inline
    result, seconds = analysis_process.timed(run, prepared.content, progress, cancel)
    store(db, prepared, result, seconds)
    return result, False


def latest(db: Database, story_id: int) -> StoredAnalysis | None:
    """The newest stored analysis of the story (``current`` when the story has not changed
    since)."""
    with _collector_paused(), db.session() as s:
        row = repo.newest(s, story_id, INSIGHTS_VERSION)
        if row is None:
            return None
        current = row.content_hash == content_hash(_content(s, story_id, None))
        return StoredAnalysis(row.story_id, row.content_hash, row.version_number, row.words,
                              row.seconds, row.created_at, decode_result(row.result_json),
                              current)


def analysed_versions(db: Database, story_id: int) -> list[int]:
    with db.session() as s:
        return repo.version_numbers(s, story_id, INSIGHTS_VERSION)

"""Story analysis use cases: analyse a story (or one of its versions) once, keep the result.

An analysis is keyed by a *fingerprint* of what it reads — chapter and scene titles and
synopses, each scene's text digest (the ``content_hash`` the manuscript keeps per scene, which
is also the key of its text in version snapshots) and the effective scene bible — and by the
analyser's ``INSIGHTS_VERSION``.  The fingerprint is computed from a few small rows, never from
the prose, so checking "was this analysed already?" costs milliseconds even for a 1M-word
novel; analysing an unchanged story or a version already analysed returns the stored result.

The desktop splits the work so its single service thread is never held for long: ``prepare``
(fingerprint + lookup, on the service thread), then ``analysis_process.run_prepared`` from a
worker thread — a child process that reads the story itself and analyses it — then ``store``.
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
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo

PARTS = ("manuscript", "scene_bible")


@dataclass(frozen=True)
class Prepared:
    story_id: int
    content_hash: str
    version_number: int | None
    cached: dict | None            # the stored result, when this content was analysed
    content: dict | None = None    # what to analyse, when the caller already has it
    db_path: str | None = None     # else the child process reads the story from here


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


def _feed(digest, value: Any) -> None:
    digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False,
                             separators=(",", ":")).encode("utf-8"))
    digest.update(b"\x1e")


def fingerprint(s, story_id: int, version_number: int | None) -> str:
    """The key of what an analysis of this text reads (see the module's docstring)."""
    digest = hashlib.sha256()
    if version_number is None:
        scenes = manuscript_repo.scene_fingerprints(s, story_id)
        for ch in manuscript_repo.live_chapters(s, story_id):
            _feed(digest, [ch.uid, ch.title, ch.synopsis])
            for scene in scenes.get(ch.id, []):
                _feed(digest, list(scene))
        bible = collect_content(s, story_id, ("scene_bible",))["scene_bible"]
    else:
        snap = versions_repo.snapshot(s, story_id, version_number)
        for ch in (snap.get("manuscript") or {}).get("chapters") or []:
            _feed(digest, [ch.get("id"), ch.get("title", ""), ch.get("synopsis", "")])
            for sc in ch.get("scenes") or []:
                _feed(digest, [sc.get("id"), sc.get("title", ""), sc.get("synopsis", ""),
                               sc.get("content", "")])
        bible = content_from_snapshot(s, story_id, snap, ("scene_bible",))["scene_bible"]
    _feed(digest, bible)
    return digest.hexdigest()


def read_content(db: Database, story_id: int, version_number: int | None = None) -> dict:
    """What the analyser reads: the manuscript and the effective bible (the whole prose)."""
    with _collector_paused(), db.session() as s:
        stories_repo.get(s, story_id)
        return _content(s, story_id, version_number)


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
    """The stored result (``cached``) of this text, or what the analyser needs to run."""
    with db.session() as s:
        stories_repo.get(s, story_id)
        digest = fingerprint(s, story_id, version_number)
        row = _row(s, story_id, digest)
        if row is not None:
            return Prepared(story_id, digest, version_number,
                            decode_result(row.result_json))
    return Prepared(story_id, digest, version_number, None, db_path=str(db.path))


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
    if in_process:
        result, seconds = analysis_process.timed(analysis_process.run_prepared, prepared,
                                                 progress, cancel)
    else:
        content = read_content(db, story_id, version_number)
        result, seconds = analysis_process.timed(analysis_process.run_inline, content,
                                                 progress, cancel)
    store(db, prepared, result, seconds)
    return result, False


def latest(db: Database, story_id: int) -> StoredAnalysis | None:
    """The newest stored analysis of the story (``current`` when the story has not changed
    since)."""
    with db.session() as s:
        row = repo.newest(s, story_id, INSIGHTS_VERSION)
        if row is None:
            return None
        current = row.content_hash == fingerprint(s, story_id, None)
        return StoredAnalysis(row.story_id, row.content_hash, row.version_number, row.words,
                              row.seconds, row.created_at, decode_result(row.result_json),
                              current)


def analysed_versions(db: Database, story_id: int) -> list[int]:
    with db.session() as s:
        return repo.version_numbers(s, story_id, INSIGHTS_VERSION)

"""Content in the marketplace's format, and readers of a local story, for the marketplace
service tests (reference cache, forking, publishing, pulling)."""

from __future__ import annotations

import copy
import random
import sqlite3
from pathlib import Path

import pytest

from studio.services import manuscript

SERVER = "https://market.example"

WORDS = ("lamp tide keeper ledger glove harbour storm gull rope lantern salt window stair "
         "fog bell wreck shore night morning letter").split()


def sentence(rng: random.Random, words: int = 12) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def make_content(chapters: int = 2, scenes: int = 2, segments: int = 3, words: int = 12,
                 seed: int = 1, prefix: str = "") -> dict:
    rng = random.Random(seed)
    out = []
    for c in range(chapters):
        out.append({"id": f"chap_{prefix}{c}", "title": f"Chapter {c + 1}", "scenes": [
            {"id": f"scene_{prefix}{c}_{s}", "title": f"Scene {c + 1}.{s + 1}", "segments": [
                {"id": f"seg_{prefix}{c}_{s}_{k}", "text": sentence(rng, words)}
                for k in range(segments)]}
            for s in range(scenes)]})
    return {"modules": {}, "manuscript": {"chapters": out}, "scene_bible": {},
            "chapter_graph": {}}


def with_texts(content: dict, texts: dict[str, str]) -> dict:
    """A copy of ``content`` whose segments ``texts`` names have those texts."""
    out = copy.deepcopy(content)
    for chapter in out["manuscript"]["chapters"]:
        for scene in chapter["scenes"]:
            for seg in scene["segments"]:
                if seg["id"] in texts:
                    seg["text"] = texts[seg["id"]]
    return out


def content_texts(content: dict) -> dict[str, str]:
    return {seg["id"]: seg["text"] for ch in content["manuscript"]["chapters"]
            for sc in ch["scenes"] for seg in sc["segments"]}


def story_texts(db, story_id: int) -> dict[str, str]:
    """Segment id → text of a local story, read through the manuscript service."""
    out = {}
    for chapter in manuscript.outline(db, story_id).chapters:
        for scene in chapter.scenes:
            for seg in manuscript.load_scene(db, story_id, scene.uid).segments:
                out[seg.id] = seg.text
    return out


def story_order(db, story_id: int) -> list[tuple[str, str, str]]:
    """(chapter uid, scene uid, segment id) in reading order."""
    out = []
    for chapter in manuscript.outline(db, story_id).chapters:
        for scene in chapter.scenes:
            for seg in manuscript.load_scene(db, story_id, scene.uid).segments:
                out.append((chapter.uid, scene.uid, seg.id))
    return out


def sql(db, query: str, *args):
    with sqlite3.connect(Path(db.path)) as conn:
        return conn.execute(query, args).fetchall()


def segment_rows(db, story_id: int) -> int:
    return sql(db, "SELECT count(*) FROM segments WHERE story_id = ?", story_id)[0][0]


def materialised_scenes(db, story_id: int) -> set[str]:
    return {r[0] for r in sql(db, "SELECT DISTINCT s.uid FROM segments g JOIN scenes s "
                                  "ON s.id = g.scene_id WHERE g.story_id = ?", story_id)}


@pytest.fixture
def outbox_repo():
    """The outbox repository (``studio.store.repositories.outbox``); a stand-in with the same
    ``enqueue`` signature while it is not there."""
    try:
        from studio.store.repositories import outbox
    except ImportError:  # pragma: no cover - only before the outbox module lands
        outbox = None
    if outbox is not None:
        yield outbox
    else:  # pragma: no cover
        import json
        import sys
        import types
        import uuid

        from studio.store.models import OutboxEntry, utcnow

        def enqueue(session, server_url, kind, label, payload, story_id=None, key=None):
            now = utcnow()
            entry = OutboxEntry(server_url=server_url, kind=kind, label=label[:500],
                                payload_json=json.dumps(payload, sort_keys=True),
                                idempotency_key=key or uuid.uuid4().hex, story_id=story_id,
                                state="pending", attempts=0, last_error="",
                                created_at=now, updated_at=now)
            session.add(entry)
            session.flush()
            return entry

        module = types.ModuleType("studio.store.repositories.outbox")
        module.enqueue = enqueue
        sys.modules["studio.store.repositories.outbox"] = module
        yield module
        del sys.modules["studio.store.repositories.outbox"]

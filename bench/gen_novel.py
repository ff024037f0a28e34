"""Generate a synthetic novel and feed it into Story Studio (and, optionally, novelWriter).

The prose comes from the novelWriter anchor's generator
(``../shared/anchors/novelwriter/gen.py`` relative to the repository root, or ``--anchor-dir``),
imported by path, so both apps get byte-identical text for the same
``(words, chapters, scenes, seed)``: N chapters (title + synopsis) of M scenes (title,
synopsis, ~1000 words of prose in paragraphs of 3–8 sentences, a small vocabulary and 24
recurring character names).

Story Studio receives it in a data folder: ``Database.open(dir)``, ``stories.create_story``,
then every chapter and scene with its synopsis and text.  Two ways, with the same result:

* ``--mode services`` calls the services one by one, as the app would: ``add_chapter`` +
  ``update_chapter(synopsis=)`` per chapter, ``add_scene(text=)`` + ``update_scene(synopsis=)``
  per scene (one committed, fsynced transaction each);
* ``--mode bulk`` (the default) does the same work in one unit of work through the
  repositories and the domain functions the services use (``new_id``, ``assign_ids``,
  ``content_hash``, ``count_words``, ``history.record``, ``add_writing_words``): the same rows,
  the same history entries in the same order, the same writing-day total; the full-text index
  is filled by the same triggers.  ``--self-check`` proves the two are equivalent on a small
  novel (everything but random ids and timestamps).

novelWriter receives it through the anchor's own writer (``--nw-dir``, a project in format 1.6).

Usage::

    /work/venv/bin/python bench/gen_novel.py --words 1000000 --chapters 50 --scenes 20 \\
        --seed 42 --studio-dir /tmp/novel_1M [--nw-dir /tmp/nw_1M] [--verify]

Sizes used by the benchmarks (as the anchor): 100k = 10×10, 500k = 25×20, 1M = 50×20.
Story Studio's part needs the app's venv; the anchor's generator needs only the standard library.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_ANCHOR_DIR = REPO.parent / "shared" / "anchors" / "novelwriter"
SIZES = {  # name: (prose words, chapters, scenes per chapter), as the anchor's run_bench.py
    "100k": (100_000, 10, 10),
    "500k": (500_000, 25, 20),
    "1M": (1_000_000, 50, 20),
}
DEFAULT_SEED = 42  # the anchor's default: its published figures use it


def load_anchor(anchor_dir: Path | str | None = None) -> ModuleType:
    """Import the anchor's ``gen.py`` by path (it is not a package)."""
    path = Path(anchor_dir or DEFAULT_ANCHOR_DIR) / "gen.py"
    if not path.is_file():
        raise SystemExit(f"gen_novel: the anchor generator {path} does not exist "
                         "(pass --anchor-dir)")
    name = "nw_anchor_gen"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def build(words: int, chapters: int, scenes: int, seed: int = DEFAULT_SEED,
          anchor_dir: Path | str | None = None):
    """The anchor's ``Novel`` (chapters → scenes with ``title``, ``synopsis``, ``body``)."""
    return load_anchor(anchor_dir).build_novel(words, chapters, scenes, seed)


def write_nw(novel, nw_dir: Path | str, anchor_dir: Path | str | None = None) -> dict:
    """The anchor's novelWriter writer (same as its ``--nw DIR``)."""
    return load_anchor(anchor_dir).write_novelwriter(novel, nw_dir)


# --- Story Studio --------------------------------------------------------------------------

def _load_services(db, story_id: int, novel) -> None:
    from studio.services import manuscript

    for ch in novel.chapters:
        info = manuscript.add_chapter(db, story_id, ch.title)
        manuscript.update_chapter(db, story_id, info.uid, synopsis=ch.synopsis)
        for sc in ch.scenes:
            scene = manuscript.add_scene(db, story_id, info.uid, sc.title, text=sc.body)
            manuscript.update_scene(db, story_id, scene.uid, synopsis=sc.synopsis)


def _load_bulk(db, story_id: int, novel) -> None:
    """What ``_load_services`` does, in one transaction.  Mirrors, per chapter:
    ``add_chapter`` + ``update_chapter(synopsis=)``, and per scene: ``add_scene(text=)``
    (row, "create" history, ``_save_text``: segments, words, content hash, writing day,
    "update" history of the text) + ``update_scene(synopsis=)``."""
    from sqlalchemy import insert

    from studio.domain.manuscript import (
        CHAPTER_PREFIX, SCENE_PREFIX, assign_ids, content_hash, count_words, new_id,
    )
    from studio.store.models import Chapter, Scene, SegmentRow
    from studio.store.repositories import history
    from studio.store.repositories import manuscript as repo
    from studio.store.repositories import stories as stories_repo

    with db.session() as s:
        stories_repo.get(s, story_id)
        position = len(repo.live_chapters(s, story_id))
        pending: list[tuple[Scene, list]] = []
        total_words = 0
        for ch in novel.chapters:
            chapter = Chapter(story_id=story_id, uid=new_id(CHAPTER_PREFIX), title=ch.title,
                              synopsis="", status="draft", position=position)
            position += 1
            s.add(chapter)
            history.record(s, story_id, "chapter", chapter.uid, "create", {"title": ch.title})
            chapter.synopsis = ch.synopsis
            history.record(s, story_id, "chapter", chapter.uid, "update",
                           {"synopsis": {"old": "", "new": ch.synopsis}})
            s.flush()  # chapter.id for its scenes
            for scene_pos, sc in enumerate(ch.scenes):
                segments = assign_ids([], sc.body)
                words = sum(count_words(seg.text) for seg in segments)
                row = Scene(story_id=story_id, chapter_id=chapter.id, uid=new_id(SCENE_PREFIX),
                            title=sc.title, synopsis="", status="draft", position=scene_pos,
                            words=0, content_hash=content_hash([]))
                s.add(row)
                history.record(s, story_id, "scene", row.uid, "create", {"title": sc.title})
                if segments and content_hash(segments) != row.content_hash:
                    row.words = words
                    row.content_hash = content_hash(segments)
                    total_words += words
                    history.record(s, story_id, "scene_text", row.uid, "update",
                                   {"words": words, "delta": words, "inserted": len(segments),
                                    "updated": 0, "deleted": 0})
                row.synopsis = sc.synopsis
                history.record(s, story_id, "scene", row.uid, "update",
                               {"synopsis": {"old": "", "new": sc.synopsis}})
                pending.append((row, segments))
        s.flush()  # scene ids for the segments
        rows = [{"story_id": story_id, "scene_id": row.id, "uid": seg.id, "position": i,
                 "gap": seg.gap, "text": seg.text}
                for row, segments in pending for i, seg in enumerate(segments)]
        if rows:
            s.execute(insert(SegmentRow), rows)  # the FTS triggers index them as they go
        repo.add_writing_words(s, story_id, total_words)


def write_studio(novel, data_dir: Path | str, mode: str = "bulk",
                 title: str | None = None) -> dict[str, Any]:
    """Create the story in ``data_dir`` (a new or existing data folder) and load the novel."""
    from studio.services import stories
    from studio.store.database import Database

    t0 = time.perf_counter()
    db = Database.open(Path(data_dir))
    try:
        story = stories.create_story(db, title or novel.title)
        t1 = time.perf_counter()
        (_load_bulk if mode == "bulk" else _load_services)(db, story.id, novel)
        t2 = time.perf_counter()
        with db.session() as s:
            from studio.store.repositories import manuscript as repo

            words = repo.story_words(s, story.id)
        with db.engine.connect() as conn:
            segments = conn.exec_driver_sql(
                "SELECT count(*) FROM segments WHERE story_id = ?", (story.id,)).scalar_one()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    size = sum(p.stat().st_size for p in Path(data_dir).glob(_db_filename() + "*"))
    return {"story_id": story.id, "mode": mode, "chapters": len(novel.chapters),
            "scenes": sum(len(c.scenes) for c in novel.chapters), "segments": segments,
            "words_studio": words, "words_anchor": novel.words,
            "open_and_create_s": round(t1 - t0, 3), "load_s": round(t2 - t1, 3),
            "total_s": round(time.perf_counter() - t0, 3), "db_bytes": size}


# --- checks ---------------------------------------------------------------------------------

def verify_studio(data_dir: Path | str, story_id: int, novel) -> list[str]:
    """Read the story back through the services and compare it with the novel."""
    from studio.domain.manuscript import content_hash, count_words
    from studio.services import manuscript
    from studio.store.database import Database
    from studio.store.models import Scene
    from sqlalchemy import select

    problems: list[str] = []
    db = Database.open(Path(data_dir))
    try:
        outline = manuscript.outline(db, story_id)
        if len(outline.chapters) != len(novel.chapters):
            problems.append(f"{len(outline.chapters)} chapters, expected {len(novel.chapters)}")
        for ci, (got, ch) in enumerate(zip(outline.chapters, novel.chapters)):
            if (got.title, got.synopsis, got.position) != (ch.title, ch.synopsis, ci):
                problems.append(f"chapter {ci}: title/synopsis/position differ")
            if len(got.scenes) != len(ch.scenes):
                problems.append(f"chapter {ci}: {len(got.scenes)} scenes, expected "
                                f"{len(ch.scenes)}")
            for si, (sg, sc) in enumerate(zip(got.scenes, ch.scenes)):
                loaded = manuscript.load_scene(db, story_id, sg.uid)
                if (sg.title, sg.synopsis, sg.position) != (sc.title, sc.synopsis, si):
                    problems.append(f"scene {ci}.{si}: title/synopsis/position differ")
                if loaded.text != sc.body:
                    problems.append(f"scene {ci}.{si}: text differs")
                if sg.words != sum(count_words(p) for p in sc.paragraphs):
                    problems.append(f"scene {ci}.{si}: word count {sg.words}")
                with db.session() as s:
                    stored = s.scalar(select(Scene.content_hash).where(
                        Scene.story_id == story_id, Scene.uid == sg.uid))
                if stored != content_hash(loaded.segments):
                    problems.append(f"scene {ci}.{si}: content hash differs")
        if outline.today_words != outline.words:
            problems.append(f"writing day {outline.today_words} != story words {outline.words}")
        if not manuscript.verify_search_index(db):
            problems.append("the full-text index was stale (rebuilt)")
        hits = manuscript.search(db, story_id, "lantern", limit=10**6).total
        expected = sum("lantern" in p.lower()
                       for c in novel.chapters for sc in c.scenes for p in sc.paragraphs)
        if hits != expected:
            problems.append(f"search 'lantern': {hits} paragraphs, expected {expected}")
    finally:
        db.close()
    return problems


def _normalised_dump(data_dir: Path, story_id: int) -> dict[str, Any]:
    """Everything stored for the story, with random ids and timestamps replaced by ordinals."""
    import sqlite3

    conn = sqlite3.connect(Path(data_dir) / _db_filename())
    try:
        ids: dict[str, str] = {}

        def nid(uid: str) -> str:
            return ids.setdefault(uid, f"#{len(ids)}")

        chapters = [(nid(u), *rest) for u, *rest in conn.execute(
            "SELECT uid, position, title, synopsis, status, word_target, deleted_at "
            "FROM chapters WHERE story_id=? ORDER BY position", (story_id,))]
        scenes = [(nid(cu), nid(u), *rest) for cu, u, *rest in conn.execute(
            "SELECT c.uid, s.uid, s.position, s.title, s.synopsis, s.status, s.words, "
            "s.deleted_at FROM scenes s JOIN chapters c ON c.id=s.chapter_id "
            "WHERE s.story_id=? ORDER BY c.position, s.position", (story_id,))]
        segments = [(nid(su), nid(u), *rest) for su, u, *rest in conn.execute(
            "SELECT s.uid, g.uid, g.position, g.gap, g.text FROM segments g "
            "JOIN scenes s ON s.id=g.scene_id JOIN chapters c ON c.id=s.chapter_id "
            "WHERE g.story_id=? ORDER BY c.position, s.position, g.position", (story_id,))]
        history = [(t, nid(e) if e.startswith(("chap_", "scene_")) else e, a, c)
                   for t, e, a, c in conn.execute(
                       "SELECT entity_type, entity_id, action, change_json FROM edit_history "
                       "WHERE story_id=? ORDER BY id", (story_id,))]
        days = list(conn.execute("SELECT day, words FROM writing_days WHERE story_id=?",
                                 (story_id,)))
        fts = conn.execute("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH "
                           "'lantern'").fetchone()[0]
    finally:
        conn.close()
    return {"chapters": chapters, "scenes": scenes, "segments": segments, "history": history,
            "writing_days": days, "fts_lantern": fts}


def _db_filename() -> str:
    from studio.config import DATABASE_FILENAME

    return DATABASE_FILENAME


def self_check(anchor_dir: Path | str | None = None) -> int:
    """Load a small novel both ways and compare everything stored (ids/timestamps aside)."""
    novel = build(6_000, 3, 4, 7, anchor_dir)
    root = Path(tempfile.mkdtemp(prefix="studio-gen-selfcheck-"))
    try:
        dumps = {}
        for mode in ("services", "bulk"):
            info = write_studio(novel, root / mode, mode)
            problems = verify_studio(root / mode, info["story_id"], novel)
            if problems:
                print(f"{mode}: " + "; ".join(problems))
                return 1
            dumps[mode] = _normalised_dump(root / mode, info["story_id"])
        differ = [k for k in dumps["bulk"] if dumps["bulk"][k] != dumps["services"][k]]
        if differ:
            print("bulk and services differ in: " + ", ".join(differ))
            for k in differ:
                a, b = dumps["services"][k], dumps["bulk"][k]
                print(f"  {k}: services {len(a) if isinstance(a, list) else a} rows, "
                      f"bulk {len(b) if isinstance(b, list) else b}")
            return 1
        print(f"self-check ok: bulk == services ({len(dumps['bulk']['segments'])} segments, "
              f"{len(dumps['bulk']['history'])} history entries, read back and verified)")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- command line -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, help="prose words (scene bodies), e.g. 1000000")
    ap.add_argument("--chapters", type=int)
    ap.add_argument("--scenes", type=int, help="scenes per chapter")
    ap.add_argument("--size", choices=sorted(SIZES), help="shorthand for words/chapters/scenes")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--studio-dir", type=Path, help="Story Studio data folder to fill")
    ap.add_argument("--nw-dir", type=Path, help="also write a novelWriter project here")
    ap.add_argument("--anchor-dir", type=Path, default=DEFAULT_ANCHOR_DIR,
                    help=f"folder holding the anchor's gen.py (default {DEFAULT_ANCHOR_DIR})")
    ap.add_argument("--mode", choices=("bulk", "services"), default="bulk",
                    help="bulk: one unit of work via the repositories (default); services: "
                         "one service call per chapter/scene/synopsis")
    ap.add_argument("--force", action="store_true",
                    help="delete --studio-dir / --nw-dir first if they exist")
    ap.add_argument("--verify", action="store_true",
                    help="read the story back through the services and compare")
    ap.add_argument("--self-check", action="store_true",
                    help="load a small novel in both modes and compare what is stored")
    a = ap.parse_args(argv)

    if a.self_check:
        return self_check(a.anchor_dir)
    if a.size:
        words, chapters, scenes = SIZES[a.size]
        a.words = a.words or words
        a.chapters = a.chapters or chapters
        a.scenes = a.scenes or scenes
    if not a.words or not (a.studio_dir or a.nw_dir):
        ap.error("--words (or --size) and at least one of --studio-dir / --nw-dir are needed")
    if a.chapters is None or a.scenes is None:
        a.chapters, a.scenes = load_anchor(a.anchor_dir).auto_shape(a.words)
    for d in (a.studio_dir, a.nw_dir):
        if d is not None and d.exists() and any(d.iterdir()):
            if not a.force:
                ap.error(f"{d} exists and is not empty (use --force to replace it)")
            shutil.rmtree(d)

    t = time.perf_counter()
    novel = build(a.words, a.chapters, a.scenes, a.seed, a.anchor_dir)
    out: dict[str, Any] = {"words": a.words, "chapters": a.chapters, "scenes": a.scenes,
                           "seed": a.seed, "anchor_words": novel.words,
                           "build_s": round(time.perf_counter() - t, 3)}
    if a.nw_dir:
        t = time.perf_counter()
        out["novelwriter"] = write_nw(novel, a.nw_dir, a.anchor_dir)
        out["novelwriter"]["write_s"] = round(time.perf_counter() - t, 3)
    if a.studio_dir:
        out["studio"] = write_studio(novel, a.studio_dir, a.mode)
        if a.verify:
            problems = verify_studio(a.studio_dir, out["studio"]["story_id"], novel)
            out["studio"]["verified"] = not problems
            for p in problems[:20]:
                print("verify:", p, file=sys.stderr)
    print(json.dumps(out, indent=1))
    return 1 if out.get("studio", {}).get("verified") is False else 0


if __name__ == "__main__":
    raise SystemExit(main())

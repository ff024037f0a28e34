"""Local fork storage: what forking a cached 1M-word marketplace story adds to the database.

A fork refers to the cached reference version (``scenes.shared_blob``: copy-on-write) instead
of copying its prose, so the target is "O(1) in stored bytes" with respect to the words: the
fork's rows are one per chapter and per scene (plus the story, its five modules, the link and
a few history entries), none per word or per paragraph.

Steps, in a fresh data folder:

1. generate the content (the novelWriter anchor's prose, as ``gen_novel.py``: 1M words,
   50 chapters × 20 scenes, seed 42), each paragraph a segment, in the marketplace's content
   format;
2. ``reference_cache.cache_version`` — measured: database bytes before/after (the cached
   reference: 1,000 scene blobs + the manifest);
3. ``forking.fork_reference`` — measured the same way (the fork), with the time taken;
4. the fork is read back through ``manuscript.load_scene`` (every scene) to check it reads the
   reference's text;
5. one segment of one scene is edited (``manuscript.save_scene_text``): the growth of that
   copy-on-write step is measured too;
6. a v2 of the source that rewrites one paragraph in every tenth scene is cached and pulled
   (``pulling.plan_pull`` / ``apply_pull``, which saves a version first): times, and what the
   pull stored (the untouched scenes are repointed at v2's blobs, no rows written).

Bytes are SQLite's own accounting after a WAL checkpoint: ``(page_count - freelist_count) ×
page_size`` for the whole file, and per table/index from ``dbstat`` (pages in use).  SQLite
allocates whole pages, so small growths show up in 4 KiB steps.  A second, 10× smaller story
(100k words, 10 × 10 — fewer scenes too) and a same-outline story with 10× fewer words are
forked as well, to show the fork's bytes follow the number of scenes, not of words.

Usage::

    /work/venv/bin/python bench/fork_local_bench.py [--words 1000000] [--chapters 50]
        [--scenes 20] [--seed 42] [--out PATH] [--keep]

Writes ``bench/results/fork_local.json`` and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from studio.domain.manuscript import split_paragraphs  # noqa: E402
from studio.services import forking, manuscript, reference_cache  # noqa: E402
from studio.store.database import Database  # noqa: E402
from db_pages import growth, measure  # noqa: E402

DEFAULT_OUT = BENCH / "results" / "fork_local.json"
SERVER = "https://market.example"


def make_content(words: int, chapters: int, scenes: int, seed: int) -> dict:
    import gen_novel

    novel = gen_novel.build(words, chapters, scenes, seed)
    out, n = [], 0
    for ci, chapter in enumerate(novel.chapters):
        scene_list = []
        for si, scene in enumerate(chapter.scenes):
            segments = []
            for _gap, paragraph in split_paragraphs(scene.body):
                n += 1
                segments.append({"id": f"seg_{n:08d}", "text": paragraph})
            scene_list.append({"id": f"scene_{ci}_{si}", "title": scene.title,
                               "meta": {"synopsis": scene.synopsis}, "segments": segments})
        out.append({"id": f"chap_{ci}", "title": chapter.title,
                    "meta": {"synopsis": chapter.synopsis}, "scenes": scene_list})
    return {"modules": {}, "manuscript": {"chapters": out}, "scene_bible": {},
            "chapter_graph": {}}


def run_case(folder: Path, words: int, chapters: int, scenes: int, seed: int,
             story: str, edit: bool) -> dict:
    started = time.perf_counter()
    content = make_content(words, chapters, scenes, seed)
    generated_s = time.perf_counter() - started
    segments = sum(len(sc["segments"]) for ch in content["manuscript"]["chapters"]
                   for sc in ch["scenes"])
    db = Database.open(folder)
    try:
        empty = measure(db.path)
        started = time.perf_counter()
        ref = reference_cache.cache_version(db, SERVER, story, 1, "", content)
        cache_s = time.perf_counter() - started
        cached = measure(db.path)
        started = time.perf_counter()
        story_id = forking.fork_reference(db, ref)
        fork_s = time.perf_counter() - started
        forked = measure(db.path)
        started = time.perf_counter()
        outline = manuscript.outline(db, story_id)
        expected = {sc["id"]: [s["text"] for s in sc["segments"]]
                    for ch in content["manuscript"]["chapters"] for sc in ch["scenes"]}
        same = all([s.text for s in manuscript.load_scene(db, story_id, sc.uid).segments]
                   == expected[sc.uid] for ch in outline.chapters for sc in ch.scenes)
        read_s = time.perf_counter() - started
        with sqlite3.connect(db.path) as conn:
            rows = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE story_id = ?",
                                    (story_id,)).fetchone()[0]
                    for t in ("chapters", "scenes", "segments", "modules", "edit_history")}
        result = {
            "words": sum(sc.words for ch in outline.chapters for sc in ch.scenes),
            "chapters": chapters, "scenes": chapters * scenes, "segments": segments,
            "generate_s": round(generated_s, 2), "cache_s": round(cache_s, 2),
            "fork_s": round(fork_s, 3), "read_back_s": round(read_s, 2),
            "fork_reads_reference_text": same,
            "reference_bytes": growth(empty, cached),
            "fork_bytes": growth(cached, forked),
            "fork_rows": rows,
        }
        result["fork_bytes_per_scene"] = round(result["fork_bytes"]["bytes"]
                                               / result["scenes"], 1)
        result["fork_vs_reference_pct"] = round(
            100 * result["fork_bytes"]["bytes"] / result["reference_bytes"]["bytes"], 3)
        if edit:
            first = outline.chapters[0].scenes[0].uid
            scene = manuscript.load_scene(db, story_id, first)
            paragraphs = [s.text for s in scene.segments]
            paragraphs[0] = paragraphs[0] + " (edited in the fork)"
            manuscript.save_scene_text(db, story_id, first, "\n\n".join(paragraphs))
            edited = measure(db.path)
            result["first_edit_bytes"] = growth(forked, edited)
            result["first_edit_segments_written"] = len(paragraphs)
            result["pull"] = pull_case(db, story_id, content, story)
        return result
    finally:
        db.close()


def pull_case(db, story_id: int, content: dict, story: str) -> dict:
    """v2 of the source rewrites one paragraph in every tenth scene (the fork's edited scene
    among them, on another paragraph): plan and apply the pull, and what it stored."""
    import copy

    from studio.services import pulling

    v2 = copy.deepcopy(content)
    changed = 0
    scenes = [sc for ch in v2["manuscript"]["chapters"] for sc in ch["scenes"]]
    for i, scene in enumerate(scenes):
        if i % 10 == 0 and len(scene["segments"]) > 1:
            scene["segments"][-1]["text"] += " (revised in v2)"
            changed += 1
    ref2 = reference_cache.cache_version(db, SERVER, story, 2, "v2", v2)
    before = measure(db.path)
    started = time.perf_counter()
    plan = pulling.plan_pull(db, story_id, ref2)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    pulling.apply_pull(db, story_id, plan, {})
    apply_s = time.perf_counter() - started
    after = measure(db.path)
    with sqlite3.connect(db.path) as conn:
        rows = conn.execute("SELECT count(*) FROM segments WHERE story_id = ?",
                            (story_id,)).fetchone()[0]
        shared = conn.execute("SELECT count(*) FROM scenes WHERE story_id = ? AND "
                              "shared_blob IS NOT NULL AND deleted_at IS NULL",
                              (story_id,)).fetchone()[0]
    return {"scenes_changed_in_v2": changed, "applied": len(plan.applied),
            "conflicts": len(plan.conflicts), "plan_s": round(plan_s, 2),
            "apply_s": round(apply_s, 2), "segment_rows_after": rows,
            "scenes_still_shared": shared,
            "bytes": growth(before, after)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--chapters", type=int, default=50)
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fork_local_"))
    cases = {}
    try:
        cases["main"] = run_case(root / "main", args.words, args.chapters, args.scenes,
                                 args.seed, "st_big", edit=True)
        cases["same_outline_tenth_words"] = run_case(
            root / "tenth", args.words // 10, args.chapters, args.scenes, args.seed, "st_tenth",
            edit=False)
        cases["tenth_words_tenth_scenes"] = run_case(
            root / "small", args.words // 10, max(1, args.chapters // 5),
            max(1, args.scenes // 2), args.seed, "st_small", edit=False)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    main_case = cases["main"]
    report = {
        "benchmark": "fork_local", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "machine": platform.machine(),
        "args": vars(args) | {"out": str(args.out)},
        "cases": cases,
        "summary": {
            "reference_bytes": main_case["reference_bytes"]["bytes"],
            "fork_bytes": main_case["fork_bytes"]["bytes"],
            "fork_vs_reference_pct": main_case["fork_vs_reference_pct"],
            "fork_bytes_per_scene": main_case["fork_bytes_per_scene"],
            "fork_segment_rows": main_case["fork_rows"]["segments"],
            "same_outline_tenth_words_fork_bytes":
                cases["same_outline_tenth_words"]["fork_bytes"]["bytes"],
            "tenth_scenes_fork_bytes": cases["tenth_words_tenth_scenes"]["fork_bytes"]["bytes"],
            "first_edit_bytes": main_case.get("first_edit_bytes", {}).get("bytes"),
            "pull_plan_s": main_case["pull"]["plan_s"],
            "pull_apply_s": main_case["pull"]["apply_s"],
            "pull_bytes": main_case["pull"]["bytes"]["bytes"],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    s = report["summary"]
    print(f"reference ({main_case['words']:,} words, {main_case['scenes']} scenes, "
          f"{main_case['segments']:,} segments): {s['reference_bytes']:,} bytes "
          f"(cached in {main_case['cache_s']} s)")
    print(f"fork: {s['fork_bytes']:,} bytes = {s['fork_vs_reference_pct']} % of the reference, "
          f"{s['fork_bytes_per_scene']} bytes/scene, {s['fork_segment_rows']} segment rows, "
          f"forked in {main_case['fork_s']} s; reads the reference text: "
          f"{main_case['fork_reads_reference_text']}")
    print(f"  same outline, 1/10 of the words: {s['same_outline_tenth_words_fork_bytes']:,} "
          f"bytes; 1/10 of the scenes and words: {s['tenth_scenes_fork_bytes']:,} bytes")
    print(f"  first edit of one segment (one scene materialised): {s['first_edit_bytes']:,} "
          "bytes")
    pull = main_case["pull"]
    print(f"  pull of a v2 changing {pull['scenes_changed_in_v2']} scenes: plan "
          f"{pull['plan_s']} s, apply {pull['apply_s']} s (incl. the version saved first), "
          f"{pull['applied']} applied, {pull['conflicts']} conflicts; afterwards "
          f"{pull['segment_rows_after']} segment rows, {pull['scenes_still_shared']} scenes "
          f"still shared; {pull['bytes']['bytes']:,} bytes")
    for name, size in main_case["fork_bytes"]["tables"].items():
        print(f"    {name:40s} {size:>10,}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

"""What-if branch storage: what branching a 1M-word novel at its last chapter adds.

A branch is a story of its own whose scenes point at the parent's version blobs
(``scenes.shared_blob``, copy-on-write) until first edited, so it writes a row per chapter and
per scene and nothing per word (``services.branches``).  The issue's target: a branch of a
1M-word story made at the last chapter stores less than 1 % of the story's bytes.

Steps, in a fresh data folder:

1. generate the novel (``gen_novel.py``: the novelWriter anchor's prose, 1M words, 50 chapters
   × 20 scenes, seed 42) and load it in bulk, as the manuscript bench does;
2. save a version ("v1": every scene's blob is stored);
3. edit a few paragraphs of the last chapter (the author kept writing);
4. "Branch from here" at the last chapter: ``branches.create_branch(..., chapter_uid=last)``
   with no version given, so it first saves a "Branch point" version (which stores blobs only
   for the scenes edited in step 3) — timed;
5. measured: (a) ``branches.branch_storage`` of the branch — the bytes its own rows hold
   (values: text by length, numbers as 8 bytes), per table; the same function applied to the
   main story gives the story's own rows; (b) the growth of the database file over the whole
   branch operation (version + branch), SQLite's own accounting after a WAL checkpoint:
   ``(page_count - freelist_count) × page_size``, per table/index from ``dbstat``; (c) the
   story's prose bytes (UTF-8 of every paragraph) and its database bytes (the whole file
   before branching: it holds only this story, its history and its version);
6. checks: the branch has no segment rows, reads the main story's text, and editing one
   paragraph in it then comparing and merging that chapter back works (timed).

Usage::

    /work/venv/bin/python bench/branch_storage_bench.py [--words 1000000] [--chapters 50]
        [--scenes 20] [--seed 42] [--out PATH] [--keep]

Writes ``bench/results/branch_storage.json`` and prints a summary.
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

from studio.services import branches, manuscript, versions  # noqa: E402
from studio.store.database import Database  # noqa: E402
from db_pages import growth, measure  # noqa: E402

DEFAULT_OUT = BENCH / "results" / "branch_storage.json"
TARGET_PCT = 1.0


def count(path: Path, table: str, story_id: int) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE story_id = ?",
                            (story_id,)).fetchone()[0]


def edit_paragraph(db, story_id: int, scene_uid: str, index: int, suffix: str) -> None:
    scene = manuscript.load_scene(db, story_id, scene_uid)
    paragraphs = [s.text for s in scene.segments]
    paragraphs[index] += suffix
    manuscript.save_scene_text(db, story_id, scene_uid, "\n\n".join(paragraphs))


def pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 3) if whole else 0.0


def run(folder: Path, words: int, chapters: int, scenes: int, seed: int) -> dict:
    import gen_novel

    started = time.perf_counter()
    novel = gen_novel.build(words, chapters, scenes, seed)
    loaded = gen_novel.write_studio(novel, folder)
    generate_s = time.perf_counter() - started
    story_id = loaded["story_id"]
    prose_bytes = sum(len(p.encode("utf-8")) for ch in novel.chapters for sc in ch.scenes
                      for p in sc.paragraphs)
    db = Database.open(folder)
    try:
        started = time.perf_counter()
        versions.save_version(db, story_id, "v1")
        version_s = time.perf_counter() - started
        outline = manuscript.outline(db, story_id)
        last = outline.chapters[-1]
        for i, scene in enumerate(last.scenes[:3]):  # a few paragraphs of the last chapter
            edit_paragraph(db, story_id, scene.uid, i, " (rewritten after v1)")
        story_db = measure(db.path)
        main_rows = branches.branch_storage(db, story_id)

        started = time.perf_counter()
        info = branches.create_branch(db, story_id, "What if the lamp stays dark",
                                      "the last chapter, otherwise", chapter_uid=last.uid)
        branch_s = time.perf_counter() - started
        after = measure(db.path)
        storage = branches.branch_storage(db, info.story_id)
        branch_segments = count(db.path, "segments", info.story_id)
        last_scene = last.scenes[-1].uid
        same_text = (manuscript.load_scene(db, info.story_id, last_scene).text
                     == manuscript.load_scene(db, story_id, last_scene).text)

        # The branch in use: one paragraph rewritten, compared, that chapter merged back.
        edit_paragraph(db, info.story_id, last_scene, 0, " (the dark version)")
        edited = measure(db.path)
        started = time.perf_counter()
        diffs = branches.compare(db, story_id, info.story_id)
        compare_s = time.perf_counter() - started
        started = time.perf_counter()
        plan = branches.plan_merge(db, info.story_id, story_id, [last.uid])
        plan_s = time.perf_counter() - started
        started = time.perf_counter()
        branches.apply_merge(db, plan, {})
        apply_s = time.perf_counter() - started
        merged_text = manuscript.load_scene(db, story_id, last_scene).text.split("\n")[0]
    finally:
        db.close()

    operation = growth(story_db, after)
    return {
        "words": outline.words, "chapters": chapters, "scenes": chapters * scenes,
        "segments": loaded["segments"], "generate_and_load_s": round(generate_s, 2),
        "save_version_s": round(version_s, 2), "create_branch_s": round(branch_s, 3),
        "story": {"prose_bytes": prose_bytes, "database_bytes": story_db["bytes"],
                  "own_rows_bytes": main_rows["total"], "own_rows": main_rows["rows"]},
        "branch_storage": storage,
        "branch_operation_file_growth": operation,
        "first_edit_file_growth": growth(after, edited),
        "checks": {"branch_segment_rows": branch_segments,
                   "branch_reads_main_text": same_text,
                   "compare_changed_chapters": sum(1 for d in diffs if d.state != "same"),
                   "merge_applied": len(plan.applied), "merge_conflicts": len(plan.conflicts),
                   "merged_into_main": merged_text.endswith("(the dark version)")},
        "times": {"compare_s": round(compare_s, 2), "plan_merge_s": round(plan_s, 2),
                  "apply_merge_s": round(apply_s, 2)},
        "percent": {
            "branch_rows_of_story_database": pct(storage["total"], story_db["bytes"]),
            "branch_rows_of_story_rows": pct(storage["total"], main_rows["total"]),
            "branch_rows_of_prose": pct(storage["total"], prose_bytes),
            "file_growth_of_story_database": pct(operation["bytes"], story_db["bytes"]),
            "branch_pages_of_story_database": pct(
                sum(v for k, v in operation["tables"].items()
                    if k not in ("versions", "text_blobs", "sqlite_autoindex_text_blobs_1")),
                story_db["bytes"]),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--chapters", type=int, default=50)
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="branch_storage_"))
    try:
        result = run(root / "data", args.words, args.chapters, args.scenes, args.seed)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    p = result["percent"]
    report = {
        "benchmark": "branch_storage", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "machine": platform.machine(),
        "args": vars(args) | {"out": str(args.out)},
        "target": f"branch rows < {TARGET_PCT} % of the story's bytes",
        "result": result,
        "summary": {
            "story_prose_bytes": result["story"]["prose_bytes"],
            "story_database_bytes": result["story"]["database_bytes"],
            "branch_rows_bytes": result["branch_storage"]["total"],
            "branch_operation_file_growth_bytes": result["branch_operation_file_growth"]
            ["bytes"],
            **p,
            "meets_target_vs_database": p["branch_rows_of_story_database"] < TARGET_PCT,
            "meets_target_vs_prose": p["branch_rows_of_prose"] < TARGET_PCT,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    s, r = report["summary"], result
    print(f"story: {r['words']:,} words, {r['scenes']} scenes, {r['segments']:,} paragraphs; "
          f"prose {s['story_prose_bytes']:,} bytes, database {s['story_database_bytes']:,} "
          f"bytes; its own rows {r['story']['own_rows_bytes']:,} bytes")
    print(f"branch at the last chapter, made in {r['create_branch_s']} s: its rows hold "
          f"{s['branch_rows_bytes']:,} bytes = {p['branch_rows_of_story_database']} % of the "
          f"story's database bytes, {p['branch_rows_of_story_rows']} % of the story's rows, "
          f"{p['branch_rows_of_prose']} % of its prose")
    print(f"  file growth of the whole operation (branch-point version + branch): "
          f"{s['branch_operation_file_growth_bytes']:,} bytes = "
          f"{p['file_growth_of_story_database']} %; the branch's pages alone "
          f"{p['branch_pages_of_story_database']} %")
    for name, size in r["branch_operation_file_growth"]["tables"].items():
        print(f"    {name:40s} {size:>10,}")
    for name, t in r["branch_storage"]["tables"].items():
        print(f"    rows of {name:32s} {t['rows']:>6} {t['bytes']:>10,}")
    print(f"  checks: {r['checks']}; times: {r['times']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

"""Offline manuscript analyser benchmark: ``studio.domain.insights.analyse_manuscript`` on a
generated ~1M-word story (issue 8's target: ≤ 10 s on one core of this 2-core machine).

Two stories, both deterministic:

* ``anchor`` (the default, as the other benches): ``bench/gen_novel.py``'s novel (the
  novelWriter anchor's generator, seed 42, 50 chapters × 20 scenes, one segment per
  paragraph), with a scene bible naming 20 of its 24 recurring characters (the other 4 are
  found in the prose).  A small vocabulary, so the per-word caches are hot quickly.
* ``classics``: the hand-labelled public-domain chapters of ``tests/data/public_domain``
  (Carroll, Austen, Conan Doyle, Stoker, Barrie) dealt paragraph by paragraph into 50 chapters
  × 20 scenes until the word count is reached: real prose, a real vocabulary, real dialogue.

Measured: ``--reps`` runs (default 3) per story in this process; per stage, the seconds
between the stage's first progress call and the next stage's (the progress callback records
``time.perf_counter()`` — its cost is in the totals); min / median / max of the total.

Usage::

    /work/venv/bin/python bench/analysis_bench.py [--words 1000000] [--reps 3]
        [--source anchor|classics|both] [--out bench/results/analysis.json]

Prints the JSON it writes.  Exits non-zero only when something crashes, never because the
target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from studio.domain.insights import STAGES, analyse_manuscript  # noqa: E402

DEFAULT_OUT = BENCH / "results" / "analysis.json"
TARGET_S = 10.0
CHAPTERS, SCENES = 50, 20
PUBLIC_DOMAIN = REPO / "tests" / "data" / "public_domain"


def anchor_story(words: int, anchor_dir: str | None = None) -> dict[str, Any]:
    import gen_novel  # bench/gen_novel.py

    novel = gen_novel.build(words, CHAPTERS, SCENES, gen_novel.DEFAULT_SEED, anchor_dir)
    names = sorted(novel.characters)[:20]
    bible = {"characters": [{"id": f"char_{i}", "name": n, "aliases": []}
                            for i, n in enumerate(names)],
             "setting": {"locations": [{"name": loc} for loc in sorted(novel.locations)]}}
    chapters = []
    for c, ch in enumerate(novel.chapters, 1):
        scenes = []
        for s, sc in enumerate(ch.scenes, 1):
            scenes.append({"id": f"scene_{c}_{s}", "title": sc.title, "synopsis": sc.synopsis,
                           "segments": [{"id": f"seg_{c}_{s}_{k}", "text": p}
                                        for k, p in enumerate(sc.paragraphs)]})
        chapters.append({"id": f"chap_{c}", "title": ch.title, "scenes": scenes})
    return {"manuscript": {"chapters": chapters}, "scene_bible": bible}


def classics_story(words: int) -> dict[str, Any]:
    paragraphs: list[str] = []
    for path in sorted(PUBLIC_DOMAIN.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs += [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    per_scene = words // (CHAPTERS * SCENES)
    chapters, k = [], 0
    for c in range(1, CHAPTERS + 1):
        scenes = []
        for s in range(1, SCENES + 1):
            segs, n = [], 0
            while n < per_scene:
                p = paragraphs[k % len(paragraphs)]
                k += 1
                segs.append({"id": f"seg_{c}_{s}_{len(segs)}", "text": p})
                n += len(p.split())
            scenes.append({"id": f"scene_{c}_{s}", "title": f"Scene {s}", "segments": segs})
        chapters.append({"id": f"chap_{c}", "title": f"Chapter {c}", "scenes": scenes})
    return {"manuscript": {"chapters": chapters}, "scene_bible": {}}


def run_once(content: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float], float]:
    marks: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        marks.setdefault(stage, time.perf_counter())

    gc.collect()
    start = time.perf_counter()
    result = analyse_manuscript(content, progress)
    end = time.perf_counter()
    order = [s for s in STAGES if s in marks]
    stages = {}
    for i, stage in enumerate(order):
        begin = start if i == 0 else marks[stage]
        stop = marks[order[i + 1]] if i + 1 < len(order) else end
        stages[stage] = round(stop - begin, 3)
    return result, stages, round(end - start, 3)


def bench(name: str, content: dict[str, Any], reps: int) -> dict[str, Any]:
    runs = []
    result: dict[str, Any] = {}
    for _ in range(reps):
        result, stages, total = run_once(content)
        runs.append({"total_s": total, "stages_s": stages})
    totals = [r["total_s"] for r in runs]
    best = min(runs, key=lambda r: r["total_s"])
    return {"source": name, "words": result["words"], "chapters": result["chapters"],
            "scenes": result["scenes"], "cast": len(result["cast"]),
            "insights": len(result["insights"]),
            "total_s": {"min": min(totals), "median": round(statistics.median(totals), 3),
                        "max": max(totals)},
            "stages_s_of_fastest_run": best["stages_s"], "runs": runs,
            "target_s": TARGET_S, "within_target": statistics.median(totals) <= TARGET_S}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--source", choices=("anchor", "classics", "both"), default="both")
    ap.add_argument("--anchor-dir", default=None)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    args = ap.parse_args(argv)
    sources = ("anchor", "classics") if args.source == "both" else (args.source,)
    results = []
    for source in sources:
        t = time.perf_counter()
        content = anchor_story(args.words, args.anchor_dir) if source == "anchor" \
            else classics_story(args.words)
        built = round(time.perf_counter() - t, 2)
        row = bench(source, content, args.reps)
        row["generate_s"] = built
        results.append(row)
        del content
    out = {"bench": "analysis", "python": platform.python_version(),
           "machine": platform.machine(), "cpus": os.cpu_count(), "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

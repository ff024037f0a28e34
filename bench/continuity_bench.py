"""Continuity checker benchmark: ``studio.domain.continuity.check`` on a 1M-word novel.

One process, standard library + the app.  The novel is ``bench/gen_novel.py``'s (the
novelWriter anchor's generator, seed 42, 50 chapters x 20 scenes): one ``ProseSegment`` per
paragraph, in reading order, with deterministic ``seg_``/``chap_``/``scene_`` ids.  About one
paragraph in a hundred gets an extra sentence naming a place ("Later they went to ..."): mostly
places the bible knows, a few it does not, so the location rule has real matching to do (the
generator's own prose names no places).

The bible has 200 characters and 100 locations.  22 of the generator's 24 recurring names are
characters with an invented surname and an alias (the prose uses the first names, so every
speaker is matched through a single word of a multi-word name); two are left out so they come
back as unknown speakers.  Three of them become inactive at 40 / 70 / 90 % of the manuscript and
keep acting in the prose (hundreds of findings); 178 more invented characters (40 of them
inactive) never appear.  Plot threads: resolved ones whose keywords come back (vocabulary words),
resolved ones whose keywords never appear (scanned to the end), active ones (reported: the story
is marked complete).  Timeline: 300 events spread over the manuscript, a few out of order, three
pointing at deleted segments.

Measured:

* ``check`` time: ``--reps`` runs (default 5) on the main thread; min / median / max s and the
  findings per rule.  Target: well under 3 s, aim <= 1.5 s.
* UI stall: a ``QApplication`` (offscreen) with the 1 ms ``QTimer`` probe of ``bench/ui_stall.py``
  on the main thread while ``check`` runs on a ``threading.Thread`` (``--stall-runs`` times, one
  after another, with a ``progress`` callback as the service passes).  The longest gap between
  two ticks is the longest time the UI thread could not run.  Target < 16 ms (one frame).
  An idle second of probing before it is reported as the baseline.

Usage::

    /work/venv/bin/python bench/continuity_bench.py [--reps 5] [--stall-runs 3] [--out PATH]

Writes ``bench/results/continuity.json`` and prints a short summary.  Exits non-zero only when
something crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))
import gen_novel  # noqa: E402  (bench/gen_novel.py)

from studio.domain.continuity import ProseSegment, check  # noqa: E402

DEFAULT_OUT = BENCH / "results" / "continuity.json"
TARGET_S = 1.5  # aim; the hard limit is 3 s
TARGET_STALL_MS = 16.0

SYLLABLES = ("ar bel cor dan el fen gar hal is jor kel lun mar nor os per quin ros sal tor "
             "ul ven wil yor zan").split()
SUFFIXES = ("ford wick marsh brook hollow gate stone field holm mere").split()
LEFT_OUT = ("Wren", "Yusuf")  # speakers the bible does not know
UNKNOWN_PLACES = ("Saltmere Reach", "Varrow", "the Grey Stacks", "Port Ellis", "Oldwatch")


def _invented(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def build_manuscript(words: int, chapters: int, scenes: int, seed: int,
                     anchor_dir: str | None) -> tuple[list[ProseSegment], list[str], Any]:
    """The generated novel as segments (reading order) and the bible's known place names."""
    novel = gen_novel.build(words, chapters, scenes, seed, anchor_dir)
    rng = random.Random(seed + 1)
    known_places = [f"{n} {rng.choice(('Harbour', 'Abbey', 'Market', 'Bridge', 'Quay'))}"
                    for n in (_invented(rng, 2) for _ in range(100))]
    segments: list[ProseSegment] = []
    for ch in novel.chapters:
        chap_uid = f"chap_{rng.getrandbits(48):012x}"
        for sc in ch.scenes:
            scene_uid = f"scene_{rng.getrandbits(48):012x}"
            for para in sc.paragraphs:
                if rng.random() < 0.01:
                    place = (rng.choice(UNKNOWN_PLACES) if rng.random() < 0.15
                             else rng.choice(known_places))
                    para += f" Later they went to {place}."
                segments.append(ProseSegment(f"seg_{rng.getrandbits(48):012x}", chap_uid,
                                             scene_uid, para))
    return segments, known_places, novel


def build_bible(segments: list[ProseSegment], known_places: list[str], names: list[str],
                seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 2)
    n = len(segments)
    characters = []
    inactive_at = {names[0]: 0.4, names[5]: 0.7, names[11]: 0.9}
    for first in names:
        if first in LEFT_OUT:
            continue
        c = {"id": f"char_{first.lower()}", "name": f"{first} {_invented(rng, 2)}",
             "aliases": [f"the {_invented(rng, 1)}"], "introduced_in": segments[0].id}
        if first in inactive_at:
            c.update(active=False, inactive_since=segments[int(inactive_at[first] * n)].id,
                     inactive_reason="died")
        characters.append(c)
    while len(characters) < 200:
        k = len(characters)
        c = {"id": f"char_x{k}", "name": f"{_invented(rng, 2)} {_invented(rng, 3)}",
             "aliases": [_invented(rng, 2)]}
        if k % 4 == 0:
            c.update(active=False, inactive_since=segments[rng.randrange(n)].id)
        characters.append(c)
    locations = [{"name": p, "aliases": [p.split()[0]]} for p in known_places]
    threads = []
    for i, kw in enumerate(("lantern", "silver key", "ledger", "crimson coat", "broken bell",
                            "old map", "iron gate", "secret", "promise", "mirror")):
        threads.append({"id": f"thread_r{i}", "description": f"The matter of the {kw}",
                        "status": "resolved", "keywords": [kw],
                        "opened_in": segments[n // 20].id,
                        "resolved_in": segments[(i + 1) * n // 12].id})
    for i in range(20):  # resolved, never mentioned again: scanned to the end
        threads.append({"id": f"thread_q{i}", "description": f"Quiet thread {i}",
                        "status": "resolved", "keywords": [f"zyzzyva{i}", f"glass owl {i}"],
                        "resolved_in": segments[n // 3].id})
    for i in range(10):
        threads.append({"id": f"thread_a{i}", "description": f"Open question {i}",
                        "keywords": [f"question {i}"]})
    events = []
    for i in range(300):
        pos = i * (n - 1) // 299
        if i % 50 == 25:  # read before the previous event: out of order
            pos = max(0, pos - n // 100)
        events.append({"id": f"evt_{i}", "event": f"Event number {i}",
                       "segment": segments[pos].id})
    for i in (40, 140, 240):
        events[i]["segment"] = f"seg_deleted{i}"
    return {"characters": characters,
            "setting": {"primary_location": known_places[0], "locations": locations},
            "timeline": {"events": events}, "plot_threads": threads}


def time_check(bible, segments, reps: int) -> dict[str, Any]:
    times, report = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        report = check(bible, segments, story_complete=True)
        times.append(time.perf_counter() - t0)
    by_rule = Counter(f.rule for f in report.findings)
    return {"runs": reps, "min_s": round(min(times), 3),
            "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "times_s": [round(t, 3) for t in times], "findings": len(report.findings),
            "findings_by_rule": dict(sorted(by_rule.items())),
            "segments_checked": report.segments_checked,
            "sample_findings": [f.message for f in
                                {f.rule: f for f in reversed(report.findings)}.values()]}


def measure_stall(bible, segments, runs: int, probe_ms: int) -> dict[str, Any]:
    """The 1 ms probe on the main thread while ``check`` runs ``runs`` times on a thread."""
    import PySide6
    import ui_stall as us
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        us._add_refcount_guard()  # see bench/README.md, "The refcount guard"
    app = QApplication.instance() or QApplication([])
    probe = us.StallProbe(probe_ms)
    marks: dict[str, Any] = {"worker_s": [], "progress_calls": 0, "gc": []}
    error: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        marks["progress_calls"] += 1

    def worker() -> None:
        try:
            for _ in range(runs):
                t0 = time.perf_counter()
                check(bible, segments, story_complete=True, progress=progress)
                marks["worker_s"].append(time.perf_counter() - t0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            error.append(exc)

    def gc_callback(phase: str, info: dict) -> None:
        if phase == "start":
            marks["gc_t0"] = time.perf_counter()
        else:
            marks["gc"].append((info["generation"], time.perf_counter() - marks["gc_t0"]))

    thread = threading.Thread(target=worker, name="continuity-check")

    def start_worker() -> None:
        marks["t0"] = time.perf_counter()
        gc.callbacks.append(gc_callback)
        thread.start()
        poll.start()

    def poll_worker() -> None:
        if not thread.is_alive():
            marks["t1"] = time.perf_counter()
            poll.stop()
            app.quit()

    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(poll_worker)
    probe.start()
    marks["idle_t0"] = time.perf_counter()
    QTimer.singleShot(1000, start_worker)  # one idle second first: the probe's baseline
    app.exec()
    probe.stop()
    gc.callbacks.remove(gc_callback)
    thread.join()
    if error:
        raise error[0]
    idle = us._gap_stats(probe.between(marks["idle_t0"] + 0.05, marks["t0"]))
    busy = us._gap_stats(probe.between(marks["t0"], marks["t1"]))
    gaps = sorted((g for _, g in probe.between(marks["t0"], marks["t1"])), reverse=True)
    return {"check_runs_on_worker": runs,
            "worker_check_s": [round(t, 3) for t in marks["worker_s"]],
            "progress_calls": marks["progress_calls"],
            "max_stall_ms": busy["max_gap_ms"], "p99_gap_ms": busy["p99_gap_ms"],
            "median_gap_ms": busy["median_gap_ms"], "samples": busy["samples"],
            "gaps_over_16ms": sum(1 for g in gaps if 1000 * g > TARGET_STALL_MS),
            "top_gaps_ms": [round(1000 * g, 2) for g in gaps[:8]],
            "idle_baseline": {"max_gap_ms": idle["max_gap_ms"], "p99_gap_ms": idle["p99_gap_ms"],
                              "samples": idle["samples"]},
            "gc_passes_during_check": [{"generation": g, "ms": round(1000 * t, 2)}
                                       for g, t in marks["gc"] if g == 2][:10],
            "gc_pass_count": len(marks["gc"]),
            "switch_interval_ms": round(1000 * sys.getswitchinterval(), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--chapters", type=int, default=50)
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=gen_novel.DEFAULT_SEED)
    parser.add_argument("--reps", type=int, default=5, help="timed check runs (5)")
    parser.add_argument("--stall-runs", type=int, default=3,
                        help="check runs on the worker thread while the probe samples (3)")
    parser.add_argument("--probe-ms", type=int, default=1)
    parser.add_argument("--anchor-dir", default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    # As in the app (studio.app.build_main_window): what lives as long as the process — here
    # the imports, Qt included — is frozen, so full GC passes walk only the check's own data:
    # the segments and the bible, which the service builds afresh for each run.
    import PySide6.QtWidgets  # noqa: F401
    import ui_stall  # noqa: F401
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    segments, known_places, novel = build_manuscript(args.words, args.chapters, args.scenes,
                                                     args.seed, args.anchor_dir)
    names = list(novel.characters)
    del novel  # the app holds segments, not the generator's novel
    bible = build_bible(segments, known_places, names, args.seed)
    gc.collect()
    gen_s = time.perf_counter() - t0
    words = sum(len(s.text.split()) for s in segments)
    print(f"novel: {words} words, {len(segments)} segments, {len(bible['characters'])} "
          f"characters, {len(bible['setting']['locations'])} locations, "
          f"{len(bible['plot_threads'])} threads, {len(bible['timeline']['events'])} events "
          f"(built in {gen_s:.1f} s)", file=sys.stderr)

    timing = time_check(bible, segments, args.reps)
    stall = measure_stall(bible, segments, args.stall_runs, args.probe_ms)

    result = {
        "benchmark": "continuity",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpu_count": os.cpu_count(),
                        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                        "qt_qpa_platform": os.environ.get("QT_QPA_PLATFORM")},
        "manuscript": {"words": words, "segments": len(segments),
                       "characters": len(bible["characters"]),
                       "locations": len(bible["setting"]["locations"]),
                       "plot_threads": len(bible["plot_threads"]),
                       "timeline_events": len(bible["timeline"]["events"]),
                       "build_s": round(gen_s, 2)},
        "targets": {"check_median_s": TARGET_S, "check_hard_limit_s": 3.0,
                    "max_stall_ms": TARGET_STALL_MS},
        "check": timing,
        "ui_stall": stall,
        "verdict": {"check": "PASS" if timing["median_s"] <= TARGET_S and timing["max_s"] <= 3.0
                    else "MISS",
                    "stall": "PASS" if (stall["max_stall_ms"] or 0) < TARGET_STALL_MS
                    else "MISS"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print(f"\ncontinuity check, {words} words / {len(segments)} segments")
    print(f"  check x{timing['runs']}: min {timing['min_s']:.3f} s, median "
          f"{timing['median_s']:.3f} s, max {timing['max_s']:.3f} s  "
          f"(median <= {TARGET_S} s, max <= 3 s) -> {result['verdict']['check']}")
    print(f"  findings: {timing['findings']}  {timing['findings_by_rule']}")
    print(f"  UI stall while check runs on a thread (x{stall['check_runs_on_worker']}, "
          f"worker {stall['worker_check_s']} s): max {stall['max_stall_ms']} ms, "
          f"p99 {stall['p99_gap_ms']} ms, {stall['samples']} samples, "
          f"{stall['gaps_over_16ms']} gaps > 16 ms -> {result['verdict']['stall']}")
    print(f"  idle baseline: max {stall['idle_baseline']['max_gap_ms']} ms; top gaps "
          f"{stall['top_gaps_ms']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

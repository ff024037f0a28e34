"""Manuscript benchmark: Story Studio against novelWriter on the same generated novel.

One command generates the novel at each size (100k, 500k, 1M words) with ``bench/gen_novel.py``
(the novelWriter anchor's generator: byte-identical prose for both apps), loads it into a Story
Studio data folder and a novelWriter project, and measures, each repetition in a fresh process:

Story Studio, service level (``--child core``)
    open   = ``Database.open`` + ``manuscript.outline`` + ``load_scene`` (first scene), ms;
    search = ``manuscript.search`` for a common word, two phrases and a word with no hits:
             the first call, then the median of up to ``--queries`` calls (a per-term time
             budget cuts that short when one call is slow; the count is reported), with the
             service's default ``limit=500`` and with a limit high enough to return every hit;
    peak RSS (``ru_maxrss``) after open + search.
novelWriter (``/work/shared/anchors/novelwriter/nwbench.py``, run by path with its own venv)
    ``prime`` once per generated project, then per repetition ``core`` (headless open, raw
    ``DocSearch`` scan), ``gui`` (``GuiMain``: open incl. restoring the last scene, search panel,
    editor document open) and ``cold`` (its ``main()`` sequence to the project loaded, wall time
    from spawn, minus the offscreen-only splash expose wait as the anchor does).
Story Studio, UI level
    cold start: ``python -m studio --data-dir D --smoke --timing``, wall time from ``Popen`` to
    the ``story_open_ms=`` line (as ``bench/cold_start.py``), and the child's peak RSS
    (``os.wait4``).  With the manuscript panel present also ``--child cold-editor``: the same
    start-up done by a bench launcher that waits until the manuscript editor shows a scene.
    typing (``--child ui``, once per size by default): the real window, driven from inside the
    event loop with the 1 ms stall probe of ``bench/ui_stall.py``: open the story until the
    manuscript editor shows a scene; open 10 scenes spread over the novel (request → text
    shown); open a scene in the middle of the novel and type ~400 characters, one key event per
    turn of the event loop, in bursts with pauses so autosave runs several times; max and p99
    event-loop gap.  Needs ``studio/ui/panels/manuscript_panel.py`` (``ManuscriptPanel`` with
    ``editor``, ``open_scene(uid)``, ``current_scene_uid``); without it these are skipped with
    a notice.

Usage::

    /work/venv/bin/python bench/manuscript_bench.py [--sizes 100k,500k,1M] [--reps 3]

Generated data lives under ``--work`` (default ``/tmp/studio-manuscript-bench``) and is reused
by later runs when its parameters match (``--regen`` forces new data).  Writes
``bench/results/manuscript.json`` and prints a markdown table: ours, novelWriter, and the ratio
novelWriter / ours (above 1: Story Studio is faster or smaller).  Exits non-zero only when a run
crashes, never because a target is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import gen_novel  # noqa: E402  (bench/gen_novel.py)

DEFAULT_OUT = BENCH / "results" / "manuscript.json"
DEFAULT_WORK = Path("/tmp/studio-manuscript-bench")
DEFAULT_NW_PYTHON = Path("/tmp/nwvenv/bin/python")
PANEL_FILE = REPO / "studio" / "ui" / "panels" / "manuscript_panel.py"

WORD, ZERO = "lantern", "zyzzyva"
PHRASES = ("the lantern", "was cold and")  # ~770 and ~420 occurrences at 1M words
TERMS = (WORD, *PHRASES, ZERO)  # novelWriter's search is a literal (case-insensitive) scan


def studio_query(term: str) -> str:
    """What an author types into Story Studio's search: a phrase goes in quotes."""
    return f'"{term}"' if " " in term else term


TARGETS = {"open_ms_1M": 1000.0, "search_ms_1M": 20.0, "stall_ms": 16.0,
           "open_ratio": 5.0, "search_ratio": 10.0}
TYPED_TEXT = (  # ~400 characters, ASCII (QTest maps characters to keys), "\n" = Return
    " Later, Maren set the lantern on the ledger and counted the coins again. "
    "Nothing added up: the harbour fees, the rope, the bread for the crew."
    "\nShe wrote the numbers twice, in her father's careful hand, and waited for "
    "Soren to come back from the quiet bridge with the answer he had promised. "
    "The bell rang at dusk. Nobody came.\nAt last she closed the book, "
    "blew out the candle and listened to the rain on the roof."
)
assert TYPED_TEXT.isascii()


def rss_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def emit(d: dict) -> None:
    print("RESULT " + json.dumps(d), flush=True)


def percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


# =====================================================================================
# child: service level
# =====================================================================================

def child_core(data_dir: Path, story_id: int, queries: int, budget_s: float) -> None:
    t0 = time.perf_counter()
    from studio.services import manuscript, stories
    from studio.store.database import Database

    import_ms = 1000 * (time.perf_counter() - t0)
    t = time.perf_counter()
    db = Database.open(data_dir)
    t1 = time.perf_counter()
    outline = manuscript.outline(db, story_id)
    t2 = time.perf_counter()
    first = outline.chapters[0].scenes[0].uid
    scene = manuscript.load_scene(db, story_id, first)
    t3 = time.perf_counter()
    rss_open = rss_now_mb()
    res: dict[str, Any] = {
        "import_ms": import_ms, "db_open_ms": 1000 * (t1 - t), "outline_ms": 1000 * (t2 - t1),
        "load_first_scene_ms": 1000 * (t3 - t2), "open_ms": 1000 * (t3 - t),
        "scenes": sum(len(c.scenes) for c in outline.chapters), "words": outline.words,
        "first_scene_chars": len(scene.text), "rss_after_open_mb": rss_open}
    t = time.perf_counter()
    stories.open_story(db, story_id)
    res["open_story_detail_ms"] = 1000 * (time.perf_counter() - t)

    search: dict[str, Any] = {}
    for term in TERMS:
        q = studio_query(term)
        for label, limit in (("default", 500), ("all", 10**6)):
            times, hits, total, started = [], 0, 0, time.perf_counter()
            for i in range(queries + 1):  # the first call is the warm-up, reported apart
                t = time.perf_counter()
                r = manuscript.search(db, story_id, q, limit=limit)
                times.append(1000 * (time.perf_counter() - t))
                hits, total = len(r.hits), r.total
                if i >= 3 and time.perf_counter() - started > budget_s:
                    break
            timed = times[1:]
            search[f"{term}|{label}"] = {
                "term": term, "query": q, "limit": limit, "first_ms": times[0],
                "median_ms": statistics.median(timed), "min_ms": min(timed),
                "max_ms": max(timed), "n": len(timed), "hits_returned": hits, "total": total}
    res["search"] = search
    # scene loads spread over the novel (the service half of opening a scene in the editor)
    flat = [s.uid for c in outline.chapters for s in c.scenes]
    picks = [flat[min(len(flat) - 1, (i + 1) * len(flat) // 11)] for i in range(10)]
    loads = []
    for uid in picks:
        t = time.perf_counter()
        manuscript.load_scene(db, story_id, uid)
        loads.append(1000 * (time.perf_counter() - t))
    res["load_scene_ms"] = {"median": statistics.median(loads), "max": max(loads)}
    res["rss_peak_mb"] = rss_peak_mb()
    db.close()
    emit(res)


# =====================================================================================
# child: UI level (typing, scene opens) and the editable cold start
# =====================================================================================

def _find_panel(window):
    try:
        from studio.ui.panels.manuscript_panel import ManuscriptPanel
    except ImportError as exc:
        return None, f"studio.ui.panels.manuscript_panel cannot be imported ({exc})"
    panel = next((p for p in window.panels if isinstance(p, ManuscriptPanel)), None)
    if panel is None:
        return None, "ManuscriptPanel is not among window.panels (not listed in PANELS?)"
    missing = [a for a in ("editor", "open_scene", "current_scene_uid") if not hasattr(panel, a)]
    if missing:
        return None, f"ManuscriptPanel lacks {', '.join(missing)}"
    return panel, None


def _scene_plan(data_dir: Path, story_id: int) -> dict[str, Any]:
    """Scene uids in manuscript order and the first paragraph of the ones the UI will open."""
    from studio.services import manuscript
    from studio.store.database import Database

    db = Database.open(data_dir)
    try:
        outline = manuscript.outline(db, story_id)
        flat = [s.uid for c in outline.chapters for s in c.scenes]
        spread = [flat[min(len(flat) - 1, (i + 1) * len(flat) // 11 + 1)] for i in range(10)]
        middle = flat[len(flat) // 2]
        first_para = {uid: manuscript.load_scene(db, story_id, uid).text.split("\n", 1)[0]
                      for uid in {*spread, middle, flat[0]}}
    finally:
        db.close()
    return {"flat": flat, "spread": spread, "middle": middle, "first_para": first_para}


def _text_widget(panel):
    """The QPlainTextEdit: ``panel.editor`` itself, or its ``edit`` (``SceneEditor.edit``)."""
    from PySide6.QtWidgets import QPlainTextEdit

    editor = panel.editor
    return editor if isinstance(editor, QPlainTextEdit) else editor.edit


def _shown(panel, uid: str, first_para: str) -> bool:
    if panel.current_scene_uid != uid:
        return False
    edit = _text_widget(panel)
    if edit.document().firstBlock().text() == first_para:
        return True
    return first_para[:200] in edit.toPlainText()


def _editable(panel) -> bool:
    edit = _text_widget(panel)
    return bool(panel.current_scene_uid) and edit.document().characterCount() > 1 \
        and not edit.isReadOnly()


def child_ui(data_dir: Path, story_id: int, char_ms: int, probe_ms: int,
             profile: bool = False) -> None:
    import cProfile
    import gc
    import io
    import pstats

    import PySide6
    import ui_stall as us
    from PySide6.QtGui import QTextCursor

    plan = _scene_plan(data_dir, story_id)
    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        us._add_refcount_guard()  # see bench/README.md, "The refcount guard"
    from studio.app import _qt_app, build_main_window
    from studio.ui.theme import follow_system_theme

    app = _qt_app()
    follow_system_theme(app)
    trace = us.Trace()
    gc.callbacks.append(trace.gc_callback)
    counts: dict[str, int] = defaultdict(int)
    t = time.perf_counter()
    window = build_main_window(data_dir)
    build_ms = 1000 * (time.perf_counter() - t)
    panel, why = _find_panel(window)
    if panel is None:
        emit({"skipped": why})
        return
    us.instrument_runner(window.runner, trace, counts)
    window.show()
    window.show_panel(panel)
    probe = us.StallProbe(probe_ms)
    marks: dict[str, Any] = {"opens": [], "typed": 0}
    profiler = cProfile.Profile() if profile else None  # scene opens + typing (UI thread)

    def scenario():
        yield 200
        marks["open_t0"] = time.perf_counter()
        with trace.span("action", "window.start"):
            window.start()
        yield us.Until(lambda: window.document is not None, "the story to open", 60)
        marks["open_document"] = time.perf_counter()
        # An editable scene: the panel may reopen one by itself; if it has not after 3 s,
        # open the first scene as an author would.
        deadline = time.perf_counter() + 3
        yield us.Until(lambda: _editable(panel) or time.perf_counter() > deadline,
                       "the manuscript editor to show a scene", 60)
        marks["auto_opened"] = _editable(panel)
        if not marks["auto_opened"]:
            first = plan["flat"][0]
            with trace.span("action", "open_scene(first)"):
                panel.open_scene(first)
            yield us.Until(lambda: _shown(panel, first, plan["first_para"][first]),
                           "the first scene", 60)
        marks["open_editable"] = time.perf_counter()
        marks["open_t1"] = time.perf_counter()
        yield 500

        marks["scenes_t0"] = time.perf_counter()
        if profiler:
            profiler.enable()
        for uid in plan["spread"]:
            t0 = time.perf_counter()
            with trace.span("action", "open_scene"):
                panel.open_scene(uid)
            yield us.Until(lambda: _shown(panel, uid, plan["first_para"][uid]),
                           f"scene {uid} to show", 30, poll_ms=1)
            marks["opens"].append(1000 * (time.perf_counter() - t0))
            yield 150
        marks["scenes_t1"] = time.perf_counter()

        uid = plan["middle"]
        with trace.span("action", "open_scene(middle)"):
            panel.open_scene(uid)
        yield us.Until(lambda: _shown(panel, uid, plan["first_para"][uid]), "middle scene", 30)
        yield 300
        editor = _text_widget(panel)
        trace.void(editor.setFocus)
        trace.void(editor.moveCursor, QTextCursor.MoveOperation.End)
        pauses = [250, 900, 400, 1100, 150, 800, 300, 950]  # > 700 ms: idle autosave
        burst = 0
        marks["typing_t0"] = time.perf_counter()
        for i, ch in enumerate(TYPED_TEXT):
            with trace.span("key", "manuscript editor"):
                us._type(trace, editor, ch)
            marks["typed"] += 1
            if i and i % (40 + 10 * (burst % 6)) == 0:
                yield pauses[burst % len(pauses)]
                burst += 1
            else:
                yield char_ms
        yield 2500  # the idle autosave after the last key
        yield us.Until(lambda: window.runner.is_idle(), "autosave to finish", 60)
        marks["typing_t1"] = time.perf_counter()
        if profiler:
            profiler.disable()

    probe.start()
    t_all0 = time.perf_counter()
    error = None
    try:
        us.run_driver(app, scenario(), trace)
    except Exception as exc:  # reported, with whatever was measured
        error = f"{type(exc).__name__}: {exc}"
    finally:
        probe.stop()
        t_all1 = time.perf_counter()
        gc.callbacks.remove(trace.gc_callback)
    rss_peak = rss_peak_mb()
    rss_now = rss_now_mb()
    window.close()  # flushes pending edits, waits for the service thread
    saved_ok = None
    if "typing_t1" in marks:
        from studio.services import manuscript

        text = manuscript.load_scene(window.db, story_id, plan["middle"]).text
        saved_ok = text.rstrip().endswith(TYPED_TEXT.rstrip()[-40:])
    window.runner.shutdown()
    window.db.close()

    def gaps(a: str, b: str) -> dict[str, Any]:
        if a not in marks or b not in marks:
            return {}
        g = [1000 * gap for _, gap in probe.between(marks[a], marks[b])]
        if not g:
            return {}
        return {"max_gap_ms": max(g), "p99_gap_ms": percentile(g, 0.99),
                "median_gap_ms": statistics.median(g), "samples": len(g),
                "gaps_over_16ms": sum(1 for x in g if x > TARGETS["stall_ms"])}

    saves = {k: v for k, v in trace.worker.items() if k.startswith("manuscript.")}
    key_spans = [1000 * (s["t1"] - s["t0"]) for s in trace.spans if s["kind"] == "key"]
    def top_stalls(a: str, b: str, n: int = 5) -> list[dict[str, Any]]:
        if a not in marks:
            return []
        t0, t1 = marks[a], marks.get(b, t_all1)
        top = sorted(((e, g) for e, g in zip(probe.ends, probe.gaps) if t0 < e <= t1),
                     key=lambda p: -p[1])[:n]
        return [{"gap_ms": round(1000 * g, 2), "at_s": round(e - t0, 3),
                 "overlapping": trace.overlapping(e - g, e)[:5]} for e, g in top]

    res = {
        "error": error, "build_main_window_ms": build_ms,
        "open": {"request_to_document_ms": 1000 * (marks["open_document"] - marks["open_t0"])
                 if "open_document" in marks else None,
                 "request_to_editable_scene_ms": 1000 * (marks["open_editable"] -
                                                         marks["open_t0"])
                 if "open_editable" in marks else None,
                 "panel_reopened_a_scene_itself": marks.get("auto_opened"),
                 **gaps("open_t0", "open_t1"), "top_stalls": top_stalls("open_t0", "open_t1")},
        "scene_opens_ms": marks["opens"],
        "scene_opens": {**gaps("scenes_t0", "scenes_t1"),
                        "top_stalls": top_stalls("scenes_t0", "scenes_t1", 3)},
        "typing": {**gaps("typing_t0", "typing_t1"), "characters": marks["typed"],
                   "duration_s": (marks["typing_t1"] - marks["typing_t0"])
                   if "typing_t1" in marks else None,
                   "key_event_ms": {"median": statistics.median(key_spans),
                                    "max": max(key_spans)} if key_spans else None,
                   "saved_text_ok": saved_ok,
                   "top_stalls": top_stalls("typing_t0", "typing_t1")},
        "service_calls": {k: {"count": len(v), "max_ms": 1000 * max(v),
                              "median_ms": 1000 * statistics.median(v)}
                          for k, v in trace.worker.items()},
        "manuscript_saves": sum(len(v) for k, v in saves.items() if "save" in k),
        "whole_run": {**{k: v for k, v in gaps("open_t0", "typing_t1").items()},
                      "duration_s": t_all1 - t_all0},
        "gc_passes": us._gc_summary(trace.gc_spans),
        "rss_peak_mb": rss_peak, "rss_now_mb": rss_now,
    }
    if profiler:
        profiler.disable()
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)
        res["profile"] = buf.getvalue()
        prof_path = data_dir.parent / f"{data_dir.name}.prof"
        stats.dump_stats(str(prof_path))
        res["profile_file"] = str(prof_path)
    emit(res)


def child_cold_editor(data_dir: Path, story_id: int) -> None:
    """``run_app``'s start-up (without the qasync loop), then wait for an editable scene."""
    from studio.app import _qt_app, build_main_window

    from PySide6.QtCore import QTimer, Qt
    from studio.ui.theme import follow_system_theme

    app = _qt_app()
    follow_system_theme(app)
    window = build_main_window(data_dir)
    panel, why = _find_panel(window)
    if panel is None:
        print(f"SKIPPED {why}", flush=True)
        emit({"skipped": why})
        return
    window.show_panel(panel)  # as if the manuscript tab was the one in front last time
    window.show()
    window.start()
    state: dict[str, Any] = {"auto": None, "deadline": None}

    def first_uid() -> str:
        import sqlite3

        from studio.config import DATABASE_FILENAME

        with sqlite3.connect(data_dir / DATABASE_FILENAME) as conn:
            return conn.execute(
                "SELECT s.uid FROM scenes s JOIN chapters c ON c.id = s.chapter_id "
                "WHERE s.story_id = ? AND s.deleted_at IS NULL AND c.deleted_at IS NULL "
                "ORDER BY c.position, s.position LIMIT 1", (story_id,)).fetchone()[0]

    def check() -> None:
        now = time.perf_counter()
        if window.document is None:
            return
        if state["deadline"] is None:
            state["deadline"] = now + 3
            state["t_document"] = time.time()
        if _editable(panel):
            timer.stop()
            print(f"EDITABLE {time.time():.6f}", flush=True)
            if state["auto"] is None:
                state["auto"] = True
            emit({"auto_opened": state["auto"], "t_document": state["t_document"],
                  "rss_peak_mb": rss_peak_mb()})
            window.close()
            app.quit()
        elif now > state["deadline"] and state["auto"] is None:
            state["auto"] = False
            panel.open_scene(first_uid())

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(check)
    timer.start(2)
    QTimer.singleShot(60_000, app.quit)
    app.exec()
    window.runner.shutdown()
    window.db.close()


# =====================================================================================
# parent: running children
# =====================================================================================

class RunFailed(RuntimeError):
    pass


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run_child(args: list[str], timeout: float, cwd: Path | None = None,
              env: dict | None = None, log: Path | None = None) -> dict:
    t_spawn = time.time()
    p = subprocess.run(args, capture_output=True, text=True, env=env or _env(),
                       cwd=cwd or REPO, timeout=timeout)
    wall = time.time() - t_spawn
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(map(str, args))}\n{p.stderr}\n")
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            d = json.loads(line[7:])
            d["t_spawn"], d["proc_wall_s"] = t_spawn, wall
            return d
    raise RunFailed(f"no RESULT from {' '.join(map(str, args))}: rc={p.returncode}\n"
                    f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}")


def run_timed_launch(cmd: list[str], marker: str, timeout: float) -> dict:
    """Wall time from just before Popen to the first stdout line starting with ``marker``;
    the child's peak RSS from ``os.wait4``."""
    import tempfile

    with tempfile.TemporaryFile("w+") as err:
        t_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=err,
                                text=True)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        launch_ms, lines = None, []
        try:
            for line in proc.stdout:
                if launch_ms is None and line.startswith(marker):
                    launch_ms = 1000 * (time.perf_counter() - t0)
                lines.append(line)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            killer.cancel()
        exit_ms = 1000 * (time.perf_counter() - t0)
        err.seek(0)
        stderr = err.read()
    out = "".join(lines)
    if launch_ms is None or proc.returncode != 0:
        raise RunFailed(f"{' '.join(cmd)}: rc={proc.returncode}, no {marker!r} line\n"
                        f"{out[-2000:]}\n{stderr[-3000:]}")
    res = {"launch_ms": launch_ms, "process_exit_ms": exit_ms,
           "rss_peak_mb": usage.ru_maxrss / 1024, "stdout": out}
    res.update({k: float(v) for k, v in re.findall(r"(\w+_ms)=(\d+(?:\.\d+)?)", out)})
    for line in lines:
        if line.startswith("RESULT "):
            child = json.loads(line[7:])
            if "t_document" in child:  # cold-editor: when window.document appeared
                res["launch_to_document_ms"] = 1000 * (child["t_document"] - t_wall)
            res["auto_opened"] = child.get("auto_opened")
    return res


def ensure_nw_python(path: Path) -> Path | None:
    if path.exists():
        return path
    venv = path.parent.parent
    print(f"installing novelWriter into {venv} (python -m venv + pip install novelwriter) ...",
          flush=True)
    base = shutil.which("python3") or sys.executable
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "novelwriter"], check=True,
                       capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"NOTICE: novelWriter could not be installed ({exc}); its columns are skipped.")
        return None
    return path if path.exists() else None


def nw_version(py: Path) -> str:
    try:
        return subprocess.run([str(py), "-c", "import novelwriter; print(novelwriter.__version__)"],
                              capture_output=True, text=True, timeout=60).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "?"


def _sha(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def prepare(size: str, a, nw_py: Path | None, log: Path) -> dict:
    """Generate (or reuse) the Studio data folder and the novelWriter project for ``size``."""
    words, chapters, scenes = gen_novel.SIZES[size]
    studio_dir, nw_dir = a.work / f"studio_{size}", a.work / f"nw_{size}"
    stamp_path = a.work / f"stamp_{size}.json"
    key = {"words": words, "chapters": chapters, "scenes": scenes, "seed": a.seed,
           "gen": _sha(a.anchor_dir / "gen.py", BENCH / "gen_novel.py"),
           "migrations": _sha(*sorted((REPO / "migrations" / "studio" / "versions").glob("*.py")))}
    if not a.regen and stamp_path.exists():
        stamp = json.loads(stamp_path.read_text())
        if stamp.get("key") == key and studio_dir.exists() and (
                nw_py is None or stamp.get("nw_primed")):
            print(f"[{size}] reusing generated data in {a.work}", flush=True)
            return stamp
    for d in (studio_dir, nw_dir):
        shutil.rmtree(d, ignore_errors=True)
    # In a child process: the parent stays small.  Linux carries a process's peak RSS over
    # fork + exec into its children's ru_maxrss, so a parent that had built the novel would
    # put a floor under every child's peak-RSS figure.
    cmd = [sys.executable, str(BENCH / "gen_novel.py"), "--words", str(words), "--chapters",
           str(chapters), "--scenes", str(scenes), "--seed", str(a.seed), "--anchor-dir",
           str(a.anchor_dir), "--studio-dir", str(studio_dir)]
    if nw_py is not None:
        cmd += ["--nw-dir", str(nw_dir)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    if p.returncode != 0:
        raise RunFailed(f"generation failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    gen = json.loads(p.stdout)
    studio = gen["studio"]
    stamp = {"key": key, "size": size, "anchor_words": gen["anchor_words"],
             "build_s": gen["build_s"], "studio": studio, "nw_primed": False}
    print(f"[{size}] generated {gen['anchor_words']:,} words; Story Studio loaded in "
          f"{studio['load_s']:.2f} s ({studio['segments']} segments, "
          f"{studio['db_bytes'] / 2**20:.1f} MiB)", flush=True)
    if nw_py is not None:
        stamp["nw"] = gen["novelwriter"]
        d = run_child([str(nw_py), str(a.anchor_dir / "nwbench.py"), "prime", str(nw_dir)],
                      600, cwd=a.nw_work, env=nw_env(a), log=log)
        (nw_dir / "nwProject.lock").unlink(missing_ok=True)
        stamp["nw_prime"] = d
        stamp["nw_primed"] = bool(d.get("ok"))
        print(f"[{size}] novelWriter project written and primed (open without index "
              f"{d['open_s'] * 1000:.0f} ms)", flush=True)
    stamp_path.write_text(json.dumps(stamp, indent=1))
    return stamp


def nw_env(a) -> dict[str, str]:
    return dict(_env(), QT_QPA_PLATFORM="offscreen", NW_WORK=str(a.nw_work))


def run_nw(a, nw_py: Path, size: str, mode: str, log: Path) -> dict:
    proj = a.work / f"nw_{size}"
    (proj / "nwProject.lock").unlink(missing_ok=True)
    args = [str(nw_py), str(a.anchor_dir / "nwbench.py"), mode, str(proj)]
    if mode in ("core", "gui"):
        args += ["--word", ",".join(TERMS if mode == "core" else a.nw_gui_terms.split(","))]
    try:
        d = run_child(args, 900, cwd=a.nw_work, env=nw_env(a), log=log)
    finally:
        (proj / "nwProject.lock").unlink(missing_ok=True)
    if mode == "cold":  # as the anchor's run_bench.py
        d["cold_total_s"] = d["t_done"] - d["t_spawn"]
        d["cold_total_adj_s"] = d["cold_total_s"] - d["splash_show_s"]
    return d


def git_state() -> str:
    """The commit measured (app code can change between runs; results must say which)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no",
                                "studio", "migrations"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head + (" (app code modified)" if dirty else "")
    except (subprocess.SubprocessError, OSError):
        return "?"


def panel_present() -> bool:
    return PANEL_FILE.exists()


# =====================================================================================
# summary
# =====================================================================================

def med(vals: list[float]) -> float | None:
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarise(rows: list[dict], sizes: list[str]) -> dict[str, dict[str, Any]]:
    def sel(size, kind):
        return [r for r in rows if r["size"] == size and r["kind"] == kind]

    out: dict[str, dict[str, Any]] = {}
    for s in sizes:
        core, smoke, cold_ed = sel(s, "studio_core"), sel(s, "studio_smoke"), sel(s, "studio_cold_editor")
        ui = [r for r in sel(s, "studio_ui") if not r.get("skipped")]
        nwc, nwg, nwcold = sel(s, "nw_core"), sel(s, "nw_gui"), sel(s, "nw_cold")
        m: dict[str, Any] = {}

        def put(key, ours, nw, lower_is_better=True, note=""):
            ratio = (nw / ours) if (ours and nw is not None) else None
            m[key] = {"ours": ours, "nw": nw, "ratio_nw_over_ours": ratio, "note": note}

        put("open_ms", med([r["open_ms"] for r in core]),
            med([1000 * r["open_s"] for r in nwg]),
            note="ours: Database.open+outline+load_scene; nW: GUI openProject incl. last scene")
        put("open_vs_core_ms", med([r["open_ms"] for r in core]),
            med([1000 * r["open_s"] for r in nwc]), note="nW: headless NWProject open")
        put("cold_start_story_ms", med([r["launch_ms"] for r in smoke]),
            med([1000 * r["cold_total_adj_s"] for r in nwcold]),
            note="ours: Popen -> story_open_ms line (--smoke); nW: spawn -> project loaded, "
                 "minus offscreen splash wait")
        if cold_ed:
            put("cold_start_editable_ms", med([r["launch_ms"] for r in cold_ed]),
                med([1000 * r["cold_total_adj_s"] for r in nwcold]),
                note="ours: Popen -> manuscript editor shows a scene")
            m["cold_start_editable_ms"]["ours_to_document"] = med(
                [r.get("launch_to_document_ms") for r in cold_ed])
        if ui:
            put("ui_open_editable_ms", med([r["open"]["request_to_editable_scene_ms"]
                                            for r in ui]),
                med([1000 * r["open_s"] for r in nwg]),
                note="ours: window.start() -> editor shows a scene (in process)")
        for term in TERMS:
            nw_core = med([1000 * r["search"][term]["s"] for r in nwc if term in r["search"]])
            nw_gui = med([1000 * r["search"][term]["s"] for r in nwg if term in r["search"]])
            for label in ("default", "all"):
                k = f"{term}|{label}"
                ours = med([r["search"][k]["median_ms"] for r in core])
                first = med([r["search"][k]["first_ms"] for r in core])
                hits = core[0]["search"][k]["total"] if core else None
                m[f"search[{term}|{label}]"] = {
                    "ours": ours, "ours_first": first, "ours_hits": hits,
                    "ours_n": med([r["search"][k]["n"] for r in core]),
                    "nw_core": nw_core, "nw_gui": nw_gui,
                    "nw_hits": (nwc[0]["search"][term]["hits"] if nwc and term in nwc[0]["search"]
                                else None),
                    "nw_docs": (nwc[0]["search"][term]["docs"] if nwc and term in nwc[0]["search"]
                                else None),
                    "ratio_core": (nw_core / ours) if ours and nw_core is not None else None,
                    "ratio_gui": (nw_gui / ours) if ours and nw_gui is not None else None}
        if ui:
            opens = [x for r in ui for x in r["scene_opens_ms"]]
            nw_docs = [1000 * x for r in nwg for x in r["doc_open_s"]]
            put("scene_open_ms", med(opens), med(nw_docs),
                note="ours: open_scene -> text shown (10 scenes); nW: openDocument, spell off")
            m["typing"] = {k: med([r["typing"].get(k) for r in ui])
                           for k in ("max_gap_ms", "p99_gap_ms", "gaps_over_16ms")}
            m["typing"]["autosaves"] = med([r["manuscript_saves"] for r in ui])
            m["typing"]["saved_text_ok"] = all(r["typing"].get("saved_text_ok") for r in ui)
            put("rss_ui_mb", med([r["rss_peak_mb"] for r in ui]),
                med([r["rss_peak_mb"] for r in nwg]),
                note="ours: UI process after open+scenes+typing; nW: GUI pass peak")
        put("rss_core_mb", med([r["rss_peak_mb"] for r in core]),
            med([r["rss_peak_mb"] for r in nwc]), note="service/core process peak")
        put("rss_cold_mb", med([r["rss_peak_mb"] for r in smoke]),
            med([r["rss_peak_mb"] for r in nwcold]), note="cold-start process peak")
        out[s] = m
    return out


def fmt(v, digits=0) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    return f"{v:,.{digits}f}"


def ratio(v) -> str:
    return "—" if v is None else f"{v:.1f}×"


def table(summary: dict, sizes: list[str], meta: dict) -> str:
    lines = [f"Medians over the repetitions (fresh process each); ms unless noted. "
             f"Ratio = novelWriter / Story Studio (above 1: we are faster / smaller). "
             f"novelWriter {meta.get('nw_version', '—')}.", ""]
    head = "| metric | " + " | ".join(f"{s} ours | {s} nW | {s} ratio" for s in sizes) + " |"
    lines += [head, "|---|" + "---|---|---|" * len(sizes)]

    def row(label, key, digits=0, unit=""):
        cells = []
        for s in sizes:
            d = summary[s].get(key)
            if d is None:
                cells += ["—", "—", "—"]
            else:
                cells += [fmt(d["ours"], digits) + unit, fmt(d["nw"], digits) + unit,
                          ratio(d["ratio_nw_over_ours"])]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("open (ours: DB open + outline + first scene; nW: GUI open incl. last scene)",
        "open_ms")
    row("open vs nW headless core open", "open_vs_core_ms")
    row("cold start → story open (ours: `--smoke` line; nW: project loaded)",
        "cold_start_story_ms")
    if any("cold_start_editable_ms" in summary[s] for s in sizes):
        row("cold start → manuscript editor editable", "cold_start_editable_ms")
    if any("ui_open_editable_ms" in summary[s] for s in sizes):
        row("UI: open story → editable scene (nW: GUI open)", "ui_open_editable_ms")
    for term in TERMS:
        for label, nwkey, rkey in (("default", "nw_gui", "ratio_gui"),
                                   ("default", "nw_core", "ratio_core"),
                                   ("all", "nw_core", "ratio_core")):
            cells = []
            for s in sizes:
                d = summary[s].get(f"search[{term}|{label}]")
                if d is None:
                    cells += ["—", "—", "—"]
                    continue
                hits = f" ({d['ours_hits']} ¶)" if d.get("ours_hits") is not None else ""
                nwh = (f" ({d['nw_docs']}/{d['nw_hits']})" if d.get("nw_hits") is not None
                       and nwkey == "nw_core" else "")
                cells += [fmt(d["ours"], 1) + hits, fmt(d[nwkey], 0) + nwh, ratio(d[rkey])]
            what = "limit 500 (service default)" if label == "default" else "every hit"
            lines.append(f"| search `{term}`, {what}; nW {'GUI' if nwkey == 'nw_gui' else 'core scan'}"
                         f" | " + " | ".join(cells) + " |")
    if any("scene_open_ms" in summary[s] for s in sizes):
        row("open a scene in the editor (nW: openDocument)", "scene_open_ms", 1)
    if any("typing" in summary[s] for s in sizes):
        for k, label in (("max_gap_ms", "typing: longest event-loop stall"),
                         ("p99_gap_ms", "typing: p99 event-loop gap"),
                         ("gaps_over_16ms", "typing: gaps > 16 ms"),
                         ("autosaves", "typing: scene autosaves")):
            cells = []
            for s in sizes:
                t = summary[s].get("typing", {})
                cells += [fmt(t.get(k), 1 if "gap_ms" in k else 0), "—", "—"]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    row("peak RSS, service/core process (MiB)", "rss_core_mb", 1)
    row("peak RSS, cold-start process (MiB)", "rss_cold_mb", 1)
    if any("rss_ui_mb" in summary[s] for s in sizes):
        row("peak RSS, UI process with the story open (MiB)", "rss_ui_mb", 1)
    lines.append("")
    lines.append("Search cells: ours = median of repeated calls after one warm-up "
                 "(¶ = matching paragraphs); nW core cells show (documents/hits).")
    return "\n".join(lines)


def verdicts(summary: dict, sizes: list[str]) -> list[str]:
    out = []
    big = "1M" if "1M" in sizes else sizes[-1]
    s = summary[big]

    def v(ok):
        return "n/a" if ok is None else "PASS" if ok else "MISS"

    def at_least(r, goal):
        return None if r is None else r >= goal

    o = s["open_ms"]
    if o["ours"] is not None:
        out.append(f"open {big}: {o['ours']:.0f} ms (target ≤ {TARGETS['open_ms_1M']:.0f}) "
                   f"{v(o['ours'] <= TARGETS['open_ms_1M'])}; vs nW GUI open "
                   f"{ratio(o['ratio_nw_over_ours'])} (goal ≥ 5×) "
                   f"{v(at_least(o['ratio_nw_over_ours'], TARGETS['open_ratio']))}")
    for term in (WORD, *PHRASES):
        d = s[f"search[{term}|default]"]
        if d["ours"] is None:
            continue
        out.append(f"search `{term}` {big}: {d['ours']:.1f} ms median (target ≤ 20) "
                   f"{v(d['ours'] <= TARGETS['search_ms_1M'])}; vs nW GUI "
                   f"{ratio(d['ratio_gui'])}, vs nW core scan {ratio(d['ratio_core'])} "
                   f"(goal ≥ 10×) {v(at_least(d['ratio_core'], TARGETS['search_ratio']))}")
    if "typing" in s:
        t = s["typing"]
        out.append(f"typing {big}: longest stall {fmt(t['max_gap_ms'], 1)} ms (target ≤ 16) "
                   f"{v((t['max_gap_ms'] or 1e9) <= TARGETS['stall_ms'])}, p99 "
                   f"{fmt(t['p99_gap_ms'], 1)} ms, {fmt(t['autosaves'])} autosaves, "
                   f"text saved: {fmt(t['saved_text_ok'])}")
    else:
        out.append("typing: not measured (manuscript panel absent)")
    for key in ("rss_ui_mb", "rss_cold_mb", "rss_core_mb"):
        if key in s and s[key]["ours"] is not None and s[key]["nw"] is not None:
            out.append(f"{key} {big}: {s[key]['ours']:.1f} vs nW {s[key]['nw']:.1f} MiB "
                       f"{v(s[key]['ours'] < s[key]['nw'])}")
    return out


def slow_spots(rows: list[dict], sizes: list[str]) -> list[str]:
    ui = [r for r in rows if r["kind"] == "studio_ui" and not r.get("skipped")]
    if not ui:
        return []
    r = next((x for s in reversed(sizes) for x in ui if x["size"] == s), ui[0])
    out = []
    for phase, stalls in (("open", r["open"].get("top_stalls", [])),
                          ("scene opens", r["scene_opens"].get("top_stalls", [])),
                          ("typing", r["typing"].get("top_stalls", []))):
        for st in stalls[:3]:
            what = ", ".join(f"{o['name']} ({o['overlap_ms']} ms of {o['ms']})"
                             if "overlap_ms" in o else f"[{o['kind']}] {o['name']}"
                             for o in st["overlapping"][:3])
            out.append(f"  {r['size']:>4} {phase:<12} {st['gap_ms']:7.1f} ms  "
                       f"{what or '(no traced span: Qt paint/layout or GC)'}")
    return out


# =====================================================================================
# main
# =====================================================================================

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100k,500k,1M")
    ap.add_argument("--reps", type=int, default=3, help="fresh-process repetitions (3)")
    ap.add_argument("--ui-reps", type=int, default=1, help="typing runs per size (1)")
    ap.add_argument("--queries", type=int, default=20, help="timed searches per term (20)")
    ap.add_argument("--query-budget-s", type=float, default=3.0,
                    help="stop repeating a search term after this long (min 3 calls)")
    ap.add_argument("--seed", type=int, default=gen_novel.DEFAULT_SEED)
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="generated data (not the repo)")
    ap.add_argument("--regen", action="store_true", help="generate the data again")
    ap.add_argument("--anchor-dir", type=Path, default=gen_novel.DEFAULT_ANCHOR_DIR)
    ap.add_argument("--nw-python", type=Path, default=DEFAULT_NW_PYTHON,
                    help="a venv python with novelwriter (created with pip if missing)")
    ap.add_argument("--nw-gui-terms", default=",".join(TERMS),
                    help="terms novelWriter's GUI search panel runs (each is slow at 1M)")
    ap.add_argument("--skip-nw", action="store_true")
    ap.add_argument("--skip-ui", action="store_true")
    ap.add_argument("--char-ms", type=int, default=15, help="ms between key events in a burst")
    ap.add_argument("--probe-ms", type=int, default=1)
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the UI thread during scene opens and typing (stalls then "
                         "read high); the top functions go to the JSON and a .prof file")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--child", choices=("core", "ui", "cold-editor"), help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--story-id", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child == "core":
        child_core(a.data_dir, a.story_id, a.queries, a.query_budget_s)
        return 0
    if a.child == "ui":
        child_ui(a.data_dir, a.story_id, a.char_ms, a.probe_ms, a.profile)
        sys.stdout.flush()
        os._exit(0)  # Qt teardown is not measured
    if a.child == "cold-editor":
        child_cold_editor(a.data_dir, a.story_id)
        sys.stdout.flush()
        os._exit(0)

    t_start = time.perf_counter()
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    bad = [s for s in sizes if s not in gen_novel.SIZES]
    if bad:
        ap.error(f"unknown sizes {bad}; choose from {', '.join(gen_novel.SIZES)}")
    if a.work.resolve().is_relative_to(REPO.resolve()):
        ap.error("--work must be outside the repository")
    a.work.mkdir(parents=True, exist_ok=True)
    a.nw_work = a.work / "nwwork"
    a.nw_work.mkdir(exist_ok=True)
    log = a.work / "stderr.log"
    log.write_text("")
    nw_py = None if a.skip_nw else ensure_nw_python(a.nw_python)
    meta: dict[str, Any] = {"nw_version": nw_version(nw_py) if nw_py else None,
                            "git": git_state()}
    print(f"Story Studio at {meta['git']}; novelWriter {meta['nw_version'] or '(skipped)'}",
          flush=True)

    stamps = {s: prepare(s, a, nw_py, log) for s in sizes}
    rows: list[dict] = []
    py = sys.executable
    me = str(Path(__file__).resolve())
    ui_available = not a.skip_ui and panel_present()
    if not a.skip_ui and not ui_available:
        print(f"NOTICE: {PANEL_FILE.relative_to(REPO)} does not exist yet: the manuscript "
              "UI measurements (typing stall, scene opens, cold start to an editable scene) "
              "are skipped. The smoke cold start is still measured.", flush=True)

    def add(size, kind, rep, d):
        d.update(size=size, kind=kind, rep=rep)
        rows.append(d)
        return d

    try:
        for rep in range(a.reps):
            for s in sizes:
                sid = stamps[s]["studio"]["story_id"]
                data = a.work / f"studio_{s}"
                d = add(s, "studio_core", rep, run_child(
                    [py, me, "--child", "core", "--data-dir", str(data), "--story-id", str(sid),
                     "--queries", str(a.queries), "--query-budget-s", str(a.query_budget_s)],
                    600, log=log))
                line = (f"[{s} rep {rep + 1}] studio core: open {d['open_ms']:.0f} ms, "
                        f"search lantern {d['search']['lantern|default']['median_ms']:.1f} ms")
                d = add(s, "studio_smoke", rep, run_timed_launch(
                    [py, "-m", "studio", "--data-dir", str(data), "--smoke", "--timing"],
                    "qt_ready_ms=", 120))
                d.pop("stdout", None)
                line += f"; cold start {d['launch_ms']:.0f} ms"
                if ui_available:
                    try:
                        d = run_timed_launch([py, me, "--child", "cold-editor", "--data-dir",
                                              str(data), "--story-id", str(sid)],
                                             "EDITABLE", 120)
                        d.pop("stdout", None)
                        add(s, "studio_cold_editor", rep, d)
                        line += f"; cold start → editable {d['launch_ms']:.0f} ms"
                    except RunFailed as exc:
                        print(f"cold-editor run failed: {exc}", file=sys.stderr)
                if nw_py:
                    for mode in ("core", "gui", "cold"):
                        d = add(s, f"nw_{mode}", rep, run_nw(a, nw_py, s, mode, log))
                    line += (f"; nW gui open {1000 * rows[-2]['open_s']:.0f} ms, "
                             f"cold {1000 * rows[-1]['cold_total_adj_s']:.0f} ms")
                print(line, flush=True)
        if ui_available:
            for s in sizes:
                for rep in range(a.ui_reps):
                    ui_dir = a.work / f"ui_{s}"
                    shutil.rmtree(ui_dir, ignore_errors=True)
                    shutil.copytree(a.work / f"studio_{s}", ui_dir)  # typing changes the story
                    d = add(s, "studio_ui", rep, run_child(
                        [py, me, "--child", "ui", "--data-dir", str(ui_dir), "--story-id",
                         str(stamps[s]["studio"]["story_id"]), "--char-ms", str(a.char_ms),
                         "--probe-ms", str(a.probe_ms)] + (["--profile"] if a.profile else []),
                        600, log=log))
                    if d.get("skipped"):
                        print(f"NOTICE: UI measurements skipped: {d['skipped']}", flush=True)
                        ui_available = False
                        break
                    t = d["typing"]
                    print(f"[{s}] UI: open → editable "
                          f"{fmt(d['open']['request_to_editable_scene_ms'])} ms; scene opens "
                          f"median {fmt(med(d['scene_opens_ms']), 1)} ms; typing max gap "
                          f"{fmt(t.get('max_gap_ms'), 1)} ms, p99 {fmt(t.get('p99_gap_ms'), 1)}"
                          f" ms, {d['manuscript_saves']} saves"
                          + (f"; ERROR {d['error']}" if d.get("error") else ""), flush=True)
                if not ui_available:
                    break
    except (RunFailed, subprocess.TimeoutExpired) as exc:
        print(f"manuscript_bench: a run failed: {exc}", file=sys.stderr)
        return 1

    summary = summarise(rows, sizes)
    md = table(summary, sizes, meta)
    checks = verdicts(summary, sizes)
    print()
    print(md)
    print()
    for c in checks:
        print(c)
    stalls = slow_spots(rows, sizes)
    if stalls:
        print("\nLongest UI stalls (largest size, first UI run) and what overlapped them:")
        print("\n".join(stalls))
    result = {
        "benchmark": "manuscript",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": round(time.perf_counter() - t_start, 1),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpu_count": os.cpu_count(),
                        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                        "qt_qpa_platform": os.environ.get("QT_QPA_PLATFORM"),
                        "novelwriter": meta["nw_version"], "git_at_start": meta["git"],
                        "git_at_end": git_state(),
                        "manuscript_panel_present": panel_present()},
        "terms": {"word": WORD, "phrases": list(PHRASES), "zero_hits": ZERO},
        "targets": TARGETS,
        "generated": stamps,
        "summary": summary,
        "verdicts": checks,
        "table_markdown": md,
        "rows": rows,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str) + "\n",
                     encoding="utf-8")
    print(f"\nwrote {a.out} ({result['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cold start to the main window with the sample story open.

Every repetition starts a fresh interpreter:

    python -m studio --data-dir D --smoke --timing

and measures the wall time from just before ``Popen`` to process exit.  The smoke path builds the
window, opens the story, then closes the window, stops the service thread and closes the
database before exiting, so the process-exit time over-counts "time to an open story" by the
shutdown (and it also includes interpreter start-up and the ``studio.cli`` import, which the
app's own clock misses).  The app's own ``story_open_ms=`` line (measured from the import of
``studio.app`` to the story being shown) is parsed and reported beside it.

Two cases:

* ``first_run``: an empty data folder (database created, migrations run, sample imported);
* ``warm``: the same folder again (database exists and is current; the story reopens).

Usage::

    /work/venv/bin/python bench/cold_start.py [--reps 7] [--warmup 1] [--out PATH]

Writes ``bench/results/cold_start.json`` (or ``--out``) and prints a table.  Exits non-zero only
if a run crashes (non-zero exit status or no timing line).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_OUT = BENCH / "results" / "cold_start.json"
TIMING_RE = re.compile(r"(\w+_ms)=(\d+(?:\.\d+)?)")
CASES = ("first_run", "warm")


class RunFailed(RuntimeError):
    pass


def run_once(data_dir: Path, timeout: float) -> dict:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    cmd = [sys.executable, "-m", "studio", "--data-dir", str(data_dir), "--smoke", "--timing"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # The app flushes its timing line the moment the story is open: the arrival of that line
    # is what an author's stopwatch sees (interpreter start and every import included).
    first_line = proc.stdout.readline()
    launch_ms = 1000 * (time.perf_counter() - t0)
    try:
        rest, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RunFailed(f"timed out after {timeout:.0f} s: {' '.join(cmd)}") from None
    out = first_line + rest
    wall_ms = 1000 * (time.perf_counter() - t0)
    if proc.returncode != 0:
        raise RunFailed(f"exit status {proc.returncode}: {' '.join(cmd)}\n"
                        f"stdout:\n{out}\nstderr:\n{err}")
    timings = {k: float(v) for k, v in TIMING_RE.findall(out)}
    if "story_open_ms" not in timings:
        raise RunFailed(f"no story_open_ms= line in the output of {' '.join(cmd)}\n"
                        f"stdout:\n{out}\nstderr:\n{err}")
    return {"launch_to_story_open_ms": round(launch_ms, 1),
            "process_exit_ms": round(wall_ms, 1), **timings}


def stats(values: list[float]) -> dict:
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1),
            "max": round(max(values), 1), "n": len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions per case (default 7)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed first-run+warm pairs before measuring, so the OS file "
                             "cache holds Python and Qt (default 1; 0 for a truly cold cache)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folders")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="studio-bench-cold-"))
    runs: dict[str, list[dict]] = {case: [] for case in CASES}
    try:
        for i in range(args.warmup):
            d = root / f"warmup{i}"
            run_once(d, args.timeout)
            run_once(d, args.timeout)
        for i in range(args.reps):
            d = root / f"rep{i}"  # does not exist yet: the app creates it (first run)
            for case in CASES:  # the warm run reuses the folder the first run just made
                r = run_once(d, args.timeout)
                runs[case].append(r)
                print(f"  rep {i + 1}/{args.reps} {case:<9} process_exit={r['process_exit_ms']:7.1f}"
                      f" ms  story_open={r['story_open_ms']:6.0f} ms", file=sys.stderr)
    except RunFailed as exc:
        print(f"cold_start: a run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    metrics = ("launch_to_story_open_ms", "process_exit_ms", "story_open_ms", "window_built_ms",
               "qt_ready_ms")
    summary = {case: {m: stats([r[m] for r in runs[case] if m in r])
                      for m in metrics if any(m in r for r in runs[case])}
               for case in CASES}
    for case in CASES:
        exit_med = summary[case]["process_exit_ms"]["median"]
        open_med = summary[case]["story_open_ms"]["median"]
        summary[case]["exit_minus_story_open_median_ms"] = round(exit_med - open_med, 1)

    print()
    print(f"Cold start, {args.reps} reps per case (ms; min / median / max)")
    print(f"{'case':<10} {'metric':<16} {'min':>8} {'median':>8} {'max':>8}")
    for case in CASES:
        for m in metrics:
            if m in summary[case]:
                s = summary[case][m]
                print(f"{case:<10} {m:<16} {s['min']:>8.0f} {s['median']:>8.0f} {s['max']:>8.0f}")
    print("launch_to_story_open_ms: Popen to the story shown (what a stopwatch sees; the target);")
    print("process_exit_ms: Popen to exit (interpreter start + imports + open + shutdown);")
    print("story_open_ms: the app's own clock, from importing studio.app to the story shown.")

    result = {
        "benchmark": "cold_start",
        "command": "python -m studio --data-dir D --smoke --timing",
        "reps": args.reps,
        "warmup_pairs": args.warmup,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": {
            "python": sys.version.split()[0], "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            "qt_qpa_platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        },
        "summary": summary,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

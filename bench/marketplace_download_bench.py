"""UI responsiveness while the marketplace panel downloads and caches a 1M-word story.

The issue: "Browsing stays responsive (no event-loop stall over 16 ms) while a 1M-word story
downloads".  Everything is real: a marketplace server subprocess on SQLite, the app's
``MainWindow`` (offscreen Qt) with the qasync loop, its ``MarketplacePanel`` and
``MarketplaceSession``, the HTTP client and the reference cache.

Steps:

1. **Server.** ``python -m studio.marketplace.cli serve --data-dir <tmp> --fd N`` on a socket
   this process binds first (no port race; one process, ``--workers-jobs 0`` so the analysis
   job of the big story does not run beside the measurement), with roomy quotas and cheap
   argon2 settings (as the marketplace tests start theirs).
2. **Publish** through the HTTP API (``POST /v1/accounts``, ``/v1/auth/login``,
   ``POST /v1/stories`` with an ``Idempotency-Key``): ``--small`` short stories (so a browse
   page is full) and the big one: ``--words`` words (1,000,000) in ``--scenes`` scenes (1,000,
   20 per chapter) of ``--segments`` segments (20) each — deterministic prose from a fixed
   vocabulary and ``--seed``.
3. **Window.** A fresh data folder, ``studio.app.build_main_window`` (the sample story is
   imported and opened), ``STUDIO_MARKETPLACE_URL`` pointing at the server,
   ``window.start_marketplace()``, the marketplace panel shown.
4. **Measure.** A precise ``--probe-ms`` ``QTimer`` records the gap between its consecutive
   timeouts (how long the event loop could not run; ~1 ms is the probe's own interval).  A
   second timer calls ``panel.browse()`` every ``--browse-ms`` ms (one browse in flight at a
   time; each browse refills the list and opens the first story's page — ``GET`` story,
   versions, lineage — as a click would).  Phases: *browse only* (``--baseline-s``), then
   *download*: ``await panel.download_version(story_id, 1)`` (story detail, cache check,
   versions, the content streamed with the panel's progress bar, then
   ``reference_cache.cache_version`` on the window's service thread), then *after*
   (``--after-s``: freeing the content, garbage collection).  Per phase: max / p99 gap, gaps
   over 16 ms.  ``--runs`` repeats steps 3–4, each in a new window and data folder.  Before
   each run the script waits (up to ``--quiet-wait-s``) for the machine's CPU pressure
   (``/proc/pressure/cpu`` avg10) to drop under ``--quiet-pressure`` %, and reports the
   pressure during the run: on a shared 2-CPU box other people's jobs make the UI thread wait
   for a CPU, which no code change can remove.

Attribution (bench-side only, no app code changed): the window's ``runner.run`` is wrapped
(each service call's time on the service thread, each callback's time on the UI thread), the
client's ``version_content`` is timed (transfer + JSON decoding), the panel's progress callback
is counted, ``gc.callbacks`` record every collection and its thread, and each browse is timed
from request to list filled, and an audit hook counts the modules imported (searched for)
while measuring.  Every stall over 16 ms is printed with the spans it overlapped.
``--sample-stacks`` also samples the Python stacks of all threads every 2 ms; ``--schedstat``
(Linux) reads the UI and service threads' ``schedstat`` every 1 ms, so a stall shows whether
the UI thread computed, waited for a CPU, or was blocked (the GIL).  Both add a thread that
takes the GIL, so leave them off for the figures.

What-ifs (bench-side, the app's code is not changed): ``--what-if-pause-ms P`` makes the
service thread sleep P ms after storing each scene of the cached version
(``--what-if-pause-every-ms W``: only when W ms passed since its last pause);
``--switch-interval-ms`` sets ``sys.setswitchinterval`` for the process.

Usage::

    /work/venv/bin/python bench/marketplace_download_bench.py [--runs 5] [--words 1000000]
        [--scenes 1000] [--segments 20] [--small 30] [--probe-ms 1] [--browse-ms 200]
        [--baseline-s 2] [--after-s 1.5] [--seed 7] [--quiet-pressure 15]
        [--quiet-wait-s 180] [--sample-stacks] [--schedstat] [--what-if-pause-ms P]
        [--what-if-pause-every-ms W] [--switch-interval-ms MS] [--out PATH] [--keep]

Writes ``bench/results/marketplace_download.json`` and prints a summary.  Exits non-zero only
when something fails, never because a figure misses the target.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

DEFAULT_OUT = BENCH / "results" / "marketplace_download.json"
TARGET_MS = 16.0
PASSWORD = "correct horse battery staple"
# As the marketplace tests start their servers: cheaper argon2id (same algorithm), quotas out
# of the way of a 1M-word story.
SERVER_ENV = {"STUDIO_MARKETPLACE_PASSWORD_TIME_COST": "1",
              "STUDIO_MARKETPLACE_PASSWORD_MEMORY_KIB": "8192",
              "STUDIO_MARKETPLACE_PASSWORD_PARALLELISM": "1",
              "STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS": "1000000",
              "STUDIO_MARKETPLACE_QUOTA_FREE_STORAGE_MB": "1000000"}

VOCABULARY = (
    "the a of and to in was her his its lamp sea tide light keeper stair rock gull wind night "
    "morning ledger glove salt rope boat harbour window lantern cold grey blue slow quiet long "
    "old small father mother daughter village storm shore cliff path door table chair bread "
    "fire smoke ash she he they we it said looked walked turned listened waited remembered "
    "whispered answered under over beyond beside through across against toward without before "
    "after while because Wren Tamsin Hollis Bran every never almost again nothing something "
    "letter iron brass oil wick glass fog bell hour year winter summer island mainland").split()


# --- content ---------------------------------------------------------------------------------

def make_content(words: int, scenes: int, segments: int, seed: int,
                 scenes_per_chapter: int = 20) -> tuple[dict, int]:
    """A story in the marketplace's content format: ``scenes`` scenes of ``segments``
    paragraphs, ``words`` words in all (sentences of 6–18 words).  Returns (content, words)."""
    rng = random.Random(seed)
    n_segments = scenes * segments
    base, extra = divmod(words, n_segments)
    chapters, n, total = [], 0, 0
    for c in range((scenes + scenes_per_chapter - 1) // scenes_per_chapter):
        scene_list = []
        for s in range(min(scenes_per_chapter, scenes - c * scenes_per_chapter)):
            segs = []
            for _ in range(segments):
                want = base + (1 if n < extra else 0)
                n += 1
                sentences, left = [], want
                while left > 0:
                    k = min(left, rng.randint(6, 18))
                    left -= k
                    w = rng.choices(VOCABULARY, k=k)
                    sentences.append(w[0].capitalize() + " " + " ".join(w[1:]) + "."
                                     if k > 1 else w[0].capitalize() + ".")
                total += want
                segs.append({"id": f"seg_{n:07d}", "text": " ".join(sentences)})
            scene_list.append({"id": f"sc_{c:03d}_{s:02d}", "title": f"Scene {s + 1}",
                               "meta": {"synopsis": f"Scene {s + 1} of chapter {c + 1}."},
                               "segments": segs})
        chapters.append({"id": f"ch_{c:03d}", "title": f"Chapter {c + 1}",
                         "meta": {"synopsis": f"Chapter {c + 1}."}, "scenes": scene_list})
    return ({"modules": {}, "manuscript": {"chapters": chapters}, "scene_bible": {},
             "chapter_graph": {}}, total)


# --- the server ------------------------------------------------------------------------------

def start_server(folder: Path) -> tuple[subprocess.Popen, str, socket.socket, Path]:
    import httpx

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    log = folder / "server.log"
    env = {**SERVER_ENV, **os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("STUDIO_MARKETPLACE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.marketplace.cli", "serve", "--data-dir",
         str(folder / "data"), "--fd", str(sock.fileno()), "--log-level", "warning",
         "--workers-jobs", "0"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),), env=env,
        cwd=str(REPO))
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(url + "/v1/meta", timeout=2).status_code == 200:
                return proc, url, sock, log
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not answer in 60 s:\n{log.read_text()}")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def publish(url: str, content: dict, n_small: int, seed: int) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=600) as http:
        username = f"bench{uuid.uuid4().hex[:8]}"
        r = http.post("/v1/accounts", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        r = http.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        for i in range(n_small):
            small, _ = make_content(300, 2, 3, seed + 1 + i, scenes_per_chapter=2)
            r = http.post("/v1/stories", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
                "title": f"Small story {i + 1}", "description": "A short story.",
                "genre": "mystery", "tags": ["short"], "licence": "CC-BY",
                "changelog": "First version", "content": small})
            if r.status_code != 201:
                raise RuntimeError(f"publishing a small story: {r.status_code} {r.text[:500]}")
        body = json.dumps({"title": "The Keeper's Ledger (1M words)",
                           "description": "A very long story about a lighthouse.",
                           "genre": "mystery", "tags": ["long", "sea"],
                           "licence": "CC-BY", "changelog": "First version",
                           "content": content}).encode()
        t = time.perf_counter()
        r = http.post("/v1/stories", content=body, headers={
            "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"})
        out["publish_s"] = round(time.perf_counter() - t, 2)
        if r.status_code != 201:
            raise RuntimeError(f"publishing the big story: {r.status_code} {r.text[:2000]}")
        out["publish_body_bytes"] = len(body)
        out["story_id"] = r.json()["story"]["id"]
        out["username"] = username
    return out


# --- probes ----------------------------------------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_stall import StallProbe  # noqa: E402 - the same 1 ms probe as the UI stall bench


class Trace:
    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []  # kind, name, t0, t1, thread
        self.gc: list[dict[str, Any]] = []
        self._gc_start: dict[int, float] = {}
        self.imports: list[dict[str, Any]] = []  # modules looked for while measuring
        self.recording = False

    def audit(self, event: str, args: tuple) -> None:
        """An ``import`` audit event: a module not in ``sys.modules`` yet is being searched
        for (on a path of many folders: dozens of ``stat`` calls, each releasing the GIL)."""
        if event == "import" and self.recording:
            t = time.perf_counter()
            self.imports.append({"kind": "import", "name": str(args[0]), "t0": t, "t1": t,
                                 "thread": threading.current_thread().name})

    def add(self, kind: str, name: str, t0: float, t1: float,
            thread: str | None = None, **extra: Any) -> None:
        self.spans.append({"kind": kind, "name": name, "t0": t0, "t1": t1,
                           "thread": thread or threading.current_thread().name, **extra})

    def gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._gc_start[ident] = time.perf_counter()
        else:
            t0 = self._gc_start.pop(ident, None)
            if t0 is not None:
                self.gc.append({"kind": "gc", "name": f"gen{info.get('generation')}",
                                "t0": t0, "t1": time.perf_counter(),
                                "thread": threading.current_thread().name,
                                "collected": info.get("collected")})

    def overlapping(self, t0: float, t1: float) -> list[dict[str, Any]]:
        out = []
        for s in self.spans + self.gc + self.imports:
            if s["t0"] <= t1 and s["t1"] >= t0:
                out.append({"kind": s["kind"], "name": s["name"], "thread": s["thread"],
                            "ms": round(1000 * (s["t1"] - s["t0"]), 2),
                            "overlap_ms": round(1000 * (min(t1, s["t1"]) - max(t0, s["t0"])),
                                                2)})
        return sorted(out, key=lambda s: -s["overlap_ms"])[:8]


class StackSampler(threading.Thread):
    """Every ``interval`` s, the innermost interesting frames of every thread (it needs the
    GIL to look: a long C call shows as missing samples, and the thread that held it)."""

    def __init__(self, interval: float = 0.002):
        super().__init__(name="bench-stack-sampler", daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, str, str]] = []  # t, thread, where
        self.stop_event = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stop_event.wait(self.interval):
            t = time.perf_counter()
            names = {th.ident: th.name for th in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                where = []
                while frame is not None and len(where) < 4:
                    code = frame.f_code
                    path = code.co_filename
                    if "site-packages" not in path or not where:
                        short = path.split("/main/", 1)[-1].rsplit("site-packages/", 1)[-1]
                        where.append(f"{short}:{code.co_name}:{frame.f_lineno}")
                    frame = frame.f_back
                self.samples.append((t, names.get(ident, str(ident)), " < ".join(where)))

    def within(self, t0: float, t1: float) -> list[dict[str, Any]]:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for t, thread, where in self.samples:
            if t0 <= t <= t1:
                counts[(thread, where)] += 1
        return [{"samples": n, "thread": th, "where": w} for (th, w), n in
                sorted(counts.items(), key=lambda kv: -kv[1])[:6]]


class SchedSampler(threading.Thread):
    """Linux only: every ``interval`` s, ``/proc/self/task/<tid>/schedstat`` of the given
    threads — nanoseconds on a CPU and waiting in a run queue (runnable, no CPU free).  For a
    stall, the UI thread's run time says how much of it the thread computed (Python or Qt's
    C++), its run-queue time how long it was ready but had no CPU (other threads and processes
    on the machine), and the rest it was blocked (waiting for the GIL, or I/O)."""

    def __init__(self, threads: dict[str, int], interval: float = 0.001):
        super().__init__(name="bench-schedstat", daemon=True)
        self.threads, self.interval = threads, interval
        self.samples: dict[str, list[tuple[float, int, int]]] = {k: [] for k in threads}
        self.stop_event = threading.Event()

    def run(self) -> None:
        files = {k: open(f"/proc/self/task/{tid}/schedstat", "rb", buffering=0)
                 for k, tid in self.threads.items()}
        try:
            while not self.stop_event.wait(self.interval):
                for k, f in files.items():
                    f.seek(0)
                    run_ns, wait_ns, _ = f.read().split()
                    self.samples[k].append((time.perf_counter(), int(run_ns), int(wait_ns)))
        finally:
            for f in files.values():
                f.close()

    def within(self, t0: float, t1: float) -> dict[str, dict[str, float]]:
        import bisect

        out = {}
        for k, rows in self.samples.items():
            times = [r[0] for r in rows]
            i, j = bisect.bisect_right(times, t0) - 1, bisect.bisect_left(times, t1)
            if i < 0 or j >= len(rows):
                continue
            a, b = rows[i], rows[j]
            span = 1000 * (b[0] - a[0])
            run, wait = (b[1] - a[1]) / 1e6, (b[2] - a[2]) / 1e6
            out[k] = {"window_ms": round(span, 2), "on_cpu_ms": round(run, 2),
                      "runqueue_ms": round(wait, 2),
                      "blocked_ms": round(max(0.0, span - run - wait), 2)}
        return out


def cpu_pressure() -> tuple[float, float] | None:
    """``/proc/pressure/cpu``: (avg10 %, total µs some runnable task waited for a CPU)."""
    try:
        fields = dict(f.split("=") for f in
                      Path("/proc/pressure/cpu").read_text().splitlines()[0].split()[1:])
        return float(fields["avg10"]), float(fields["total"])
    except (OSError, KeyError, ValueError, IndexError):
        return None


async def wait_for_quiet(limit_pct: float, max_wait_s: float) -> float | None:
    """Wait (up to ``max_wait_s``) until the machine's CPU pressure (avg10) is under
    ``limit_pct``: other people's jobs on a shared box make the UI thread wait for a CPU."""
    deadline = time.monotonic() + max_wait_s
    while True:
        p = cpu_pressure()
        if p is None or p[0] <= limit_pct or time.monotonic() > deadline:
            return None if p is None else p[0]
        await asyncio.sleep(1.0)


_TRACES: list[Trace] = []  # the run being measured (audit hooks cannot be removed)


def _audit(event: str, args: tuple) -> None:
    if event == "import" and _TRACES:
        _TRACES[-1].audit(event, args)


def gap_stats(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    gaps = sorted(g * 1000 for _, g in pairs)
    if not gaps:
        return {"samples": 0}
    return {"samples": len(gaps), "max_ms": round(gaps[-1], 2),
            "p99_ms": round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 2),
            "p50_ms": round(gaps[len(gaps) // 2], 2),
            "over_16ms": sum(1 for g in gaps if g > TARGET_MS),
            "over_8ms": sum(1 for g in gaps if g > 8.0)}


def summarise_imports(imports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for i in imports:
        counts[(i["name"], i["thread"])] += 1
    return [{"module": m, "thread": th, "times": n}
            for (m, th), n in sorted(counts.items(), key=lambda kv: -kv[1])]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


GUARD_REFS = 400_000


def add_refcount_guard() -> None:
    """PySide6 6.12 on Python 3.11 drops a reference to None/True/False on every call of a Qt
    method returning void/bool (see ui_stall.py in bench/README.md); spare references keep the
    process alive through a long run."""
    import ctypes

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for obj in (None, True, False):
        ref = ctypes.py_object(obj)
        for _ in range(GUARD_REFS):
            incref(ref)


def memory_keyring() -> None:
    """The app's keyring calls go to memory (the bench never touches the machine's keyring)."""
    import keyring
    import keyring.backend
    import keyring.errors

    class MemoryKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.items.get((service, username))

        def set_password(self, service, username, password):
            self.items[(service, username)] = password

        def delete_password(self, service, username):
            if self.items.pop((service, username), None) is None:
                raise keyring.errors.PasswordDeleteError(username)

    keyring.set_keyring(MemoryKeyring())


# --- one measured run ------------------------------------------------------------------------

def instrument(window, panel, client, trace: Trace, counters: dict[str, Any]) -> None:
    runner = window.runner
    original_run = runner.run

    def run(fn, *args, on_done=None, on_error=None, **kwargs):
        name = getattr(fn, "__qualname__", repr(fn))

        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                trace.add("service", name, t0, time.perf_counter())

        def wrap(cb):
            if cb is None:
                return None

            def called(value):
                t0 = time.perf_counter()
                try:
                    return cb(value)
                finally:
                    trace.add("callback", name, t0, time.perf_counter())
            return called

        return original_run(timed, *args, on_done=wrap(on_done), on_error=wrap(on_error),
                            **kwargs)

    runner.run = run

    original_content = client.version_content

    async def version_content(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await original_content(*args, **kwargs)
        finally:
            trace.add("transfer", "client.version_content", t0, time.perf_counter())

    client.version_content = version_content

    original_progress = panel._progress

    def progress(done, total):
        t0 = time.perf_counter()
        counters["progress_calls"] += 1
        counters["bytes"] = max(counters["bytes"], done)
        counters["content_length"] = total
        try:
            return original_progress(done, total)
        finally:
            t1 = time.perf_counter()
            counters["progress_ms"] += 1000 * (t1 - t0)
            counters["progress_max_ms"] = max(counters["progress_max_ms"], 1000 * (t1 - t0))

    panel._progress = progress


async def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def one_run(app, args, url: str, story_id: str, expected_words: int, data_dir: Path,
                  run_no: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt, QTimer

    from studio.app import build_main_window
    from studio.services import reference_cache
    from studio.ui.panels.marketplace_panel import MarketplacePanel

    t_build = time.perf_counter()
    window = build_main_window(data_dir)
    window.resize(1280, 800)
    window.show()
    window.start()
    await wait_for(lambda: window.document is not None, 60, "the sample story to open")
    await window.start_marketplace()
    await wait_for(lambda: window.marketplace.status is not None, 30, "the marketplace session")
    panel = next(p for p in window.panels if isinstance(p, MarketplacePanel))
    window.show_panel(panel)
    client = window.marketplace.client()
    assert client.base_url == url, (client.base_url, url)
    await wait_for(window.runner.is_idle, 60, "the service thread")
    build_s = time.perf_counter() - t_build

    trace = Trace()
    counters: dict[str, Any] = {"progress_calls": 0, "progress_ms": 0.0, "progress_max_ms": 0.0,
                                "bytes": 0, "content_length": None}
    instrument(window, panel, client, trace, counters)

    # warm up: the first browse opens the connection
    await panel.browse()
    await wait_for(window.runner.is_idle, 30, "the service thread")
    await asyncio.sleep(0.3)

    browses: list[dict[str, Any]] = []
    state = {"task": None, "skipped": 0, "errors": []}

    def tick_browse() -> None:
        task = state["task"]
        if task is not None and not task.done():
            state["skipped"] += 1
            return
        t0 = time.perf_counter()
        task = panel.browse()

        def done(f: asyncio.Future, t0=t0) -> None:
            t1 = time.perf_counter()
            browses.append({"t0": t0, "t1": t1})
            trace.add("browse", "panel.browse", t0, t1)
            if not f.cancelled() and f.exception() is not None:
                state["errors"].append(repr(f.exception()))
        task.add_done_callback(done)
        state["task"] = task

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(args.browse_ms)
    ticker.timeout.connect(tick_browse)

    probe = StallProbe(args.probe_ms)
    sampler = StackSampler() if args.sample_stacks else None
    sched = SchedSampler({"ui": threading.main_thread().native_id,
                          "service": window.runner._thread.native_id}) \
        if args.schedstat else None
    if sched:
        sched.start()
    gc.callbacks.append(trace.gc_callback)
    _TRACES.append(trace)
    trace.recording = True
    if sampler:
        sampler.start()
    marks: dict[str, float] = {}
    pressure_before = await wait_for_quiet(args.quiet_pressure, args.quiet_wait_s)
    psi0 = cpu_pressure()
    probe.start()
    ticker.start()
    try:
        marks["baseline_t0"] = time.perf_counter()
        await asyncio.sleep(args.baseline_s)
        marks["baseline_t1"] = marks["download_t0"] = time.perf_counter()
        ref_id = await panel.download_version(story_id, 1)
        marks["download_t1"] = marks["after_t0"] = time.perf_counter()
        await asyncio.sleep(args.after_s)
        marks["after_t1"] = time.perf_counter()
        psi1 = cpu_pressure()
    finally:
        ticker.stop()
        probe.stop()
        gc.callbacks.remove(trace.gc_callback)
        trace.recording = False
        if sampler:
            sampler.stop_event.set()
        if sched:
            sched.stop_event.set()
    # let the last browse and the story pages it opened finish before the window closes
    pending = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()
               and t is not window.marketplace._drain_task}
    if pending:
        await asyncio.wait(pending, timeout=30)
    await wait_for(window.runner.is_idle, 60, "the service thread")

    cached = reference_cache.cached_versions(window.db, url, story_id)
    words = cached[0].words if cached else None
    if words != expected_words:
        raise RuntimeError(f"the cached version holds {words} words, not {expected_words}")

    # --- figures ---
    phases = {name: gap_stats(probe.between(marks[f"{name}_t0"], marks[f"{name}_t1"]))
              for name in ("baseline", "download", "after")}
    whole = gap_stats(probe.between(marks["baseline_t0"], marks["after_t1"]))
    during = gap_stats(probe.between(marks["download_t0"], marks["after_t1"]))
    transfer = [s for s in trace.spans if s["kind"] == "transfer"]
    cache_calls = [s for s in trace.spans if s["kind"] == "service"
                   and s["name"].endswith("cache_version")]
    stalls = []
    for end, gap in zip(probe.ends, probe.gaps):
        if gap * 1000 > TARGET_MS and marks["baseline_t0"] < end <= marks["after_t1"]:
            t0 = end - gap
            phase = next((p for p in ("baseline", "download", "after")
                          if marks[f"{p}_t0"] < end <= marks[f"{p}_t1"]), "?")
            item = {"at_s": round(t0 - marks["download_t0"], 3), "gap_ms": round(gap * 1000, 2),
                    "phase": phase, "overlapping": trace.overlapping(t0, end)}
            if sampler:
                item["stacks"] = sampler.within(t0, end)
            if sched:
                item["threads"] = sched.within(t0, end)
            stalls.append(item)
    stalls.sort(key=lambda s: -s["gap_ms"])

    def in_phase(b, p):
        return marks[f"{p}_t0"] <= b["t0"] < marks[f"{p}_t1"]

    browse_stats = {}
    for p in ("baseline", "download", "after"):
        lat = [1000 * (b["t1"] - b["t0"]) for b in browses if in_phase(b, p)]
        browse_stats[p] = {"count": len(lat), "p50_ms": pct(lat, 0.5), "max_ms": pct(lat, 1.0)}
    gc_passes = [g for g in trace.gc if marks["baseline_t0"] <= g["t0"] <= marks["after_t1"]]
    by_gen: dict[str, dict[str, Any]] = {}
    for g in gc_passes:
        key = f"{g['name']}@{g['thread']}"
        e = by_gen.setdefault(key, {"count": 0, "max_ms": 0.0, "total_ms": 0.0})
        e["count"] += 1
        ms = 1000 * (g["t1"] - g["t0"])
        e["max_ms"] = round(max(e["max_ms"], ms), 2)
        e["total_ms"] = round(e["total_ms"] + ms, 2)
    service: dict[str, dict[str, Any]] = {}
    for s in trace.spans:
        if s["kind"] in ("service", "callback"):
            e = service.setdefault(f"{s['kind']}:{s['name']}", {"count": 0, "max_ms": 0.0})
            e["count"] += 1
            e["max_ms"] = round(max(e["max_ms"], 1000 * (s["t1"] - s["t0"])), 2)

    result = {
        "run": run_no,
        "window_build_s": round(build_s, 2),
        "download_and_cache_s": round(marks["download_t1"] - marks["download_t0"], 3),
        "transfer_s": round(transfer[0]["t1"] - transfer[0]["t0"], 3) if transfer else None,
        "cache_version_s": (round(cache_calls[0]["t1"] - cache_calls[0]["t0"], 3)
                            if cache_calls else None),
        "bytes_downloaded": counters["bytes"],
        "content_length": counters["content_length"],
        "cached_words": words,
        "reference_version_id": ref_id,
        "progress_calls": counters["progress_calls"],
        "progress_ms_total": round(counters["progress_ms"], 2),
        "progress_ms_max": round(counters["progress_max_ms"], 3),
        "cpu_pressure": {
            "avg10_before_pct": pressure_before,
            "during_pct": (round(100 * (psi1[1] - psi0[1]) / 1e6
                                 / (marks["after_t1"] - marks["baseline_t0"]), 1)
                           if psi0 and psi1 else None)},
        "stalls": {"whole": whole, "download_and_after": during, **phases},
        "stalls_over_16ms": stalls[: args.top],
        "browse": {**browse_stats, "skipped_ticks": state["skipped"],
                   "errors": state["errors"][:5]},
        "gc_passes": by_gen,
        "imports_while_measuring": summarise_imports(trace.imports),
        "service_calls": service,
    }

    window.close()
    await window.marketplace.close()
    window.runner.shutdown()
    window.db.close()
    window.deleteLater()
    await asyncio.sleep(0.1)
    return result


# --- main ------------------------------------------------------------------------------------

def environment() -> dict[str, Any]:
    import PySide6
    import httpx

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    try:  # share of the last 10 s some runnable task waited for a CPU (other people's jobs)
        pressure = Path("/proc/pressure/cpu").read_text().split()[1]
    except (OSError, IndexError):
        pressure = None
    return {"python": sys.version.split()[0], "pyside6": PySide6.__version__,
            "cpu_pressure_at_end": pressure,
            "httpx": httpx.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count(), "loadavg_at_end": load,
            "qpa": os.environ.get("QT_QPA_PLATFORM")}


def git_rev() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "studio/sync/client.py"],
                               cwd=REPO, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + (" (client.py modified)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--words", type=int, default=1_000_000)
    p.add_argument("--scenes", type=int, default=1000)
    p.add_argument("--segments", type=int, default=20)
    p.add_argument("--small", type=int, default=30, help="short stories published beside it")
    p.add_argument("--probe-ms", type=int, default=1)
    p.add_argument("--browse-ms", type=int, default=200)
    p.add_argument("--baseline-s", type=float, default=2.0)
    p.add_argument("--after-s", type=float, default=1.5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--top", type=int, default=10, help="stalls over 16 ms kept per run")
    p.add_argument("--sample-stacks", action="store_true")
    p.add_argument("--schedstat", action="store_true",
                   help="Linux: for each stall, the UI and service threads' time on a CPU, "
                        "waiting for one, and blocked")
    p.add_argument("--what-if-pause-ms", type=float, default=None,
                   help="what-if (bench-side, app code unchanged): while caching the version, "
                        "the service thread sleeps this long after storing a scene "
                        "(letting the UI thread take the GIL)")
    p.add_argument("--what-if-pause-every-ms", type=float, default=0.0,
                   help="… only once this much time has passed since its last pause")
    p.add_argument("--switch-interval-ms", type=float, default=None,
                   help="what-if: sys.setswitchinterval for the app process (default: "
                        "Python's 5 ms, as the app runs)")
    p.add_argument("--quiet-pressure", type=float, default=15.0,
                   help="before each run, wait until the CPU pressure (avg10, %%) is below")
    p.add_argument("--quiet-wait-s", type=float, default=180.0)
    p.add_argument("--no-refcount-guard", action="store_true")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = p.parse_args(argv)

    if not args.no_refcount_guard:
        add_refcount_guard()
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000)
    memory_keyring()
    sys.addaudithook(_audit)
    if args.what_if_pause_ms is not None:
        from studio.services import reference_cache

        put = reference_cache.manuscript_repo.put_scene_blob
        pause, every = args.what_if_pause_ms / 1000, args.what_if_pause_every_ms / 1000
        last = [0.0]
        reference_cache.manuscript_repo = type(sys)("manuscript_repo_yielding")
        reference_cache.manuscript_repo.__dict__.update(
            {k: v for k, v in vars(sys.modules["studio.store.repositories.manuscript"]).items()
             if not k.startswith("__")})

        def put_scene_blob(session, segments):
            digest = put(session, segments)
            if time.perf_counter() - last[0] >= every:
                time.sleep(pause)
                last[0] = time.perf_counter()
            return digest

        reference_cache.manuscript_repo.put_scene_blob = put_scene_blob
    root = Path(tempfile.mkdtemp(prefix="mkt-download-bench-"))
    proc = sock = None
    try:
        t = time.perf_counter()
        content, words = make_content(args.words, args.scenes, args.segments, args.seed)
        gen_s = time.perf_counter() - t
        text_bytes = sum(len(seg["text"].encode()) for ch in content["manuscript"]["chapters"]
                         for sc in ch["scenes"] for seg in sc["segments"])
        print(f"content: {words:,} words, {args.scenes} scenes × {args.segments} segments, "
              f"{text_bytes:,} bytes of text ({gen_s:.1f} s)", file=sys.stderr)
        (root / "server").mkdir()
        proc, url, sock, log = start_server(root / "server")
        published = publish(url, content, args.small, args.seed)
        del content
        gc.collect()
        print(f"published {published['story_id']} ({published['publish_body_bytes']:,} bytes) "
              f"in {published['publish_s']} s on {url}", file=sys.stderr)

        os.environ["STUDIO_MARKETPLACE_URL"] = url
        import qasync

        from studio.app import _qt_app

        app = _qt_app()
        app.setQuitOnLastWindowClosed(False)  # the runs close their windows; the loop goes on
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        runs = []
        with loop:
            for i in range(args.runs):
                data_dir = root / f"studio-{i}"
                data_dir.mkdir()
                r = loop.run_until_complete(
                    one_run(app, args, url, published["story_id"], words, data_dir, i + 1))
                runs.append(r)
                s = r["stalls"]
                print(f"run {i + 1}: download+cache {r['download_and_cache_s']} s "
                      f"(transfer {r['transfer_s']} s, cache_version {r['cache_version_s']} s), "
                      f"{r['bytes_downloaded']:,} bytes; stalls during download+after: max "
                      f"{s['download_and_after'].get('max_ms')} ms, p99 "
                      f"{s['download_and_after'].get('p99_ms')} ms, "
                      f"{s['download_and_after'].get('over_16ms')} over 16 ms; browse-only max "
                      f"{s['baseline'].get('max_ms')} ms; CPU pressure "
                      f"{r['cpu_pressure']['during_pct']} %", file=sys.stderr)
                for st in r["stalls_over_16ms"][:5]:
                    print(f"   {st['gap_ms']:7.1f} ms at {st['at_s']:+.3f} s ({st['phase']}): "
                          + "; ".join(f"{o['kind']} {o['name']} [{o['thread']}] "
                                      f"{o['overlap_ms']} ms" for o in st["overlapping"][:4]),
                          file=sys.stderr)
                    for th, v in st.get("threads", {}).items():
                        print(f"        {th}: {v}", file=sys.stderr)
                    for smp in st.get("stacks", [])[:4]:
                        print(f"        {smp['samples']:3d}× {smp['thread']}: {smp['where']}",
                              file=sys.stderr)
        asyncio.set_event_loop(None)
        server_log = log.read_text(errors="replace")
    finally:
        if proc is not None:
            stop_server(proc)
        if sock is not None:
            sock.close()
        if args.keep:
            print(f"kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    worst = max(runs, key=lambda r: r["stalls"]["download_and_after"].get("max_ms", 0))
    summary = {
        "target": "no event-loop stall over 16 ms while a 1M-word story downloads and browsing "
                  "goes on",
        "verdict": "PASS" if all(r["stalls"]["whole"].get("max_ms", 0) <= TARGET_MS
                                 for r in runs) else "MISS",
        "max_stall_ms": max(r["stalls"]["whole"].get("max_ms", 0) for r in runs),
        "max_stall_download_ms": max(r["stalls"]["download_and_after"].get("max_ms", 0)
                                     for r in runs),
        "p99_stall_download_ms": max(r["stalls"]["download_and_after"].get("p99_ms", 0)
                                     for r in runs),
        "stalls_over_16ms_download": sum(r["stalls"]["download_and_after"].get("over_16ms", 0)
                                         for r in runs),
        "max_stall_browse_only_ms": max(r["stalls"]["baseline"].get("max_ms", 0)
                                        for r in runs),
        "max_stall_download_ms_per_run": [r["stalls"]["download_and_after"].get("max_ms")
                                          for r in runs],
        "cpu_pressure_during_pct": [r["cpu_pressure"]["during_pct"] for r in runs],
        "download_and_cache_s": [r["download_and_cache_s"] for r in runs],
        "transfer_s": [r["transfer_s"] for r in runs],
        "cache_version_s": [r["cache_version_s"] for r in runs],
        "bytes_downloaded": worst["bytes_downloaded"],
        "words": words,
    }
    result = {"summary": summary, "runs": runs,
              "content": {"words": words, "scenes": args.scenes,
                          "segments_per_scene": args.segments, "text_bytes": text_bytes,
                          "seed": args.seed},
              "published": published,
              "server_log_tail": server_log[-2000:],
              "settings": {k: (str(v) if isinstance(v, Path) else v)
                           for k, v in vars(args).items()},
              "environment": environment(), "git": git_rev()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"written: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

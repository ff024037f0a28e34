"""Run the offline analyser in a child process.

The analyser is pure Python: in a thread it would hold the GIL for seconds and the UI would
stutter (the issue allows no stall over 16 ms).  A spawned child has its own interpreter, so
the UI thread keeps the GIL to itself; the child reports progress over a pipe (at most every
1 %), and cancelling terminates it at once — nothing is written until the parent stores the
finished result.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any, Callable, Mapping

from studio.domain.errors import StudioError

Progress = Callable[[str, float], None]
POLL = 0.05


class AnalysisCancelled(StudioError):
    """The author stopped the analysis; nothing was stored."""


class AnalysisFailed(StudioError):
    """The analyser failed (a bug): the message says how; nothing was stored."""


def _child(conn, content: Mapping[str, Any]) -> None:  # runs in the child process
    from studio.domain.insights import analyse_manuscript

    last: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        if fraction in (0.0, 1.0) or fraction - last.get(stage, -1.0) >= 0.01:
            last[stage] = fraction
            conn.send(("progress", stage, fraction))

    try:
        conn.send(("done", analyse_manuscript(content, progress)))
    except BaseException as exc:  # noqa: BLE001 — reported to the parent, which raises
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run(content: Mapping[str, Any], progress: Progress | None = None,
        cancel: threading.Event | None = None) -> dict:
    """``analyse_manuscript(content)`` in a child process; blocks the calling (worker)
    thread, never the UI.  ``cancel`` set → the child is terminated and AnalysisCancelled."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, dict(content)), daemon=True,
                          name="studio-analyser")
    process.start()
    child.close()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise AnalysisCancelled("The analysis was cancelled; nothing was stored.")
            if not parent.poll(POLL):
                if not process.is_alive() and not parent.poll(0):
                    raise AnalysisFailed(f"The analyser stopped unexpectedly (exit code "
                                         f"{process.exitcode}); nothing was stored.")
                continue
            try:
                message = parent.recv()
            except EOFError:
                raise AnalysisFailed("The analyser stopped without an answer; nothing was "
                                     "stored.") from None
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif message[0] == "done":
                return message[1]
            else:
                raise AnalysisFailed(f"The analysis failed: {message[1]}")
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        parent.close()


def run_inline(content: Mapping[str, Any], progress: Progress | None = None,
               cancel: threading.Event | None = None) -> dict:
    """The same in this process (for the CLI and tests that measure the analyser itself)."""
    from studio.domain.insights import analyse_manuscript

    def report(stage: str, fraction: float) -> None:
        if cancel is not None and cancel.is_set():
            raise AnalysisCancelled("The analysis was cancelled; nothing was stored.")
        if progress is not None:
            progress(stage, fraction)

    return analyse_manuscript(content, report)


def timed(fn: Callable[..., dict], *args: Any, **kwargs: Any) -> tuple[dict, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start

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
from typing import Any, Callable, Iterator, Mapping, Sequence

from studio.domain.errors import StudioError

Progress = Callable[[str, float], None]
POLL = 0.05


class AnalysisCancelled(StudioError):
    """The author stopped the analysis; nothing was stored."""


class AnalysisFailed(StudioError):
    """The analyser failed (a bug): the message says how; nothing was stored."""


CHUNK = 100  # list items per message: every pickle stays small (see ``_send_result``)


def _read_story(conn, progress: Progress) -> dict[str, Any]:
    """The content: read from the database when the parent names a story, else received."""
    kind, value = conn.recv()
    if kind != "story":
        return _receive_content(conn, (kind, value))
    from studio.services.analysis import read_content
    from studio.store.database import Database

    db_path, story_id, version_number = value
    progress("reading", 0.0)
    db = Database.attach(db_path)
    try:
        return read_content(db, story_id, version_number)
    finally:
        db.close()


def _receive_content(conn, first: tuple[str, Any]) -> dict[str, Any]:
    """The content arrives in pieces (the parent sends chapter by chapter)."""
    content: dict[str, Any] = {}
    chapters: list = []
    kind, value = first
    while True:
        if kind == "chapter":
            chapters.append(value)
        elif kind == "rest":
            content.update(value)
        else:  # "end"
            content["manuscript"] = {**(content.get("manuscript") or {}), "chapters": chapters}
            return content
        kind, value = conn.recv()


def pieces(result: dict[str, Any]) -> Iterator[tuple[str, tuple, Any]]:
    """The result as small (kind, path, value) pieces — key by key, long lists and maps in
    chunks — so that no single pickle or JSON call over it holds the GIL for long (one of a
    1M-word analysis takes 20-50 ms: a visible stall of the UI thread).  ``apply_piece``
    puts them back together."""
    for key, value in result.items():
        if isinstance(value, dict) and key in ("emotions", "pacing", "summaries", "themes"):
            yield "set", (key,), {}
            for sub, inner in value.items():
                yield from _value_pieces((key, sub), inner)
        else:
            yield from _value_pieces((key,), value)


def _value_pieces(path: tuple, value: Any) -> Iterator[tuple[str, tuple, Any]]:
    if isinstance(value, list) and len(value) > CHUNK:
        yield "set", path, []
        for i in range(0, len(value), CHUNK):
            yield "extend", path, value[i:i + CHUNK]
    elif isinstance(value, dict) and len(value) > CHUNK:
        yield "set", path, {}
        items = list(value.items())
        for i in range(0, len(items), CHUNK):
            yield "update", path, dict(items[i:i + CHUNK])
    else:
        yield "set", path, value


def apply_piece(result: dict[str, Any], kind: str, path: Sequence, value: Any) -> None:
    node = result
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if kind == "set":
        node[path[-1]] = value
    elif kind == "extend":
        node[path[-1]].extend(value)
    elif kind == "update":
        node[path[-1]].update(value)
    else:
        raise ValueError(f"unknown piece {kind!r}")


def _send_result(conn, result: dict[str, Any]) -> None:
    for kind, path, value in pieces(result):
        conn.send((kind, path, value))
    conn.send(("done", None, None))


def _send_content(conn, content: Mapping[str, Any]) -> None:
    manuscript = content.get("manuscript")
    chapters = manuscript.get("chapters") if isinstance(manuscript, Mapping) else None
    rest = {k: v for k, v in content.items() if k != "manuscript"}
    if isinstance(manuscript, Mapping):
        rest["manuscript"] = {k: v for k, v in manuscript.items() if k != "chapters"}
    conn.send(("rest", rest))
    for chapter in chapters if isinstance(chapters, list) else []:
        conn.send(("chapter", chapter))
    conn.send(("end", None))


def run(content: Mapping[str, Any], progress: Progress | None = None,
        cancel: threading.Event | None = None) -> dict:
    """``analyse_manuscript(content)`` in a child process; blocks the calling (worker)
    thread, never the UI.  ``cancel`` set → the child is terminated and AnalysisCancelled."""
    return _in_child(("content", content), progress, cancel)


def run_story(db_path: str, story_id: int, version_number: int | None,
              progress: Progress | None = None,
              cancel: threading.Event | None = None) -> dict:
    """The same, the child reading the story from the database file itself: the parent
    process never holds the prose (reading 1M words takes its thread 0.7 s, with pauses of
    30-50 ms in single C calls that would stall the UI thread)."""
    return _in_child(("story", (str(db_path), int(story_id), version_number)), progress,
                     cancel)


def run_prepared(prepared: Any, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> dict:
    """Run what ``services.analysis.prepare`` set up (its content, or its story)."""
    if prepared.content is not None:
        return run(prepared.content, progress, cancel)
    return run_story(prepared.db_path, prepared.story_id, prepared.version_number, progress,
                     cancel)


def _in_child(job: tuple[str, Any], progress: Progress | None,
              cancel: threading.Event | None) -> dict:
    ctx = multiprocessing.get_context("spawn")
    from_parent, to_child = ctx.Pipe(duplex=False)  # (reader, writer)
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(from_parent, child), daemon=True,
                          name="studio-analyser")
    process.start()
    child.close()
    from_parent.close()
    result: dict[str, Any] = {}
    try:
        sender = threading.Thread(target=_send_quietly, args=(to_child, job),
                                  daemon=True, name="studio-analyser-feed")
        sender.start()
        while True:
            if cancel is not None and cancel.is_set():
                raise AnalysisCancelled("The analysis was cancelled; nothing was stored.")
            if not parent.poll(POLL):
                if not process.is_alive() and not parent.poll(0):
                    raise AnalysisFailed(f"The analyser stopped unexpectedly (exit code "
                                         f"{process.exitcode}); nothing was stored.")
                continue
            try:
                kind, a, b = parent.recv()
            except EOFError:
                raise AnalysisFailed("The analyser stopped without an answer; nothing was "
                                     "stored.") from None
            if kind == "progress":
                if progress is not None:
                    progress(a, b)
            elif kind in ("set", "extend", "update"):
                apply_piece(result, kind, a, b)
            elif kind == "done":
                return result
            else:
                raise AnalysisFailed(f"The analysis failed: {a}")
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        parent.close()
        to_child.close()


def _send_quietly(conn, job: tuple[str, Any]) -> None:
    try:
        if job[0] == "content":
            _send_content(conn, job[1])
        else:
            conn.send(("story", job[1]))
    except (OSError, EOFError, ValueError):
        pass  # the child is gone (cancelled or failed): the reader reports it


def _child_main(from_parent, to_parent) -> None:  # runs in the child process
    """Read the content from one pipe, answer on the other (progress, result, error)."""
    from studio.domain.insights import analyse_manuscript

    last: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        if fraction in (0.0, 1.0) or fraction - last.get(stage, -1.0) >= 0.01:
            last[stage] = fraction
            to_parent.send(("progress", stage, fraction))

    try:
        content = _read_story(from_parent, progress)
        _send_result(to_parent, analyse_manuscript(content, progress))
    except BaseException as exc:  # noqa: BLE001 — reported to the parent, which raises
        to_parent.send(("error", f"{type(exc).__name__}: {exc}", None))
    finally:
        to_parent.close()
        from_parent.close()


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

"""One long piece of format work (reading a file to import, writing an export) on a thread of
its own, with progress and Cancel.

Why not the service runner: the runner is one ordered thread, and a 100 MB Markdown file or a
long PDF would hold up every autosave queued behind it.  Reading an import never touches the
database, and an export only reads it (SQLite serves a second connection), so a thread per job
is safe.  The thread reports through queued signals (slots run on the UI thread), throttled so a
format that reports every paragraph cannot flood the event loop.  Cancel works the way the
registry says: the next ``progress`` call raises ``JobCancelled`` inside the format, which stops
and cleans up after itself.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal

from studio.domain.errors import StudioError

# At most this many progress reports a second reach the UI (the last one always does).
REPORT_INTERVAL_S = 0.05


class JobCancelled(StudioError):
    """The author pressed Cancel; raised inside the format's own progress call."""

    def __init__(self) -> None:
        super().__init__("Cancelled.")


class ProgressRelay(QObject):
    """A progress callback that any thread may call (a format on a job thread, an import
    being stored on the service runner): reports reach ``progress`` on the UI thread,
    throttled, and after ``cancel()`` the next call raises ``JobCancelled``."""

    progress = Signal(int, int)
    _report = Signal(int, int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._last = 0.0
        self._report.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def __call__(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise JobCancelled()
        now = time.monotonic()
        if now - self._last >= REPORT_INTERVAL_S or (total and done >= total):
            self._last = now
            done, total = int(done), int(total)
            while total >= 1 << 30:  # a Qt int is 32 bits; a byte count may not be
                done, total = done >> 10, total >> 10
            self._report.emit(done, total)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _deliver(self, done: int, total: int) -> None:
        if not self._cancel.is_set():
            self.progress.emit(done, total)


class _Bridge(QObject):
    done = Signal(object)
    failed = Signal(object)


class FormatJob(QObject):
    """Runs ``fn(*args, progress=…, **kwargs)`` once on a daemon thread.

    Signals (always on the UI thread): ``progress(done, total)``, ``finished(result)``,
    ``failed(exception)`` and ``cancelled()`` — exactly one of the last three, once.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.relay = ProgressRelay(self)
        self.relay.progress.connect(self._on_progress)
        self._thread: threading.Thread | None = None
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.done.connect(self._on_done, queued)
        self._bridge.failed.connect(self._on_failed, queued)
        self.running = False

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._thread is not None:
            raise RuntimeError("A FormatJob runs once; make a new one.")
        self.running = True
        self._thread = threading.Thread(target=self._work, args=(fn, args, kwargs),
                                        name="studio-format-job", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report (its result is dropped)."""
        self.relay.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self.relay.cancel_requested

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests, and closing the window)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- on the worker thread --------------------------------------------------------------

    def _work(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            result = fn(*args, progress=self.relay, **kwargs)
        except BaseException as exc:  # handed to the UI thread, never swallowed
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._bridge.failed.emit(exc)
            return
        self._bridge.done.emit(result)

    # --- on the UI thread -------------------------------------------------------------------

    def _on_progress(self, done: int, total: int) -> None:
        if self.running:
            self.progress.emit(done, total)

    def _on_done(self, result: Any) -> None:
        self.running = False
        if self.cancel_requested:
            self.cancelled.emit()
        else:
            self.finished.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.running = False
        if self.cancel_requested or isinstance(exc, JobCancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(exc)

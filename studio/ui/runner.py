"""Runs service calls on one background thread and hands results back to the UI thread.

The UI thread must never wait on the disk.  One worker thread (not a pool) keeps the calls in
the order they were made, which is what makes "autosave, then save a version, then open another
story" safe without locks.  Results come back through a queued Qt signal, so callbacks always
run on the UI thread.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

Callback = Callable[[Any], None]


class ServiceRunner(QObject):
    _finished = Signal(int, object, object)
    busyChanged = Signal(bool)
    failed = Signal(object)  # an exception no caller handled

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._queue: queue.Queue = queue.Queue()
        self._callbacks: dict[int, tuple[Callback | None, Callback | None]] = {}
        self._ids = itertools.count(1)
        self._pending = 0
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._work, name="studio-services", daemon=True)
        self._thread.start()

    def future(self, fn: Callable[..., Any], *args: Any) -> "asyncio.Future":
        """``fn(*args)`` on the service thread, as a future of the running asyncio (qasync)
        loop: how coroutines on the Qt loop await the database."""
        loop = asyncio.get_event_loop()
        future: asyncio.Future = loop.create_future()

        def done(result: Any) -> None:
            if not future.done():
                future.set_result(result)

        def failed(exc: BaseException) -> None:
            if not future.done():
                future.set_exception(exc)

        self.run(fn, *args, on_done=done, on_error=failed)
        return future

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callback | None = None,
            on_error: Callback | None = None, **kwargs: Any) -> int:
        job = next(self._ids)
        self._callbacks[job] = (on_done, on_error)
        with self._lock:
            self._pending += 1
            self._idle.clear()
        if self._pending == 1:
            self.busyChanged.emit(True)
        self._queue.put((job, fn, args, kwargs))
        return job

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, fn, args, kwargs = item
            try:
                result, error = fn(*args, **kwargs), None
            except BaseException as exc:  # handed to the UI thread, never swallowed
                result, error = None, exc
                exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()
            self._finished.emit(job, result, error)

    @Slot(int, object, object)
    def _deliver(self, job: int, result: Any, error: BaseException | None) -> None:
        on_done, on_error = self._callbacks.pop(job, (None, None))
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                self.failed.emit(error)
        elif on_done is not None:
            on_done(result)
        if not self._callbacks:
            self.busyChanged.emit(False)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until queued work is done (used on close, and by tests and benchmarks)."""
        return self._idle.wait(timeout)

    def is_idle(self) -> bool:
        return not self._callbacks

    def shutdown(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

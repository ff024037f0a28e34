"""The Analysis panel's running of the analyser: off the UI thread, with progress and Cancel.

A mixin of ``AnalysisPanel`` (kept apart so each module stays readable); it uses the panel's
``document``, ``_run``, ``version_box``, the toolbar widgets and ``_fresh``/``_cached``-style
showing methods.

Why a thread of our own: ``analysis_process.run_prepared`` blocks until the child process answers (up
to seconds for a long novel).  On the service runner it would hold up autosave for as long; on
the UI thread it would freeze the window.  A ``threading.Thread`` per analysis waits for the
child instead and reports through ``_Bridge``'s queued signals, so every slot runs on the UI
thread.  Each analysis has a generation number: answers from a cancelled or superseded
analysis (another story opened, Cancel pressed) are recognised and dropped.
"""

from __future__ import annotations

import html
import threading
import time
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from studio.services import analysis, analysis_process

# The analyser's stage names, as an author would say them.
STAGE_WORDS = {
    "reading": "Reading the story", "read": "Reading the story", "prepare": "Reading the story",
    "cast": "Finding the cast", "characters": "Finding the cast",
    "emotions": "Reading the emotions", "themes": "Looking for themes",
    "pacing": "Measuring the pacing", "insights": "Gathering insights",
    "summaries": "Writing summaries", "summary": "Writing summaries",
}


def stage_words(stage: str) -> str:
    return STAGE_WORDS.get(stage, stage.replace("_", " ").capitalize() or "Analysing")


class _Bridge(QObject):
    """Carries the worker thread's news to the UI thread (queued: slots run on the UI)."""

    progress = Signal(int, str, float)        # generation, stage, fraction of the stage
    finished = Signal(int, object, object, float)  # generation, prepared, result, seconds
    failed = Signal(int, object)              # generation, exception


class AnalysisRunMixin:
    def _init_running(self) -> None:
        self.running = False
        self._generation = 0
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._stages: tuple[str, ...] = ()
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.progress.connect(self._on_progress, queued)
        self._bridge.finished.connect(self._on_finished, queued)
        self._bridge.failed.connect(self._on_failed, queued)

    def analyse(self) -> None:
        """Analyse the chosen text: the stored result if it was analysed already, else the
        analyser in a child process (the UI keeps working; Esc cancels)."""
        doc = self.document
        if doc is None or self.running:
            return
        doc.flush()  # queued ahead of prepare: the analysis reads what is on screen
        self._generation += 1
        generation = self._generation
        self._cancel = threading.Event()
        self._pick_note = ""
        self._set_running(True)
        self._on_progress(generation, "reading", 0.0)
        self._run(analysis.prepare, self.version_box.currentData(),
                  then=lambda p: self._prepared(generation, p),
                  on_error=lambda exc: self._on_failed(generation, exc))

    def _prepared(self, generation: int, prepared: analysis.Prepared) -> None:
        if generation != self._generation:
            return
        if prepared.cached is not None:
            self._set_running(False)
            self._cached(prepared, note="Unchanged since the last analysis — shown from the "
                                        "store")
            return
        try:
            from studio.domain import insights

            self._stages = tuple(getattr(insights, "STAGES", ()) or ())
        except ImportError:
            self._stages = ()
        cancel = self._cancel or threading.Event()
        self._thread = threading.Thread(target=self._work, args=(generation, prepared, cancel),
                                        name="studio-analysis", daemon=True)
        self._thread.start()

    def _work(self, generation: int, prepared: analysis.Prepared,
              cancel: threading.Event) -> None:
        """On the worker thread: wait for the child process; report back by signal only."""
        bridge = self._bridge

        def progress(stage: str, fraction: float) -> None:
            try:
                bridge.progress.emit(generation, stage, fraction)
            except RuntimeError:  # the panel is gone (the app is closing)
                cancel.set()

        try:
            result, seconds = analysis_process.timed(analysis_process.run_prepared,
                                                     prepared, progress, cancel)
        except BaseException as exc:  # handed to the UI thread, never swallowed
            try:
                bridge.failed.emit(generation, exc)
            except RuntimeError:
                pass
            return
        try:
            bridge.finished.emit(generation, prepared, result, seconds)
        except RuntimeError:
            pass

    def _on_progress(self, generation: int, stage: str, fraction: float) -> None:
        if generation != self._generation or not self.running:
            return
        if self._cancel is not None and self._cancel.is_set():
            return
        overall = fraction
        if stage in self._stages:
            overall = (self._stages.index(stage) + fraction) / len(self._stages)
        self.stage_label.setText(f"{stage_words(stage)}…")
        value = round(max(0.0, min(1.0, overall)) * 1000)
        if value != self.progress.value():
            self.progress.setValue(value)

    def _on_finished(self, generation: int, prepared: analysis.Prepared, result: dict,
                     seconds: float) -> None:
        doc = self.document
        if generation != self._generation or doc is None:
            return  # cancelled or another story opened: nothing is stored
        self.stage_label.setText("Storing the result…")
        self.progress.setValue(1000)

        def stored(_none: Any) -> None:
            # Described here rather than read back with latest(), which would hash the whole
            # story again and parse the result the UI already holds.
            self._fresh(generation, analysis.StoredAnalysis(
                prepared.story_id, prepared.content_hash, prepared.version_number,
                int(result.get("words") or 0), round(seconds, 3), datetime.now(timezone.utc),
                result, prepared.version_number is None), result)
            self._refresh_versions()

        # store() takes no story id (``prepared`` carries it), unlike the other calls.
        self._run(lambda db, _story: analysis.store(db, prepared, result, seconds),
                  then=stored, on_error=lambda exc: self._on_failed(generation, exc))

    def _fresh(self, generation: int, stored: analysis.StoredAnalysis | None,
               result: dict) -> None:
        if generation != self._generation:
            return
        self._set_running(False)
        self._last_check = time.monotonic()
        self.stored = stored
        self._note = self._pick_note = ""
        self._show_result(result)
        self._show_status()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._set_running(False)
        if isinstance(exc, analysis_process.AnalysisCancelled):
            self._note = "Analysis cancelled — nothing was stored"
        else:
            self._note = (f"<span style='color:#c0392b'>The analysis did not finish: "
                          f"{html.escape(str(exc))}</span>")
        self._show_status()  # and what the tabs still show, if anything

    def cancel(self) -> None:
        """Stop a running analysis at once; the child process is terminated, nothing stored."""
        if not self.running:
            return
        if self._cancel is not None:
            self._cancel.set()
        if self._thread is None or not self._thread.is_alive():
            # Still reading the story on the runner: drop its answer when it comes.
            self._generation += 1
            self._set_running(False)
            self._note = "Analysis cancelled — nothing was stored"
            self._show_status()
        else:
            self.stage_label.setText("Stopping…")
            self.cancel_button.setEnabled(False)

    def _stop(self) -> None:
        """The story closes or changes: stop the analyser and forget its answer."""
        if self._cancel is not None:
            self._cancel.set()
        self._generation += 1
        if self.running:
            self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.running = running
        for widget in (self.stage_label, self.progress, self.cancel_button):
            widget.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.analyse_button.setEnabled(not running and self.document is not None)
        self.version_box.setEnabled(not running and self.document is not None)
        if running:
            self.progress.setValue(0)
            self.status.setText("")
        else:
            self._thread = None

"""The Narrations tab's hearing and exporting (a mixin of ``NarrationsTab``): preview one
paragraph, render the shown paragraphs with progress and Cancel, and export the result.

Rendering talks to a speech provider over the network, so it runs as a task on the Qt loop
(qasync) and never blocks the window.  It is resumable by design: the service keeps every
paragraph's audio in the shared render cache as soon as it arrives, and a new Render asks only
for what is missing — so the tab says up front "6 of 10 already rendered", ticks paragraphs as
they finish, and after a failure (a lost network, the quota used up) says where it stopped and
that Render continues from there.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from studio.ui.widgets.voice_common import FIXED_IN_PROVIDERS, describe

TEXT_EXPORTS = {"ssml": ("Export SSML", "SSML (*.ssml *.xml)", ".ssml"),
                "script": ("Export script", "Text (*.txt)", ".txt")}


def _about_providers(words: str) -> bool:
    """A problem the providers dialog fixes (no provider, a refused or missing key)."""
    words = words.lower()
    return "provider" in words and ("set up" in words or "key" in words)


class NarrationsRenderMixin:
    """Needs the tab's ``host``, ``audio``, ``model``, ``note``, ``progress``,
    ``render_state``, the buttons, ``selected``, ``current_uid``, ``chapter_uid``,
    ``reload_plan`` and ``_selected``."""

    def _init_render(self) -> None:
        self.rendering = False
        self.render_task: asyncio.Task | None = None
        self.preview_task: asyncio.Task | None = None
        self._cancel_event: asyncio.Event | None = None
        self.last_report: Any = None
        self._render_where = ""  # the chapter rendered ("" the whole story), for the report

    # --- state ---

    def _set_rendering(self, on: bool) -> None:
        self.rendering = on
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.cancel_button.setEnabled(on)
        self._enable_render()
        if not on:
            self._show_render_state()

    def _enable_render(self) -> None:
        have = self.current_uid() is not None and bool(self.model.rows)
        self.render_button.setEnabled(have and not self.rendering)
        for b in (self.playlist_button, self.ssml_button, self.script_button):
            b.setEnabled(have and not self.rendering)

    def _show_render_state(self) -> None:
        if self.rendering:
            return
        rows = self.model.rows
        done = sum(1 for r in rows if r.rendered)
        blocked = next((r.problem for r in rows if r.problem and not r.rendered), "")
        self.providers_button.setVisible(_about_providers(blocked))
        if not rows:
            self.render_state.setText("")
        elif blocked:
            self.render_state.setText(f"{done} of {len(rows)} rendered. Cannot render now: "
                                      f"{blocked}")
        elif done == len(rows):
            self.render_state.setText(f"All {len(rows)} paragraphs are rendered.")
        else:
            self.render_state.setText(f"{done} of {len(rows)} already rendered.")

    # --- preview ---

    def preview_selected(self) -> None:
        from studio.services import narrations

        r = self.selected()
        uid = self.current_uid()
        doc = self.host.document
        if r is None or uid is None or doc is None:
            return
        key = f"segment:{r.segment_uid}"
        if self.audio.playing_key == key:
            self.audio.stop()
            return
        self.note.say("Getting the paragraph's audio…")
        coro = narrations.preview(self.host.run_db, doc.db, uid, r.segment_uid)
        self.preview_task = self.host.start(
            coro, then=lambda audio: self._previewed(r, audio, key),
            on_error=self._provider_failed)

    def _previewed(self, row: Any, audio: Any, key: str) -> None:
        self._mark_rendered(row.segment_uid)
        where = "from the render cache" if getattr(audio, "cached", False) else "just rendered"
        if self.audio.output_problem:
            self.note.say(f"The paragraph's audio is ready ({where}) but cannot be played "
                          f"here: {self.audio.output_problem}")
            return
        self.note.say(f"Playing the paragraph ({where}).")
        self.audio.play_file(audio.path, key)

    # --- render ---

    def render(self) -> None:
        from studio.services import narrations

        uid = self.current_uid()
        doc = self.host.document
        if uid is None or doc is None or self.rendering:
            return
        rows = self.model.rows
        total = len(rows)
        done = sum(1 for r in rows if r.rendered)
        if total and done == total:
            self.note.say(f"All {total} paragraphs are rendered already.")
            return
        blocked = [r for r in rows if r.problem and not r.rendered]
        if blocked and len(blocked) == total - done:  # nothing could be rendered: say why
            self.note.say(blocked[0].problem, error=True)
            self.providers_button.setVisible(_about_providers(blocked[0].problem))
            return
        self._cancel_event = asyncio.Event() if self.host.loop_running() else None
        coro = narrations.render(self.host.run_db, doc.db, uid, chapter_uid=self.chapter_uid(),
                                 progress=self._progress, cancel=self._cancel_event)
        task = self.host.start(coro, then=self._rendered, on_error=self._render_failed,
                               on_cancel=lambda: self._render_failed(None))
        if task is None:
            return
        self.render_task = task
        self._render_where = self.chapter.currentText() if self.chapter_uid() else ""
        self._set_rendering(True)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.note.say("")
        self.render_state.setText(
            f"{done} of {total} already rendered; rendering the other {total - done}…"
            if done else f"Rendering {total} paragraphs…")
        self._selected()

    def _progress(self, done: int, total: int, segment_uid: str) -> None:
        """Called by the service after each paragraph (on the Qt loop: the UI thread)."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.render_state.setText(f"Rendered {done} of {total}…")
        self._mark_rendered(segment_uid)

    def _mark_rendered(self, segment_uid: str) -> None:
        at = self.model.row_of(segment_uid)
        if at < 0 or self.model.rows[at].rendered:
            return
        self.model.rows[at] = dataclasses.replace(self.model.rows[at], rendered=True)
        self.model.dataChanged.emit(self.model.index(at, 0),
                                    self.model.index(at, self.model.columnCount() - 1))

    def cancel(self) -> None:
        """Stop after the paragraph being spoken is dropped; what is rendered is kept."""
        if not self.rendering:
            return
        self.cancel_button.setEnabled(False)
        self.render_state.setText("Stopping…")
        if self._cancel_event is not None:
            self._cancel_event.set()
        elif self.render_task is not None:
            self.render_task.cancel()

    def _rendered(self, report: Any) -> None:
        self.render_task = None
        self.last_report = report
        self._set_rendering(False)
        complete = bool(getattr(report, "complete", True))
        cancelled = bool(getattr(report, "cancelled", False))
        where = self._render_where
        self.note.say(f"{where}: {report.message}" if where else report.message,
                      error=not complete and not cancelled)
        self.providers_button.setVisible(not complete and _about_providers(report.message))
        self.reload_plan()

    def _render_failed(self, exc: BaseException | None) -> None:
        self.render_task = None
        self._set_rendering(False)
        if exc is None:
            self.note.say("Rendering cancelled; what was rendered is kept. Render continues "
                          "where it stopped.")
        else:
            self._provider_failed(exc)
        self.reload_plan()

    def _provider_failed(self, exc: BaseException) -> None:
        self.note.say(describe(exc), error=True)
        self.providers_button.setVisible(isinstance(exc, FIXED_IN_PROVIDERS)
                                         or _about_providers(str(exc)))

    def stop_work(self) -> None:
        """Another story opens: stop rendering (what is rendered stays)."""
        for task in (self.render_task, self.preview_task):
            if task is not None and not task.done():
                task.cancel()
        self.render_task = self.preview_task = None
        if self.rendering:
            self._set_rendering(False)

    # --- exports ---

    def choose_playlist_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the narration's audio to",
                                                  str(Path.home()))
        if folder:
            self.export_playlist_to(Path(folder))

    def export_playlist_to(self, folder: Path) -> None:
        from studio.services import narrations

        uid = self.current_uid()
        if uid is None:
            return
        self.host.run(narrations.export_playlist, uid, Path(folder), self.chapter_uid(),
                      then=lambda path: self.note.say(f"Playlist written: {path}"),
                      on_error=self.note.fail)

    def choose_text_file(self, kind: str) -> None:
        title, filters, suffix = TEXT_EXPORTS[kind]
        name = (self.info.name if self.info is not None else "narration") + suffix
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / name), filters)
        if path:
            self.export_text_to(kind, Path(path))

    def export_text_to(self, kind: str, path: Path) -> None:
        """SSML or a script, written atomically on the service thread."""
        from studio.services import narrations
        from studio.services.files import write_text_atomically

        uid = self.current_uid()
        if uid is None:
            return
        make = narrations.export_ssml if kind == "ssml" else narrations.export_script
        chapter = self.chapter_uid()

        def work(db) -> Path:
            write_text_atomically(Path(path), make(db, uid, chapter))
            return Path(path)

        self.host.run(work, then=lambda p: self.note.say(f"Written: {p}"),
                      on_error=self.note.fail)

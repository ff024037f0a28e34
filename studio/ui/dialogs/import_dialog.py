"""File ▸ Import…: read a file or folder into a preview, show the author what it will create,
and only then create it — in one step that Edit ▸ Undo takes back where that makes sense.

Reading happens on a ``FormatJob`` thread (a novelWriter project or a 100 MB text file takes a
while and never touches the database); applying goes through the service runner, behind any
autosave already queued.  A bible or chapter-graph import changes the open story, so it is one
``CallbackCommand`` on that story's undo stack, pushed only once the import has landed: a failed
import leaves nothing to undo.  A new story gets an undo stack of its own when it opens, so its
import cannot be undone from inside it; the dialog and the status bar say how to take it back
(Story ▸ Delete Story…).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QMessageBox, QProgressBar, QPushButton,
    QSizePolicy, QStackedWidget, QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.formats import registry
from studio.formats.registry import BIBLE, GRAPH, STORY, ImportPreview
from studio.services import format_io
from studio.store.database import Database
from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.format_job import FormatJob, JobCancelled, ProgressRelay

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

MESSAGE_MS = 12_000


def format_label(format_id: str) -> str:
    """The importer's label for the preview ("Markdown"), or its id if it is not registered."""
    try:
        return registry.importer(format_id).label
    except StudioError:
        return format_id


def what_happens(preview: ImportPreview, open_title: str | None) -> tuple[str, bool]:
    """The sentence that says what Import will create, and whether it can be done now."""
    if preview.kind == STORY:
        return (f"A new story, “{preview.title}”, in the library. It opens when the import is "
                "done; to take it back, delete it from the library (Story ▸ Delete Story…).",
                True)
    if open_title is None:
        part = "scene bible" if preview.kind == BIBLE else "chapter graph"
        return (f"This goes into the {part} of an open story. Open a story first, then import "
                "again.", False)
    if preview.kind == BIBLE:
        return (f"Added to the scene bible of “{open_title}”, as one step that Edit ▸ Undo "
                "takes back.", True)
    if preview.kind == GRAPH:
        return (f"Replaces the chapter graph of “{open_title}”, as one step that Edit ▸ Undo "
                "takes back.", True)
    return (f"Unknown import kind “{preview.kind}”.", False)


class ImportDialog(QDialog):
    """Reads ``path`` (progress, Cancel), shows the preview, imports on Import."""

    def __init__(self, window: "MainWindow", path: Path, format_id: str | None = None):
        super().__init__(window)
        self.window_ = window
        self.path = Path(path)
        self.format_id = format_id
        self.preview: ImportPreview | None = None
        self.outcome: Any = None
        self.error_box: QMessageBox | None = None
        self.job: FormatJob | None = None
        self.relay: ProgressRelay | None = None
        self.setObjectName("importDialog")
        self.setWindowTitle("Import")
        self.setMinimumWidth(520)

        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        self.heading = QLabel()
        self.heading.setObjectName("importHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        lay.addWidget(self.heading)

        self.pages = QStackedWidget()
        lay.addWidget(self.pages, 1)
        self.pages.addWidget(self._reading_page())
        self.pages.addWidget(self._preview_page())

        self.buttons = QDialogButtonBox()
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importButton")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.apply)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("importCancel")
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def _show_page(self, index: int) -> None:
        """Only the shown page counts for the dialog's size (a short progress page does not
        get the preview's height)."""
        policy = QSizePolicy.Policy
        for i in range(self.pages.count()):
            page = self.pages.widget(i)
            page.setSizePolicy(policy.Preferred if i == index else policy.Ignored,
                               policy.Preferred if i == index else policy.Ignored)
        self.pages.setCurrentIndex(index)
        self.pages.adjustSize()
        self.adjustSize()

    def _reading_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.reading = QLabel()
        self.reading.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("importProgress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        lay.addWidget(self.reading)
        lay.addWidget(self.progress)
        lay.addStretch(1)
        return page

    def _preview_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.format_value = QLabel()
        self.format_value.setObjectName("importFormat")
        self.source_value = QLabel()
        self.source_value.setObjectName("importSource")
        self.source_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("Format", self.format_value)
        form.addRow("From", self.source_value)
        form.addRow("Contents", self.summary)
        lay.addLayout(form)
        self.warnings = QLabel()
        self.warnings.setObjectName("importWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.setStyleSheet(
            "QLabel { background: rgba(230, 160, 40, 0.14); border: 1px solid "
            "rgba(200, 130, 20, 0.55); border-radius: 4px; padding: 8px; }")
        lay.addWidget(self.warnings)
        self.creates = QLabel()
        self.creates.setObjectName("importCreates")
        self.creates.setWordWrap(True)
        self.creates.setStyleSheet(
            "QLabel { background: palette(alternate-base); border: 1px solid palette(mid); "
            "border-radius: 4px; padding: 8px; }")
        lay.addWidget(self.creates)
        self.apply_progress = QProgressBar()
        self.apply_progress.setObjectName("importApplyProgress")
        self.apply_progress.setTextVisible(False)
        self.apply_progress.hide()
        lay.addWidget(self.apply_progress)
        lay.addStretch(1)
        return page

    # --- reading -----------------------------------------------------------------------------

    @classmethod
    def for_path(cls, window: "MainWindow", path: Path,
                 format_id: str | None = None) -> "ImportDialog":
        """Open the dialog on ``path`` and start reading it (no file dialog: menus, drops and
        tests all come in here)."""
        dialog = cls(window, path, format_id)
        dialog.open()
        dialog.start()
        return dialog

    def start(self) -> None:
        kind = "folder" if self.path.is_dir() else "file"
        self.heading.setText(f"Reading {self.path.name}")
        self.reading.setText(f"Reading the {kind} {html.escape(str(self.path))}…")
        self._show_page(0)
        self.job = FormatJob(self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self.show_preview)
        self.job.failed.connect(self._read_failed)
        self.job.cancelled.connect(lambda: self.done(QDialog.DialogCode.Rejected))
        self.job.start(format_io.preview_import, self.path, self.format_id)

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    @classmethod
    def for_preview(cls, window: "MainWindow", preview: ImportPreview) -> "ImportDialog":
        """Open the dialog on a preview read elsewhere (the CLI's reader, a test)."""
        dialog = cls(window, Path(preview.source or preview.title), preview.format)
        dialog.open()
        dialog.show_preview(preview)
        return dialog

    def show_preview(self, preview: ImportPreview) -> None:
        """What the import will create, and the Import button if it can be done now."""
        self.preview = preview
        doc = self.window_.document
        open_title = doc.detail.fields.title if doc is not None else None
        sentence, possible = what_happens(preview, open_title)
        self.setWindowTitle(f"Import {preview.title}")
        self.heading.setText(preview.title or self.path.name)
        self.format_value.setText(format_label(preview.format))
        source = preview.source or str(self.path)
        self.source_value.setText(source)
        self.source_value.setToolTip(source)
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in preview.summary)
        self.summary.setText(f"<ul style='margin:0; -qt-list-indent:1'>{lines}</ul>" if lines
                             else "Nothing to describe.")
        if preview.warnings:
            items = "".join(f"<li>{html.escape(w)}</li>" for w in preview.warnings)
            count = len(preview.warnings)
            self.warnings.setText(f"<b>{count} warning{'s' if count != 1 else ''}</b>"
                                  f"<ul style='margin:0; -qt-list-indent:1'>{items}</ul>")
            self.warnings.show()
        else:
            self.warnings.hide()
        self.creates.setText(sentence)
        self.import_button.setEnabled(possible)
        self._show_page(1)

    def _read_failed(self, exc: BaseException) -> None:
        self.show_failure(f"Could not import {self.path.name}", exc)
        self.done(QDialog.DialogCode.Rejected)

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()  # the job's cancelled signal closes the dialog
            self.reading.setText("Stopping…")
            self.cancel_button.setEnabled(False)
            return
        if self.relay is not None:  # storing a new story: its transaction is rolled back
            self.relay.cancel()
            self.creates.setText("Stopping…")
            self.cancel_button.setEnabled(False)
            return
        super().reject()

    # --- importing -------------------------------------------------------------------------

    def apply(self) -> None:
        """Create what the preview showed: a new story, or one undoable step on the open one."""
        preview = self.preview
        if preview is None:
            return
        window = self.window_
        self.import_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.creates.setText("Importing…")
        self.apply_progress.setRange(0, 0)
        self.apply_progress.show()
        if preview.kind == STORY:
            if window.document is not None:
                window.document.flush()
            # A long manuscript is written in one transaction that reports progress; Cancel
            # makes the next report raise, and the transaction leaves nothing behind.
            self.relay = ProgressRelay(self)
            self.relay.progress.connect(self._apply_progressed)
            self.cancel_button.setEnabled(True)
            window.runner.run(format_io.apply_import, window.db, preview, None, self.relay,
                              on_done=self._story_created, on_error=self._apply_failed)
            return
        doc = window.document
        if doc is None:
            self._apply_failed(StudioError("Open a story first, then import again."))
            return
        doc.flush()
        doc.begin_busy()
        holder: dict[str, Any] = {}

        def apply(db: Database, story_id: int) -> Any:
            holder["outcome"] = format_io.apply_import(db, preview, story_id)
            return holder["outcome"]

        def done(outcome: Any) -> None:
            doc.end_busy()
            self.outcome = outcome
            push_import_step(window, doc, preview, holder)
            window.statusBar().showMessage(self._done_words(preview, outcome), MESSAGE_MS)
            window.reload_story()
            self.accept()

        def failed(exc: BaseException) -> None:
            doc.end_busy()
            self._apply_failed(exc)

        window.runner.run(apply, window.db, doc.story_id, on_done=done, on_error=failed)

    def _done_words(self, preview: ImportPreview, outcome: Any) -> str:
        summary = getattr(outcome, "summary", ()) or ()
        what = summary[0] if summary else f"imported “{preview.title}”"
        return f"{what[:1].upper()}{what[1:]} (Edit ▸ Undo takes it back)."

    def _apply_progressed(self, done: int, total: int) -> None:
        if total > 0:
            self.apply_progress.setRange(0, total)
            self.apply_progress.setValue(min(done, total))

    def _story_created(self, outcome: Any) -> None:
        self.relay = None
        window = self.window_
        self.outcome = outcome
        title = self.preview.title if self.preview else "the story"
        window.statusBar().showMessage(
            f"Imported “{title}” as a new story. To take it back, delete it from the library "
            "(Story ▸ Delete Story…).", MESSAGE_MS)
        window.refresh_library()
        window.open_story(outcome.story_id)
        self.accept()

    def _apply_failed(self, exc: BaseException) -> None:
        cancelled = isinstance(exc, JobCancelled) or (self.relay is not None
                                                      and self.relay.cancel_requested)
        self.relay = None
        if cancelled:
            self.window_.statusBar().showMessage("Import cancelled; nothing was created.",
                                                 MESSAGE_MS)
            self.done(QDialog.DialogCode.Rejected)
            return
        self.show_failure(f"Could not import {self.path.name}", exc)
        self.done(QDialog.DialogCode.Rejected)

    def show_failure(self, heading: str, exc: BaseException) -> None:
        """A clear message box: what failed, and the format's own reason (file and why)."""
        box = QMessageBox(self.window_)
        box.setObjectName("importError")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Import")
        box.setText(heading)
        if isinstance(exc, StudioError):
            box.setInformativeText(f"{exc}\n\nNothing was imported.")
        else:
            box.setInformativeText(f"Something went wrong: {exc}\n\nNothing was imported.")
            box.setDetailedText(getattr(exc, "__traceback_text__", None) or repr(exc))
        self.error_box = box
        self.window_.last_error_box = box
        self.window_.statusBar().showMessage(f"{heading}: {exc}", MESSAGE_MS)
        box.open()


def push_import_step(window: "MainWindow", doc, preview: ImportPreview,
                     holder: dict[str, Any]) -> None:
    """Put an import that has already landed on the open story's undo stack.

    The first redo does nothing (the import is done); undo and later redos are
    ``format_io.undo_import`` / ``redo_import`` on the runner, which keep the outcome's undo
    data current.  The outcome is written into ``holder`` by the runner job that made it and
    read by the undo job that is always queued after it.
    """
    db = window.db

    def finished(words: str):
        def after(_result: Any) -> None:
            doc.end_busy()
            window.statusBar().showMessage(words, MESSAGE_MS)
            if window.document is doc:
                window.reload_story()
        return after

    def failed(exc: BaseException) -> None:
        doc.end_busy()
        window.show_error(exc)

    def redo(first: bool) -> None:
        if first:
            return
        doc.flush()
        doc.begin_busy()
        window.runner.run(lambda db_: format_io.redo_import(db_, holder["outcome"]), db,
                          on_done=finished(f"Imported “{preview.title}” again."),
                          on_error=failed)

    def undo() -> None:
        doc.flush()
        doc.begin_busy()

        def take_back(db_: Database) -> None:
            format_io.undo_import(db_, holder["outcome"])

        window.runner.run(take_back, db, on_done=finished(
            f"Import of “{preview.title}” undone."), on_error=failed)

    doc.undo_stack.push(CallbackCommand(f"Import {preview.title}", redo, undo))

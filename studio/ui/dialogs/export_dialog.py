"""File ▸ Export…: choose a format, its options and a target; see a preview where it helps;
export off the UI thread with progress and Cancel.

The formats are whatever ``studio.formats.registry`` holds at run time, and the options each
shows are the ones its ``Exporter.options`` declares, so a format added later appears here
unchanged.  The preview is the real exporter run on the first ticked chapter into a temporary
folder (on a ``FormatJob`` thread, debounced, stale previews dropped): what the author sees is
what the file will start with, not an imitation.  Binary formats (DOCX, EPUB, PDF) get a
sentence instead; a character card shows the character's fields and portrait.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QSplitter,
    QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.domain.outline import Outline
from studio.formats import registry
from studio.formats.registry import Exporter
from studio.services import bible as bible_service
from studio.services import format_io, manuscript
from studio.ui.dialogs.export_options import ExportOptionsForm
from studio.ui.dialogs.export_preview import (
    card_preview, has_text_preview, is_card, preview_text,
)
from studio.ui.dialogs.format_job import FormatJob

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

SETTINGS_DIR = "formats/lastExportDir"
SETTINGS_FORMAT = "formats/lastExportFormat"
SETTINGS_AUTHOR = "formats/author"
PREVIEW_DELAY_MS = 350
KINDS = {".docx": "A Word document", ".epub": "An EPUB e-book", ".pdf": "A PDF for print",
         ".png": "A PNG image with the card inside", ".json": "A JSON file",
         ".md": "A Markdown file", ".html": "One web page", ".txt": "A plain text file"}


def safe_file_name(title: str) -> str:
    name = re.sub(r"[^\w\- ]+", "", title).strip()
    return name[:80] or "story"


class ExportDialog(QDialog):
    """One export of ``story_id``; ``exported(path)`` when a file or folder was written."""

    exported = Signal(object)

    def __init__(self, window: "MainWindow", story_id: int):
        super().__init__(window)
        self.window_ = window
        self.db = window.db
        self.story_id = story_id
        self.settings: QSettings = window.settings
        doc = window.document
        if doc is not None and doc.story_id == story_id:
            self.title = doc.detail.fields.title
        else:
            self.title = next((s.title for s in window.library.summaries if s.id == story_id),
                              "story")
        self.exporters = registry.exporters()
        self.outline: Outline | None = None
        self.characters: list[dict[str, Any]] = []
        self.job: FormatJob | None = None
        self.preview_job: FormatJob | None = None
        self.error_box: QMessageBox | None = None
        self.written: Path | None = None
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export “{self.title}”")
        self.resize(980, 660)

        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        lay.addWidget(split, 1)
        formats_box = QGroupBox("Format")
        formats_lay = QVBoxLayout(formats_box)
        self.formats = QListWidget()
        self.formats.setObjectName("exportFormats")
        self.formats.setMinimumWidth(240)
        self.formats.setWordWrap(True)
        self.formats.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.formats.setStyleSheet("QListWidget::item { padding: 5px 4px; }")
        for exp in self.exporters:
            item = QListWidgetItem(exp.label)
            item.setData(Qt.ItemDataRole.UserRole, exp.id)
            where = "a folder of files" if exp.folder else f"a {exp.extension} file"
            item.setToolTip(f"{exp.label}: writes {where}")
            self.formats.addItem(item)
        self.formats.currentRowChanged.connect(self._format_changed)
        formats_lay.addWidget(self.formats)
        split.addWidget(formats_box)

        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(4, 0, 0, 0)
        options_box = QGroupBox("Options")
        options_lay = QVBoxLayout(options_box)
        self.form = ExportOptionsForm()
        self.form.author.setText(str(self.settings.value(SETTINGS_AUTHOR) or ""))
        self.form.changed.connect(self._options_changed)
        self.form.character.currentIndexChanged.connect(self._character_changed)
        options_lay.addWidget(self.form)
        self.no_options = QLabel("This format has no options.")
        self.no_options.setStyleSheet("color: palette(mid);")
        options_lay.addWidget(self.no_options)
        right_lay.addWidget(options_box, 0)

        preview_box = QGroupBox("Preview")
        preview_lay = QVBoxLayout(preview_box)
        self.summary = QLabel()
        self.summary.setObjectName("exportSummary")
        self.summary.setWordWrap(True)
        preview_lay.addWidget(self.summary)
        row = QHBoxLayout()
        self.portrait = QLabel()
        self.portrait.setObjectName("exportPortrait")
        self.portrait.setFixedWidth(120)
        self.portrait.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.portrait.hide()
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("exportPreview")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.fixed_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.text_font = self.preview.font()
        row.addWidget(self.portrait)
        row.addWidget(self.preview, 1)
        preview_lay.addLayout(row, 1)
        right_lay.addWidget(preview_box, 1)
        right_lay.addStretch(0)  # takes the room when a binary format has no text preview
        self.right_lay, self.preview_box = right_lay, preview_box

        target_row = QHBoxLayout()
        target_row.addWidget(QLabel("Save to"))
        self.target = QLineEdit()
        self.target.setObjectName("exportTarget")
        browse = QPushButton("Browse…")
        browse.setObjectName("exportBrowse")
        browse.clicked.connect(self.browse)
        target_row.addWidget(self.target, 1)
        target_row.addWidget(browse)
        right_lay.addLayout(target_row)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([280, 700])

        bottom = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("exportProgress")
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(200)
        self.progress.hide()
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("exportButton")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("exportCancel")
        self.cancel_button.clicked.connect(self.reject)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.cancel_button)
        lay.addLayout(bottom)

        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._load()
        if not self.exporters:
            self._set_status("No export formats are installed.", error=True)
            self.export_button.setEnabled(False)
        else:
            last = self.settings.value(SETTINGS_FORMAT)
            ids = [e.id for e in self.exporters]
            self.formats.setCurrentRow(ids.index(last) if last in ids else 0)

    # --- loading -------------------------------------------------------------------------------

    def _load(self) -> None:
        """The chapters and the bible's characters, read on the runner (behind any save of
        what is on screen, which the caller queued)."""
        doc = self.window_.document
        if doc is not None and doc.story_id == self.story_id:
            doc.flush()
        runner = self.window_.runner
        runner.run(manuscript.outline, self.db, self.story_id, on_done=self._outline_loaded,
                   on_error=self._load_failed)
        runner.run(bible_service.effective_bible, self.db, self.story_id,
                   on_done=self._bible_loaded, on_error=self._load_failed)

    def _outline_loaded(self, outline: Outline) -> None:
        self.outline = outline
        self.form.set_outline(outline)
        self._options_changed()

    def _bible_loaded(self, bible: dict[str, Any]) -> None:
        self.characters = [c for c in bible.get("characters") or [] if isinstance(c, dict)]
        self.form.set_characters(self.characters)
        self._character_changed()
        self._options_changed()

    def _character_changed(self, *_args: Any) -> None:
        exp = self.current_exporter()
        if exp is not None and is_card(exp):
            self._retarget(exp)

    def _load_failed(self, exc: BaseException) -> None:
        self._set_status(f"Could not read the story: {exc}", error=True)

    @property
    def loaded(self) -> bool:
        return self.outline is not None

    # --- choosing ------------------------------------------------------------------------------

    def current_exporter(self) -> Exporter | None:
        row = self.formats.currentRow()
        return self.exporters[row] if 0 <= row < len(self.exporters) else None

    def choose_format(self, format_id: str) -> None:
        ids = [e.id for e in self.exporters]
        self.formats.setCurrentRow(ids.index(format_id))

    def _format_changed(self, _row: int) -> None:
        exp = self.current_exporter()
        if exp is None:
            return
        self.settings.setValue(SETTINGS_FORMAT, exp.id)
        self.form.show_for(exp)
        self.no_options.setVisible(not exp.options)
        self.form.setVisible(bool(exp.options))
        textual = is_card(exp) or has_text_preview(exp)
        self.preview.setVisible(textual)  # a sentence says what a binary file will hold
        self.preview.setFont(self.text_font if is_card(exp) else self.fixed_font)
        self.preview.setPlainText("")
        self.right_lay.setStretch(1, 1 if textual else 0)
        self.right_lay.setStretch(2, 0 if textual else 1)
        if not textual:
            self.portrait.hide()
        self._retarget(exp)
        self._options_changed()

    def _default_dir(self) -> Path:
        current = self.target.text().strip()
        if current:
            return Path(current).parent
        last = self.settings.value(SETTINGS_DIR)
        return Path(str(last)) if last and Path(str(last)).is_dir() else Path.home()

    def _retarget(self, exp: Exporter) -> None:
        """The same folder, the story's name, this format's extension."""
        name = safe_file_name(self.title)
        stem = name if exp.folder else f"{name}{exp.extension}"
        if is_card(exp):
            char = self.form.character.currentText() if self.form.character.currentData() \
                else name
            stem = f"{safe_file_name(char)}{exp.extension}"
        self.target.setText(str(self._default_dir() / stem))

    def set_target(self, path: Path) -> None:
        self.target.setText(str(path))

    def browse(self) -> None:
        exp = self.current_exporter()
        if exp is None:
            return
        current = self.target.text().strip() or str(self._default_dir())
        if exp.folder:
            parent = QFileDialog.getExistingDirectory(
                self, "Choose where the folder goes", str(Path(current).parent))
            if parent:
                self.target.setText(str(Path(parent) / safe_file_name(self.title)))
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export as {exp.label}", current,
                                              f"{exp.label} (*{exp.extension})")
        if path:
            if exp.extension and not path.lower().endswith(exp.extension):
                path += exp.extension
            self.target.setText(path)

    # --- preview -------------------------------------------------------------------------------

    def _options_changed(self) -> None:
        exp = self.current_exporter()
        if exp is None:
            return
        self.summary.setText(self._summary(exp))
        problem = self.form.problem() if self.loaded else None
        if problem and self.job is None:
            self._set_status(problem)
        elif self.job is None:
            self._set_status("")
        self._preview_timer.start()

    def _summary(self, exp: Exporter) -> str:
        if is_card(exp):
            name = self.form.character.currentText()
            return f"{KINDS.get(exp.extension, exp.label)}: the character card of {name}."
        if "chapters" not in exp.options:
            where = "a folder" if exp.folder else f"a {exp.extension} file"
            return f"{exp.label}, written as {where}."
        if self.outline is None:
            return "Reading the story…"
        chosen = set(self.form.checked_chapters())
        chapters = [c for c in self.outline.chapters if c.uid in chosen]
        words = sum(c.words for c in chapters)
        what = "A folder with a file per chapter" if exp.folder else KINDS.get(
            exp.extension.lower(), f"A {exp.extension} file")
        count = len(chapters)
        words_line = f"{what}: {count} chapter{'s' if count != 1 else ''}, {words:,} words."
        if not has_text_preview(exp):
            words_line += " (No text preview for this format: open the file after export.)"
        return words_line

    def refresh_preview(self) -> None:
        exp = self.current_exporter()
        if exp is None or not self.loaded:
            return
        if self.preview_job is not None:
            self.preview_job.cancel()
            self.preview_job = None
        self.portrait.hide()
        if is_card(exp):
            if self.form.character.currentData() is None:
                self.preview.setPlainText("")
                self.preview.setPlaceholderText("Add a character to the scene bible first.")
                return
            self._start_preview(card_preview, self.db, self.story_id, exp.id,
                                self.form.options())
            return
        if not has_text_preview(exp):
            return
        if self.form.problem():
            self.preview.setPlainText("")
            return
        options = self.form.options()
        first = self.form.checked_chapters()[:1]
        if first and "chapters" in exp.options:
            options = dataclasses.replace(options, chapters=tuple(first))
        self._start_preview(preview_text, self.db, self.story_id, exp.id, options)

    def _start_preview(self, fn, *args: Any) -> None:
        job = FormatJob(self)
        self.preview_job = job
        self.preview.setPlaceholderText("Making the preview…")
        job.finished.connect(lambda result: self._preview_ready(job, result))
        job.failed.connect(lambda exc: self._preview_failed(job, exc))
        job.start(fn, *args)

    def _preview_ready(self, job: FormatJob, result: Any) -> None:
        if job is not self.preview_job:
            return
        self.preview_job = None
        if isinstance(result, tuple):
            text, image = result
            if image:
                pixmap = QPixmap.fromImage(QImage.fromData(image))
                if not pixmap.isNull():
                    self.portrait.setPixmap(pixmap.scaledToWidth(
                        116, Qt.TransformationMode.SmoothTransformation))
                    self.portrait.show()
        else:
            text = result
        self.preview.setPlainText(text)

    def _preview_failed(self, job: FormatJob, exc: BaseException) -> None:
        if job is not self.preview_job:
            return
        self.preview_job = None
        self.preview.setPlainText("")
        self.preview.setPlaceholderText(f"No preview: {exc}")

    # --- exporting -----------------------------------------------------------------------------

    def export(self) -> None:
        exp = self.current_exporter()
        if exp is None or self.job is not None:
            return
        problem = (None if self.loaded else "The story is still being read.") \
            or self.form.problem()
        target = self.target.text().strip()
        if not problem and not target:
            problem = "Choose where to save the export."
        if problem:
            self._set_status(problem, error=True)
            return
        options = self.form.options()
        if "author" in exp.options:
            self.settings.setValue(SETTINGS_AUTHOR, options.author)
        out = Path(target).expanduser()
        self.settings.setValue(SETTINGS_DIR, str(out.parent))
        job = FormatJob(self)
        self.job = job
        job.progress.connect(self._progress)
        job.finished.connect(self._exported)
        job.failed.connect(self._export_failed)
        job.cancelled.connect(self._export_cancelled)
        self._set_running(True)
        self._set_status(f"Exporting {exp.label}…")
        doc = self.window_.document
        if doc is not None and doc.story_id == self.story_id:
            doc.flush()
        # Started once the runner has written what is on screen (its jobs run in order).
        self.window_.runner.run(lambda: None, on_done=lambda _r: job.start(
            format_io.export, self.db, self.story_id, exp.id, out, options))

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.progress.setRange(0, 0)
        self.export_button.setEnabled(not running)
        self.formats.setEnabled(not running)
        self.form.setEnabled(not running)
        self.target.setEnabled(not running)
        self.cancel_button.setEnabled(True)

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def _exported(self, path: Path) -> None:
        self.job = None
        self._set_running(False)
        self.written = Path(path)
        self._set_status(f"Exported to {path}")
        self.exported.emit(self.written)
        self.accept()

    def _export_failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_running(False)
        self._set_status("The export failed; nothing was written.", error=True)
        box = QMessageBox(self)
        box.setObjectName("exportError")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Export")
        box.setText("Could not export the story")
        if isinstance(exc, StudioError):
            box.setInformativeText(str(exc))
        else:
            box.setInformativeText(f"Something went wrong: {exc}")
            box.setDetailedText(getattr(exc, "__traceback_text__", None) or repr(exc))
        self.error_box = box
        box.open()

    def _export_cancelled(self) -> None:
        self.job = None
        self._set_running(False)
        self._set_status("Export cancelled; nothing was written.")

    def reject(self) -> None:
        """Cancel stops a running export (the dialog stays, saying so); otherwise closes."""
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self._set_status("Stopping…")
            return
        if self.preview_job is not None:
            self.preview_job.cancel()
        super().reject()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

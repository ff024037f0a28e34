"""File ▸ Import…, Import a Folder…, Export…, and files dropped on the window.

Kept out of ``main_window.py`` (which stays a readable size): the window makes one
``FormatActions`` and adds its actions to the File menu.  Everything the dialogs offer comes
from ``studio.formats.registry`` at run time, so a format written later shows up here with no
change to this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QWidget,
)

from studio.formats import registry

if TYPE_CHECKING:
    from studio.ui.dialogs.export_dialog import ExportDialog
    from studio.ui.dialogs.import_dialog import ImportDialog
    from studio.ui.main_window import MainWindow

SETTINGS_IMPORT_DIR = "formats/lastImportDir"
EXPORTED_MESSAGE_MS = 15_000


def import_filters() -> str:
    """The file dialog's filters: everything importable first, then one line per format."""
    lines, every = [], []
    for imp in registry.importers():
        if not imp.extensions:
            continue
        patterns = " ".join(f"*{ext}" for ext in imp.extensions)
        every.extend(f"*{ext}" for ext in imp.extensions)
        lines.append(f"{imp.label} ({patterns})")
    head = [f"Everything Story Studio can import ({' '.join(dict.fromkeys(every))})"] \
        if every else []
    return ";;".join(head + lines + ["All files (*)"])


def folder_formats() -> list[str]:
    return [imp.label for imp in registry.importers() if imp.folders]


class FormatActions(QObject):
    """The import and export actions of one main window."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.import_dialog: ImportDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.act_import = self._action("&Import…", self.import_file, "Ctrl+Shift+I",
                                       "actImportFormat")
        self.act_import_folder = self._action("Import a &Folder…", self.import_folder, None,
                                              "actImportFolder")
        self.act_export = self._action("E&xport…", lambda: self.export(), "Ctrl+Shift+E",
                                       "actExportFormat")
        self._build_exported_note()
        self._exported: Path | None = None
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def _action(self, text: str, slot, shortcut: str | None, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.act_import)
        menu.addAction(self.act_import_folder)
        menu.addAction(self.act_export)

    def update_enabled(self) -> None:
        self.act_export.setEnabled(self.window.document is not None)

    def _settings(self) -> QSettings:
        return self.window.settings

    def _start_dir(self) -> str:
        last = self._settings().value(SETTINGS_IMPORT_DIR)
        return str(last) if last and Path(str(last)).is_dir() else str(Path.home())

    # --- import ------------------------------------------------------------------------------

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import", self._start_dir(),
                                              import_filters())
        if path:
            self.import_path(Path(path))

    def import_folder(self) -> None:
        kinds = " or ".join(folder_formats()) or "project"
        path = QFileDialog.getExistingDirectory(
            self.window, f"Import a folder ({kinds})", self._start_dir())
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path, format_id: str | None = None) -> "ImportDialog":
        """Preview and import ``path``: the entry point of the menus, drops and tests."""
        from studio.ui.dialogs.import_dialog import ImportDialog

        self._settings().setValue(SETTINGS_IMPORT_DIR,
                                  str(path if path.is_dir() else path.parent))
        if self.import_dialog is not None:
            self.import_dialog.deleteLater()
        self.import_dialog = ImportDialog.for_path(self.window, path, format_id)
        return self.import_dialog

    # --- export ------------------------------------------------------------------------------

    def export(self, story_id: int | None = None) -> "ExportDialog | None":
        from studio.ui.dialogs.export_dialog import ExportDialog

        window = self.window
        doc = window.document
        story_id = story_id or (doc.story_id if doc else None)
        if story_id is None:
            window.statusBar().showMessage("Open a story first; then you can export it.", 6000)
            return None
        if self.export_dialog is not None:
            self.export_dialog.deleteLater()
        self.export_dialog = ExportDialog(window, story_id)
        self.export_dialog.exported.connect(self.show_exported)
        self.export_dialog.open()
        return self.export_dialog

    def _build_exported_note(self) -> None:
        """"Exported to …" with an Open folder button, as a normal status-bar widget (a
        temporary message would paint over a button).  Any later message hides it for good:
        hidden explicitly, the status bar does not bring it back when that message ends."""
        bar = self.window.statusBar()
        self.exported_note = QWidget()
        self.exported_note.setObjectName("exportedNote")
        row = QHBoxLayout(self.exported_note)
        row.setContentsMargins(2, 0, 0, 0)
        row.setSpacing(6)
        self.exported_label = QLabel()
        self.exported_label.setObjectName("exportedLabel")
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setObjectName("openExportFolder")
        self.open_folder.setToolTip("Show the exported file in the file manager")
        self.open_folder.clicked.connect(self._open_exported_folder)
        row.addWidget(self.exported_label)
        row.addWidget(self.open_folder)
        bar.addWidget(self.exported_note)
        self.exported_note.hide()
        self._note_timer = QTimer(self, singleShot=True, interval=EXPORTED_MESSAGE_MS)
        self._note_timer.timeout.connect(self.exported_note.hide)
        bar.messageChanged.connect(lambda text: text and self.exported_note.hide())

    def show_exported(self, path: Path) -> None:
        """The status bar names the file, with a button that opens its folder."""
        self._exported = Path(path)
        self.window.statusBar().clearMessage()
        self.exported_label.setText(f"Exported to {path}")
        self.exported_note.show()
        self._note_timer.start()

    def _open_exported_folder(self) -> None:
        if self._exported is None:
            return
        folder = self._exported if self._exported.is_dir() else self._exported.parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # --- drag and drop -----------------------------------------------------------------------

    def stop_jobs(self, timeout: float = 10.0) -> None:
        """On close: a running read or export is cancelled and waited for, so no temporary
        file is left behind by a thread the process ends under."""
        jobs = []
        if self.import_dialog is not None:
            jobs.append(self.import_dialog.job)
        if self.export_dialog is not None:
            jobs += [self.export_dialog.job, self.export_dialog.preview_job]
        for job in jobs:
            if job is not None and job.running:
                job.cancel()
                job.wait(timeout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop_jobs()
            return False
        if watched is self.window and event.type() in (QEvent.Type.DragEnter,
                                                       QEvent.Type.DragMove):
            if self._dropped_path(event) is not None:
                event.acceptProposedAction()
                return True
        elif watched is self.window and event.type() == QEvent.Type.Drop:
            path = self._dropped_path(event)
            if path is not None:
                event.acceptProposedAction()
                QTimer.singleShot(0, lambda: self.import_path(path))
                return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _dropped_path(event) -> Path | None:
        """One local file or folder that some importer reads; anything else is not ours."""
        mime = event.mimeData()
        if mime is None or not mime.hasUrls() or len(mime.urls()) != 1:
            return None
        url = mime.urls()[0]
        if not url.isLocalFile():
            return None
        path = Path(url.toLocalFile())
        # By name only: a drag hovers many times a second, and sniffing reads the file.  The
        # import dialog reads it properly and names the reason if it is not what it seems.
        if path.is_dir():
            return path if folder_formats() else None
        known = {ext for imp in registry.importers() for ext in imp.extensions}
        return path if path.suffix.lower() in known else None

"""The main window: library on the left, the open story's panels in the centre, versions in a
dock, menus with the usual shortcuts, and a status bar that says whether everything is saved."""

from __future__ import annotations

import asyncio
import traceback
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QStackedLayout, QTabWidget,
    QWidget,
)

from studio import __version__
from studio.domain.errors import StudioError
from studio.domain.story import StoryDetail, StorySummary
from studio.services import portability, stories
from studio.store.database import Database
from studio.ui.branch_actions import BranchActions
from studio.ui.document import StoryDocument
from studio.ui.format_actions import FormatActions
from studio.ui.history_actions import HistoryActions
from studio.ui.library import LibraryView
from studio.ui.marketplace_session import MarketplaceSession
from studio.ui.panels import PANELS
from studio.ui.panels.base import Panel
from studio.ui.panels.versions_dock import VersionsPanel
from studio.ui.runner import ServiceRunner
from studio.ui.widgets.sync_status import SyncStatusIndicator

SETTINGS_LAST_STORY = "library/lastStory"


class MainWindow(QMainWindow):
    def __init__(self, db: Database, settings: QSettings | None = None):
        super().__init__()
        self.db = db
        self.settings = settings or QSettings()
        self.runner = ServiceRunner(self)
        self.runner.failed.connect(self.show_error)
        self.document: StoryDocument | None = None
        self.last_error_box: QMessageBox | None = None
        self.last_diff_dialog = None
        self.setObjectName("mainWindow")
        self.setWindowTitle("Story Studio")
        self.resize(1280, 800)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("panels")
        self.tabs.setDocumentMode(True)
        self.panels: list[Panel] = []
        for panel_cls in PANELS:
            panel = panel_cls()
            self.panels.append(panel)
            self.tabs.addTab(panel, panel.title)
        self.placeholder = QLabel("Choose a story in the library, or start a new one.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        central = QWidget()
        self.central_stack = QStackedLayout(central)
        self.central_stack.addWidget(self.placeholder)
        self.central_stack.addWidget(self.tabs)
        # The panels are laid out with the window (start-up), not when the first story opens.
        self.central_stack.setCurrentWidget(self.tabs)
        self.setCentralWidget(central)

        self.library = LibraryView()
        self.library.storyActivated.connect(self.open_story)
        self.library.newStoryRequested.connect(self.new_story)
        self.library.exportRequested.connect(self.export_story)
        self.library.formatExportRequested.connect(lambda sid: self.formats.export(sid))
        self.library.deleteRequested.connect(self.delete_story)
        self.library_dock = self._dock("Library", "libraryDock", self.library,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.versions = VersionsPanel(self)
        self.versions_dock = self._dock("Versions", "versionsDock", self.versions,
                                        Qt.DockWidgetArea.RightDockWidgetArea)

        self.word_counts = QLabel("")
        self.word_counts.setObjectName("wordCounts")
        self.statusBar().addPermanentWidget(self.word_counts)
        self.save_state = QLabel("")
        self.save_state.setObjectName("saveState")
        self.statusBar().addPermanentWidget(self.save_state)
        self.marketplace = MarketplaceSession(db, self.runner, self)
        self.sync_status = SyncStatusIndicator()
        self.sync_status.clicked.connect(self.show_outbox)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.marketplace.statusChanged.connect(self._sync_status_changed)
        for panel in self.panels:
            counts = getattr(panel, "countsChanged", None)
            if counts is not None:
                counts.connect(self.word_counts.setText)
            wants_segment = getattr(panel, "segmentRequested", None)
            if wants_segment is not None:
                wants_segment.connect(self.show_segment)
            attach = getattr(panel, "attach_marketplace", None)
            if attach is not None:
                attach(self.marketplace, self)
                panel.messageRequested.connect(
                    lambda text: self.statusBar().showMessage(text, 8000))
        self._build_menus()
        self.branches = BranchActions(self)  # toolbar switcher, Story menu, title
        self.history = HistoryActions(self)  # View ▸ Edit History, per-item history
        self._restore_window_state()
        self._update_actions()

    # --- construction ------------------------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&New Story", self.new_story, QKeySequence.StandardKey.New, "actNew")
        file.addSeparator()
        self.formats = FormatActions(self)  # Import…, Import a Folder…, Export…, drops
        self.formats.add_to(file)
        file.addSeparator()
        self._action(file, "&Import Story (JSON)…", self.import_story, "Ctrl+I", "actImport")
        self.act_export = self._action(file, "&Export Story (JSON)…",
                                       lambda: self.export_story(None), "Ctrl+E", "actExport")
        self._action(file, "Import the &Sample Story", self.import_sample, None, "actSample")
        file.addSeparator()
        self._action(file, "Back Up the &Database", self.backup_database, None, "actBackup")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit, "actQuit")

        edit = bar.addMenu("&Edit")
        self.act_undo = self._action(edit, "&Undo", self.undo, QKeySequence.StandardKey.Undo,
                                     "actUndo")
        redo_keys = [k.toString() for k in
                     QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)]
        for extra in ("Ctrl+Shift+Z", "Ctrl+Y"):  # both habits work on every platform
            if extra not in redo_keys:
                redo_keys.append(extra)
        self.act_redo = self._action(edit, "&Redo", self.redo, redo_keys, "actRedo")

        story = bar.addMenu("&Story")
        self.act_save_version = self._action(story, "&Save Version…",
                                             lambda: self.versions.save_version(),
                                             "Ctrl+Shift+S", "actSaveVersion")
        self.act_compare = self._action(story, "&Compare with a Version…", self.compare_latest,
                                        "Ctrl+Shift+D", "actCompare")
        for panel in self.panels:  # a panel may offer story actions (Analyse Story)
            for action in getattr(panel, "story_actions", lambda _window: [])(self):
                story.addAction(action)
        story.addSeparator()
        self.act_delete = self._action(story, "&Delete Story…",
                                       lambda: self.delete_story(None), None, "actDelete")

        view = bar.addMenu("&View")
        for i, panel in enumerate(self.panels, 1):
            self._action(view, panel.title, lambda _=False, p=panel: self.show_panel(p),
                         f"Ctrl+{i}")
        view.addSeparator()
        lib = self.library_dock.toggleViewAction()
        lib.setShortcut(QKeySequence("Ctrl+Shift+L"))
        view.addAction(lib)
        ver = self.versions_dock.toggleViewAction()
        ver.setShortcut(QKeySequence("Ctrl+Shift+V"))
        view.addAction(ver)
        view.addSeparator()
        self._action(view, "&Full Screen", self.toggle_full_screen,
                     QKeySequence.StandardKey.FullScreen, "actFullScreen")

        settings = bar.addMenu("Se&ttings")
        self._action(settings, "&AI Providers…", lambda: self.show_providers(), "Ctrl+Alt+P",
                     "actProviders")

        helpm = bar.addMenu("&Help")
        self._action(helpm, "&About Story Studio", self.about, None, "actAbout")

    def _restore_window_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.library_dock, self.versions_dock], [240, 290],
                             Qt.Orientation.Horizontal)

    # --- library -------------------------------------------------------------------------------

    def refresh_library(self, then=None) -> None:
        def show(summaries: list[StorySummary]) -> None:
            self.library.set_stories(summaries)
            if then:
                then(summaries)

        self.runner.run(stories.list_stories, self.db, on_done=show, on_error=self.show_error)

    def start(self) -> None:
        """Fill the library and reopen the story the author had open last time."""
        def opened(summaries: list[StorySummary]) -> None:
            if not summaries:
                self.central_stack.setCurrentWidget(self.placeholder)
                return
            last = self.settings.value(SETTINGS_LAST_STORY)
            ids = [s.id for s in summaries]
            try:
                target = int(last) if last is not None and int(last) in ids else ids[0]
            except (TypeError, ValueError):
                target = ids[0]
            self.open_story(target)
            self._verify_search_index()  # queued behind the open: the story shows first

        self.refresh_library(then=opened)

    def start_marketplace(self) -> asyncio.Future:
        """Connect to the default marketplace and start draining the outbox; needs the qasync
        loop (the app starts it right after the loop exists; tests call it explicitly)."""
        task = asyncio.ensure_future(self.marketplace.start())

        def started(done: asyncio.Future) -> None:
            if not done.cancelled() and done.exception() is not None:
                self.show_error(done.exception())

        task.add_done_callback(started)
        return task

    def _sync_status_changed(self, status) -> None:
        was = self.sync_status.state
        self.sync_status.show_status(status.state, status.waiting, status.last_error,
                                     status.next_retry_in)
        if status.state == "signed_out" and was != "signed_out":
            # An expired or revoked sign-in: ask again, in words, instead of an error dump.
            for panel in self.panels:
                ask = getattr(panel, "ask_to_sign_in_again", None)
                if ask is not None:
                    ask()

    def show_outbox(self) -> None:
        from studio.ui.dialogs.outbox_dialog import OutboxDialog

        self.outbox_dialog = OutboxDialog(self.marketplace, self)
        self.outbox_dialog.open()

    def show_providers(self) -> None:
        """Settings → AI providers (also opened from a module's "add a provider" hint)."""
        from studio.ui.dialogs.providers_dialog import ProvidersDialog

        dialog = getattr(self, "providers_dialog", None)
        if dialog is None or not dialog.isVisible():
            if dialog is not None:
                dialog.deleteLater()  # closed earlier: a fresh one reads the providers anew
            doc = self.document
            dialog = ProvidersDialog(self.db, self.runner, doc.story_id if doc else None,
                                     doc.detail.fields.title if doc else "", self)
            self.providers_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def reload_story(self) -> None:
        """Read the open story afresh (after a pull changed it behind the panels' back)."""
        doc = self.document
        if doc is None:
            return

        def reloaded(detail: StoryDetail) -> None:
            doc.replace_detail(detail)
            self.versions.refresh()
            self.refresh_library()

        self.runner.run(stories.open_story, self.db, doc.story_id, on_done=reloaded,
                        on_error=self.show_error)

    def _verify_search_index(self) -> None:
        """The search index is kept in step by triggers; if a check still finds it stale (a
        file restored by hand, a tool that wrote the prose), it is rebuilt quietly."""
        from studio.services import manuscript

        self.runner.run(manuscript.verify_search_index, self.db,
                        on_done=lambda ok: ok or self.statusBar().showMessage(
                            "The search index was out of date and has been rebuilt.", 8000),
                        on_error=self.show_error)

    def open_story(self, story_id: int) -> None:
        if self.document is not None:
            if self.document.story_id == story_id:
                return
            self.document.flush()
        self.runner.run(stories.open_story, self.db, story_id, on_done=self._show_story,
                        on_error=self.show_error)

    def _show_story(self, detail: StoryDetail) -> None:
        old = self.document
        if old is not None and old.state == "error" and old.has_unsaved():
            # The save queued before the switch failed (a full disk…): its retries belong to
            # this story's document, so stay on it rather than drop them with it.
            self.show_error(StudioError(
                f"Your last changes to “{old.detail.fields.title}” could not be saved "
                f"({old.message}), so it stays open: nothing is lost. Free some space and it "
                "saves on its own; then open the other story again."))
            self.branches.set_document(old)
            self.library.mark_current(old.story_id)
            return
        doc = StoryDocument(self.db, self.runner, detail, self)
        doc.saveStateChanged.connect(self._save_state_changed)
        doc.valueChanged.connect(self._value_changed)
        doc.busyChanged.connect(lambda busy: self.tabs.setEnabled(not busy))
        doc.undo_stack.canUndoChanged.connect(self._update_actions)
        doc.undo_stack.canRedoChanged.connect(self._update_actions)
        doc.undo_stack.undoTextChanged.connect(self._update_actions)
        doc.undo_stack.redoTextChanged.connect(self._update_actions)
        self.document = doc
        for panel in self.panels:
            panel.set_document(doc)
        self.versions.set_document(doc)
        self.branches.set_document(doc)
        self.history.set_document(doc)
        self.library.mark_current(detail.id)
        self.central_stack.setCurrentWidget(self.tabs)
        self.settings.setValue(SETTINGS_LAST_STORY, detail.id)
        self._save_state_changed(doc.state, doc.message)
        self._update_title()
        self._update_actions()
        if self.marketplace.server is not None:
            for panel in self.panels:
                check = getattr(panel, "check_for_update_soon", None)
                if check is not None:
                    check()
        if old is not None:
            old.deleteLater()

    def _close_story(self) -> None:
        self.document = None
        for panel in self.panels:
            panel.set_document(None)
        self.versions.set_document(None)
        self.branches.set_document(None)
        self.history.set_document(None)
        self.central_stack.setCurrentWidget(self.placeholder)
        self.library.mark_current(None)
        self._update_title()
        self._update_actions()

    def new_story(self) -> None:
        def created(detail: StoryDetail) -> None:
            self.refresh_library()
            self._show_story(detail)
            self.panels[0].header.title.setFocus()
            self.panels[0].header.title.selectAll()

        if self.document is not None:
            self.document.flush()
        self.runner.run(stories.create_story, self.db, on_done=created, on_error=self.show_error)

    def import_story(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a story", str(Path.home()),
                                              "Story Studio stories (*.json);;All files (*)")
        if path:
            self.import_story_file(Path(path))

    def import_story_file(self, path: Path) -> None:
        def imported(detail: StoryDetail) -> None:
            self.statusBar().showMessage(f"Imported “{detail.fields.title}”", 6000)
            self.refresh_library()
            self._show_story(detail)

        self.runner.run(portability.import_file, self.db, path, on_done=imported,
                        on_error=self.show_error)

    def import_sample(self) -> None:
        self.import_story_file(portability.sample_path())

    def export_story(self, story_id: int | None) -> None:
        story_id = story_id or (self.document.story_id if self.document else None)
        if story_id is None:
            return
        if self.document is not None:
            self.document.flush()
        title = next((s.title for s in self.library.summaries if s.id == story_id), "story")
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip() or "story"
        path, _ = QFileDialog.getSaveFileName(self, "Export story", str(Path.home() /
                                              f"{safe}.story.json"), "JSON (*.json)")
        if path:
            self.runner.run(portability.export_file, self.db, story_id, Path(path),
                            on_done=lambda _: self.statusBar().showMessage(
                                f"Exported to {path}", 6000),
                            on_error=self.show_error)

    def delete_story(self, story_id: int | None) -> None:
        story_id = story_id or (self.document.story_id if self.document else None)
        if story_id is None:
            return
        title = next((s.title for s in self.library.summaries if s.id == story_id), "this story")
        answer = QMessageBox.question(
            self, "Delete story?",
            f"Move “{title}” to the trash? Its versions go with it. It stays in the database "
            "file and can be brought back until the trash is emptied.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.document is not None and story_id in (self.document.story_id,
                                                      self.branches.trunk_id()):
            self.document.flush()  # a branch of the story goes to the trash with it
            self._close_story()
        self.runner.run(stories.delete_story, self.db, story_id,
                        on_done=lambda _: self._deleted(story_id, title),
                        on_error=self.show_error)

    def _deleted(self, story_id: int, title: str) -> None:
        self.statusBar().showMessage(f"“{title}” moved to the trash", 8000)
        self.refresh_library()

    def backup_database(self) -> None:
        self.runner.run(self.db.backup, "manual",
                        on_done=lambda path: self.statusBar().showMessage(
                            f"Database backed up to {path}", 8000),
                        on_error=self.show_error)

    # --- editing -------------------------------------------------------------------------------

    def undo(self) -> None:
        if self.document is not None and not self.document.busy:
            self.document.undo_stack.undo()

    def redo(self) -> None:
        if self.document is not None and not self.document.busy:
            self.document.undo_stack.redo()

    def compare_latest(self) -> None:
        if self.versions.versions:
            self.versions.tree.setCurrentItem(self.versions.tree.topLevelItem(0))
            self.versions.compare_selected()
        else:
            self.statusBar().showMessage("Save a version first; then you can compare.", 5000)

    def show_panel(self, panel: Panel) -> None:
        self.tabs.setCurrentWidget(panel)

    def show_segment(self, scene_uid: str, segment_uid: str) -> None:
        """Open the manuscript at one paragraph (a continuity finding, a bible anchor)."""
        for panel in self.panels:
            jump = getattr(panel, "jump_to_segment", None)
            if jump is not None:
                self.show_panel(panel)
                jump(scene_uid, segment_uid)
                return

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _update_actions(self, *_args) -> None:
        doc = self.document
        stack = doc.undo_stack if doc else None
        self.act_undo.setEnabled(bool(stack and stack.canUndo()))
        self.act_redo.setEnabled(bool(stack and stack.canRedo()))
        self.act_undo.setText(f"&Undo {stack.undoText()}" if stack and stack.canUndo()
                              else "&Undo")
        self.act_redo.setText(f"&Redo {stack.redoText()}" if stack and stack.canRedo()
                              else "&Redo")
        for action in (self.act_save_version, self.act_compare, self.act_delete,
                       self.act_export):
            action.setEnabled(doc is not None)
        self.formats.update_enabled()

    def _value_changed(self, target: tuple) -> None:
        if target == ("story", "title") and self.document is not None:
            self.library.retitle(self.document.story_id, self.document.detail.fields.title)
            self._update_title()

    def _update_title(self) -> None:
        if self.document is None:
            self.setWindowTitle("Story Studio")
        else:
            branch = self.branches.title_part() if hasattr(self, "branches") else ""
            self.setWindowTitle(f"{self.document.detail.fields.title}{branch} — Story Studio")

    def _save_state_changed(self, state: str, message: str) -> None:
        self.save_state.setText(message)
        self.save_state.setProperty("state", state)
        colour = {"error": "#c0392b", "saving": "palette(mid)"}.get(state, "")
        self.save_state.setStyleSheet(f"color: {colour};" if colour else "")
        if state == "saved" and self.document is not None:
            QTimer.singleShot(0, self.refresh_library_soon)

    def refresh_library_soon(self) -> None:
        if not hasattr(self, "_library_timer"):
            self._library_timer = QTimer(self, singleShot=True, interval=1500)
            self._library_timer.timeout.connect(self.refresh_library)
        self._library_timer.start()

    # --- errors and the end ----------------------------------------------------------------

    def show_error(self, exc: BaseException) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Story Studio")
        if isinstance(exc, StudioError):
            box.setText(str(exc))
        else:
            box.setText(f"Something went wrong: {exc}")
            box.setDetailedText(getattr(exc, "__traceback_text__", None)
                                or "".join(traceback.format_exception(exc)))
        self.statusBar().showMessage(str(exc), 10000)
        self.last_error_box = box
        box.open()

    def about(self) -> None:
        QMessageBox.about(self, "About Story Studio",
                          f"<h3>Story Studio {__version__}</h3><p>A writing studio for novels "
                          f"and interactive stories.</p><p>Data: {self.db.path}</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.document is not None:
            self.document.flush()
        self.runner.wait_idle(30)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        super().closeEvent(event)

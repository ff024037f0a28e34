"""The edit history in the main window: the Edit History dock (View ▸ Edit History,
Ctrl+Shift+H), "History of This Scene/Chapter…" from the manuscript outline, and showing what a
restore changed.

Kept out of ``main_window.py`` (like the branch actions): the window makes one
``HistoryActions`` and tells it when the open story changes.  After a restore the parts of the
window that show the restored item read it again: the scene's text in the editor (the cached
copy is dropped first), the outline for titles and synopses, the whole story for modules and
story fields (``MainWindow.reload_story``, the document's ``reloaded`` signal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

from studio.domain.history_text import HistoryItem, quote
from studio.ui.panels.history_panel import HistoryPanel

if TYPE_CHECKING:
    from studio.ui.document import StoryDocument
    from studio.ui.main_window import MainWindow

HISTORY_KEYS = "Ctrl+Shift+H"
MIN_HEIGHT = 300
FLOAT_SIZE = (1100, 600)


class HistoryActions(QObject):
    """The edit history features of one main window."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.panel = HistoryPanel(window)
        self.dock = window._dock("Edit History", "historyDock", self.panel,
                                 Qt.DockWidgetArea.BottomDockWidgetArea)
        self.dock.setFeatures(self.dock.features()
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.dock.hide()  # until asked for (or the saved window state shows it)
        self.action = self.dock.toggleViewAction()
        self.action.setText("Edit &History")
        self.action.setObjectName("actEditHistory")
        self.action.setShortcut(QKeySequence(HISTORY_KEYS))
        self.action.setToolTip("Who changed what, and when — with Restore This")
        self._add_to_view_menu()
        self.dock.visibilityChanged.connect(self._first_shown)
        self.panel.restored.connect(self._restored)
        self.panel.showRequested.connect(self._show_item)
        for panel in window.panels:
            wants = getattr(panel, "historyRequested", None)
            if wants is not None:
                wants.connect(self.show_for)

    def _add_to_view_menu(self) -> None:
        versions = self.window.versions_dock.toggleViewAction()
        for menu_action in self.window.menuBar().actions():
            menu = menu_action.menu()
            if menu is None or versions not in menu.actions():
                continue
            actions = menu.actions()
            after = actions.index(versions) + 1
            if after < len(actions):
                menu.insertAction(actions[after], self.action)
            else:
                menu.addAction(self.action)
            return
        self.window.menuBar().addAction(self.action)

    def _first_shown(self, visible: bool) -> None:
        if visible and not self.dock.isFloating():
            QTimer.singleShot(0, self._fit)

    def _fit(self) -> None:
        """The list and the change need room to be read.  Below the panels there is often
        too little (some panels need 600 pixels of height), so then the history floats over
        the window at a readable size; a double-click on its title docks it again."""
        if self.dock.isFloating() or not self.dock.isVisible() or \
                self.dock.height() >= MIN_HEIGHT:
            return
        self.window.resizeDocks([self.dock], [MIN_HEIGHT], Qt.Orientation.Vertical)
        if self.dock.height() >= MIN_HEIGHT - 40:
            return
        frame = self.window.geometry()
        width = min(FLOAT_SIZE[0], frame.width() - 60)
        height = min(FLOAT_SIZE[1], max(MIN_HEIGHT, frame.height() - 120))
        self.dock.setFloating(True)
        self.dock.resize(width, height)
        self.dock.move(frame.center().x() - width // 2, frame.center().y() - height // 2)

    def set_document(self, document: "StoryDocument | None") -> None:
        self.panel.set_document(document)

    def _manuscript(self):
        return next((p for p in self.window.panels if hasattr(p, "show_restored")), None)

    def show(self) -> None:
        self.dock.show()
        self.dock.raise_()

    def show_for(self, kind: str, uid: str) -> None:
        """Open the history filtered to one chapter (with its scenes) or scene."""
        manuscript = self._manuscript()
        outline = getattr(manuscript, "outline", None)
        label = "this item"
        if outline is not None and kind == "chapter" and outline.chapter(uid) is not None:
            number = next(i for i, c in enumerate(outline.chapters, 1) if c.uid == uid)
            label = f"Chapter {number} {quote(outline.chapter(uid).title)}"
        elif outline is not None and outline.scene(uid) is not None:
            label = f"Scene {quote(outline.scene(uid).title)}"
        self.show()
        self.panel.show_item(uid, label)

    def _restored(self, item: HistoryItem, which: str, _sentence: str) -> None:
        manuscript = self._manuscript()
        if item.entity_type == "scene_text" and manuscript is not None:
            segment = which or next((d.key for d in item.details if d.restorable), "")
            self.window.show_panel(manuscript)
            manuscript.show_restored("scene_text", item.entity_id, segment)
        elif item.entity_type in ("scene", "chapter") and manuscript is not None:
            manuscript.show_restored(item.entity_type, item.entity_id)
        else:
            self.window.reload_story()

    def _show_item(self, item: HistoryItem) -> None:
        manuscript = self._manuscript()
        if manuscript is None:
            return
        if item.entity_type in ("scene", "scene_text"):
            segment = next((d.key for d in item.details if d.kind == "text" and d.key), "")
            self.window.show_panel(manuscript)
            if segment:
                manuscript.jump_to_segment(item.entity_id, segment)
            else:
                manuscript.open_scene(item.entity_id)
        elif item.entity_type == "chapter":
            self.window.show_panel(manuscript)
            row = manuscript._item_for(item.entity_id)
            if row is not None:
                manuscript.tree.setCurrentItem(row)

"""The versions dock: save a version, see the list, compare any two, restore one.

Restoring never rewrites history: it makes a new version equal to the old one, and the step is
on the undo stack like any edit (undo puts the story back as it was just before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QMenu,
    QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.story import VersionInfo
from studio.services import versions
from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.diff_dialog import DiffDialog
from studio.ui.document import StoryDocument
from studio.ui.timefmt import relative_time

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class VersionsPanel(QWidget):
    versionsChanged = Signal()
    branchFromVersionRequested = Signal(int)  # a version number: "Branch From Here…"

    def __init__(self, window: "MainWindow"):
        super().__init__()
        self.window = window
        self.document: StoryDocument | None = None
        self.setObjectName("versionsPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.tree = QTreeWidget()
        self.tree.setObjectName("versionList")
        self.tree.setHeaderLabels(["#", "Version", "Saved"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.compare_selected())
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._tree_menu)
        lay.addWidget(self.tree, 1)
        self.empty_hint = QLabel("No versions yet. <b>Save version</b> keeps a snapshot of "
                                 "the whole story you can compare with and return to.")
        self.empty_hint.setWordWrap(True)
        lay.addWidget(self.empty_hint)
        row = QHBoxLayout()
        self.save_button = QPushButton("Save version…")
        self.save_button.setObjectName("saveVersion")
        self.save_button.setToolTip(f"Save a snapshot ({QKeySequence('Ctrl+Shift+S').toString()})")
        self.save_button.clicked.connect(lambda: self.save_version())
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareVersions")
        self.compare_button.setToolTip("Compare two selected versions, or one with the story now")
        self.compare_button.clicked.connect(self.compare_selected)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("restoreVersion")
        self.restore_button.setToolTip("Make the story as it was in this version (undoable)")
        self.restore_button.clicked.connect(self.restore_selected)
        for b in (self.save_button, self.compare_button, self.restore_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.versions: list[VersionInfo] = []
        self.set_document(None)

    def set_document(self, document: StoryDocument | None) -> None:
        self.document = document
        self.save_button.setEnabled(document is not None)
        self.versions = []
        self._fill()
        if document is not None:
            self.refresh()

    def refresh(self) -> None:
        doc = self.document
        if doc is None:
            return
        story_id = doc.story_id

        def show(result: list[VersionInfo]) -> None:
            if self.document is doc:
                self.versions = result
                self._fill()
                self.versionsChanged.emit()

        self.window.runner.run(versions.list_versions, doc.db, story_id, on_done=show,
                               on_error=self.window.show_error)

    def _fill(self) -> None:
        self.tree.clear()
        for v in self.versions:
            label = v.label or "(no label)"
            text = f"{label}\n{v.summary}" if v.summary else label
            item = QTreeWidgetItem([str(v.number), text, relative_time(v.created_at)])
            item.setData(0, Qt.ItemDataRole.UserRole, v.number)
            item.setToolTip(1, f"{label}\nChanged: {v.summary}")
            item.setToolTip(2, v.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"))
            self.tree.addTopLevelItem(item)
        self.empty_hint.setVisible(not self.versions and self.document is not None)
        self._update_buttons()

    def _tree_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None or self.document is None:
            return
        if not item.isSelected():
            self.tree.setCurrentItem(item)
        number = item.data(0, Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction("Compare", self.compare_selected)
        menu.addAction(f"Restore Version {number}", lambda: self.restore(number))
        menu.addSeparator()
        menu.addAction("Branch From Here…", lambda: self.branchFromVersionRequested.emit(number))
        self.last_menu = menu
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def selected_numbers(self) -> list[int]:
        return sorted(i.data(0, Qt.ItemDataRole.UserRole) for i in self.tree.selectedItems())

    def _update_buttons(self) -> None:
        n = len(self.selected_numbers())
        self.compare_button.setEnabled(n in (1, 2))
        self.restore_button.setEnabled(n == 1)

    # --- actions ---------------------------------------------------------------------------

    def save_version(self, label: str | None = None,
                     on_saved: Callable[[VersionInfo], None] | None = None) -> None:
        doc = self.document
        if doc is None:
            return
        if label is None:
            text, ok = QInputDialog.getText(
                self, "Save version", "Label (optional), e.g. “first draft of the ending”:",
                QLineEdit.EchoMode.Normal, "")
            if not ok:
                return
            label = text
        doc.flush()  # the runner saves pending edits before it takes the snapshot

        def saved(info: VersionInfo) -> None:
            self.window.statusBar().showMessage(
                f"Saved version {info.number}" + (f" “{info.label}”" if info.label else "")
                + f" — {info.summary}", 6000)
            self.refresh()
            if on_saved:
                on_saved(info)

        self.window.runner.run(versions.save_version, doc.db, doc.story_id, label,
                               on_done=saved, on_error=self.window.show_error)

    def compare_selected(self) -> None:
        doc = self.document
        numbers = self.selected_numbers()
        if doc is None or not numbers:
            return
        old, new = (numbers[0], numbers[1]) if len(numbers) == 2 else (numbers[0], None)
        doc.flush()
        dialog = DiffDialog(self.window, doc, self.versions, old, new)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.window.last_diff_dialog = dialog

    def restore_selected(self) -> None:
        numbers = self.selected_numbers()
        if len(numbers) == 1:
            self.restore(numbers[0])

    def restore(self, number: int) -> None:
        """Restore version ``number`` as one undoable step."""
        doc = self.document
        if doc is None:
            return
        doc.flush()
        state: dict = {}
        runner, window = self.window.runner, self.window

        def reload_story() -> None:
            from studio.services import stories

            def reloaded(detail) -> None:
                doc.replace_detail(detail)
                doc.end_busy()
                self.refresh()
                window.refresh_library()

            def failed(exc: BaseException) -> None:
                doc.end_busy()
                window.show_error(exc)

            runner.run(stories.open_story, doc.db, doc.story_id, on_done=reloaded,
                       on_error=failed)

        def do_restore(first: bool) -> None:
            doc.begin_busy()

            def work():
                if first:
                    state["before"] = versions.live_snapshot(doc.db, doc.story_id)
                    info = versions.restore_version(doc.db, doc.story_id, number)
                    state["after"] = versions.live_snapshot(doc.db, doc.story_id)
                    return info
                versions.apply_live_snapshot(doc.db, doc.story_id, state["after"])
                return None

            def done(info):
                if info is not None:
                    window.statusBar().showMessage(
                        f"Restored version {number} as version {info.number}", 6000)
                reload_story()

            runner.run(work, on_done=done, on_error=lambda exc: (doc.end_busy(),
                                                                 window.show_error(exc)))

        def undo_restore() -> None:
            doc.flush()
            doc.begin_busy()
            runner.run(versions.apply_live_snapshot, doc.db, doc.story_id, state["before"],
                       on_done=lambda _: reload_story(),
                       on_error=lambda exc: (doc.end_busy(), window.show_error(exc)))

        doc.undo_stack.push(CallbackCommand(f"Restore version {number}", do_restore,
                                            undo_restore))

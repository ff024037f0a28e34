"""The manuscript tree: chapters → scenes, renamed in place and reordered by drag and drop.

The tree never moves its own items: a drop is turned into a request (scene X to chapter Y at
position N) that the panel carries out as an undoable step and then redraws from the outline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from studio.domain.outline import Outline

KIND_ROLE = Qt.ItemDataRole.UserRole
UID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_MARK = {"idea": "◌", "draft": "◐", "revised": "◑", "final": "●"}


class OutlineTree(QTreeWidget):
    sceneMoveRequested = Signal(str, str, int)  # scene uid, chapter uid, position
    chapterMoveRequested = Signal(str, int)  # chapter uid, position
    renamed = Signal(str, str, str)  # kind ("chapter"/"scene"), uid, new title

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("manuscriptTree")
        self.setHeaderLabels(["Manuscript", "Words"])
        self.setColumnCount(2)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, self.header().ResizeMode.Stretch)
        # Sized once per fill, not per change: ResizeToContents re-measures every row whenever a
        # word count changes (11 ms per autosave on a 1,000-scene novel).
        self.header().setSectionResizeMode(1, self.header().ResizeMode.Interactive)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setUniformRowHeights(True)
        self.itemChanged.connect(self._item_changed)
        self._filling = False

    def fill(self, outline: Outline, current_scene: str | None = None) -> None:
        expanded = {self.topLevelItem(i).data(0, UID_ROLE)
                    for i in range(self.topLevelItemCount())
                    if self.topLevelItem(i).isExpanded()}
        first_fill = self.topLevelItemCount() == 0
        self._filling = True
        self.setUpdatesEnabled(False)
        self.clear()
        select = None
        for number, chapter in enumerate(outline.chapters, 1):
            ch_item = QTreeWidgetItem([chapter.title or f"Chapter {number}",
                                       f"{chapter.words:,}"])
            ch_item.setData(0, KIND_ROLE, "chapter")
            ch_item.setData(0, UID_ROLE, chapter.uid)
            ch_item.setFlags(ch_item.flags() | Qt.ItemFlag.ItemIsEditable
                             | Qt.ItemFlag.ItemIsDragEnabled)
            ch_item.setToolTip(0, chapter.synopsis or chapter.title)
            font = ch_item.font(0)
            font.setBold(True)
            ch_item.setFont(0, font)
            ch_item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            for scene in chapter.scenes:
                sc_item = QTreeWidgetItem([f"{STATUS_MARK.get(scene.status, '')} {scene.title}",
                                           f"{scene.words:,}"])
                sc_item.setData(0, KIND_ROLE, "scene")
                sc_item.setData(0, UID_ROLE, scene.uid)
                sc_item.setFlags((sc_item.flags() | Qt.ItemFlag.ItemIsEditable
                                  | Qt.ItemFlag.ItemIsDragEnabled)
                                 & ~Qt.ItemFlag.ItemIsDropEnabled)
                sc_item.setToolTip(0, f"{scene.status} · {scene.synopsis or scene.title}")
                sc_item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
                ch_item.addChild(sc_item)
                if scene.uid == current_scene:
                    select = sc_item
            self.addTopLevelItem(ch_item)
            ch_item.setExpanded(first_fill or chapter.uid in expanded
                                or (select is not None and select.parent() is ch_item))
        self.resizeColumnToContents(1)
        self.setColumnWidth(1, self.columnWidth(1) + 8)
        self.setUpdatesEnabled(True)
        if select is not None:
            self.setCurrentItem(select)
        self._filling = False

    def scene_title(self, item: QTreeWidgetItem) -> str:
        text = item.text(0)
        return text.split(" ", 1)[1] if item.data(0, KIND_ROLE) == "scene" and " " in text \
            else text

    def editItem(self, item, column=0) -> None:  # noqa: N802 - edit the bare title
        if item.data(0, KIND_ROLE) == "scene":
            self._filling = True
            item.setText(0, self.scene_title(item))
            self._filling = False
        super().editItem(item, column)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        kind, uid = item.data(0, KIND_ROLE), item.data(0, UID_ROLE)
        title = item.text(0).strip()
        if kind == "scene" and title[:1] in STATUS_MARK.values():
            title = title[1:].strip()
        self.renamed.emit(kind, uid, title)

    def dropEvent(self, event) -> None:  # noqa: N802
        dragged = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        position = self.dropIndicatorPosition()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dragged is None:
            return
        kind = dragged.data(0, KIND_ROLE)
        Indicator = QAbstractItemView.DropIndicatorPosition
        if kind == "scene":
            if target is None:
                return
            if target.data(0, KIND_ROLE) == "chapter":
                chapter = target
                index = chapter.childCount() if position == Indicator.OnItem else (
                    0 if position == Indicator.BelowItem else None)
                if index is None:  # above a chapter: the end of the chapter before it
                    before = self.indexOfTopLevelItem(target) - 1
                    if before < 0:
                        return
                    chapter = self.topLevelItem(before)
                    index = chapter.childCount()
            else:
                chapter = target.parent()
                index = chapter.indexOfChild(target) + (
                    0 if position == Indicator.AboveItem else 1)
            if dragged.parent() is chapter and chapter.indexOfChild(dragged) < index:
                index -= 1  # the scene leaves its old place first
            self.sceneMoveRequested.emit(dragged.data(0, UID_ROLE), chapter.data(0, UID_ROLE),
                                         index)
        elif kind == "chapter":
            if target is None:
                index = self.topLevelItemCount() - 1
            else:
                top = target if target.parent() is None else target.parent()
                index = self.indexOfTopLevelItem(top) + (
                    0 if position == Indicator.AboveItem and top is target else 1)
                if self.indexOfTopLevelItem(dragged) < index:
                    index -= 1
            self.chapterMoveRequested.emit(dragged.data(0, UID_ROLE), index)

"""List and table views of the bible editor, and the helpers that fill them.

The editor reloads every page after each edit, undo and redo, so these helpers update rows in
place — same keys, same items — and a reload keeps the selection and the scroll position.  An
empty view paints a friendly placeholder instead of a blank box, and in-place item editors are
``form.LineEdit``s so Ctrl+Z stays with the story's undo stack.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QHeaderView, QListWidget, QListWidgetItem,
    QStyledItemDelegate, QTableWidget, QTableWidgetItem, QWidget,
)

from studio.ui.widgets.bible_fields import muted_color
from studio.ui.widgets.form import LineEdit

KEY_ROLE = Qt.ItemDataRole.UserRole + 1


class LineEditDelegate(QStyledItemDelegate):
    """Item editors that leave Ctrl+Z to the story's undo stack."""

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt API
        editor = LineEdit(parent)
        editor.setFrame(False)
        return editor


def _paint_placeholder(view, text: str) -> None:
    painter = QPainter(view.viewport())
    painter.setPen(muted_color(view.palette()))
    rect = view.viewport().rect().adjusted(16, 16, -16, -16)
    painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                     | Qt.TextFlag.TextWordWrap, text)
    painter.end()


def _is_list_key(e: QEvent) -> str | None:
    if e.matches(QKeySequence.StandardKey.New):
        return "add"
    if e.matches(QKeySequence.StandardKey.Delete):
        return "delete"
    return None


class PlaceholderList(QListWidget):
    """A list that says something friendly when it has nothing (visible) to show.

    Ctrl+N and Del pressed in the list ask for an add / a delete.  They are taken as keys, not
    shortcuts, so the main window's own Ctrl+N (New Story) does not make them ambiguous.
    """

    addRequested = Signal()
    deleteRequested = Signal()

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.placeholder = placeholder

    def event(self, e: QEvent) -> bool:
        if (e.type() == QEvent.Type.ShortcutOverride and self.state()
                != QAbstractItemView.State.EditingState and _is_list_key(e)):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e) -> None:  # noqa: N802 - Qt API
        which = _is_list_key(e)
        if which == "add":
            self.addRequested.emit()
        elif which == "delete":
            self.deleteRequested.emit()
        else:
            super().keyPressEvent(e)

    def paintEvent(self, e) -> None:  # noqa: N802 - Qt API
        super().paintEvent(e)
        visible = any(not self.item(i).isHidden() for i in range(self.count()))
        if not visible and self.placeholder:
            _paint_placeholder(self, self.placeholder)


class PlaceholderTable(QTableWidget):
    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.placeholder = placeholder

    def paintEvent(self, e) -> None:  # noqa: N802 - Qt API
        super().paintEvent(e)
        if self.rowCount() == 0 and self.placeholder:
            _paint_placeholder(self, self.placeholder)


def dress_item(item: QTableWidgetItem, text: str, editable: bool, series: bool, tip: str) -> None:
    if item.text() != text:
        item.setText(text)
    flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
    if editable:
        flags |= Qt.ItemFlag.ItemIsEditable
    item.setFlags(flags)
    item.setToolTip(tip or text)
    font = item.font()
    if font.italic() != series:
        font.setItalic(series)
        item.setFont(font)
    if series:
        item.setForeground(muted_color(QApplication.palette()))
    else:
        item.setData(Qt.ItemDataRole.ForegroundRole, None)


def sync_keyed_list(view: QListWidget, entries: list[tuple[Any, Any]], selected: Any,
                    dress: Callable[[QListWidgetItem, Any, Any], None]) -> Any:
    """Show ``entries`` — (key, record) pairs — in ``view`` without emitting anything.

    Rows are updated in place while the keys stay the same (so the scroll position and the
    selection survive a reload).  The selection goes to ``selected`` if it is still there, else
    to the neighbour of the old current row, else to the first of the bible's own items (keys
    ``("own", …)``).  Returns the selected key (None for an empty list).
    """
    keys = [k for k, _ in entries]
    shown = [view.item(i).data(KEY_ROLE) for i in range(view.count())]
    old_row = view.currentRow()
    bar = view.verticalScrollBar().value()
    view.blockSignals(True)
    if shown != keys:
        view.clear()
        for key in keys:
            item = QListWidgetItem()
            item.setData(KEY_ROLE, key)
            view.addItem(item)
    for row, (key, record) in enumerate(entries):
        dress(view.item(row), key, record)
    if selected in keys:
        row = keys.index(selected)
    elif old_row >= 0:
        row = min(old_row, len(keys) - 1)
    else:
        row = next((i for i, k in enumerate(keys) if k[0] == "own"), 0 if keys else -1)
    view.setCurrentRow(row)
    view.blockSignals(False)
    view.verticalScrollBar().setValue(bar)
    return keys[row] if row >= 0 else None


def sync_table(table: QTableWidget, rows: list[tuple[list[str], set[int], bool]]) -> None:
    """Fill ``table`` with (cells, editable columns, from series) rows, in place, silently."""
    table.blockSignals(True)
    table.setRowCount(len(rows))
    for r, (cells, editable, series) in enumerate(rows):
        for c, text in enumerate(cells):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                table.setItem(r, c, item)
            dress_item(item, text, c in editable, series, "")
    table.blockSignals(False)


def make_table(placeholder: str, headers: list[str]) -> PlaceholderTable:
    table = PlaceholderTable(placeholder)
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setItemDelegate(LineEditDelegate(table))
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 14)
    table.setAlternatingRowColors(True)
    table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                          | QAbstractItemView.EditTrigger.EditKeyPressed
                          | QAbstractItemView.EditTrigger.AnyKeyPressed)
    table.horizontalHeader().setHighlightSections(False)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                 | Qt.AlignmentFlag.AlignVCenter)
    return table

"""Forms built from the module specs (``studio.domain.modules``).

Every editor reports edits as ``edited(path, value)`` — the path inside the module output — and
can ``load`` a value without echoing it back, which is how undo and redo update the screen.
Editors keep no undo history of their own: Ctrl+Z belongs to the story's undo stack.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPlainTextEdit, QSizePolicy, QToolButton,
    QVBoxLayout, QWidget,
)

from studio.domain.modules import FieldKind, FieldSpec, PLOT_TEMPLATE_LABELS


def _is_undo_key(event: QEvent) -> bool:
    return event.type() == QEvent.Type.ShortcutOverride and (
        event.matches(QKeySequence.StandardKey.Undo)
        or event.matches(QKeySequence.StandardKey.Redo))


class LineEdit(QLineEdit):
    """A line edit that leaves Ctrl+Z / Ctrl+Shift+Z to the story's undo stack."""

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            e.ignore()
            return True
        return super().event(e)


class PlainTextEdit(QPlainTextEdit):
    """Plain-text editor without its own undo; Tab moves focus, as in any form."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setUndoRedoEnabled(False)
        self.setTabChangesFocus(True)

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            e.ignore()
            return True
        return super().event(e)

    def set_text_keeping_cursor(self, text: str) -> None:
        if self.toPlainText() == text:
            return
        pos = self.textCursor().position()
        self.blockSignals(True)
        self.setPlainText(text)
        self.blockSignals(False)
        cursor = self.textCursor()
        cursor.setPosition(min(pos, len(text)))
        self.setTextCursor(cursor)


def _tool(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    return b


class FieldEditor(QWidget):
    edited = Signal(tuple, object)

    def load(self, value: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LineField(FieldEditor):
    def __init__(self, spec: FieldSpec):
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = LineEdit()
        self.edit.setPlaceholderText(spec.placeholder)
        self.edit.setObjectName(spec.key)
        self.edit.textEdited.connect(lambda t: self.edited.emit((), t))
        lay.addWidget(self.edit)

    def load(self, value: Any) -> None:
        value = value or ""
        if self.edit.text() != value:
            pos = self.edit.cursorPosition() if self.edit.hasFocus() else 0
            self.edit.setText(value)
            self.edit.setCursorPosition(min(pos, len(value)))


class TextField(FieldEditor):
    def __init__(self, spec: FieldSpec, min_height: int = 90):
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = PlainTextEdit()
        self.edit.setObjectName(spec.key)
        self.edit.setPlaceholderText(spec.placeholder)
        self.edit.setMinimumHeight(min_height)
        self.edit.textChanged.connect(lambda: self.edited.emit((), self.edit.toPlainText()))
        lay.addWidget(self.edit)

    def load(self, value: Any) -> None:
        self.edit.set_text_keeping_cursor(value or "")


class ChoiceField(FieldEditor):
    def __init__(self, spec: FieldSpec):
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setObjectName(spec.key)
        self.combo.setEditable(spec.editable)
        self.combo.addItem("—" if not spec.editable else "", "")
        for choice in spec.choices:
            self.combo.addItem(PLOT_TEMPLATE_LABELS.get(choice, choice), choice)
        if spec.editable:
            self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            line = LineEdit()
            line.setPlaceholderText(spec.placeholder or "Pick or type")
            self.combo.setLineEdit(line)
            line.textEdited.connect(lambda t: self.edited.emit((), t))
            self.combo.activated.connect(
                lambda i: self.edited.emit((), self.combo.itemData(i) or ""))
        else:
            self.combo.activated.connect(
                lambda i: self.edited.emit((), self.combo.itemData(i) or ""))
        lay.addWidget(self.combo)

    def value(self) -> str:
        if self.combo.isEditable():
            return self.combo.currentText()
        return self.combo.currentData() or ""

    def load(self, value: Any) -> None:
        value = value or ""
        if self.value() == value:
            return
        index = self.combo.findData(value)
        self.combo.blockSignals(True)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        if self.combo.isEditable():
            self.combo.setEditText(value)
        self.combo.blockSignals(False)


class _ListButtons(QHBoxLayout):
    def __init__(self, noun: str):
        super().__init__()
        self.setContentsMargins(0, 0, 0, 0)
        self.add = _tool("+ Add", f"Add {noun}")
        self.remove = _tool("Remove", f"Remove the selected {noun}")
        self.up = _tool("▲", "Move up")
        self.down = _tool("▼", "Move down")
        for b in (self.add, self.remove, self.up, self.down):
            self.addWidget(b)
        self.addStretch(1)


class StringsField(FieldEditor):
    """A short list of strings, each edited in place (double-click or F2)."""

    def __init__(self, spec: FieldSpec):
        super().__init__()
        self.spec = spec
        self._values: list[str] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName(spec.key)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.SelectedClicked)
        self.list.setMaximumHeight(130)
        self.list.setWordWrap(True)
        self.list.itemChanged.connect(self._item_changed)
        lay.addWidget(self.list)
        buttons = _ListButtons(spec.label.lower().rstrip("s"))
        self.buttons = buttons
        buttons.add.clicked.connect(self._add)
        buttons.remove.clicked.connect(self._remove)
        buttons.up.clicked.connect(lambda: self._move(-1))
        buttons.down.clicked.connect(lambda: self._move(1))
        lay.addLayout(buttons)

    def _item_changed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        values = list(self._values)
        if 0 <= row < len(values) and values[row] != item.text():
            values[row] = item.text()
            self._values = values
            self.edited.emit((), values)

    def _add(self) -> None:
        self._values = self._values + [""]
        self.edited.emit((), list(self._values))
        self._rebuild()
        item = self.list.item(len(self._values) - 1)
        self.list.setCurrentItem(item)
        self.list.editItem(item)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._values):
            self._values = self._values[:row] + self._values[row + 1:]
            self.edited.emit((), list(self._values))
            self._rebuild()

    def _move(self, delta: int) -> None:
        row = self.list.currentRow()
        target = row + delta
        if 0 <= row < len(self._values) and 0 <= target < len(self._values):
            values = list(self._values)
            values[row], values[target] = values[target], values[row]
            self._values = values
            self.edited.emit((), list(values))
            self._rebuild()
            self.list.setCurrentRow(target)

    def _rebuild(self) -> None:
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for v in self._values:
            item = QListWidgetItem(v)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self._values:
            self.list.setCurrentRow(max(0, min(row, len(self._values) - 1)))

    def load(self, value: Any) -> None:
        value = list(value or [])
        if value != self._values:
            self._values = value
            self._rebuild()


class RecordsField(FieldEditor):
    """A list of records: names on the left, the selected record's form on the right."""

    def __init__(self, spec: FieldSpec):
        super().__init__()
        self.spec = spec
        self._values: list[dict[str, Any]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.list = QListWidget()
        self.list.setObjectName(spec.key)
        self.list.setMaximumHeight(150)
        self.list.currentRowChanged.connect(self._select)
        lay.addWidget(self.list)
        noun = spec.fields[0].label.lower() if spec.fields else "item"
        buttons = _ListButtons(noun)
        buttons.add.clicked.connect(self._add)
        buttons.remove.clicked.connect(self._remove)
        buttons.up.clicked.connect(lambda: self._move(-1))
        buttons.down.clicked.connect(lambda: self._move(1))
        self.buttons = buttons
        lay.addLayout(buttons)
        self.form = FormView(spec.fields, compact=True)
        self.form.setObjectName(f"{spec.key}_item")
        self.form.setFrameShape(QFrame.Shape.StyledPanel)
        self.form.edited.connect(self._sub_edited)
        self.form.setEnabled(False)
        lay.addWidget(self.form)

    def _title(self, record: dict[str, Any]) -> str:
        return (record.get(self.spec.title_key) or "").strip() or "(untitled)"

    def _empty_record(self) -> dict[str, Any]:
        return {f.key: f.empty() for f in self.spec.fields}

    def _select(self, row: int) -> None:
        valid = 0 <= row < len(self._values)
        self.form.setEnabled(valid)
        self.form.load(self._values[row] if valid else self._empty_record())

    def _sub_edited(self, path: tuple, value: Any) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self._values):
            return
        record = copy.deepcopy(self._values[row])
        target: Any = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        self._values[row] = record
        if path[0] == self.spec.title_key:
            self.list.item(row).setText(self._title(record))
        self.edited.emit((row,) + tuple(path), value)

    def _add(self) -> None:
        self._values = self._values + [self._empty_record()]
        self.edited.emit((), copy.deepcopy(self._values))
        self._rebuild(select=len(self._values) - 1)
        first = self.form.first_input()
        if first is not None:
            first.setFocus()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._values):
            self._values = self._values[:row] + self._values[row + 1:]
            self.edited.emit((), copy.deepcopy(self._values))
            self._rebuild(select=min(row, len(self._values) - 1))

    def _move(self, delta: int) -> None:
        row = self.list.currentRow()
        target = row + delta
        if 0 <= row < len(self._values) and 0 <= target < len(self._values):
            values = list(self._values)
            values[row], values[target] = values[target], values[row]
            self._values = values
            self.edited.emit((), copy.deepcopy(values))
            self._rebuild(select=target)

    def _rebuild(self, select: int | None = None) -> None:
        row = self.list.currentRow() if select is None else select
        self.list.blockSignals(True)
        self.list.clear()
        for record in self._values:
            self.list.addItem(self._title(record))
        self.list.blockSignals(False)
        row = max(0, min(row, len(self._values) - 1)) if self._values else -1
        self.list.setCurrentRow(row)
        self._select(row)

    def load(self, value: Any) -> None:
        value = copy.deepcopy(list(value or []))
        if value == self._values:
            return
        same_shape = len(value) == len(self._values)
        self._values = value
        if same_shape:
            for i, record in enumerate(value):
                self.list.item(i).setText(self._title(record))
            self._select(self.list.currentRow())
        else:
            self._rebuild()


def make_editor(spec: FieldSpec, compact: bool = False) -> FieldEditor:
    if spec.kind is FieldKind.LINE:
        return LineField(spec)
    if spec.kind is FieldKind.TEXT:
        return TextField(spec, min_height=70 if compact else 100)
    if spec.kind is FieldKind.CHOICE:
        return ChoiceField(spec)
    if spec.kind is FieldKind.STRINGS:
        return StringsField(spec)
    return RecordsField(spec)


class FormView(QFrame):
    """A form for a tuple of field specs; emits ``edited(path, value)`` with the field key first."""

    edited = Signal(tuple, object)

    def __init__(self, fields: tuple[FieldSpec, ...], compact: bool = False):
        super().__init__()
        self.fields = fields
        self.editors: dict[str, FieldEditor] = {}
        layout = QFormLayout(self)
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        if compact:
            layout.setContentsMargins(8, 6, 6, 6)
        for spec in fields:
            editor = make_editor(spec, compact)
            editor.edited.connect(lambda path, value, key=spec.key:
                                  self.edited.emit((key,) + tuple(path), value))
            if spec.kind is FieldKind.RECORDS:
                editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
                layout.addRow(QLabel(f"<b>{spec.label}</b>"))
                layout.addRow(editor)
            else:
                label = QLabel(spec.label)
                label.setBuddy(editor)
                layout.addRow(label, editor)
            self.editors[spec.key] = editor

    def load(self, data: dict[str, Any]) -> None:
        for spec in self.fields:
            self.editors[spec.key].load(data.get(spec.key, spec.empty()))

    def first_input(self) -> QWidget | None:
        for editor in self.editors.values():
            for attr in ("edit", "combo", "list"):
                widget = getattr(editor, attr, None)
                if widget is not None:
                    return widget
        return None

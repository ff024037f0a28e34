"""The relationships grid of the Characters tab (``bible_characters.py``).

One row per relationship: the related character, the kind (a free text with the domain's
``RELATIONSHIP_TYPES`` as suggestions) and a note.  Every change is reported as the whole new
list (``changed``) so the page commits it as one edit; row widgets are reused across reloads,
so a reload does not steal the focus or the typing of the row being edited.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QFrame, QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget,
)

from studio.domain.bible import RELATIONSHIP_TYPES
from studio.ui.widgets.bible_fields import CommitLine, button_row, mute, put, tool_button


class RelationshipsEditor(QWidget):
    """Rows of (character, relationship, note, remove); reports the whole new list."""

    changed = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._rels: list[dict[str, Any]] = []
        self._options: list[tuple[str, str]] = []  # (char id, label)
        self._editable = True
        self._rows: list[tuple[QComboBox, QComboBox, CommitLine, QToolButton]] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.frame = QFrame()
        self.frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.grid = QGridLayout(self.frame)
        self.grid.setContentsMargins(8, 6, 8, 8)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(6)
        self.headers: list[QLabel] = []
        for col, title in enumerate(("Character", "Relationship", "Note")):
            label = QLabel(title)
            self.headers.append(label)
            mute(label)
            self.grid.addWidget(label, 0, col)
        self.grid.setColumnStretch(0, 3)
        self.grid.setColumnStretch(1, 2)
        self.grid.setColumnStretch(2, 5)
        self.empty = QLabel("No relationships yet.")
        mute(self.empty)
        self.grid.addWidget(self.empty, 1, 0, 1, 4)
        outer.addWidget(self.frame)
        self.add_button = tool_button("Add relationship", "Relate this character to another",
                                      self._add)
        outer.addLayout(button_row(self.add_button))

    # -- loading
    def load(self, rels: list[dict[str, Any]], options: list[tuple[str, str]],
             editable: bool) -> None:
        self._rels = [dict(r) for r in rels]
        self._options = list(options)
        self._editable = editable
        while len(self._rows) > len(self._rels):
            for w in self._rows.pop():
                self.grid.removeWidget(w)
                w.hide()
                w.deleteLater()
        while len(self._rows) < len(self._rels):
            self._rows.append(self._make_row(len(self._rows)))
        for row, rel in enumerate(self._rels):
            self._load_row(row, rel)
        self.empty.setVisible(not self._rels)
        for label in self.headers:
            label.setVisible(bool(self._rels))
        self.add_button.setEnabled(editable and bool(self._options))
        self.add_button.setToolTip("Relate this character to another" if self._options
                                   else "Add another character first")
        prev: QWidget | None = None
        for widgets in self._rows:
            for w in widgets:
                if prev is not None:
                    QWidget.setTabOrder(prev, w)
                prev = w
        if prev is not None:
            QWidget.setTabOrder(prev, self.add_button)

    def _make_row(self, row: int) -> tuple[QComboBox, QComboBox, CommitLine, QToolButton]:
        target = QComboBox()
        target.setObjectName(f"relTarget{row}")
        target.setAccessibleName("Related character")
        target.activated.connect(lambda _i, r=row: self._set(r, "target",
                                                             target.currentData()))
        kind = QComboBox()
        kind.setEditable(True)
        kind.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        kind_line = CommitLine("type", 100)
        kind.setLineEdit(kind_line)
        kind.addItems(RELATIONSHIP_TYPES)
        kind.setAccessibleName("Relationship type")
        kind.activated.connect(lambda _i, r=row: self._set(r, "type", kind.currentText()))
        kind_line.committed.connect(lambda t, r=row: self._set(r, "type", t))
        note = CommitLine("note", 2000)
        note.setAccessibleName("Relationship note")
        note.committed.connect(lambda t, r=row: self._set(r, "note", t))
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip("Remove this relationship")
        remove.setAccessibleName("Remove relationship")
        remove.setAutoRaise(True)
        remove.clicked.connect(lambda _c=False, r=row: self._remove(r))
        for col, w in enumerate((target, kind, note, remove)):
            self.grid.addWidget(w, row + 1, col)
        return target, kind, note, remove

    def _load_row(self, row: int, rel: dict[str, Any]) -> None:
        target, kind, note, remove = self._rows[row]
        options = list(self._options)
        tid = rel.get("target", "")
        if tid and tid not in {cid for cid, _ in options}:
            options.insert(0, (tid, f"Unknown ({tid})"))
        current = [(target.itemData(i), target.itemText(i)) for i in range(target.count())]
        if current != options:
            target.blockSignals(True)
            target.clear()
            for cid, label in options:
                target.addItem(label, cid)
            target.blockSignals(False)
        index = target.findData(tid)
        if target.currentIndex() != index:
            target.setCurrentIndex(index)
        kind_line = kind.lineEdit()
        if isinstance(kind_line, CommitLine):
            kind_line.load(rel.get("type", ""))
        note.load(rel.get("note", ""))
        target.setEnabled(self._editable)
        kind.setEnabled(self._editable)
        note.setReadOnly(not self._editable)
        remove.setEnabled(self._editable)

    # -- edits
    def _set(self, row: int, key: str, value: Any) -> None:
        if not self._editable or not 0 <= row < len(self._rels):
            return
        value = (value or "").strip() if isinstance(value, str) else value
        rels = [dict(r) for r in self._rels]
        if key in ("target", "type") and not value:
            self._load_row(row, rels[row])  # both are required: put the old value back
            return
        put(rels[row], key, value)
        if rels != self._rels:
            self.changed.emit(rels)
        else:
            self._load_row(row, rels[row])

    def _remove(self, row: int) -> None:
        if self._editable and 0 <= row < len(self._rels):
            self.changed.emit(self._rels[:row] + self._rels[row + 1:])

    def _add(self) -> None:
        if not self._editable or not self._options:
            return
        related = {r.get("target") for r in self._rels}
        target = next((cid for cid, _ in self._options if cid not in related),
                      self._options[0][0])
        self.changed.emit(self._rels + [{"target": target, "type": "friend"}])
        if self._rows:
            self._rows[-1][0].setFocus()

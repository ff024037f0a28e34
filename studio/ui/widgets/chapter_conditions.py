"""The list editors of the chapter inspector (``chapter_inspector.py``): trigger conditions
and suggested beats.

Each reports the whole new list (``changed``) after one user edit, so the inspector makes one
chapter edit of it.  Rows are widgets in a grid (as in the bible's relationships editor) and
are reused across reloads, so a reload does not steal the focus or the typing of a row.

A new condition or beat starts as a *draft*: it is shown but not reported until it has what
the schema requires (a value; a flag name too for ``key = value``; a beat's text).  Drafts
survive a reload of the same chapter.  Clearing a required value of a saved row puts the old
value back.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QSpinBox,
    QStackedWidget, QToolButton, QVBoxLayout, QWidget,
)

from studio.domain.chapters import CONDITION_KINDS
from studio.ui.widgets.bible_fields import (
    CommitLine, button_row, error_color, join_list, mute, split_list, tool_button,
)
from studio.ui.widgets.form import _is_undo_key

KIND_LABELS = {"location": "Location", "item": "Item", "character": "Character present",
               "key": "Key = value"}
UNKNOWN_CHARACTER = "not in the scene bible"
PRIORITY_TIP = "Priority: 1 = must happen … 5 = nice to have"
DEFAULT_PRIORITY = 3


class SpinBox(QSpinBox):
    """A spin box that leaves Ctrl+Z / Ctrl+Shift+Z to the story's undo stack."""

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            e.ignore()
            return True
        return super().event(e)


def small_button(text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setAccessibleName(tip)
    b.setAutoRaise(True)
    b.clicked.connect(lambda _checked=False: slot())
    return b


def set_combo_items(combo: QComboBox, items: list[tuple[str, Any]]) -> None:
    """Replace the items (text, data) only when they differ, without signals."""
    if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] == items:
        return
    typed = combo.currentText() if combo.isEditable() else None
    combo.blockSignals(True)
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    if typed is not None:
        combo.setCurrentIndex(combo.findText(typed))
        combo.setEditText(typed)  # the options changed: what is typed stays
    combo.blockSignals(False)


class _Row:
    """The widgets of one row; ``widgets`` are those placed in the grid."""

    def __init__(self) -> None:
        self.widgets: list[QWidget] = []
        self.lines: list[CommitLine] = []


class RowsEditor(QWidget):
    """A framed grid of rows with headers, an empty message and an add button below."""

    changed = Signal(list)
    HEADERS: tuple[str, ...] = ()
    STRETCH: tuple[int, ...] = ()
    LINES = 1  # grid lines per row
    EMPTY = ""

    def __init__(self, add_text: str, add_tip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._items: list[dict[str, Any]] = []
        self._rows: list[_Row] = []
        self._editable = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.frame = QFrame()
        self.frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.grid = QGridLayout(self.frame)
        self.grid.setContentsMargins(8, 6, 6, 8)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(6)
        self.headers: list[QLabel] = []
        for col, title in enumerate(self.HEADERS):
            label = mute(QLabel(title))
            self.headers.append(label)
            if title:
                self.grid.addWidget(label, 0, col)
        for col, stretch in enumerate(self.STRETCH):
            self.grid.setColumnStretch(col, stretch)
        self.empty = mute(QLabel(self.EMPTY))
        self.empty.setWordWrap(True)
        self.grid.addWidget(self.empty, 1, 0, 1, max(1, len(self.HEADERS)))
        outer.addWidget(self.frame)
        self.add_button = tool_button(add_text, add_tip)
        outer.addLayout(button_row(self.add_button))

    # -- the model
    def complete(self, item: dict[str, Any]) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def items(self) -> list[dict[str, Any]]:
        """The complete rows (drafts left out), as the chapter stores them."""
        return [copy.deepcopy(i) for i in self._items if self.complete(i)]

    def row_count(self) -> int:
        return len(self._items)

    def load(self, items: list[dict[str, Any]], editable: bool, keep_drafts: bool) -> None:
        new = [copy.deepcopy(dict(i)) for i in items]
        if keep_drafts:
            for i, item in enumerate(self._items):
                if not self.complete(item):
                    new.insert(min(i, len(new)), copy.deepcopy(item))
        self._items = new
        self._editable = editable
        self._sync()

    def flush(self) -> None:
        for row in self._rows:
            for line in row.lines:
                if line.pending():
                    line.commit()

    # -- rows
    def _make_row(self, r: int) -> _Row:  # pragma: no cover - interface
        raise NotImplementedError

    def _load_row(self, r: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _place(self, row: _Row, r: int, line: int, col: int, w: QWidget, span: int = 1) -> None:
        self.grid.addWidget(w, 1 + r * self.LINES + line, col, 1, span)
        w.show()  # now, not when the layout gets round to it: the row can take focus at once
        row.widgets.append(w)

    def _sync(self) -> None:
        while len(self._rows) > len(self._items):
            for w in self._rows.pop().widgets:
                self.grid.removeWidget(w)
                w.hide()
                w.deleteLater()
        while len(self._rows) < len(self._items):
            self._rows.append(self._make_row(len(self._rows)))
        for r in range(len(self._items)):
            self._load_row(r)
        self.empty.setVisible(not self._items)
        for label in self.headers:
            label.setVisible(bool(self._items))
        self.add_button.setEnabled(self._editable)
        prev: QWidget | None = None
        for row in self._rows:
            for w in row.widgets:
                if w.focusPolicy() != Qt.FocusPolicy.NoFocus:
                    if prev is not None:
                        QWidget.setTabOrder(prev, w)
                    prev = w
        if prev is not None:
            QWidget.setTabOrder(prev, self.add_button)

    def _commit(self, items: list[dict[str, Any]]) -> None:
        before = self.items()
        self._items = items
        self._sync()
        after = self.items()
        if after != before:
            self.changed.emit(after)

    # -- structural edits (typing in other rows is committed first)
    def _append(self, item: dict[str, Any]) -> None:
        if not self._editable:
            return
        self.flush()
        self._commit(self._items + [item])

    def _remove(self, r: int) -> None:
        if not self._editable:
            return
        self.flush()
        if 0 <= r < len(self._items):
            self._commit(self._items[:r] + self._items[r + 1:])

    def _move(self, r: int, delta: int) -> None:
        if not self._editable:
            return
        self.flush()
        target = r + delta
        if 0 <= r < len(self._items) and 0 <= target < len(self._items):
            items = list(self._items)
            items[r], items[target] = items[target], items[r]
            self._commit(items)

    def _update(self, r: int, change: Callable[[dict[str, Any]], None],
                allow_incomplete: bool = False) -> None:
        """Apply ``change`` to a copy of row ``r``; a saved row may not lose a required value."""
        if not self._editable or not 0 <= r < len(self._items):
            return
        items = copy.deepcopy(self._items)
        change(items[r])
        if items == self._items or (self.complete(self._items[r]) and not allow_incomplete
                                    and not self.complete(items[r])):
            self._load_row(r)  # nothing changed, or a required value was cleared
            return
        self._commit(items)


# --- trigger conditions -------------------------------------------------------------------

class ConditionsEditor(RowsEditor):
    """Rows of (kind, value, critical, remove) with the alternatives on a second line."""

    HEADERS = ("Kind", "Value", "Critical", "")
    STRETCH = (0, 1, 0, 0)
    LINES = 3  # the condition, its alternatives, a rule before the next one
    EMPTY = "No trigger conditions — the chapter can start once its prerequisites are done."

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Add condition", "Add a trigger condition", parent)
        self._characters: list[tuple[str, str]] = []
        self._locations: list[str] = []
        menu = QMenu(self.add_button)
        for kind in CONDITION_KINDS:
            action = menu.addAction(KIND_LABELS[kind])
            action.setData(kind)
            action.triggered.connect(lambda _c=False, k=kind: self.add_condition(k))
        self.add_button.setMenu(menu)
        self.headers[2].setToolTip("A critical condition is never relaxed")
        self.grid.setAlignment(self.headers[2], Qt.AlignmentFlag.AlignHCenter)

    def set_options(self, characters: list[tuple[str, str]], locations: list[str]) -> None:
        self._characters = [(str(c), str(n)) for c, n in characters]
        self._locations = [str(loc) for loc in locations]
        for r in range(len(self._items)):
            self._load_row(r)

    def complete(self, item: dict[str, Any]) -> bool:
        if not str(item.get("value", "")).strip():
            return False
        return item.get("kind") != "key" or bool(str(item.get("key", "")).strip())

    def add_condition(self, kind: str) -> None:
        item: dict[str, Any] = {"kind": kind, "value": "", "critical": False}
        if kind == "key":
            item = {"kind": kind, "key": "", "value": "", "critical": False}
        self._append(item)
        if self._editable and self._rows:
            row = self._rows[-1]
            focus = {"location": row.location, "character": row.character,
                     "item": row.item, "key": row.key}[kind]
            focus.setFocus()

    def _name(self, char_id: str) -> str:
        return next((n for c, n in self._characters if c == char_id), char_id)

    def _convert(self, item: dict[str, Any], kind: str) -> None:
        """Change the kind, keeping what still makes sense (a name for a place and back)."""
        old = item.get("kind")
        if kind == old:
            return
        value = str(item.get("value", ""))
        if old == "character":
            value = self._name(value)
        elif kind == "character":
            wanted = " ".join(value.split()).casefold()
            value = next((c for c, n in self._characters
                          if " ".join(n.split()).casefold() == wanted), "")
        if "character" in (old, kind) and "alternatives" in item:
            item["alternatives"] = []
        item["kind"], item["value"] = kind, value
        if kind == "key":
            item.setdefault("key", "")
        else:
            item.pop("key", None)

    def _set(self, r: int, key: str, value: Any) -> None:
        def change(item: dict[str, Any]) -> None:
            if key == "kind":
                self._convert(item, value)
            elif key == "alternatives":
                alts = split_list(value)
                if alts or "alternatives" in item:
                    item["alternatives"] = alts
            elif key == "critical":
                item["critical"] = bool(value)
            else:
                item[key] = str(value or "").strip()
        self._update(r, change, allow_incomplete=key == "kind")
        if key == "kind" and 0 <= r < len(self._rows) and self._editable:
            row, item = self._rows[r], self._items[r]
            if item.get("kind") == "key" and not item.get("key"):
                row.key.setFocus()

    def _make_row(self, r: int) -> _Row:
        row = _Row()
        row.kind = QComboBox()
        row.kind.setAccessibleName("Condition kind")
        for kind in CONDITION_KINDS:
            row.kind.addItem(KIND_LABELS[kind], kind)
        row.kind.activated.connect(lambda _i, r=r: self._set(r, "kind",
                                                             self._rows[r].kind.currentData()))
        row.value = QStackedWidget()
        row.location = QComboBox()
        row.location.setEditable(True)
        row.location.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        row.location_line = CommitLine("Pick or type a place", 500)
        row.location.setLineEdit(row.location_line)
        row.location.setAccessibleName("Location")
        row.location.activated.connect(
            lambda i, r=r: self._set(r, "value", self._rows[r].location.itemText(i)))
        row.location_line.committed.connect(lambda t, r=r: self._set(r, "value", t))
        row.character = QComboBox()
        row.character.setAccessibleName("Character")
        row.character.setPlaceholderText("Pick a character")
        row.character.activated.connect(
            lambda i, r=r: self._set(r, "value", self._rows[r].character.itemData(i)))
        row.item = CommitLine("What the player holds", 500)
        row.item.setAccessibleName("Item")
        row.item.committed.connect(lambda t, r=r: self._set(r, "value", t))
        pair = QWidget()
        pair_lay = QHBoxLayout(pair)
        pair_lay.setContentsMargins(0, 0, 0, 0)
        pair_lay.setSpacing(4)
        row.key = CommitLine("flag", 200)
        row.key.setAccessibleName("Flag name")
        row.key.committed.connect(lambda t, r=r: self._set(r, "key", t))
        row.key_value = CommitLine("value", 500)
        row.key_value.setAccessibleName("Flag value")
        row.key_value.committed.connect(lambda t, r=r: self._set(r, "value", t))
        pair_lay.addWidget(row.key, 1)
        pair_lay.addWidget(QLabel("="))
        pair_lay.addWidget(row.key_value, 1)
        row.pages = {"location": row.location, "character": row.character, "item": row.item,
                     "key": pair}
        for page in (row.location, row.character, row.item, pair):
            row.value.addWidget(page)
        row.critical = QCheckBox()
        row.critical.setToolTip("Critical: never relaxed; if it can no longer be met, the "
                                "chapter needs an alternate path")
        row.critical.setAccessibleName("Critical")
        row.critical.toggled.connect(lambda on, r=r: self._set(r, "critical", on))
        row.remove = small_button("✕", "Remove this condition", lambda r=r: self._remove(r))
        row.alt_label = mute(QLabel("or"))
        row.alt_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.alternatives = CommitLine("Other values, comma-separated", 5000)
        row.alternatives.setAccessibleName("Alternatives")
        row.alternatives.setToolTip("Other values that also satisfy the condition "
                                    "(added when conditions are relaxed)")
        row.alternatives.committed.connect(lambda t, r=r: self._set(r, "alternatives", t))
        row.lines = [row.location_line, row.item, row.key, row.key_value, row.alternatives]
        for col, w in enumerate((row.kind, row.value, row.critical, row.remove)):
            self._place(row, r, 0, col, w)
        self.grid.setAlignment(row.critical, Qt.AlignmentFlag.AlignCenter)
        self._place(row, r, 1, 0, row.alt_label)
        self._place(row, r, 1, 1, row.alternatives, 2)
        row.rule = QFrame()
        row.rule.setFixedHeight(1)
        row.rule.setStyleSheet("border: none; background: palette(mid);")
        self._place(row, r, 2, 0, row.rule, len(self.HEADERS))
        return row

    def _load_row(self, r: int) -> None:
        row, item = self._rows[r], self._items[r]
        kind = item.get("kind") if item.get("kind") in CONDITION_KINDS else "item"
        value = str(item.get("value", ""))
        index = row.kind.findData(kind)
        if row.kind.currentIndex() != index:
            row.kind.setCurrentIndex(index)
        row.value.setCurrentWidget(row.pages[kind])
        row.rule.setVisible(r < len(self._items) - 1)
        set_combo_items(row.location, [(loc, loc) for loc in self._locations])
        if not row.location_line.hasFocus():  # the index sets the text: not while typing
            row.location.blockSignals(True)
            row.location.setCurrentIndex(row.location.findText(value)
                                         if kind == "location" else -1)
            row.location.blockSignals(False)
        row.location_line.load(value if kind == "location" else "")
        row.item.load(value if kind == "item" else "")
        row.key.load(str(item.get("key", "")) if kind == "key" else "")
        row.key_value.load(value if kind == "key" else "")
        self._load_character(row, value if kind == "character" else "")
        row.critical.blockSignals(True)
        row.critical.setChecked(bool(item.get("critical")))
        row.critical.blockSignals(False)
        row.alternatives.load(join_list(item.get("alternatives")))
        editable = self._editable
        show_alternatives = editable or bool(item.get("alternatives"))
        row.alt_label.setVisible(show_alternatives)
        row.alternatives.setVisible(show_alternatives)
        for w in (row.kind, row.location, row.character, row.critical, row.remove):
            w.setEnabled(editable)
        for line in row.lines:
            line.setReadOnly(not editable)

    def _load_character(self, row: _Row, char_id: str) -> None:
        options = [(name, cid) for cid, name in self._characters]
        unknown = bool(char_id) and char_id not in {cid for cid, _ in self._characters}
        if unknown:
            options.insert(0, (f"Unknown ({char_id})", char_id))
        set_combo_items(row.character, options)
        index = row.character.findData(char_id) if char_id else -1
        if row.character.currentIndex() != index:
            row.character.blockSignals(True)
            row.character.setCurrentIndex(index)
            row.character.blockSignals(False)
        row.character.setProperty("unknown", unknown)
        if unknown:
            palette = row.character.palette()
            red = error_color(self.palette())
            for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text):
                for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive,
                              QPalette.ColorGroup.Disabled):
                    palette.setColor(group, role, red)
            row.character.setPalette(palette)
            row.character.setToolTip(f"{char_id}: {UNKNOWN_CHARACTER}")
        else:
            row.character.setPalette(QPalette())
            row.character.setToolTip(char_id)

    def unknown_characters(self) -> list[str]:
        """The character ids of conditions on characters the scene bible lacks."""
        known = {cid for cid, _ in self._characters}
        return [str(i.get("value")) for i in self._items
                if i.get("kind") == "character" and i.get("value") and i["value"] not in known]


# --- suggested beats ----------------------------------------------------------------------

class BeatsEditor(RowsEditor):
    """Rows of (priority, text, move up, move down, remove)."""

    HEADERS = ("Priority", "Beat", "")
    STRETCH = (0, 1, 0)
    EMPTY = "No beats yet — list what should happen in this chapter."

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Add beat", "Add a suggested beat", parent)
        self.add_button.clicked.connect(self.add_beat)
        self.headers[0].setToolTip(PRIORITY_TIP)

    def complete(self, item: dict[str, Any]) -> bool:
        return bool(str(item.get("text", "")).strip())

    def add_beat(self) -> None:
        self._append({"text": "", "priority": DEFAULT_PRIORITY})
        if self._editable and self._rows:
            self._rows[-1].text.setFocus()

    def _set(self, r: int, key: str, value: Any) -> None:
        def change(item: dict[str, Any]) -> None:
            item[key] = int(value) if key == "priority" else " ".join(str(value).split())
        self._update(r, change)

    def _move_row(self, r: int, delta: int) -> None:
        self._move(r, delta)
        target = r + delta
        if 0 <= target < len(self._rows):
            self._rows[target].text.setFocus()

    def _make_row(self, r: int) -> _Row:
        row = _Row()
        row.priority = SpinBox()
        row.priority.setRange(1, 5)
        row.priority.setKeyboardTracking(False)
        row.priority.setToolTip(PRIORITY_TIP)
        row.priority.setAccessibleName("Beat priority")
        row.priority.valueChanged.connect(lambda v, r=r: self._set(r, "priority", v))
        row.text = CommitLine("What should happen", 2000)
        row.text.setAccessibleName("Beat")
        row.text.committed.connect(lambda t, r=r: self._set(r, "text", t))
        row.up = small_button("↑", "Move this beat up", lambda r=r: self._move_row(r, -1))
        row.down = small_button("↓", "Move this beat down", lambda r=r: self._move_row(r, 1))
        row.remove = small_button("✕", "Remove this beat", lambda r=r: self._remove(r))
        row.lines = [row.text]
        tools = QWidget()
        tools_lay = QHBoxLayout(tools)
        tools_lay.setContentsMargins(0, 0, 0, 0)
        tools_lay.setSpacing(0)
        for b in (row.up, row.down, row.remove):
            tools_lay.addWidget(b)
        for col, w in enumerate((row.priority, row.text, tools)):
            self._place(row, r, 0, col, w)
        return row

    def _load_row(self, r: int) -> None:
        row, item = self._rows[r], self._items[r]
        try:
            priority = min(5, max(1, int(item.get("priority", DEFAULT_PRIORITY))))
        except (TypeError, ValueError):
            priority = DEFAULT_PRIORITY
        row.priority.blockSignals(True)
        row.priority.setValue(priority)
        row.priority.blockSignals(False)
        row.text.load(str(item.get("text", "")))
        row.text.setToolTip(str(item.get("text", "")))
        editable = self._editable
        row.text.setReadOnly(not editable)
        row.priority.setEnabled(editable)
        row.up.setEnabled(editable and r > 0)
        row.down.setEnabled(editable and r < len(self._items) - 1)
        row.remove.setEnabled(editable)

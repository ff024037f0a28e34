"""The JSON tab of the bible editor (``bible_editor.py``): the whole bible as text.

For the edits the forms do not offer, and for pasting a bible in.  The text is validated as
you type (after a short pause, with the host's validator) but reaches the bible only on Apply
(or Ctrl+Enter), as one edit.  Changes typed here survive a reload; when the bible changes
underneath them the status line says so, and Revert loads the new one.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget,
)

from studio.ui.widgets.bible_fields import error_color, tool_button
from studio.ui.widgets.form import PlainTextEdit

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor

VALIDATE_MS = 300


def dumps(bible: dict[str, Any]) -> str:
    return json.dumps(bible, indent=2, ensure_ascii=False) + "\n"


class JsonPage(QWidget):
    """The bible as JSON; validated as you type, applied with Apply or Ctrl+Enter."""

    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        self._loaded_text = ""
        self._base: dict[str, Any] | None = None  # the bible the text was loaded from
        self._parsed: dict[str, Any] | None = None
        self.problems: list[tuple[str, str]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 8)
        self.editor = PlainTextEdit()
        self.editor.setObjectName("bibleJson")
        self.editor.setAccessibleName("Bible as JSON")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(PlainTextEdit.LineWrapMode.NoWrap)
        self.editor.textChanged.connect(self._typed)
        self.errors = QListWidget()
        self.errors.setObjectName("jsonErrors")
        self.errors.setAccessibleName("Problems in the JSON")
        self.errors.setWordWrap(True)
        self.errors.itemActivated.connect(self._go_to_error)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.editor)
        split.addWidget(self.errors)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([440, 110])
        lay.addWidget(split, 1)
        self.status = QLabel()
        self.status.setObjectName("jsonStatus")
        self.status.setWordWrap(True)
        self.revert_button = tool_button("Revert", "Throw away the changes typed here",
                                         lambda: self.refresh(force=True))
        self.apply_button = tool_button("Apply", "Use this JSON as the bible (Ctrl+Enter)",
                                        self.apply)
        self.apply_button.setDefault(False)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.revert_button)
        row.addWidget(self.apply_button)
        lay.addLayout(row)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.apply)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_MS)
        self._timer.timeout.connect(self.validate)

    def dirty(self) -> bool:
        return self.editor.toPlainText() != self._loaded_text

    def refresh(self, force: bool = False) -> None:
        """Show the host's bible, unless the user has typed changes here (and not ``force``)."""
        self.editor.setReadOnly(self.host.read_only)
        self.apply_button.setVisible(not self.host.read_only)
        self.revert_button.setVisible(not self.host.read_only)
        if force or not self.dirty():
            text = dumps(self.host.bible_data)
            self._base = copy.deepcopy(self.host.bible_data)
            self._loaded_text = text
            if self.editor.toPlainText() != text:
                bar = self.editor.verticalScrollBar().value()
                self.editor.set_text_keeping_cursor(text)
                self.editor.verticalScrollBar().setValue(bar)
        self._timer.stop()
        self.validate()

    def _typed(self) -> None:
        self._timer.start()

    def validate(self) -> None:
        self._timer.stop()
        text = self.editor.toPlainText()
        self._parsed = None
        problems: list[tuple[str, str]] = []
        where: list[tuple[int, int] | None] = []
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(("", f"line {e.lineno}, column {e.colno}: {e.msg}"))
            where.append((e.lineno, e.colno))
        else:
            if not isinstance(data, dict):
                problems.append(("", "the bible must be a JSON object: { … }"))
                where.append(None)
            else:
                self._parsed = data
                validator = self.host.validator
                if validator is not None:
                    try:
                        found = list(validator(copy.deepcopy(data)) or [])
                    except Exception as exc:  # a broken validator must not break the editor
                        found = [("", f"could not check the bible: {exc}")]
                    problems.extend((str(p), str(r)) for p, r in found)
                    where.extend([None] * len(found))
        self.problems = problems
        self._show(problems, where)

    def _show(self, problems: list[tuple[str, str]],
              where: list[tuple[int, int] | None]) -> None:
        self.errors.clear()
        colour = error_color(self.palette())
        for (path, reason), pos in zip(problems, where):
            item = QListWidgetItem(f"{path} — {reason}" if path else reason)
            item.setForeground(colour)
            item.setData(Qt.ItemDataRole.UserRole, pos)
            self.errors.addItem(item)
        self.errors.setVisible(bool(problems))
        unchanged = self._parsed is not None and self._parsed == self.host.bible_data
        stale = self.dirty() and self._base is not None and self._base != self.host.bible_data
        if self.host.read_only:
            message = "Read-only."
        elif self._parsed is None:
            message = "Not valid JSON yet — see the problem below."
        elif problems:
            message = (f"{len(problems)} problem{'s' if len(problems) != 1 else ''} "
                       "to fix before this can be applied.")
        elif unchanged:
            message = "No changes."
        else:
            message = "Valid — Apply (Ctrl+Enter) to use these changes."
        if stale:
            message += "  The bible changed since you began editing here; Revert loads it."
        self.status.setText(message)
        self.apply_button.setEnabled(not self.host.read_only and self._parsed is not None
                                     and not problems and not unchanged)

    def can_apply(self) -> bool:
        return self.apply_button.isEnabled()

    def apply(self) -> None:
        self.validate()
        if not self.can_apply() or self._parsed is None:
            return
        data = copy.deepcopy(self._parsed)

        def replace(bible: dict[str, Any]) -> None:
            bible.clear()
            bible.update(data)
        self.host.commit(replace)
        self.refresh(force=True)

    def _go_to_error(self, item: QListWidgetItem) -> None:
        pos = item.data(Qt.ItemDataRole.UserRole)
        if not pos:
            return
        line, column = pos
        block = self.editor.document().findBlockByNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(0, column - 1))
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()

    def flush(self) -> None:
        pass

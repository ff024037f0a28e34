"""Building blocks of the bible editor (``bible_editor.py``): fields, buttons, form layout.

Fields here *commit*: a line edit reports its text once, on Enter or focus out; a multi-line
editor after a short pause or on focus out; both only when the text differs from the value last
loaded or committed, so one change is reported exactly once.  ``load`` shows a value without
reporting it — and leaves alone a field the user is typing in when its value did not change
underneath (a reload for some other reason must not eat their typing).

Ctrl+Z / Ctrl+Shift+Z belong to the story's undo stack (see ``form._is_undo_key``); pressing
them in a field first commits what was typed, so the undo undoes exactly that typing.

Also here: the small value helpers the pages share (``put``, ``split_list`` …) and the palette
helpers.  The id makers and the fixed vocabularies (relationship types, thread statuses) are the
domain's (``studio.domain.bible``); the list and table helpers live in ``bible_lists.py`` and
the relationships grid of the Characters tab in ``bible_relationships.py``.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImageReader, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget,
)

from studio.ui.widgets.form import LineEdit, PlainTextEdit, _is_undo_key

__all__ = [
    "IMAGE_FILTER", "TEXT_IDLE_MS", "THUMB",
    "unique_name", "split_list", "join_list", "put", "section", "prune",
    "is_dark", "error_color", "muted_color", "mute", "italic",
    "CommitLine", "CommitText", "SegmentField", "PathField",
    "tool_button", "button_row", "series_placeholder", "form_layout", "form_row", "heading",
]

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp);;All files (*)"
TEXT_IDLE_MS = 600
THUMB = 72


# --- small value helpers ------------------------------------------------------------------

def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base 2``, ``base 3``… — the first not in ``taken`` (case-insensitive)."""
    used = {t.casefold() for t in taken}
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base} {n}"
    return name


def split_list(text: str, sep: str = ",") -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


def join_list(items: Any, sep: str = ", ") -> str:
    return sep.join(str(i) for i in (items or []))


def put(record: dict, key: str, value: Any) -> None:
    """Set ``record[key]``, or drop the key when the value is empty (every such key is optional)."""
    if value in ("", None) or value == [] or value == {}:
        record.pop(key, None)
    else:
        record[key] = value


def section(bible: dict, key: str) -> dict:
    """``bible[key]`` as a dict, created when missing (for mutators)."""
    value = bible.get(key)
    if not isinstance(value, dict):
        value = bible[key] = {}
    return value


def prune(bible: dict, key: str) -> None:
    if key in bible and not bible[key]:
        del bible[key]


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def error_color(palette: QPalette) -> QColor:
    return QColor("#ff8a80") if is_dark(palette) else QColor("#c62828")


def muted_color(palette: QPalette) -> QColor:
    """The placeholder colour as a solid colour (Qt's default one is translucent text)."""
    colour = palette.color(QPalette.ColorRole.PlaceholderText)
    if colour.alpha() < 255:
        under, a = palette.color(QPalette.ColorRole.Window), colour.alphaF()
        colour = QColor.fromRgbF(*(c * a + u * (1 - a) for c, u in zip(
            colour.getRgbF()[:3], under.getRgbF()[:3])))
    return colour


def mute(label: QLabel, muted: bool = True) -> QLabel:
    """Grey a label in the palette's placeholder colour (the editor's style sheet does it)."""
    if label.property("muted") != muted:
        label.setProperty("muted", muted)
        label.style().unpolish(label)
        label.style().polish(label)
    return label


def italic(font: QFont) -> QFont:
    font = QFont(font)
    font.setItalic(True)
    return font


# --- fields -------------------------------------------------------------------------------

class CommitLine(LineEdit):
    """A line edit that reports ``committed(text)`` on Enter / focus out, once per change."""

    committed = Signal(str)

    def __init__(self, placeholder: str = "", max_length: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._loaded = ""
        self.setPlaceholderText(placeholder)
        if max_length:
            self.setMaxLength(max_length)
        self.editingFinished.connect(self.commit)

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            self.commit()
        return super().event(e)

    def load(self, value: str | None) -> None:
        value = value or ""
        if value == self._loaded and self.hasFocus() and self.text() != value:
            return  # the user is typing and nothing changed underneath
        self._loaded = value
        if self.text() != value:
            pos = self.cursorPosition()
            self.setText(value)
            self.setCursorPosition(min(pos, len(value)) if self.hasFocus() else 0)

    def commit(self) -> None:
        if self.isReadOnly() or not self.isEnabled():
            return
        text = self.text()
        if text != self._loaded:
            self._loaded = text
            self.committed.emit(text)

    def pending(self) -> bool:
        return self.text() != self._loaded


class CommitText(PlainTextEdit):
    """Multi-line text reporting ``committed(text)`` after a pause in typing or on focus out."""

    committed = Signal(str)

    def __init__(self, placeholder: str = "", lines: int = 3, parent: QWidget | None = None):
        super().__init__(parent)
        self._loaded = ""
        self.setPlaceholderText(placeholder)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TEXT_IDLE_MS)
        self._timer.timeout.connect(self.commit)
        self.textChanged.connect(self._typed)
        line = self.fontMetrics().lineSpacing()
        self._hint_height = line * lines + 14
        self.setMinimumHeight(self._hint_height)
        self.setMaximumHeight(line * max(lines * 2, 6) + 14)
        policy = self.sizePolicy()
        policy.setVerticalPolicy(QSizePolicy.Policy.Preferred)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(super().sizeHint().width(), self._hint_height)

    def _typed(self) -> None:
        if not self.isReadOnly():
            self._timer.start()

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            self.commit()
        return super().event(e)

    def focusOutEvent(self, e) -> None:
        super().focusOutEvent(e)
        self.commit()

    def load(self, value: str | None) -> None:
        value = value or ""
        if value == self._loaded and self.hasFocus() and self.toPlainText() != value:
            return
        self._loaded = value
        if self.toPlainText() != value:
            bar = self.verticalScrollBar().value()
            self.set_text_keeping_cursor(value)  # signals blocked: no textChanged, no timer
            self.verticalScrollBar().setValue(bar)
        self._timer.stop()

    def commit(self) -> None:
        self._timer.stop()
        if self.isReadOnly() or not self.isEnabled():
            return
        text = self.toPlainText()
        if text != self._loaded:
            self._loaded = text
            self.committed.emit(text)

    def pending(self) -> bool:
        return self.toPlainText() != self._loaded


class SegmentField(QWidget):
    """A manuscript segment shown by its label (set by the host), with a Clear button."""

    cleared = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Forget this segment")
        self.clear_button.clicked.connect(self.cleared.emit)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.clear_button)
        self._value: str | None = None
        self._editable = True

    def load(self, segment: str | None, label: str | None) -> None:
        self._value = segment or None
        if segment:
            self.label.setText(label or segment)
            self.label.setToolTip(segment)
            mute(self.label, False)
        else:
            self.label.setText("— (set from the manuscript)")
            self.label.setToolTip("")
            mute(self.label)
        self._sync()

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self._sync()

    def _sync(self) -> None:
        self.clear_button.setEnabled(self._editable and bool(self._value))


class PathField(QWidget):
    """A file path with "Choose…" and, for images, a small thumbnail."""

    committed = Signal(str)

    def __init__(self, caption: str, placeholder: str = "", thumbnail: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = caption
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = CommitLine(placeholder, 4096)
        self.edit.committed.connect(self.committed.emit)
        self.choose = QPushButton("Choose…")
        self.choose.setToolTip(f"Pick the {caption.lower()} image file")
        self.choose.clicked.connect(self._choose)
        self.thumb = QLabel()
        self.thumb.setFixedSize(QSize(THUMB, THUMB))
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setVisible(False)
        top = Qt.AlignmentFlag.AlignTop
        lay.addWidget(self.edit, 1, top)
        lay.addWidget(self.choose, 0, top)
        lay.addWidget(self.thumb, 0, top)
        self._want_thumb = thumbnail
        self._thumb_key: tuple | None = None

    def load(self, path: str | None) -> None:
        self.edit.load(path)
        self._update_thumb(path or "")

    def set_editable(self, editable: bool) -> None:
        self.edit.setReadOnly(not editable)
        self.choose.setEnabled(editable)

    def _choose(self) -> None:
        start = os.path.dirname(self.edit.text()) if self.edit.text() else ""
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {self.caption.lower()}",
                                              start, IMAGE_FILTER)
        if path:
            self.edit.setText(path)
            self.edit.commit()

    def _update_thumb(self, path: str) -> None:
        if not self._want_thumb:
            return
        try:
            key: tuple | None = (path, os.path.getmtime(path)) if path else None
        except OSError:
            key = None
        if key == self._thumb_key:
            return
        self._thumb_key = key
        pixmap = QPixmap()
        if key is not None and QImageReader(path).canRead():
            pixmap = QPixmap(path)
        if pixmap.isNull():
            self.thumb.clear()
            self.thumb.setVisible(False)
            return
        self.thumb.setPixmap(pixmap.scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        self.thumb.setToolTip(path)
        self.thumb.setVisible(True)


def tool_button(text: str, tip: str, slot=None) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setAutoDefault(False)
    if slot is not None:
        b.clicked.connect(slot)
    return b


def button_row(*buttons: QWidget, stretch_first: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    if stretch_first:
        row.addStretch(1)
    for b in buttons:
        row.addWidget(b)
    if not stretch_first:
        row.addStretch(1)
    return row


# --- layout helpers shared by the pages ------------------------------------------------

def series_placeholder(base: str, inherited: Any) -> str:
    return f"From series: {inherited}" if inherited else base


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(8)
    return form


def form_row(form: QFormLayout, text: str, widget: QWidget) -> None:
    label = QLabel(text)
    label.setBuddy(widget)
    form.addRow(label, widget)


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 10, 0, 2)
    return label

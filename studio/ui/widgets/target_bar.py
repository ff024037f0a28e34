"""Progress toward a word target: “Chapter 3 — 12,340 / 20,000 words (62%)” over a thin bar.

The bar runs on a fixed 0-1000 scale (tenths of a percent) so word counts beyond what a
QProgressBar's int can hold never reach it, and a target of 0 or less counts as no target: a
zero target is what an unset field stores, not a goal already met.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

_SCALE = 1000

# Greens readable on the light and the dark palette; QPalette has no "success" role.
_SUCCESS_ON_LIGHT = QColor("#2e7d4f")
_SUCCESS_ON_DARK = QColor("#4caf78")


def percent_of(words: int, target: int) -> int:
    """Whole percent, rounded, but never 100 before the target is actually reached."""
    if target <= 0:
        return 0
    words = max(0, words)
    percent = (words * 200 + target) // (2 * target)  # round half up, in integers
    return min(percent, 99) if words < target else percent


class TargetProgress(QWidget):
    """A labelled word-count bar; without a target it offers to set one instead."""

    targetRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._label = ""
        self._words = 0
        self._target: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.text_label = QLabel()
        self.text_label.setObjectName("targetText")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.text_label, 1)
        self.hint = QLabel('<a href="#set-target">Set target…</a>')
        self.hint.setObjectName("setTargetHint")
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.setToolTip("Pick a word count to aim for")
        self.hint.linkActivated.connect(lambda _href: self.targetRequested.emit())
        row.addWidget(self.hint)
        layout.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, _SCALE)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        layout.addWidget(self.bar)
        self.set_progress("", 0, None)

    def set_progress(self, label: str, words: int, target: int | None) -> None:
        self._label, self._words = label, words
        self._target = target if target is not None and target > 0 else None
        self.text_label.setText(self.text())
        has_target = self._target is not None
        self.hint.setVisible(not has_target)
        self.bar.setVisible(has_target)
        if has_target:
            ratio = max(0, words) / self._target
            self.bar.setValue(min(_SCALE, round(ratio * _SCALE)))
            self.bar.setAccessibleName(self.text())
        else:
            self.bar.setValue(0)
        self._apply_success_colour()

    def text(self) -> str:
        prefix = f"{self._label} — " if self._label else ""
        if self._target is None:
            return f"{prefix}{self._words:,} words"
        text = (f"{prefix}{self._words:,} / {self._target:,} words "
                f"({percent_of(self._words, self._target)}%)")
        return text + " — target reached" if self.is_reached() else text

    def percent(self) -> int | None:
        return None if self._target is None else percent_of(self._words, self._target)

    def is_reached(self) -> bool:
        return self._target is not None and self._words >= self._target

    def success_colour(self) -> QColor:
        window = self.palette().color(QPalette.ColorRole.Window)
        return _SUCCESS_ON_DARK if window.lightnessF() < 0.5 else _SUCCESS_ON_LIGHT

    def _apply_success_colour(self) -> None:
        """Fusion paints the chunk in Highlight; a reached target swaps in the success green."""
        palette = self.palette()
        if self.is_reached():
            palette.setColor(QPalette.ColorRole.Highlight, self.success_colour())
        self.bar.setPalette(palette)
        self.text_label.setPalette(palette)
        if self.is_reached():
            text_palette = self.text_label.palette()
            text_palette.setColor(QPalette.ColorRole.WindowText, self.success_colour())
            self.text_label.setPalette(text_palette)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_success_colour()

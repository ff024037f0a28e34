"""A recording drawn as a waveform, and a level meter for the microphone.

The sample service stores a short list of ``peaks`` per recording (a few hundred loudness
values from 0 to 1, or ``[low, high]`` pairs), so drawing never reads the audio file: a table
of fifty samples paints from memory.  ``paint_peaks`` is shared by the big view (which also
marks a selection for trimming and the play position) and the sample table's delegate.

Colours come from the palette, so the drawing follows the light and dark themes.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_SELECTION_S = 0.05


def peak_pairs(peaks: Sequence[Any] | None) -> list[tuple[float, float]]:
    """The peaks as (low, high) pairs from -1 to 1, whatever shape the service gave:
    plain loudness values (drawn symmetric) or pairs.  Bad values read as silence."""
    out: list[tuple[float, float]] = []
    for p in peaks or ():
        try:
            if isinstance(p, (list, tuple)) and len(p) >= 2:
                low, high = float(p[0]), float(p[1])
            else:
                high = abs(float(p))
                low = -high
        except (TypeError, ValueError):
            low = high = 0.0
        out.append((max(-1.0, min(1.0, low)), max(-1.0, min(1.0, high))))
    return out


def paint_peaks(painter: QPainter, rect: QRectF, peaks: Sequence[Any] | None,
                colour: QColor, baseline: QColor | None = None) -> None:
    """Draw the waveform into ``rect``: one vertical bar per pixel column (peaks are
    resampled to the width, taking the loudest of the peaks that fall in a column)."""
    pairs = peak_pairs(peaks)
    mid = rect.center().y()
    half = rect.height() / 2.0
    painter.save()
    if baseline is not None:
        painter.setPen(QPen(baseline, 1))
        painter.drawLine(QPointF(rect.left(), mid), QPointF(rect.right(), mid))
    if not pairs or rect.width() < 2:
        painter.restore()
        return
    columns = max(1, int(rect.width()))
    painter.setPen(QPen(colour, 1))
    n = len(pairs)
    for x in range(columns):
        a = int(x * n / columns)
        b = max(a + 1, int((x + 1) * n / columns))
        chunk = pairs[a:b]
        low = min(p[0] for p in chunk)
        high = max(p[1] for p in chunk)
        if high - low < 0.02:  # silence still shows as a dot, so the line reads as audio
            low, high = -0.01, 0.01
        px = rect.left() + x + 0.5
        painter.drawLine(QPointF(px, mid - high * half), QPointF(px, mid - low * half))
    painter.restore()


def wave_colour(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.Highlight)


class WaveformView(QWidget):
    """A recording's waveform, with an optional selection (drag to choose what to keep,
    for Trim) and a play position line."""

    selectionChanged = Signal(float, float)  # start, end in seconds

    def __init__(self, parent: QWidget | None = None, selectable: bool = False):
        super().__init__(parent)
        self.peaks: list[tuple[float, float]] = []
        self.duration = 0.0
        self.selectable = selectable
        self.selection: tuple[float, float] | None = None
        self.position: float | None = None  # seconds, while playing
        self._drag_from: float | None = None
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        if selectable:
            self.setCursor(Qt.CursorShape.IBeamCursor)
            self.setToolTip("Drag across the waveform to choose the part to keep")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(480, 96)

    def set_audio(self, peaks: Sequence[Any] | None, duration: float) -> None:
        self.peaks = peak_pairs(peaks)
        self.duration = max(0.0, float(duration or 0.0))
        self.selection = None
        self.position = None
        self.update()

    def set_selection(self, start: float, end: float, emit: bool = True) -> None:
        start, end = sorted((max(0.0, start), min(self.duration, end)))
        self.selection = (start, end)
        self.update()
        if emit:
            self.selectionChanged.emit(start, end)

    def set_position(self, seconds: float | None) -> None:
        self.position = seconds
        self.update()

    # --- geometry ---

    def _wave_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(4, 4, -4, -4)

    def _seconds_at(self, x: float) -> float:
        rect = self._wave_rect()
        if rect.width() <= 0 or self.duration <= 0:
            return 0.0
        share = (x - rect.left()) / rect.width()
        return max(0.0, min(1.0, share)) * self.duration

    def _x_of(self, seconds: float) -> float:
        rect = self._wave_rect()
        if self.duration <= 0:
            return rect.left()
        return rect.left() + rect.width() * max(0.0, min(1.0, seconds / self.duration))

    # --- painting and mouse ---

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        rect = self._wave_rect()
        colour = wave_colour(pal)
        if self.selection is not None:
            x1, x2 = self._x_of(self.selection[0]), self._x_of(self.selection[1])
            shade = QColor(colour)
            shade.setAlpha(48)
            p.fillRect(QRectF(x1, rect.top(), max(1.0, x2 - x1), rect.height()), shade)
            dim = QColor(pal.color(QPalette.ColorRole.Text))
            dim.setAlpha(40)
            p.fillRect(QRectF(rect.left(), rect.top(), x1 - rect.left(), rect.height()), dim)
            p.fillRect(QRectF(x2, rect.top(), rect.right() - x2, rect.height()), dim)
        if not self.peaks:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No waveform")
        else:
            paint_peaks(p, rect, self.peaks, colour, pal.color(QPalette.ColorRole.Mid))
        if self.position is not None and self.duration > 0:
            x = self._x_of(self.position)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Text), 1.5))
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.selectable and event.button() == Qt.MouseButton.LeftButton and self.duration:
            self._drag_from = self._seconds_at(event.position().x())
            self.set_selection(self._drag_from, self._drag_from, emit=False)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag_from is not None:
            self.set_selection(self._drag_from, self._seconds_at(event.position().x()))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag_from is not None:
            end = self._seconds_at(event.position().x())
            if abs(end - self._drag_from) < MIN_SELECTION_S:  # a click: keep everything
                self.set_selection(0.0, self.duration)
            else:
                self.set_selection(self._drag_from, end)
            self._drag_from = None
        super().mouseReleaseEvent(event)


class LevelMeter(QWidget):
    """How loud the microphone is right now (0–1): green, amber near the top, red when it
    clips, so the author can move closer or further before recording a whole line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.level = 0.0
        self.setFixedHeight(10)
        self.setMinimumWidth(120)
        self.setToolTip("Microphone level")

    def set_level(self, level: float) -> None:
        level = max(0.0, min(1.0, float(level)))
        if abs(level - self.level) > 0.005:
            self.level = level
            self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        pal = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.setBrush(pal.color(QPalette.ColorRole.Base))
        p.drawRoundedRect(rect, 3, 3)
        if self.level > 0:
            colour = QColor("#3a9d5d") if self.level < 0.7 else \
                QColor("#e0a526") if self.level < 0.95 else QColor("#d9453d")
            fill = QRectF(rect.left() + 1, rect.top() + 1,
                          (rect.width() - 2) * self.level, rect.height() - 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(fill, 2, 2)
        p.end()

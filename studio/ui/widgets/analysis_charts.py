"""Small painted charts for the Analysis panel: bars inside table cells, a stacked emotion
strip, and chapter lengths as columns.

Painted with QPainter (PySide6-Essentials has no QtCharts), from the palette so they follow the
light and dark themes; emotions keep the colours of ``emotion_arc_chart.EMOTION_COLOURS`` so a
colour means the same thing in the Scene Bible and here.  Bars in table cells are delegates,
not widgets: a table of thousands of scenes paints only the rows on screen.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen,
)
from PySide6.QtWidgets import (
    QSizePolicy, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip, QWidget,
)

from studio.ui.widgets.analysis_models import (
    BAR_ROLE, SHARES_ROLE, emotion_colour, emotion_label, fmt_int, fmt_percent, number,
)

BAR_COLOUR = "#5b8fc9"


def _shares_in_order(shares: dict) -> list[tuple[str, float]]:
    items = [(str(k), number(v)) for k, v in shares.items() if number(v) > 0]
    return sorted(items, key=lambda kv: -kv[1])


class BarDelegate(QStyledItemDelegate):
    """The cell's text, right-aligned, over a pale bar as long as the value is large (relative
    to the column's largest): a column of numbers reads as a shape at a glance."""

    def __init__(self, parent=None, colour: str = BAR_COLOUR):
        super().__init__(parent)
        self.colour = QColor(colour)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else None
        fraction = max(0.0, min(1.0, number(index.data(BAR_ROLE))))
        text = opt.text
        opt.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        rect = opt.rect.adjusted(4, 5, -4, -5)
        painter.save()
        fill = QColor(self.colour)
        fill.setAlpha(70 if opt.state & QStyle.StateFlag.State_Selected else 95)
        if fraction > 0:
            painter.fillRect(QRectF(rect.left(), rect.top(), max(2.0, rect.width() * fraction),
                                    rect.height()), fill)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText if selected
                                         else QPalette.ColorRole.Text))
        painter.drawText(rect.adjusted(4, 0, -4, 0),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
        painter.restore()


class SharesDelegate(QStyledItemDelegate):
    """An {emotion: share} cell as one stacked bar, largest share first; the tooltip lists
    the shares in words (colour alone is never the only cue)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        if opt.widget is not None:
            opt.widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter,
                                           opt.widget)
        shares = _shares_in_order(index.data(SHARES_ROLE) or {})
        total = sum(v for _, v in shares)
        rect = QRectF(opt.rect.adjusted(6, 7, -6, -7))
        if total <= 0 or rect.width() <= 4:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.left()
        for emotion, share in shares:
            w = rect.width() * share / total
            painter.fillRect(QRectF(x, rect.top(), w + 0.5, rect.height()),
                             emotion_colour(emotion))
            x += w
        painter.restore()

    def helpEvent(self, event, view, option, index) -> bool:  # noqa: N802 - Qt API
        shares = _shares_in_order(index.data(SHARES_ROLE) or {})
        if not shares:
            return super().helpEvent(event, view, option, index)
        total = sum(v for _, v in shares) or 1.0
        lines = [f"{emotion_label(e)}: {fmt_percent(v / total)}" for e, v in shares]
        QToolTip.showText(event.globalPos(), "\n".join(lines), view)
        return True


class EmotionStrip(QWidget):
    """The story's emotional mix: one stacked bar and a legend of the leading emotions."""

    LEGEND = 6

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._shares: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setObjectName("emotionStrip")

    def set_shares(self, shares: dict) -> None:
        self._shares = _shares_in_order(shares or {})
        total = sum(v for _, v in self._shares)
        self._shares = [(e, v / total) for e, v in self._shares] if total > 0 else []
        self.setToolTip("\n".join(f"{emotion_label(e)}: {fmt_percent(v)}"
                                  for e, v in self._shares))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        line = QFontMetrics(self.font()).height()
        return QSize(360, 14 + 10 + line + 4)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        bar = QRectF(0, 0, self.width(), 14)
        if not self._shares:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                       "No emotion words found.")
            return
        x = bar.left()
        for emotion, share in self._shares:
            w = bar.width() * share
            p.fillRect(QRectF(x, bar.top(), w + 0.5, bar.height()), emotion_colour(emotion))
            x += w
        fm = QFontMetrics(self.font())
        x, y = 0.0, bar.bottom() + 10
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        for emotion, share in self._shares[:self.LEGEND]:
            label = f"{emotion_label(emotion)} {fmt_percent(share)}"
            width = 12 + 6 + fm.horizontalAdvance(label) + 18
            if x + width > self.width() and x > 0:
                break
            p.setBrush(emotion_colour(emotion))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QRectF(x, y + (fm.height() - 10) / 2, 10, 10))
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(QRectF(x + 16, y, width, fm.height()),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
            x += width


class ChapterLengthChart(QWidget):
    """Words per chapter as columns, in story order, with the story's mean as a dashed line:
    a chapter twice as long as its neighbours stands out before any number is read.
    Clicking a column selects that chapter (``chapterClicked(index)``)."""

    chapterClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._bars: list[tuple[str, float]] = []
        self._selected = -1
        self.setMouseTracking(True)
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setObjectName("chapterLengthChart")

    def set_chapters(self, bars: list[tuple[str, float]]) -> None:
        self._bars = list(bars)
        self._selected = -1
        self.update()

    def select(self, index: int) -> None:
        self._selected = index
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(600, 180)

    def _plot(self) -> QRectF:
        """The plot area: a line on top for the legend, numbers on the left, chapter numbers
        below."""
        fm = QFontMetrics(self.font())
        left = fm.horizontalAdvance("100,000") + 12
        top = fm.height() + 10
        return QRectF(left, top, max(10.0, self.width() - left - 12),
                      max(10.0, self.height() - top - fm.height() - 10))

    def _bar_at(self, x: float) -> int:
        plot = self._plot()
        if not self._bars or not plot.left() <= x <= plot.right():
            return -1
        return min(len(self._bars) - 1, int((x - plot.left()) / plot.width() * len(self._bars)))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        i = self._bar_at(event.position().x())
        if i >= 0:
            title, words = self._bars[i]
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"{i + 1}. {title}\n{fmt_int(words)} words", self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        i = self._bar_at(event.position().x())
        if i >= 0:
            self.select(i)
            self.chapterClicked.emit(i)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = QFontMetrics(self.font())
        plot = self._plot()
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        if not self._bars:
            p.setPen(muted)
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), "No chapters.")
            return
        top, step = nice_axis(max(w for _, w in self._bars))
        grid = QColor(pal.color(QPalette.ColorRole.Mid))
        grid.setAlpha(110)
        # Gridlines at round numbers, labelled, so heights can be read.
        for k in range(round(top / step) + 1):
            y = plot.bottom() - plot.height() * k * step / top
            p.setPen(QPen(grid, 1))
            p.drawLine(plot.left(), y, plot.right(), y)
            p.setPen(muted)
            p.drawText(QRectF(0, y - fm.height() / 2, plot.left() - 8, fm.height()),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       fmt_int(k * step))
        n = len(self._bars)
        slot = plot.width() / n
        gap = min(6.0, slot * 0.2) if slot > 3 else 0.0
        base = QColor(BAR_COLOUR)
        for i, (_title, words) in enumerate(self._bars):
            h = plot.height() * words / top
            rect = QRectF(plot.left() + i * slot + gap / 2, plot.bottom() - h,
                          max(1.0, slot - gap), h)
            colour = pal.color(QPalette.ColorRole.Highlight) if i == self._selected else base
            p.fillRect(rect, colour)
        mean = sum(w for _, w in self._bars) / n
        y = plot.bottom() - plot.height() * mean / top
        pen = QPen(pal.color(QPalette.ColorRole.WindowText), 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(plot.left(), y, plot.right(), y)
        # Chapter numbers under the columns, thinned out so they never overlap.
        p.setPen(muted)
        every = max(1, int((fm.horizontalAdvance("000") + 6) / slot) + 1)
        for i in range(0, n, every):
            p.drawText(QRectF(plot.left() + i * slot, plot.bottom() + 4, slot * every,
                              fm.height()),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                       if every > 1 else int(Qt.AlignmentFlag.AlignHCenter
                                             | Qt.AlignmentFlag.AlignTop), str(i + 1))
        # The legend, above the plot: what the dashed line is.
        legend = f"mean {fmt_int(mean)} words a chapter"
        x = plot.right() - fm.horizontalAdvance(legend)
        p.setPen(pen)
        p.drawLine(x - 30, fm.height() / 2 + 2, x - 8, fm.height() / 2 + 2)
        p.setPen(muted)
        p.drawText(QRectF(x, 0, fm.horizontalAdvance(legend) + 2, fm.height() + 4),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), legend)
        p.drawText(QRectF(plot.left(), 0, plot.width() / 2, fm.height() + 4),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   "Words per chapter")


def nice_axis(value: float, lines: int = 4) -> tuple[float, float]:
    """The axis top and gridline step for ``value``: steps of 1, 2, 2.5 or 5 × a power of
    ten, so the axis reads 0 / 1,000 / 2,000 rather than 0 / 1,736 / 3,471."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / lines
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return math.ceil(value / step - 1e-9) * step, step

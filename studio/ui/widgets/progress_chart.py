"""Words written per day over the last 90 days, as bars: authors would rather look than read.

Everything is painted with QPainter (PySide6-Essentials has no QtCharts) in the widget's own
palette colours, so the chart follows the light and dark themes without colours of its own.
The numbers come from ``studio.domain.progress``; this module only lays them out and paints.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from studio.domain.progress import DEFAULT_SPAN, fill_days, nice_ticks, summary

# The rest of the UI is English; fixed names also keep tooltips independent of the C locale
# (QApplication calls setlocale, which would change what strftime prints).
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

EMPTY_MESSAGE = ("No words written yet in the last 90 days — "
                 "the chart fills in as you write.")

_MARGIN = 8


def day_label(day: date) -> str:
    """``Tue 14 Oct``: short enough for a tooltip, with the weekday writers plan by."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def words_text(words: int) -> str:
    return f"{words:,} word{'' if abs(words) == 1 else 's'}"


@dataclass
class _Layout:
    """Where everything goes at the current size; shared by painting and hit-testing."""

    caption: QRect
    plot: QRect  # the positive area: top is the highest gridline, bottom is the baseline
    negative_depth: int  # room below the baseline for deletion days
    edges: list[int]  # x of each day's slot edge: day i spans edges[i]..edges[i + 1]
    axis_top: int  # y where month labels start
    label_width: int


class WritingProgressChart(QWidget):
    """A bar per day for the last 90 days, today at the right edge; hover a bar for its count."""

    SPAN = DEFAULT_SPAN

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._today = date.today()
        self._days: list[tuple[date, int]] = fill_days([], self._today, self.SPAN)
        self._goal: int | None = None
        self._summary = summary(self._days, self._today)
        self._ticks: list[int] = [0]
        self._hover: int | None = None

    # -- data -----------------------------------------------------------------------------

    def set_data(self, days: Iterable[tuple[date, int]], today: date | None = None,
                 daily_goal: int | None = None) -> None:
        """Show ``days`` (sparse, net words per date) for the 90 days ending at ``today``."""
        self._today = today or date.today()
        self._days = fill_days(days, self._today, self.SPAN)
        self._goal = daily_goal if daily_goal and daily_goal > 0 else None
        self._summary = summary(self._days, self._today)
        peak = max([words for _, words in self._days] + [self._goal or 0])
        self._ticks = nice_ticks(peak)
        self._hover = None
        self.setAccessibleDescription(EMPTY_MESSAGE if self.is_empty() else self.caption_text())
        self.update()

    def days(self) -> list[tuple[date, int]]:
        return list(self._days)

    def ticks(self) -> list[int]:
        return list(self._ticks)

    def is_empty(self) -> bool:
        """Nothing written or deleted in the window: show the friendly message, not bare axes."""
        return not any(words for _, words in self._days)

    def caption_text(self, compact: bool = False) -> str:
        return "".join(text for text, _bold in self._caption_runs(compact))

    def _caption_runs(self, compact: bool) -> list[tuple[str, bool]]:
        s = self._summary
        runs: list[tuple[str, bool]] = []
        if compact:
            runs.append((words_text(s["total"]), True))
            if s["best_day"] is not None:
                runs += [(" · best ", False), (f"{s['best_words']:,}", True)]
            if s["streak"]:
                runs += [(" · ", False), (f"{s['streak']}-day streak", True)]
            return runs
        runs += [(f"Last {self.SPAN} days: ", False), (words_text(s["total"]), True)]
        if s["best_day"] is not None:
            runs += [("  ·  Best day: ", False),
                     (f"{day_label(s['best_day'])}, {words_text(s['best_words'])}", True)]
        if s["streak"]:
            runs += [("  ·  Streak: ", False),
                     (f"{s['streak']} day{'' if s['streak'] == 1 else 's'}", True)]
        else:
            runs.append(("  ·  No streak yet", False))
        return runs

    # -- geometry (public so tests and tools can ask what is where) ----------------------

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
        return font

    def _layout(self) -> _Layout:
        fm, small = QFontMetrics(self.font()), QFontMetrics(self._small_font())
        caption = QRect(_MARGIN, _MARGIN, self.width() - 2 * _MARGIN, fm.height())
        label_width = max(small.horizontalAdvance(f"{t:,}") for t in self._ticks)
        left = _MARGIN + label_width + 6
        right = self.width() - _MARGIN
        top = caption.bottom() + 1 + 6 + small.height() // 2  # room for the top label's upper half
        axis_height = small.height() + 5
        bottom_limit = self.height() - _MARGIN - axis_height
        has_negative = any(words < 0 for _, words in self._days)
        negative_depth = max(6, round((bottom_limit - top) * 0.12)) if has_negative else 0
        baseline = max(top + 10, bottom_limit - negative_depth)
        n = len(self._days) or 1
        width = max(n, right - left)
        edges = [left + round(i * width / n) for i in range(n + 1)]
        return _Layout(caption=caption, plot=QRect(left, top, width, baseline - top),
                       negative_depth=negative_depth, edges=edges,
                       axis_top=baseline + negative_depth + 3, label_width=label_width)

    def _index(self, day: date | int) -> int | None:
        if isinstance(day, date):
            offset = (day - self._days[0][0]).days if self._days else -1
            return offset if 0 <= offset < len(self._days) else None
        return day if 0 <= day < len(self._days) else None

    def bar_rect(self, day: date | int) -> QRect:
        """The painted bar for ``day`` (a date or an index, oldest = 0); empty for 0 words.

        Bars above the baseline end at ``plot.bottom()``; deletion days hang below it.
        """
        index = self._index(day)
        if index is None:
            return QRect()
        lay = self._layout()
        x0, x1 = lay.edges[index], lay.edges[index + 1]
        slot = x1 - x0
        gap = 1 if slot < 5 else max(1, round(slot * 0.22))
        x, w = x0 + gap // 2, max(1, slot - gap)
        words = self._days[index][1]
        top_value = self._ticks[-1] or 1
        baseline = lay.plot.bottom() + 1  # first pixel row below the plot
        if words > 0:
            h = max(2, round(words / top_value * lay.plot.height()))
            return QRect(x, baseline - h, w, h)
        if words < 0:
            h = min(lay.negative_depth, max(2, round(-words / top_value * lay.plot.height())))
            return QRect(x, baseline, w, h)
        return QRect()

    def value_y(self, value: int) -> int:
        """The y of a word count on the scale: where its gridline is drawn."""
        lay = self._layout()
        top_value = self._ticks[-1] or 1
        return lay.plot.bottom() - round(value / top_value * (lay.plot.height() - 1))

    def bar_at(self, x: int) -> tuple[date, int] | None:
        """The day whose slot covers ``x`` (the whole column, not just the bar), or None."""
        if not self._days or self.is_empty():
            return None
        edges = self._layout().edges
        if not edges[0] <= x < edges[-1]:
            return None
        index = bisect.bisect_right(edges, x) - 1
        return self._days[index]

    def tooltip_text(self, day: date, words: int) -> str:
        text = f"{day_label(day)}: {words_text(words)}"
        if words < 0:
            text += " (more deleted than written)"
        elif self._goal is not None and words >= self._goal:
            text += " — goal met"
        if day == self._today:
            text += " (today)"
        return text

    def tooltip_at(self, x: int) -> str | None:
        hit = self.bar_at(x)
        return None if hit is None else self.tooltip_text(*hit)

    # -- Qt -------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(640, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 160)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        lay = self._layout()
        inside = lay.plot.top() - 4 <= pos.y() <= lay.axis_top + 4
        hit = self.bar_at(pos.x()) if inside else None
        index = None if hit is None else self._index(hit[0])
        if index != self._hover:
            self._hover = index
            self.update()
        if hit is None:
            QToolTip.hideText()
        else:
            x0, x1 = lay.edges[index], lay.edges[index + 1]
            column = QRect(x0, lay.plot.top(), x1 - x0, lay.axis_top - lay.plot.top())
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_text(*hit), self,
                              column)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover is not None:
            self._hover = None
            self.update()
        QToolTip.hideText()
        super().leaveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            if self.is_empty():
                self._paint_empty(painter)
            else:
                lay = self._layout()
                self._paint_caption(painter, lay)
                self._paint_grid(painter, lay)
                self._paint_bars(painter, lay)
                self._paint_goal(painter, lay)
                self._paint_months(painter, lay)
        finally:
            painter.end()

    # -- painting -------------------------------------------------------------------------

    def _muted(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.PlaceholderText)

    def _paint_empty(self, painter: QPainter) -> None:
        painter.setPen(self._muted())
        area = self.rect().adjusted(3 * _MARGIN, _MARGIN, -3 * _MARGIN, -_MARGIN)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         EMPTY_MESSAGE)

    def _paint_caption(self, painter: QPainter, lay: _Layout) -> None:
        regular = QFont(self.font())
        bold = QFont(self.font())
        bold.setBold(True)

        def width_of(runs: list[tuple[str, bool]]) -> int:
            return sum(QFontMetrics(bold if b else regular).horizontalAdvance(t) for t, b in runs)

        runs = self._caption_runs(compact=False)
        if width_of(runs) > lay.caption.width():
            runs = self._caption_runs(compact=True)
        x = lay.caption.left()
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        for text, is_bold in runs:
            painter.setFont(bold if is_bold else regular)
            painter.setPen(text_colour if is_bold else self._muted())
            room = lay.caption.right() - x
            if room <= 0:
                break
            shown = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(x, lay.caption.top(), room, lay.caption.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
            x += painter.fontMetrics().horizontalAdvance(shown)
        painter.setFont(regular)

    def _paint_grid(self, painter: QPainter, lay: _Layout) -> None:
        painter.setFont(self._small_font())
        fm = painter.fontMetrics()
        grid = self.palette().color(QPalette.ColorRole.Mid)
        for tick in self._ticks:
            y = self.value_y(tick)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(lay.plot.left(), y, lay.plot.right(), y)
            painter.setPen(self._muted())
            label = QRect(_MARGIN, y - fm.height() // 2, lay.label_width, fm.height())
            painter.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{tick:,}")

    def _paint_bars(self, painter: QPainter, lay: _Layout) -> None:
        highlight = self._today_colour()
        past = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        past.setAlphaF(0.6)
        hovered = highlight.darker(120) if self._is_light() else highlight.lighter(120)
        deleted = QColor(self._muted())
        deleted.setAlphaF(min(1.0, deleted.alphaF() * 0.85))
        painter.setPen(Qt.PenStyle.NoPen)
        last = len(self._days) - 1
        for index, (_day, words) in enumerate(self._days):
            rect = self.bar_rect(index)
            if rect.isEmpty():
                continue
            if words < 0:
                colour = deleted
            elif index == self._hover:
                colour = hovered
            elif index == last:
                colour = highlight
            else:
                colour = past
            painter.fillRect(rect, colour)

    def _paint_goal(self, painter: QPainter, lay: _Layout) -> None:
        if self._goal is None:
            return
        y = self.value_y(self._goal)
        colour = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        colour.setAlphaF(0.7)
        pen = QPen(colour, 1, Qt.PenStyle.DashLine)
        pen.setDashPattern([4, 3])
        painter.setPen(pen)
        painter.drawLine(lay.plot.left(), y, lay.plot.right(), y)
        painter.setFont(self._small_font())
        fm = painter.fontMetrics()
        text = f"Goal {self._goal:,}"
        w, h = fm.horizontalAdvance(text) + 8, fm.height()
        above = y - h - 1 >= lay.caption.bottom() + 2
        # At the left end: the oldest days matter least, today's bars stay uncovered.
        box = QRect(lay.plot.left() + 2, y - h - 1 if above else y + 2, w, h)
        background = QColor(self.palette().color(QPalette.ColorRole.Window))
        background.setAlphaF(0.85)
        painter.fillRect(box, background)
        painter.setPen(colour)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_months(self, painter: QPainter, lay: _Layout) -> None:
        painter.setFont(self._small_font())
        fm = painter.fontMetrics()
        tick_colour = self.palette().color(QPalette.ColorRole.Mid)
        # "Today" under the right edge, so the highlighted bar is named even on a day at 0 words.
        today_width = fm.horizontalAdvance("Today")
        today_left = lay.plot.right() + 1 - today_width
        previous_right = -10_000
        for index, (day, _words) in enumerate(self._days):
            if day.day != 1:
                continue
            x = lay.edges[index]
            text = _MONTHS[day.month - 1] + (f" {day.year}" if day.month == 1 else "")
            width = fm.horizontalAdvance(text)
            left = min(x + 2, self.width() - _MARGIN - width)
            if left <= previous_right + 6:
                continue
            painter.setPen(QPen(tick_colour, 1))
            painter.drawLine(x, lay.plot.bottom() + 1, x, lay.axis_top + fm.ascent())
            painter.setPen(self._muted())
            painter.drawText(QPoint(left + 2, lay.axis_top + fm.ascent()), text)
            previous_right = left + 2 + width
        if today_left > previous_right + 6:
            painter.setPen(self._today_colour())
            painter.drawText(QPoint(today_left, lay.axis_top + fm.ascent()), "Today")

    def _is_light(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Window).lightnessF() >= 0.5

    def _today_colour(self) -> QColor:
        """Highlight, lifted on dark windows until it stands out from the dimmer past bars."""
        colour = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        window = self.palette().color(QPalette.ColorRole.Window)
        for _ in range(4):
            if abs(colour.lightnessF() - window.lightnessF()) >= 0.35:
                break
            colour = colour.darker(120) if self._is_light() else colour.lighter(120)
        return colour

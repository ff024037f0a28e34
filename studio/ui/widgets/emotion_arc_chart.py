"""How each character feels, scene by scene: one line per character across the manuscript.

An arc is easier to judge as a shape than as a list of recorded states: a flat stretch, a spike
with no build-up, a character who never feels anything but anger.  Everything is painted with
QPainter (PySide6-Essentials has no QtCharts).  Axes, text and background use the palette so the
chart follows the light and dark themes; the data gets fixed accents: a colour per character line
and, on each point, a colour per primary emotion (``EMOTION_COLOURS``, reusable by other widgets).

Gaps: a character with no state in a scene has no point there, and the solid line breaks; the two
ends are joined by a faint dotted line, so the arc can still be followed while it is plain that
nothing was recorded in between.  This is the same everywhere, whatever the size of the gap.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# Plutchik's wheel colours for his eight, plus love and calm; pleasant on light and dark alike.
EMOTION_COLOURS: dict[str, str] = {
    "joy": "#f2c12e",
    "trust": "#8cc152",
    "fear": "#2f9e6e",
    "surprise": "#36a9c9",
    "sadness": "#4a78c2",
    "disgust": "#9b59b6",
    "anger": "#d9453d",
    "anticipation": "#f08c2e",
    "love": "#e2679a",
    "calm": "#7fb8b0",
    # The rest of ``studio.domain.emotions.EMOTIONS``, so no offered emotion reads "other".
    "guilt": "#8d6e63",
    "shame": "#b5651d",
    "pride": "#c9a227",
    "hope": "#5dade2",
    "despair": "#34495e",
    "curiosity": "#16a085",
}
NEUTRAL_COLOUR = "#9aa0a6"  # any emotion not in the table
# Character lines: inky tones that stay apart from each other and from the points on top.
_LINE_COLOURS = ("#4f6d9a", "#b0546b", "#3d8c7a", "#a0752d", "#7a5aa8", "#5c7f2e", "#b5654b",
                 "#3f8fb5", "#8a6d5a", "#6a6f9e")

EMPTY_MESSAGE = "No emotions recorded yet — pick a character and a scene to record one."
NO_VISIBLE_MESSAGE = "No character chosen — pick one to see their arc."

_MARGIN = 12
_ANGLE = 35.0  # degrees, for scene labels when they do not fit side by side
_MAX_LABEL = 130.0  # px: longer scene labels are elided
_NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass(frozen=True)
class ArcPoint:
    """One recorded state: the main emotion and its strength (0–1), plus fainter undertones."""

    scene_uid: str
    primary: str
    intensity: float
    secondary: dict[str, float] = field(default_factory=dict, hash=False)


Arc = list[ArcPoint]


def emotion_colour(emotion: str) -> QColor:
    return QColor(EMOTION_COLOURS.get(emotion.strip().lower(), NEUTRAL_COLOUR))


def amount(value: float) -> str:
    """0.8 → "0.8", 0.85 → "0.85", 1 → "1.0": short, but always reads as a fraction."""
    text = f"{value:.2f}"
    return text[:-1] if text.endswith("0") else text


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way to ``b`` (an opaque colour: alpha strokes paint slowly)."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def _clamp(value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


@dataclass
class _Layout:
    """Where everything goes at the current size; shared by painting and hit-testing."""

    legend: list[tuple[QRectF, str, QColor, bool]]  # (box, text, colour, is a character)
    plot: QRectF
    slot: float
    step: int  # every step-th scene is labelled
    rotated: bool
    labels: dict[int, str]  # scene index → (elided) label shown
    radius: float


class EmotionArcChart(QWidget):
    """Intensity (0–1) per scene for each character; hover a point to read it, click to go there."""

    sceneActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._scenes: list[tuple[str, str]] = []
        self._series: dict[str, list[ArcPoint | None]] = {}  # name → a slot per scene
        self._colours: dict[str, QColor] = {}
        self._point_colours: dict[str, QColor] = {}
        self._points: dict[str, list[tuple[int, float, str]]] = {}  # (scene index, value, emotion)
        self._visible: list[str] | None = None
        self._chapter_starts: list[int] = []  # scene indices that open a new chapter
        self._hover: tuple[str, int] | None = None
        self._cache: tuple[tuple[int, int, str], _Layout] | None = None
        self.setAccessibleName("Emotion arcs")

    # -- data ---------------------------------------------------------------------------------

    def set_data(self, scenes: list[tuple[str, str]], arcs: dict[str, Arc]) -> None:
        """Scenes in reading order and each character's points; unknown scenes are skipped."""
        self._scenes = [(str(uid), str(label)) for uid, label in scenes]
        index = {uid: i for i, (uid, _label) in enumerate(self._scenes)}
        self._series, self._colours, self._points = {}, {}, {}
        self._point_colours = {p.primary: emotion_colour(p.primary)
                               for arc in arcs.values() for p in arc}
        for n, (name, arc) in enumerate(arcs.items()):
            slots: list[ArcPoint | None] = [None] * len(self._scenes)
            for point in arc:
                i = index.get(point.scene_uid)
                if i is not None:
                    slots[i] = point  # a later state for the same scene wins
            self._series[name] = slots
            self._points[name] = [(i, _clamp(p.intensity), p.primary)
                                  for i, p in enumerate(slots) if p is not None]
            self._colours[name] = QColor(_LINE_COLOURS[n % len(_LINE_COLOURS)])
        chapters = [m.group(1) if (m := re.match(r"\s*(\d+)\.", lab)) else None
                    for _uid, lab in self._scenes]
        self._chapter_starts = [i for i in range(1, len(chapters))
                                if chapters[i] is not None and chapters[i] != chapters[i - 1]]
        self._hover, self._cache = None, None
        self.setAccessibleDescription(EMPTY_MESSAGE if self.is_empty() else
                                      f"Emotion arcs of {', '.join(self.visible_characters())}")
        self.update()

    def set_visible_characters(self, names: list[str] | None) -> None:
        """Show only ``names`` (unknown names are ignored); ``None`` shows everyone again."""
        self._visible = None if names is None else list(names)
        self._hover, self._cache = None, None
        self.update()

    def visible_characters(self) -> list[str]:
        if self._visible is None:
            return list(self._series)
        wanted = set(self._visible)
        return [name for name in self._series if name in wanted]

    def line_colour(self, name: str) -> QColor:
        """The colour of ``name``'s line: inky tones, lifted on dark windows to stay visible."""
        colour = QColor(self._colours.get(name, QColor(NEUTRAL_COLOUR)))
        window = self.palette().color(QPalette.ColorRole.Window)
        return colour.lighter(150) if window.lightness() < 128 else colour

    def is_empty(self) -> bool:
        """No scenes or no recorded state at all: the friendly message instead of bare axes."""
        return not self._scenes or not any(p for s in self._series.values() for p in s)

    # -- geometry (public so tests and the panel can ask what is where) ----------------------

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
        return font

    def _layout(self) -> _Layout:
        key = (self.width(), self.height(), self.font().key())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        fm, small = QFontMetricsF(self.font()), QFontMetricsF(self._small_font())
        # Legend: the characters, then the emotions in use, flowing onto more rows as needed.
        entries = [(name, self._colours[name], True) for name in self.visible_characters()]
        used = {p.primary.strip().lower() for name in self.visible_characters()
                for p in self._series[name] if p}
        entries += [(e, QColor(c), False) for e, c in EMOTION_COLOURS.items() if e in used]
        if used - set(EMOTION_COLOURS):
            entries.append(("other", QColor(NEUTRAL_COLOUR), False))
        legend: list[tuple[QRectF, str, QColor, bool]] = []
        x, y, row_h = float(_MARGIN), float(_MARGIN), fm.height() + 4
        right_edge = self.width() - _MARGIN
        for text, colour, is_char in entries:
            w = (22 if is_char else 14) + fm.horizontalAdvance(text)
            if legend and (x + 14 + w > right_edge or legend[-1][3] != is_char):
                x, y = float(_MARGIN), y + row_h  # emotions start a row of their own
            elif legend:
                x += 14
            legend.append((QRectF(x, y, w, row_h), text, colour, is_char))
            x += w
        legend_bottom = y + row_h if legend else float(_MARGIN)
        # Plot and scene labels.
        left = _MARGIN + small.horizontalAdvance("0.75") + 8
        right = self.width() - _MARGIN - 4
        n = max(1, len(self._scenes))
        slot = max(0.1, (right - left) / n)
        widest = max((small.horizontalAdvance(lab) for _, lab in self._scenes), default=0.0)
        rotated = slot < min(widest, _MAX_LABEL) + 10
        if rotated:
            spacing = (small.height() + 6) / math.sin(math.radians(_ANGLE))
            step = next((s for s in _NICE_STEPS if s * slot >= spacing), _NICE_STEPS[-1])
            axis_h = min(widest, _MAX_LABEL) * math.sin(math.radians(_ANGLE)) + small.height()
        else:
            step, axis_h = 1, small.height()
        bottom = max(legend_bottom + 60, self.height() - _MARGIN - axis_h - 8)
        plot = QRectF(left, legend_bottom + 10 + small.height() / 2, right - left,
                      bottom - legend_bottom - 10 - small.height() / 2)
        labels: dict[int, str] = {}
        for i in range(0, len(self._scenes), step):
            # Rotated labels run down-left from their tick: the first ones may need eliding.
            room = min(_MAX_LABEL, (left + (i + 0.5) * slot - 4) / math.cos(math.radians(_ANGLE))
                       ) if rotated else slot - 6
            labels[i] = small.elidedText(self._scenes[i][1], Qt.TextElideMode.ElideRight, room)
        radius = min(5.0, max(2.0, slot * 0.3))
        lay = _Layout(legend, plot, slot, step, rotated, labels, radius)
        self._cache = (key, lay)
        return lay

    def scene_x(self, index: int) -> float:
        lay = self._layout()
        return lay.plot.left() + (index + 0.5) * lay.slot

    def value_y(self, value: float) -> float:
        plot = self._layout().plot
        return plot.bottom() - _clamp(value) * plot.height()

    def point_position(self, name: str, scene_uid: str) -> QPointF | None:
        """Where ``name``'s point for ``scene_uid`` is painted, or None if there is none."""
        for i, (uid, _label) in enumerate(self._scenes):
            point = self._series.get(name, [])[i] if uid == scene_uid else None
            if point is not None:
                return QPointF(self.scene_x(i), self.value_y(point.intensity))
        return None

    def point_at(self, pos: QPointF) -> tuple[str, ArcPoint] | None:
        """The visible point under ``pos`` (the nearest within a few pixels), or None."""
        hit = self._hit(pos)
        return None if hit is None else (hit[0], self._series[hit[0]][hit[1]])

    def _hit(self, pos: QPointF) -> tuple[str, int] | None:
        if self.is_empty():
            return None
        lay = self._layout()
        reach = max(7.0, lay.radius + 3)
        lo = max(0, math.floor((pos.x() - reach - lay.plot.left()) / lay.slot - 0.5))
        hi = min(len(self._scenes) - 1, math.ceil((pos.x() + reach - lay.plot.left()) / lay.slot))
        best, best_d = None, reach * reach
        for name in self.visible_characters():
            series = self._series[name]
            for i in range(lo, hi + 1):
                point = series[i]
                if point is None:
                    continue
                dx = self.scene_x(i) - pos.x()
                dy = self.value_y(point.intensity) - pos.y()
                d = dx * dx + dy * dy
                if d <= best_d:  # ties go to the later character: the one painted on top
                    best, best_d = (name, i), d
        return best

    def tooltip_text(self, name: str, point: ArcPoint) -> str:
        """``Ada Quill — 1.2 Storm: fear 0.8 (hints of sadness 0.3)``."""
        label = next((lab for uid, lab in self._scenes if uid == point.scene_uid),
                     point.scene_uid)
        text = f"{name} — {label}: {point.primary} {amount(_clamp(point.intensity))}"
        hints = sorted(((v, k) for k, v in point.secondary.items() if _clamp(v) > 0),
                       key=lambda vk: (-vk[0], vk[1]))[:3]
        if hints:
            text += " (hints of " + ", ".join(f"{k} {amount(_clamp(v))}" for v, k in hints) + ")"
        return text

    def tooltip_at(self, pos: QPointF) -> str | None:
        hit = self.point_at(pos)
        return None if hit is None else self.tooltip_text(*hit)

    # -- Qt -----------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(720, 360)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        hit = self._hit(pos)
        if hit != self._hover:
            self._hover = hit
            self.update()
        if hit is None:
            self.unsetCursor()
            QToolTip.hideText()
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            QToolTip.showText(event.globalPosition().toPoint(),
                              self.tooltip_text(hit[0], self._series[hit[0]][hit[1]]), self)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Clicking a point opens its scene."""
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._hit(event.position())
            if hit is not None:
                self.sceneActivated.emit(self._scenes[hit[1]][0])
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover is not None:
            self._hover = None
            self.update()
        QToolTip.hideText()
        super().leaveEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._cache = None
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self.is_empty() or not self.visible_characters():
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(QRectF(self.rect()).adjusted(24, 12, -24, -12),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 EMPTY_MESSAGE if self.is_empty() else NO_VISIBLE_MESSAGE)
                return
            lay = self._layout()
            self._paint_legend(painter, lay)
            self._paint_axes(painter, lay)
            self._paint_arcs(painter, lay)
        finally:
            painter.end()

    # -- painting -----------------------------------------------------------------------------

    def _muted(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.PlaceholderText)

    def _paint_legend(self, painter: QPainter, lay: _Layout) -> None:
        painter.setFont(self.font())
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        for box, text, colour, is_char in lay.legend:
            cy = box.center().y()
            if is_char:
                painter.setPen(QPen(self.line_colour(text), 2.5))
                painter.drawLine(QPointF(box.left(), cy), QPointF(box.left() + 16, cy))
                painter.setPen(text_colour)
                text_left = box.left() + 22
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawEllipse(QPointF(box.left() + 4, cy), 4, 4)
                painter.setPen(self._muted())
                text_left = box.left() + 14
            painter.drawText(QRectF(text_left, box.top(), box.right() - text_left, box.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_axes(self, painter: QPainter, lay: _Layout) -> None:
        small = self._small_font()
        painter.setFont(small)
        fm = QFontMetricsF(small)
        plot = lay.plot
        grid = self.palette().color(QPalette.ColorRole.Mid)
        for value in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = self.value_y(value)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(self._muted())
            text = "0" if value == 0 else ("1" if value == 1 else f"{value:g}")
            painter.drawText(QRectF(_MARGIN, y - fm.height() / 2, plot.left() - _MARGIN - 6,
                                    fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        # A faint rule where a new chapter starts (labels like "3.2 Title"), unless crowded.
        if len(self._chapter_starts) * 8 < plot.width():
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DashLine))
            for i in self._chapter_starts:
                x = plot.left() + i * lay.slot
                painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        if self._hover is not None:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1))
            x = self.scene_x(self._hover[1])
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        top = plot.bottom() + 6
        for i, text in lay.labels.items():
            x = self.scene_x(i)
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            hovered = self._hover is not None and self._hover[1] == i
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText) if hovered
                           else self._muted())
            width = fm.horizontalAdvance(text)
            if lay.rotated:
                painter.save()
                painter.translate(x + fm.ascent() / 3, top)
                painter.rotate(-_ANGLE)
                painter.drawText(QRectF(-width - 2, -fm.ascent() / 2, width + 2, fm.height()),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, text)
                painter.restore()
            else:
                painter.drawText(QRectF(x - lay.slot / 2, top, lay.slot, fm.height()),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)

    def _paint_arcs(self, painter: QPainter, lay: _Layout) -> None:
        """Lines, then points. Dense charts (hundreds of scenes) get hairlines and batched dots:
        wide antialiased strokes cost ~0.04 ms a segment, too much for 5,000 of them."""
        plot, names = lay.plot, self.visible_characters()
        left, bottom, height, slot = plot.left(), plot.bottom(), plot.height(), lay.slot
        placed = {name: [(i, QPointF(left + (i + 0.5) * slot, bottom - v * height), emotion)
                         for i, v, emotion in self._points[name]] for name in names}
        wide = sum(len(points) for points in placed.values()) <= 300
        base = self.palette().color(QPalette.ColorRole.Window)  # opaque mixes: alpha is slow
        for name in names:
            colour, points = self.line_colour(name), placed[name]
            runs: list[list[QPointF]] = []
            bridges: list[QLineF] = []
            for k, (i, p, _emotion) in enumerate(points):
                if k and points[k - 1][0] == i - 1:
                    runs[-1].append(p)
                else:
                    if k:
                        bridges.append(QLineF(points[k - 1][1], p))
                    runs.append([p])
            faint = _mix(colour, base, 0.55)
            painter.setPen(QPen(faint, 1.2 if wide else 1.0, Qt.PenStyle.DotLine))
            painter.drawLines(bridges)
            painter.setPen(QPen(colour, 2.2 if wide else 1.0, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            for run in runs:
                if len(run) > 1:
                    painter.drawPolyline(QPolygonF(run))
        if lay.radius < 3:  # tiny dots: one call per emotion, square (round ones cost 14x)
            dots: dict[str, list[QPointF]] = {}
            for name in names:
                for _i, p, emotion in placed[name]:
                    dots.setdefault(emotion, []).append(p)
            for emotion, points in dots.items():
                painter.setPen(QPen(self._point_colours[emotion], 2 * lay.radius,
                                    Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap))
                painter.drawPoints(points)
        else:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Base), 1.2))
            for name in names:
                for i, p, emotion in placed[name]:
                    painter.setBrush(self._point_colours[emotion])
                    painter.drawEllipse(p, lay.radius, lay.radius)
        if self._hover is not None and self._hover[0] in placed:
            name, index = self._hover
            i, p, emotion = next(entry for entry in placed[name] if entry[0] == index)
            painter.setPen(QPen(base, 1.5))
            painter.setBrush(self._point_colours[emotion])
            painter.drawEllipse(p, lay.radius + 2.5, lay.radius + 2.5)

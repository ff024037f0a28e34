"""Who is what to whom: the bible's characters as nodes and their relationships as arrows.

A list of relationships per character hides the shape of the cast (who is the hub, who stands
alone, who is linked both ways); this view draws it.  A ``QGraphicsView`` gives zoom and pan for
free: the wheel zooms around the cursor, a drag pans, and the graph is fitted to the view until
the author zooms or pans.  Layouts use no randomness, so a bible always looks the same: a ring up
to ``CIRCLE_LIMIT`` characters, above that a force-directed layout with a bounded number of
iterations and grid-limited forces (200 characters in well under 200 ms of plain Python).  Text
and backgrounds come from the palette (light and dark themes); only data gets accent colours.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import defaultdict
from typing import Any, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPainterPath, QPainterPathStroker,
    QPalette, QPen, QPolygonF, QResizeEvent, QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication, QGraphicsItem, QGraphicsScene, QGraphicsView, QStyleOptionGraphicsItem,
    QWidget,
)

from studio.ui.widgets.outline_cards import is_dark

EMPTY_MESSAGE = "No relationships yet — add characters and link them in the Characters tab."
NO_LINKS_MESSAGE = "No links yet — link characters in the Characters tab to see them here."
INACTIVE_MARKER = "(inactive)"
CIRCLE_LIMIT = 12  # up to this many characters sit on a ring; more get the force layout

# Relationship kinds by the words their type starts with, each with a fixed muted accent.
_RELATION_KINDS: dict[str, tuple[str, ...]] = {
    "#2a9d8f": tuple("sister brother sibling parent child mother father son daughter cousin aunt "
                     "uncle niece nephew grand twin family heir".split()),
    "#d1587f": tuple("lover spouse wife husband partner fianc beloved love crush betrothed "
                     "suitor".split()),
    "#e06c38": ("rival", "enemy", "nemesis", "foe", "antagonist", "hate"),
    "#7d6bd6": tuple("mentor student teacher apprentice master pupil protég ward guardian".split()),
    "#5a9e4b": ("friend", "ally", "companion", "confidant", "comrade"),
    "#c0922a": ("employer", "employee", "boss", "servant", "captain", "crew", "colleague"),
}
# Initials discs: a colour per character id (crc32 is stable across runs, unlike hash()).
_AVATAR_COLOURS = ("#4f7cac", "#2a9d8f", "#c0922a", "#d1587f", "#7d6bd6", "#5a9e4b",
                   "#b5654b", "#3f8fb5")
_RADIUS, _PAD_X, _PAD_Y = 10.0, 10.0, 7.0  # node corners and padding
_MAX_NAME = 150.0  # px; longer names are elided (the tooltip has them whole)
_PARALLEL_GAP = 30.0  # how far apart two edges between the same pair bow at their middles
_ARROW = 9.0
_MIN_ZOOM, _MAX_ZOOM = 0.1, 4.0


def relation_colour(kind: str, palette: QPalette) -> QColor:
    """The accent of a relationship type ("step-sister" is family, "ex-lover" romance, …)."""
    words = [w for w in re.split(r"[\W_]+", kind.lower()) if w]
    for hex_colour, keys in _RELATION_KINDS.items():
        if any(word.startswith(key) for word in words for key in keys):
            return QColor(hex_colour).lighter(118) if is_dark(palette) else QColor(hex_colour)
    return _mix(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base),
                0.45)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way to ``b``."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def _qp(z: complex) -> QPointF:
    return QPointF(z.real, z.imag)


# -- layout: pure functions of box sizes and index pairs, easy to test and to time ----------
# Points are complex numbers (x + yj): vector sums and rotations stay short and readable.

def ring_slots(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Each node's slot on the ring: the author's order, then pairs swapped while that makes
    the arrows shorter, so linked characters sit side by side (only for a small ring)."""
    slots = list(range(n))

    def cost() -> int:
        return sum(min(abs(slots[a] - slots[b]), n - abs(slots[a] - slots[b])) ** 2
                   for a, b in edges)

    best = cost()
    for i, j in [(i, j) for _ in range(3) for i in range(n) for j in range(i + 1, n)]:
        slots[i], slots[j] = slots[j], slots[i]
        now = cost()
        if now < best:
            best = now
        else:
            slots[i], slots[j] = slots[j], slots[i]
    return slots


def ring_layout(sizes: Sequence[tuple[float, float]],
                edges: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    """Centres on a wide ellipse (views are wider than tall), grown until neighbours clear."""
    n = len(sizes)
    if n <= 1:
        return [(0.0, 0.0)] * n
    slots = ring_slots(n, edges)
    by_slot = sorted(range(n), key=lambda i: slots[i])
    radius = max(w for w, _ in sizes) * 0.6 + 40.0
    while True:
        angles = [-math.pi / 2 + 2 * math.pi * slots[i] / n for i in range(n)]
        points = [(1.45 * radius * math.cos(a), radius * math.sin(a)) for a in angles]
        if all(abs(points[i][0] - points[j][0]) >= (sizes[i][0] + sizes[j][0]) / 2 + 36
               or abs(points[i][1] - points[j][1]) >= (sizes[i][1] + sizes[j][1]) / 2 + 36
               for i, j in zip(by_slot, by_slot[1:] + by_slot[:1])):
            return points
        radius *= 1.08


def _cells(points: list[complex], cell: float) -> list[tuple[list[int], list[int]]]:
    """(points in a grid cell, points in it and the eight cells around it), per occupied cell.
    Forces and overlaps only matter between neighbours: skipping the other pairs is what keeps
    200 characters fast in plain Python."""
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, z in enumerate(points):
        grid[(int(z.real // cell), int(z.imag // cell))].append(i)
    return [(members, [j for gx in (x - 1, x, x + 1) for gy in (y - 1, y, y + 1)
                       for j in grid.get((gx, gy), ())]) for (x, y), members in grid.items()]


def force_layout(sizes: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]],
                 iterations: int | None = None) -> list[tuple[float, float]]:
    """Fruchterman–Reingold with grid-limited repulsion, then overlapping boxes pushed apart.

    Nodes start on a sunflower spiral in the author's order, and the number of iterations
    depends only on the count, so the result is the same on every machine.
    """
    n = len(sizes)
    if n == 0:
        return []
    k = sum(w for w, _ in sizes) / n * 1.1 + 40.0  # ideal distance: about a box's width
    golden = math.pi * (3 - math.sqrt(5))
    z = [k * math.sqrt(i + 0.5) * complex(1.04 * math.cos(i * golden), 0.8 * math.sin(i * golden))
         for i in range(n)]
    pairs = [(a, b) for a, b in edges if a != b]
    steps = iterations if iterations is not None else max(40, min(150, 12000 // n))
    reach2 = (2 * k) ** 2
    for step in range(steps):
        temperature = k * 1.5 * (1 - step / steps) + k * 0.05
        force = [complex(-p.real * 0.08, -p.imag * 0.12) for p in z]  # gravity keeps loners near
        px, py = [p.real for p in z], [p.imag for p in z]  # floats: the hot loop is below
        for members, near in _cells(z, 2 * k):
            for i in members:
                xi, yi, fx, fy = px[i], py[i], 0.0, 0.0
                for j in near:
                    ex, ey = xi - px[j], yi - py[j]
                    d2 = ex * ex + ey * ey
                    if 0 < d2 < reach2:
                        fx, fy = fx + ex / d2, fy + ey / d2
                force[i] += complex(fx, fy) * k * k
        for a, b in pairs:
            e = z[a] - z[b]
            force[a] -= e * abs(e) / k
            force[b] += e * abs(e) / k
        for i, f in enumerate(force):
            if f:
                z[i] += f * min(abs(f), temperature) / abs(f)
    xs, ys = [p.real for p in z], [p.imag for p in z]
    _separate(xs, ys, sizes, margin=14.0)
    return list(zip(xs, ys))


def _separate(xs: list[float], ys: list[float], sizes: Sequence[tuple[float, float]],
              margin: float, rounds: int = 12) -> None:
    """Push overlapping boxes apart along their shallower axis: names must stay readable."""
    cell = max(w for w, _ in sizes) + margin
    for _ in range(rounds):
        moved = False
        for i, j in [(i, j) for members, near in _cells([complex(*p) for p in zip(xs, ys)], cell)
                     for i in members for j in near if j > i]:
            ox = (sizes[i][0] + sizes[j][0]) / 2 + margin - abs(xs[i] - xs[j])
            oy = (sizes[i][1] + sizes[j][1]) / 2 + margin - abs(ys[i] - ys[j])
            if 0 < ox < oy:
                push = ox / 2 * (1 if xs[i] >= xs[j] else -1)
                xs[i], xs[j], moved = xs[i] + push, xs[j] - push, True
            elif 0 < oy <= ox:
                push = oy / 2 * (1 if ys[i] >= ys[j] else -1)
                ys[i], ys[j], moved = ys[i] + push, ys[j] - push, True
        if not moved:
            return


def layout(sizes: Sequence[tuple[float, float]],
           edges: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    """Box centres: a ring for a small cast, the force layout for a big one."""
    return (ring_layout if len(sizes) <= CIRCLE_LIMIT else force_layout)(sizes, edges)


# -- items: they read colours and fonts from the view, so a theme change is just a repaint --

class _Node(QGraphicsItem):
    """A character: a rounded box with an initials disc and the name; dashed when inactive."""

    def __init__(self, graph: RelationshipGraph, char_id: str, name: str, active: bool):
        super().__init__()
        self.graph, self.char_id, self.name, self.active = graph, char_id, name, active
        fm, small = QFontMetricsF(graph.font()), QFontMetricsF(graph.small_font())
        self.text = fm.elidedText(name, Qt.TextElideMode.ElideRight, _MAX_NAME)
        self.disc, self.line = fm.height() + 6, fm.height()
        text_w = max(fm.horizontalAdvance(self.text),
                     0 if active else small.horizontalAdvance(INACTIVE_MARKER))
        self.w = 2 * _PAD_X + self.disc + 8 + text_w
        self.h = max(self.disc, fm.height() + (0 if active else small.height())) + 2 * _PAD_Y
        self.selected = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(2)

    def box(self) -> QRectF:
        return QRectF(-self.w / 2, -self.h / 2, self.w, self.h)

    def boundingRect(self) -> QRectF:
        return self.box().adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        pal, box, role = self.graph.palette(), self.box(), QPalette.ColorRole
        if self.selected:
            painter.setPen(QPen(pal.color(role.Highlight), 2.5))
        elif self.active:
            painter.setPen(QPen(_mix(pal.color(role.Text), pal.color(role.Base), 0.6), 1.2))
        else:
            painter.setPen(QPen(pal.color(role.PlaceholderText), 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(pal.color(role.Base if self.active else role.AlternateBase))
        painter.drawRoundedRect(box, _RADIUS, _RADIUS)
        disc = QRectF(box.left() + _PAD_X, -self.disc / 2, self.disc, self.disc)
        accent = _AVATAR_COLOURS[zlib.crc32(self.char_id.encode()) % len(_AVATAR_COLOURS)]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(accent) if self.active else pal.color(role.Mid))
        painter.drawEllipse(disc)
        font = self.graph.small_font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff") if self.active else pal.color(role.PlaceholderText))
        words = self.name.split() or ["?"]
        painter.drawText(disc, Qt.AlignmentFlag.AlignCenter,
                         (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper())
        painter.setPen(pal.color(role.Text if self.active else role.PlaceholderText))
        painter.setFont(self.graph.font())
        top = -self.line / 2 if self.active else -self.h / 2 + _PAD_Y
        name_rect = QRectF(disc.right() + 8, top, box.right() - disc.right() - 8, self.line)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, self.text)
        if not self.active:
            font = self.graph.small_font()
            font.setItalic(True)
            painter.setFont(font)
            painter.drawText(name_rect.translated(0, self.line), Qt.AlignmentFlag.AlignTop,
                             INACTIVE_MARKER)


class _Edge(QGraphicsItem):
    """A relationship: a quadratic curve from box edge to box edge, bowed sideways by
    ``offset`` so that two relationships between the same pair do not overlap."""

    def __init__(self, graph: RelationshipGraph, source: _Node, target: _Node, kind: str,
                 offset: float):
        super().__init__()
        self.graph, self.source, self.target, self.kind = graph, source, target, kind
        self.p0 = complex(source.pos().x(), source.pos().y())
        self.p2 = complex(target.pos().x(), target.pos().y())
        along = (self.p2 - self.p0) / (abs(self.p2 - self.p0) or 1.0)
        self.c = (self.p0 + self.p2) / 2 + along * 1j * 2 * offset  # the curve's control point
        self.t0, self.t1 = self._crossing(source, 0.0, 0.5), self._crossing(target, 1.0, 0.5)
        self.dimmed = not (source.active and target.active)
        self.emphasised = False
        # The same curve between t0 and t1: its control point comes from the blossom.
        a, b = self.t0, self.t1
        ctrl = self.p0 * (1 - a) * (1 - b) + self.c * ((1 - a) * b + a * (1 - b)) + self.p2 * a * b
        self.path = QPainterPath(_qp(self.at(a)))
        self.path.quadTo(_qp(ctrl), _qp(self.at(b)))
        tangent = 2 * (1 - b) * (self.c - self.p0) + 2 * b * (self.p2 - self.c)
        u = tangent / (abs(tangent) or 1.0) * _ARROW
        tip = self.at(b)
        self.arrow = QPolygonF([_qp(tip), _qp(tip - u + u * 0.45j), _qp(tip - u - u * 0.45j)])
        self.setToolTip(f"{source.name} → {target.name}: {kind}")

    def at(self, t: float) -> complex:
        return self.p0 * (1 - t) ** 2 + self.c * 2 * (1 - t) * t + self.p2 * t * t

    def _crossing(self, node: _Node, inside: float, outside: float) -> float:
        """Where the curve crosses ``node``'s box, by bisection (it crosses once)."""
        box = node.box().adjusted(-3, -3, 3, 3).translated(node.pos())
        for _ in range(20):
            mid = (inside + outside) / 2
            inside, outside = (mid, outside) if box.contains(_qp(self.at(mid))) else (inside, mid)
        return outside

    def colour(self) -> QColor:
        return relation_colour(self.kind, self.graph.palette())

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().united(self.arrow.boundingRect()).adjusted(-3, -3, 3, 3)

    def shape(self) -> QPainterPath:
        """The stroke, widened: the tooltip shows near the line, not all over its box."""
        stroker = QPainterPathStroker()
        stroker.setWidth(8)
        return stroker.createStroke(self.path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colour = self.colour()
        if self.dimmed:
            colour = _mix(colour, self.graph.palette().color(QPalette.ColorRole.Base), 0.35)
        pen = QPen(colour, 2.6 if self.emphasised else 1.6)
        pen.setStyle(Qt.PenStyle.DashLine if self.dimmed else Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(self.arrow)


class _Label(QGraphicsItem):
    """The relationship type in a small pill, drawn over lines but under boxes: a pill hides
    the lines crossing it, and a name matters more than a label squeezed against it."""

    def __init__(self, graph: RelationshipGraph, edge: _Edge):
        super().__init__()
        self.graph, self.edge = graph, edge
        fm = QFontMetricsF(graph.small_font())
        self.text = fm.elidedText(edge.kind, Qt.TextElideMode.ElideRight, 110)
        self.w, self.h = fm.horizontalAdvance(self.text) + 10, fm.height() + 2
        self.setZValue(1)
        self.setToolTip(edge.toolTip())

    def boundingRect(self) -> QRectF:
        return QRectF(-self.w / 2, -self.h / 2, self.w, self.h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        pal, rect, colour = self.graph.palette(), self.boundingRect(), self.edge.colour()
        base = pal.color(QPalette.ColorRole.Base)
        painter.setPen(QPen(_mix(colour, base, 0.45), 1))
        painter.setBrush(base)
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), self.h / 2, self.h / 2)
        ink = colour.lighter(110) if is_dark(pal) else colour.darker(125)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText) if self.edge.dimmed else ink)
        painter.setFont(self.graph.small_font())
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)


# -- the view -------------------------------------------------------------------------------

class RelationshipGraph(QGraphicsView):
    """The cast as a graph; clicking a character selects it and emits ``characterActivated``."""

    characterActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(240, 180)
        self.setAccessibleName("Relationship graph")
        self._nodes: dict[str, _Node] = {}
        self._edges: list[_Edge] = []
        self._labels: list[_Label] = []
        self._selected: str | None = None
        self._auto_fit = True  # until the author zooms or pans, the graph follows resizes
        self._press: QPointF | None = None

    def small_font(self) -> QFont:
        font = QFont(self.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        return font

    # -- data -----------------------------------------------------------------------------

    def set_characters(self, characters: list[dict[str, Any]]) -> None:
        """Show bible character dicts; links to unknown ids, self-links and repeats are skipped."""
        self.scene().clear()
        self._nodes, self._edges, self._labels = {}, [], []
        for ch in characters:
            char_id = str(ch.get("id") or "")
            if char_id and char_id not in self._nodes:
                name = str(ch.get("name") or "").strip() or "Unnamed"
                active = ch.get("active", True) is not False  # missing or None: active
                self._nodes[char_id] = _Node(self, char_id, name, active)
        index = {char_id: i for i, char_id in enumerate(self._nodes)}
        links: dict[tuple[str, str, str], None] = {}  # a dict keeps order and drops repeats
        for ch in characters:
            for rel in [r for r in ch.get("relationships") or [] if isinstance(r, dict)]:
                link = (str(ch.get("id") or ""), str(rel.get("target") or ""),
                        str(rel.get("type") or "").strip() or "related")
                if link[0] in index and link[1] in index and link[0] != link[1]:
                    links[link] = None
        nodes = list(self._nodes.values())
        centres = layout([(n.w, n.h) for n in nodes], [(index[a], index[b]) for a, b, _ in links])
        for node, (x, y) in zip(nodes, centres):
            node.setPos(x, y)
            self.scene().addItem(node)
        # Edges between the same two characters bow apart, whichever way each one points.
        pairs: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
        for a, b, kind in links:
            pairs[(a, b) if index[a] < index[b] else (b, a)].append((a, b, kind))
        for (low, _high), members in pairs.items():
            for rank, (a, b, kind) in enumerate(members):
                offset = (rank - (len(members) - 1) / 2) * _PARALLEL_GAP
                edge = _Edge(self, self._nodes[a], self._nodes[b], kind,
                             offset if a == low else -offset)
                self._edges.append(edge)
                self.scene().addItem(edge)
        self._place_labels()
        for node in nodes:
            node.setToolTip(self.tooltip_for(node.char_id))
        bounds = self.scene().itemsBoundingRect().adjusted(-40, -40, 40, 40)
        self.scene().setSceneRect(bounds if nodes else QRectF(0, 0, 1, 1))
        self.select_character(None)
        self.fit()

    def _place_labels(self) -> None:
        """Put each type label on its curve where it covers no box and no other label: greedy,
        shortest edges first, from the middle outwards (a label that fits nowhere stays in the
        middle).  A grid of taken rectangles keeps a big cast fast."""
        cell = 64.0
        taken: dict[tuple[int, int], list[QRectF]] = defaultdict(list)

        def cells(rect: QRectF) -> list[tuple[int, int]]:
            return [(x, y) for x in range(int(rect.left() // cell), int(rect.right() // cell) + 1)
                    for y in range(int(rect.top() // cell), int(rect.bottom() // cell) + 1)]

        def take(rect: QRectF) -> None:
            for c in cells(rect):
                taken[c].append(rect)

        for node in self._nodes.values():
            take(node.box().adjusted(-2, -2, 2, 2).translated(node.pos()))
        for edge in sorted(self._edges, key=lambda e: abs(e.p2 - e.p0)):
            label = _Label(self, edge)
            span = edge.t1 - edge.t0
            spots = [_qp(edge.at(edge.t0 + span * f)) for f in (.5, .4, .6, .3, .7, .2, .8)]
            rects = [label.boundingRect().translated(p).adjusted(-2, -1, 2, 1) for p in spots]
            free = [k for k, rect in enumerate(rects)
                    if not any(r.intersects(rect) for c in cells(rect) for r in taken[c])]
            label.setPos(spots[free[0] if free else 0])
            take(rects[free[0] if free else 0])
            self._labels.append(label)
            self.scene().addItem(label)

    def tooltip_for(self, char_id: str) -> str:
        """The name, then each relationship: ``type → Name`` going out, ``type ← Name`` in."""
        node = self._nodes.get(char_id)
        if node is None:
            return ""
        lines = [node.name + ("" if node.active else f" {INACTIVE_MARKER}")]
        lines += [f"{e.kind} → {e.target.name}" for e in self._edges if e.source is node]
        lines += [f"{e.kind} ← {e.source.name}" for e in self._edges if e.target is node]
        return "\n".join(lines if len(lines) > 1 else lines + ["No relationships yet"])

    def select_character(self, char_id: str | None) -> None:
        """Highlight ``char_id`` and its relationships, fading the rest; None shows all alike."""
        chosen = self._nodes.get(char_id) if char_id else None
        self._selected = chosen.char_id if chosen else None
        linked = {chosen} if chosen else set()
        for edge in self._edges:
            edge.emphasised = chosen is not None and chosen in (edge.source, edge.target)
            if edge.emphasised:
                linked.update((edge.source, edge.target))
            edge.setOpacity(1.0 if chosen is None or edge.emphasised else 0.18)
            edge.update()
        for label in self._labels:
            label.setOpacity(label.edge.opacity())
        for node in self._nodes.values():
            node.selected = node is chosen
            node.setOpacity(1.0 if chosen is None or node in linked else 0.35)
            node.update()

    # -- questions, for the panel and for tests -------------------------------------------

    def selected_character(self) -> str | None:
        return self._selected

    def node_ids(self) -> list[str]:
        return list(self._nodes)

    def node_item(self, char_id: str) -> QGraphicsItem | None:
        return self._nodes.get(char_id)

    def edges(self) -> list[tuple[str, str, str]]:
        """(source id, target id, type) of every arrow drawn."""
        return [(e.source.char_id, e.target.char_id, e.kind) for e in self._edges]

    def label_rects(self) -> list[QRectF]:
        return [label.sceneBoundingRect() for label in self._labels]

    def character_at(self, pos: QPointF) -> str | None:
        """The character under a viewport position, or None."""
        return next((item.char_id for item in self.items(pos.toPoint())
                     if isinstance(item, _Node)), None)

    # -- zoom and pan ---------------------------------------------------------------------

    def fit(self) -> None:
        """Show the whole graph (never above 1:1) and follow resizes again."""
        self._auto_fit = True
        self.resetTransform()
        rect, view = self.scene().sceneRect(), self.viewport().rect()
        if self._nodes:
            scale = min(1.0, view.width() / rect.width(), view.height() / rect.height())
            self.scale(scale, scale)
            self.centerOn(rect.center())

    def zoom_by(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(_MIN_ZOOM / current, min(_MAX_ZOOM / current, factor))
        self._auto_fit = False
        self.scale(factor, factor)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The plain wheel zooms around the cursor: panning is a drag, so the wheel is free."""
        steps = event.angleDelta().y() / 120 or event.pixelDelta().y() / 50
        if steps and self._nodes:
            self.zoom_by(1.15 ** steps)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position() if event.button() == Qt.MouseButton.LeftButton else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click (not a drag) selects the character under it, or clears the selection.
        (A double click activates once: its second press arrives as a double-click event.)"""
        press, self._press = self._press, None
        super().mouseReleaseEvent(event)
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if (event.position() - press).manhattanLength() > QApplication.startDragDistance():
            self._auto_fit = not self._nodes  # the author panned: keep their view
            return
        char_id = self.character_at(event.position())
        self.select_character(char_id)
        if char_id is not None:
            self.characterActivated.emit(char_id)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """The friendly hint: centred with no one to show, at the foot when no one is linked."""
        if self._nodes and self._edges:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.setFont(self.font())
        align = (Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom if self._nodes
                 else Qt.AlignmentFlag.AlignCenter)
        painter.drawText(QRectF(self.viewport().rect()).adjusted(24, 12, -24, -12),
                         align | Qt.TextFlag.TextWordWrap,
                         NO_LINKS_MESSAGE if self._nodes else EMPTY_MESSAGE)
        painter.restore()

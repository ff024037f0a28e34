"""The pieces of the chapter graph: chapter cards, prerequisite arrows, alternate links, and
the colours and fonts they share (``GraphStyle``).

Written for graphs of hundreds of chapters.  Arrows (heads included) are plain
``QGraphicsPathItem``s with a cosmetic one-pixel pen, so Qt paints them in C++ on its fast
path.  Only cards have a Python ``paint``, and it draws less the further the author zooms
out: below ``LOD_FULL`` only the number and title, in bigger type, stay readable; below
``LOD_BOX`` the ``Overview`` fills every card at once.  Every pen, brush, font and wrapped
title is prepared ahead (``GraphStyle`` per palette, ``relayout`` per card), so a frame
allocates nothing; a theme change is a new style and a repaint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QBrush, QColor, QFont, QFontInfo, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker,
    QPalette,
    QPen, QPolygonF, QStaticText, QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem, QGraphicsPathItem, QLabel, QStyleOptionGraphicsItem, QWidget,
)

from studio.ui.widgets.outline_cards import is_dark, status_colors, status_label, wrap_lines

if TYPE_CHECKING:
    from studio.ui.widgets.chapter_graph_view import ChapterGraphView

NODE_WIDTH, NODE_HEIGHT = 200.0, 72.0  # a card, in scene units; positions are its top-left
STATUSES = ("idea", "draft", "revised", "final")
NODE_STATES = ("available", "active", "completed", "diverged")
STATE_LABELS = {"available": "Available", "active": "Active now", "completed": "Completed",
                "diverged": "Diverged from the plan"}
REFUSAL_MESSAGE_MS = 4500  # how long a refusal stays up: long enough to read a cycle
LOD_BOX = 0.36  # below this zoom a card is a filled box (its text would be under 7 px)
LOD_FULL = 0.72  # below this small text is unreadable: a bigger number and title instead
HANDLE = QPointF(NODE_WIDTH, NODE_HEIGHT / 2)  # the connector, on the right edge
HANDLE_HIT = 11.0  # a press this close to the connector starts a new arrow
_RADIUS, _STRIP, _PAD, _BADGE_H = 9.0, 5.0, 12.0, 26.0
_MARKER = QPointF(NODE_WIDTH - 14, 0.0)  # the playtest marker, on the top edge
_TAG = QPointF(NODE_WIDTH - 16, NODE_HEIGHT)  # the "ALT" tab's right end, on the bottom edge
_ARROW_LEN, _ARROW_HALF = 10.0, 5.75
# Playtest states and the refusal flash: (light ink, dark ink).  Away from the status hues on
# purpose: a ring says where the reader is, strip and badge how finished the chapter is.
_STATE_INKS = {"available": ("#0e8fa3", "#3cc6da"), "active": ("#e8650c", "#ff9340"),
               "completed": ("#2f8a55", "#5fcf8e"), "diverged": ("#b8338f", "#e46cc0"),
               "refused": ("#d12f2f", "#ff6b6b")}
_GLOWS = {"active": ((13.0, 0.10), (8.0, 0.18)), "refused": ((12.0, 0.12), (7.0, 0.2)),
          "diverged": ((7.0, 0.12),)}  # (width, alpha) of soft strokes under the ring


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way to ``b``."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def _alpha(colour: QColor, alpha: float) -> QColor:
    return QColor(colour.red(), colour.green(), colour.blue(), round(255 * alpha))


def _pen(colour: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine,
         cosmetic: bool = False) -> QPen:
    pen = QPen(colour, width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(cosmetic)
    return pen


def _scaled(font: QFont, factor: float, bold: bool = False) -> QFont:
    scaled = QFont(font)
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * factor)
    else:
        scaled.setPixelSize(max(1, round(font.pixelSize() * factor)))
    if bold:
        scaled.setBold(True)
    return scaled


def _static(lines: list[str], font: QFont) -> list[QStaticText]:
    """Lines laid out once: a frame then only places glyphs (a third cheaper than drawText)."""
    texts = [QStaticText(line) for line in lines]
    for text in texts:
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.prepare(QTransform(), font)
    return texts


class GraphStyle:
    """Everything the graph paints with, for one palette and font.  Built once per theme or
    font change; items only pick from it while painting."""

    def __init__(self, palette: QPalette, font: QFont):
        role = QPalette.ColorRole
        self.dark = dark = is_dark(palette)
        text, base = palette.color(role.Text), palette.color(role.Base)
        self.text, self.highlight = text, palette.color(role.Highlight)
        # The canvas is a shade away from the cards, so they read as paper on a desk.
        self.canvas = base.darker(112) if dark else palette.color(role.AlternateBase)
        self.card = card = mix(base, text, 0.075) if dark else base
        self.card_brush = QBrush(card)
        self.border_pen = _pen(mix(text, card, 0.78), 1.0)
        self.hover_pen = _pen(mix(text, card, 0.5), 1.3)
        self.alt_pen = _pen(mix(text, card, 0.45), 1.4, Qt.PenStyle.DashLine)
        self.selected_pen, self.drop_pen = _pen(self.highlight, 2.4), _pen(self.highlight, 3.0)
        self.selected_glow = _pen(_alpha(self.highlight, 0.22), 7.0)
        self.text_pen, self.muted_pen = QPen(text), QPen(palette.color(role.PlaceholderText))
        self.handle_pen, self.handle_hot = _pen(mix(text, card, 0.45), 1.2), QBrush(self.highlight)
        self.white_pen, self.white_brush = _pen(QColor("#ffffff"), 1.8), QBrush(QColor("#ffffff"))
        self.status_ink, self.status_ink_pen, self.status_fill, self.status_box = {}, {}, {}, {}
        for status in STATUSES:  # strip, badge ink and fill, the far-out box
            ink, fill = status_colors(status, palette)
            self.status_ink[status], self.status_ink_pen[status] = QBrush(ink), QPen(ink)
            self.status_fill[status] = QBrush(fill)
            self.status_box[status] = QBrush(mix(card, ink, 0.55 if dark else 0.45))
        self.status_label = {s: status_label(s) for s in STATUSES}
        self.state_ink = {s: QColor(inks[1] if dark else inks[0])
                          for s, inks in _STATE_INKS.items()}
        self.state_ring = {s: _pen(c, 2.6 if s in ("active", "refused") else 2.0,
                                   Qt.PenStyle.DashLine if s == "available" else
                                   Qt.PenStyle.SolidLine) for s, c in self.state_ink.items()}
        self.state_glow = {s: tuple(_pen(_alpha(c, a), w) for w, a in _GLOWS.get(s, ()))
                           for s, c in self.state_ink.items()}
        self.state_marker = {s: QBrush(c) for s, c in self.state_ink.items()}
        # far out a ring is a 2-pixel outline, however small the box
        self.box_ring = {s: _pen(c, 2.0, cosmetic=True) for s, c in self.state_ink.items()}
        self.box_selected = _pen(self.highlight, 2.5, cosmetic=True)
        # Arrows: one device pixel whatever the zoom.  Qt's raster engine has a fast path for
        # such pens; the general stroker made a frame of arrows six times slower at 1:1.
        self.edge_pen = _pen(mix(text, self.canvas, 0.5 if dark else 0.42), 1.0, cosmetic=True)
        self.edge_related_pen = _pen(_alpha(self.highlight, 0.85), 2.0)
        self.edge_selected_pen = _pen(self.highlight, 3.0)
        self.edge_refused_pen = _pen(self.state_ink["refused"], 3.0)
        self.edge_refused_ghost = _pen(self.state_ink["refused"], 2.4, Qt.PenStyle.DashLine)
        self.alt_link_pen = _pen(mix(text, self.canvas, 0.45), 1.6, Qt.PenStyle.DotLine)
        self.rubber_pen = _pen(self.highlight, 2.2, Qt.PenStyle.DashLine)
        # Fonts: titles a little heavier than body text, the rest smaller; the zoomed-out card
        # keeps number and title readable in bigger type ("semantic zoom").
        self.title_font = QFont(font)
        self.title_font.setWeight(QFont.Weight.DemiBold)
        self.small_font = _scaled(font, 0.85)
        self.badge_font = _scaled(font, 0.85, bold=True)
        self.tag_font = _scaled(font, 0.72, bold=True)
        self.big_font = _scaled(self.title_font, 1.4)
        self.big_badge_font = _scaled(self.badge_font, 1.6)
        self.title_metrics, self.small_metrics, self.badge_metrics, self.tag_metrics, \
            self.big_metrics, self.big_badge_metrics = (
                QFontMetricsF(f) for f in (self.title_font, self.small_font, self.badge_font,
                                           self.tag_font, self.big_font, self.big_badge_font))
        self.status_static = {st: _static([label], self.small_font)[0]
                              for st, label in self.status_label.items()}
        self.big_px = QFontInfo(self.big_font).pixelSize()
        self._px_fonts: dict[int, tuple[QFont, QFont, QFontMetricsF]] = {}

    def compact_fonts(self, px: int) -> tuple[QFont, QFont, QFontMetricsF]:
        """The zoomed-out title and number fonts at ``px`` device pixels, and the title's
        metrics (made once per size)."""
        fonts = self._px_fonts.get(px)
        if fonts is None:
            title, number = QFont(self.big_font), QFont(self.big_badge_font)
            title.setPixelSize(px)
            number.setPixelSize(max(1, round(px * QFontInfo(number).pixelSize() / self.big_px)))
            fonts = self._px_fonts[px] = (title, number, QFontMetricsF(title))
        return fonts


CARD = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
_CARD_PATH = QPainterPath()
_CARD_PATH.addRoundedRect(CARD, _RADIUS, _RADIUS)
_STRIP_PATH = QPainterPath()
_STRIP_PATH.addRect(QRectF(0, 0, _STRIP, NODE_HEIGHT))
_STRIP_PATH = _CARD_PATH.intersected(_STRIP_PATH)  # the strip follows the rounded corners
_STRIP_BAR = QRectF(0.5, _RADIUS * 0.6, _STRIP - 0.5, NODE_HEIGHT - _RADIUS * 1.2)
_SHAPE = QPainterPath(_CARD_PATH)
_SHAPE.addEllipse(HANDLE, HANDLE_HIT, HANDLE_HIT)
_BOUNDS = CARD.adjusted(-18, -18, 18, 18)  # room for glow, marker, tag and connector
_RING = CARD.adjusted(-5, -5, 5, 5)
# Marker glyphs, drawn in white on the state colour around (0, 0).
_PLAY = QPolygonF([QPointF(-2.5, -4), QPointF(4.5, 0), QPointF(-2.5, 4)])
_CHECK, _FORK = QPainterPath(), QPainterPath()
_CHECK.addPolygon(QPolygonF([QPointF(-4, 0.3), QPointF(-1.2, 3.1), QPointF(4.2, -3.2)]))
_FORK.addPolygon(QPolygonF([QPointF(4, -3.5), QPointF(0, 0), QPointF(4, 3.5)]))
_FORK.addPolygon(QPolygonF([QPointF(-4, 0), QPointF(0, 0)]))


class NodeItem(QGraphicsItem):
    """A chapter card: status strip, number badge, title (two lines at most), status word,
    an "ALT" tab and dashed border for alternates, the playtest ring and marker, and the
    connector a new arrow is dragged from."""

    def __init__(self, view: ChapterGraphView, chapter_id: str):
        super().__init__()
        self.view, self.chapter_id = view, chapter_id
        self.number, self.title, self.status, self.alternate_of = 0, "", "idea", ""
        self.state = ""  # playtest: "", available, active, completed, diverged
        self.selected = self.hovered = self.flashed = self.drop_target = self.alternate = False
        self.in_edges: list[EdgeItem] = []  # arrows from prerequisites
        self.out_edges: list[EdgeItem] = []  # arrows to the chapters needing this one
        self.lines: list[str] = []  # the title, wrapped
        self.setZValue(2)
        # Panning then blits a pixmap per card instead of drawing its text again.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_data(self, number: int, title: str, status: str, alternate_of: str) -> None:
        """Take the chapter's fields; nothing is redone when none changed."""
        data = (number, title, status if status in STATUSES else "idea", alternate_of)
        if data != (self.number, self.title, self.status, self.alternate_of) or not self.lines:
            self.number, self.title, self.status, self.alternate_of = data
            self.alternate = bool(alternate_of)
            self.relayout()

    def relayout(self) -> None:
        """Wrap the title and size the badge for the current fonts (theme or font change)."""
        s = self.view.graph_style
        title = self.title or "Untitled"
        self.number_text = str(self.number)
        width = max(_BADGE_H, s.badge_metrics.horizontalAdvance(self.number_text) + 14)
        self.badge = QRectF(_STRIP + _PAD - 2, _PAD, width, _BADGE_H)
        self.title_x = max(_STRIP + _PAD + 32, self.badge.right() + 10)
        self.lines = wrap_lines(title, s.title_font, int(NODE_WIDTH - self.title_x - 16), 2)
        self.static_lines = _static(self.lines, s.title_font)
        self.number_static = _static([self.number_text], s.badge_font)[0]
        size = self.number_static.size()
        self.number_at = self.badge.center() - QPointF(size.width() / 2, size.height() / 2)
        self.number_w = s.big_badge_metrics.horizontalAdvance(self.number_text) + 6
        self.big_x = _STRIP + 18 + self.number_w
        rows = max(1, int((NODE_HEIGHT - 8) // s.big_metrics.height()))
        self.big_lines = wrap_lines(title, s.big_font, int(NODE_WIDTH - self.big_x - 10), rows)
        self.setToolTip(self.tooltip())
        self.update()

    def tooltip(self) -> str:
        parts = [f"{self.number}. {self.title}", self.view.graph_style.status_label[self.status]]
        if self.alternate:
            other = self.view.node_item(self.alternate_of)
            parts.append(f"Alternate of {other.number}. {other.title}" if other
                         else "Alternate chapter")
        if self.state:
            parts.append(f"Playtest: {STATE_LABELS[self.state]}")
        return "\n".join(parts)

    def boundingRect(self) -> QRectF:
        return _BOUNDS

    def shape(self) -> QPainterPath:
        """The card and its connector: a press on the glow around a card is on the canvas."""
        return _SHAPE

    def handle_at(self, scene_pos: QPointF) -> bool:
        """Is ``scene_pos`` on this card's connector?"""
        d = self.mapFromScene(scene_pos) - HANDLE
        return d.x() * d.x() + d.y() * d.y() <= HANDLE_HIT * HANDLE_HIT

    def set_flags(self, **flags: bool | str) -> None:
        """Change selected / hovered / flashed / drop_target / state; repaint on change."""
        changed = {k: v for k, v in flags.items() if getattr(self, k) != v}
        if changed:
            for name, value in changed.items():
                setattr(self, name, value)
            if "state" in changed:
                self.setToolTip(self.tooltip())
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        s = self.view.graph_style
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        ring = "refused" if self.flashed else self.state
        outlined = self.selected or self.drop_target
        if lod < LOD_BOX:  # a speck: the Overview fills it; only a ring or selection here
            if ring or outlined:
                painter.setPen(s.box_selected if outlined else s.box_ring[ring])
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(CARD)
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if ring:
            for glow in s.state_glow[ring]:
                painter.setPen(glow)
                painter.drawRoundedRect(_RING, _RADIUS + 5, _RADIUS + 5)
            painter.setPen(s.state_ring[ring])
            painter.drawRoundedRect(_RING, _RADIUS + 5, _RADIUS + 5)
        if outlined:
            painter.setPen(s.selected_glow)
            painter.drawRoundedRect(CARD, _RADIUS, _RADIUS)
            painter.setPen(s.drop_pen if self.drop_target else s.selected_pen)
        else:
            painter.setPen(s.alt_pen if self.alternate else
                           s.hover_pen if self.hovered else s.border_pen)
        painter.setBrush(s.card_brush)
        painter.drawRoundedRect(CARD, _RADIUS, _RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(s.status_ink[self.status])
        if lod < LOD_FULL:  # a plain bar costs a third of the rounded one, and looks the same
            painter.drawRect(_STRIP_BAR)
            self._paint_compact(painter, s, lod)
        else:
            painter.drawPath(_STRIP_PATH)
            self._paint_full(painter, s)
        # Zoomed out, tab and marker grow to stay as big on screen as at 3/4 scale.
        grow = 1.0 if lod >= LOD_FULL else min(1.7, 0.75 / lod)
        if self.alternate:
            self._paint_tag(painter, s, grow)
        if ring and ring != "refused":
            self._paint_marker(painter, s, ring, grow)

    def _paint_compact(self, painter: QPainter, s: GraphStyle, lod: float) -> None:
        """Zoomed out: number and title in big type.  Drawn in device pixels at a whole pixel
        size (rounded down, so the lines wrapped at 1:1 still fit): glyphs rasterised for one
        zoom step serve the next ones, where the exact scale rasterises them all every step.
        Plain ``drawText``: static text laid out again at each size cost more than it saved."""
        title_font, number_font, metrics = s.compact_fonts(max(3, int(s.big_px * lod)))
        # Exactly a translation (scale(1 / lod) would leave m11 at 0.99999…, which Qt treats
        # as a scaled transform and rasterises the glyphs again on every frame).
        world = painter.worldTransform()
        painter.setWorldTransform(QTransform.fromTranslate(world.dx(), world.dy()))
        painter.setFont(number_font)
        painter.setPen(s.status_ink_pen[self.status])
        painter.drawText(QRectF((_STRIP + 8) * lod, 0, self.number_w * lod, NODE_HEIGHT * lod),
                         Qt.AlignmentFlag.AlignCenter, self.number_text)
        painter.setFont(title_font)
        painter.setPen(s.text_pen)
        line_h = metrics.height()
        top = (NODE_HEIGHT * lod - line_h * len(self.big_lines)) / 2 + metrics.ascent()
        for i, line in enumerate(self.big_lines):
            painter.drawText(QPointF(self.big_x * lod, top + i * line_h), line)
        painter.setWorldTransform(world)

    def _paint_full(self, painter: QPainter, s: GraphStyle) -> None:
        painter.setBrush(s.status_fill[self.status])
        painter.drawRoundedRect(self.badge, _BADGE_H / 2, _BADGE_H / 2)
        painter.setFont(s.badge_font)
        painter.setPen(s.status_ink_pen[self.status])
        painter.drawStaticText(self.number_at, self.number_static)
        painter.setFont(s.title_font)
        painter.setPen(s.text_pen)
        line_h = s.title_metrics.height()
        top = self.badge.center().y() - line_h * len(self.lines) / 2  # centred on the badge
        for i, line in enumerate(self.static_lines):
            painter.drawStaticText(QPointF(self.title_x, top + i * line_h), line)
        # the status word after a dot, bottom left under the badge
        base_y = NODE_HEIGHT - _PAD + 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(s.status_ink[self.status])
        painter.drawEllipse(QPointF(self.badge.left() + 4,
                                    base_y + 1 - s.small_metrics.ascent() / 2), 3.2, 3.2)
        painter.setFont(s.small_font)
        painter.setPen(s.muted_pen)
        painter.drawStaticText(QPointF(self.badge.left() + 12, base_y - s.small_metrics.ascent()),
                               s.status_static[self.status])
        painter.setPen(s.handle_pen)  # the connector: where a new arrow starts
        painter.setBrush(s.handle_hot if self.hovered or self.selected else s.card_brush)
        painter.drawEllipse(HANDLE, 5.5, 5.5)

    def _paint_tag(self, painter: QPainter, s: GraphStyle, grow: float) -> None:
        """"ALT" on a tab across the bottom edge: an alternate is told apart at a glance."""
        painter.translate(_TAG)
        painter.scale(grow, grow)
        width, height = s.tag_metrics.horizontalAdvance("ALT") + 10, s.tag_metrics.height() + 3
        tag = QRectF(-width, -height / 2, width, height)
        painter.setPen(s.alt_pen)
        painter.setBrush(s.card_brush)
        painter.drawRoundedRect(tag, 4, 4)
        painter.setFont(s.tag_font)
        painter.setPen(s.muted_pen)
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, "ALT")
        painter.scale(1 / grow, 1 / grow)
        painter.translate(-_TAG.x(), -_TAG.y())

    def _paint_marker(self, painter: QPainter, s: GraphStyle, state: str, grow: float) -> None:
        """A disc on the top edge with a white glyph: colour alone is not enough for
        colour-blind authors (▶ active, ○ available, ✓ completed, a fork for diverged)."""
        painter.translate(_MARKER)
        painter.scale(grow, grow)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(s.state_marker[state])
        painter.drawEllipse(QPointF(0, 0), 9.5, 9.5)
        if state == "active":
            painter.setBrush(s.white_brush)
            painter.drawPolygon(_PLAY)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(s.white_pen)
            if state == "available":
                painter.drawEllipse(QPointF(0, 0), 3.6, 3.6)
            else:
                painter.drawPath(_CHECK if state == "completed" else _FORK)
        painter.scale(1 / grow, 1 / grow)
        painter.translate(-_MARKER.x(), -_MARKER.y())


class Overview(QGraphicsItem):
    """Far out (below ``LOD_BOX``) every card is a box in its status colour, and this one
    item fills them all with four ``drawRects`` calls: painting 500 cards one by one cost
    more than the rest of the frame.  Cards still draw their own ring or selection outline,
    and stay the items that are clicked and dragged."""

    def __init__(self, view: ChapterGraphView):
        super().__init__()
        self.view, self.bounds = view, QRectF()
        self.rects: dict[str, list[QRectF]] | None = None  # by status; None: to rebuild
        self.setZValue(1.9)  # above the arrows, under the cards' outlines

    def invalidate(self, bounds: QRectF | None = None) -> None:
        """Cards moved, came or went: rebuild the boxes at the next paint."""
        if bounds is not None and bounds != self.bounds:
            self.prepareGeometryChange()
            self.bounds = QRectF(bounds)
        self.rects = None
        if self.view.zoom() < LOD_BOX:
            self.update()

    def boundingRect(self) -> QRectF:
        return self.bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) >= LOD_BOX:
            return
        if self.rects is None:
            self.rects = {status: [] for status in STATUSES}
            for node in self.view.nodes():
                self.rects[node.status].append(CARD.translated(node.pos()))
        painter.setPen(Qt.PenStyle.NoPen)
        for status, rects in self.rects.items():
            if rects:
                painter.setBrush(self.view.graph_style.status_box[status])
                painter.drawRects(rects)


def sync_links(view: ChapterGraphView, chapters: dict[str, dict], nodes: dict[str, NodeItem],
               edges: dict[tuple[str, str], EdgeItem], links: dict[str, AltLinkItem]) -> None:
    """Make ``edges`` and ``links`` match the chapters' prerequisites and ``alternate_of``:
    items still wanted are kept (with their state), new ones added, the rest removed."""
    scene, style = view.scene(), view.graph_style
    wanted = {(str(pre), cid): None for cid, ch in chapters.items()
              for pre in ch.get("prerequisites") or [] if pre in nodes and pre != cid}
    for key in [k for k, e in edges.items() if k not in wanted
                or e.source is not nodes[k[0]] or e.target is not nodes[k[1]]]:
        scene.removeItem(edges.pop(key))
    for node in nodes.values():
        node.in_edges, node.out_edges = [], []
    for key in wanted:
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = EdgeItem(nodes[key[0]], nodes[key[1]])
            edge.apply_look(style)
            scene.addItem(edge)
        edge.source.out_edges.append(edge)
        edge.target.in_edges.append(edge)
    alts = {cid: n.alternate_of for cid, n in nodes.items()
            if n.alternate_of in nodes and n.alternate_of != cid}
    for cid in [c for c, link in links.items()
                if alts.get(c) != link.original.chapter_id or link.alternate is not nodes[c]]:
        scene.removeItem(links.pop(cid))
    for cid, original in alts.items():
        if cid not in links:
            links[cid] = AltLinkItem(nodes[cid], nodes[original])
            links[cid].setPen(style.alt_link_pen)
            scene.addItem(links[cid])


def fan_out(nodes: Iterable[NodeItem], links: Iterable[AltLinkItem]) -> None:
    """Spread the arrows along the sides of ``nodes``, ordered by where their other ends are
    (so they do not cross at the card); redraw every arrow and link touching them."""
    nodes, touched = set(nodes), {}
    for node in nodes:
        for edges, other, attr in ((node.in_edges, "source", "in_offset"),
                                   (node.out_edges, "target", "out_offset")):
            ordered = sorted(edges, key=lambda e: (getattr(e, other).y(), getattr(e, other).x()))
            gap = min(12.0, (NODE_HEIGHT - 28.0) / max(1, len(ordered) - 1))
            for rank, edge in enumerate(ordered):
                setattr(edge, attr, (rank - (len(ordered) - 1) / 2) * gap)
                touched[id(edge)] = edge
    for edge in touched.values():
        edge.rebuild()
    for link in links:
        if link.alternate in nodes or link.original in nodes:
            link.rebuild()


def arrow_path(p0: QPointF, p1: QPointF) -> QPainterPath:
    """A curve leaving ``p0`` rightwards and entering ``p1`` from the left, ending in an open
    arrowhead (a chevron in the same stroke: a filled head would be a second item per arrow,
    which doubled the cost of drawing a big graph).  A backward arrow (target left of the
    source) loops over both cards instead of cutting through them."""
    end = QPointF(p1.x() - 1.2, p1.y())
    path = QPainterPath(p0)
    if end.x() >= p0.x():
        k = max(24.0, (end.x() - p0.x()) * 0.5)
        path.cubicTo(QPointF(p0.x() + k, p0.y()), QPointF(end.x() - k, end.y()), end)
    else:
        lane, r = min(p0.y(), p1.y()) - NODE_HEIGHT / 2 - 30, 36.0
        path.cubicTo(QPointF(p0.x() + r, p0.y()), QPointF(p0.x() + r, lane),
                     QPointF(p0.x(), lane))
        path.lineTo(end.x(), lane)
        path.cubicTo(QPointF(end.x() - r, lane), QPointF(end.x() - r, end.y()), end)
    path.moveTo(end.x() - _ARROW_LEN, end.y() - _ARROW_HALF)
    path.lineTo(end)
    path.lineTo(end.x() - _ARROW_LEN, end.y() + _ARROW_HALF)
    return path


class EdgeItem(QGraphicsPathItem):
    """A prerequisite: an arrow from the chapter that must come first into the chapter that
    needs it.  Painted by Qt (C++); Python is only asked for the wide hit area."""

    def __init__(self, source: NodeItem, target: NodeItem, ghost: bool = False):
        super().__init__()
        self.source, self.target = source, target
        self.key = (source.chapter_id, target.chapter_id)
        self.out_offset = self.in_offset = 0.0
        self.selected = self.related = self.flashed = False
        self.ghost = ghost  # a refused arrow, shown during a refusal flash
        self._ends: tuple[float, ...] = ()
        self._shape: QPainterPath | None = None
        self.setZValue(1)

    def rebuild(self) -> None:
        p0 = self.source.pos() + QPointF(NODE_WIDTH + 1, NODE_HEIGHT / 2 + self.out_offset)
        p1 = self.target.pos() + QPointF(-2, NODE_HEIGHT / 2 + self.in_offset)
        ends = (p0.x(), p0.y(), p1.x(), p1.y())
        if ends != self._ends:  # set_graph redraws only the arrows whose ends moved
            self._ends = ends
            self.setPath(arrow_path(p0, p1))
            self._shape = None

    def apply_look(self, s: GraphStyle) -> None:
        self.setPen(s.edge_refused_ghost if self.ghost else s.edge_refused_pen if self.flashed
                    else s.edge_selected_pen if self.selected
                    else s.edge_related_pen if self.related else s.edge_pen)
        self.setZValue(1.5 if self.selected or self.flashed or self.ghost else
                       1.2 if self.related else 1)

    def shape(self) -> QPainterPath:
        """A 10-unit band along the curve (built once per move): the line is too thin to hit."""
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self.path())
        return self._shape


class AltLinkItem(QGraphicsPathItem):
    """A dotted line between an alternate chapter and the chapter it is an alternate of: a
    relation, not an order, so no arrowhead."""

    def __init__(self, alternate: NodeItem, original: NodeItem):
        super().__init__()
        self.alternate, self.original = alternate, original
        self.setZValue(0)

    def rebuild(self) -> None:
        """Between the facing sides: top and bottom when one card is above the other."""
        a, b = self.alternate.pos(), self.original.pos()
        d, centre = b - a, QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)
        off = QPointF(0, (centre.y() + 6) * (1 if d.y() > 0 else -1)) \
            if abs(d.y()) * NODE_WIDTH >= abs(d.x()) * NODE_HEIGHT \
            else QPointF((centre.x() + 6) * (1 if d.x() > 0 else -1), 0)
        path = QPainterPath(a + centre + off)
        path.lineTo(b + centre - off)
        self.setPath(path)


class RefusalBanner(QLabel):
    """Why the host refused an edit, across the top of the view for a few seconds.  A child
    of the view, not of its viewport: scrolling the viewport would carry it along."""

    def __init__(self, view: ChapterGraphView):
        super().__init__(view)
        self.setObjectName("chapterGraphRefusal")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hide()
        self.timer = QTimer(self, singleShot=True, interval=REFUSAL_MESSAGE_MS)
        self.timer.timeout.connect(self.hide)

    def restyle(self, s: GraphStyle) -> None:
        ink = s.state_ink["refused"].name()
        back = "rgba(70, 24, 24, 235)" if s.dark else "rgba(255, 238, 236, 245)"
        self.setStyleSheet(f"#chapterGraphRefusal {{ background: {back}; color: {s.text.name()};"
                           f" border: 1px solid {ink}; border-left: 4px solid {ink};"
                           f" border-radius: 6px; padding: 7px 12px; }}")

    def announce(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))
        self.raise_()
        self.timer.start()
        self.place()

    def place(self) -> None:  # centred at the top, at most 560 px wide
        view = self.parentWidget()
        self.setFixedWidth(max(120, min(560, view.width() - 32)))
        self.adjustSize()
        self.move((view.width() - self.width()) // 2, 12)

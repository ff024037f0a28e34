"""The graph editor of the Chapter Graph panel: chapters as cards, prerequisites as arrows.

The view only shows and asks.  Every edit (moving cards, a new or removed prerequisite, a
deleted chapter) is a signal; the host decides, changes the story, and calls ``set_graph``
again.  So ``set_graph`` is cheap on a graph that barely changed: cards and arrows are kept
by id and only what differs is redone, and the author's zoom, scroll and selection survive.
Validity is the host's business too (a prerequisite that would close a cycle): it answers
with ``flash_refusal``, which reddens the cycle and says why at the top of the view.

Mouse: click selects, double click opens, drag moves a card (``nodesMoved`` on release),
Shift+drag or a drag from a card's connector (the dot on its right edge) draws a new arrow,
a drag on the canvas or with the middle button pans, the wheel zooms around the cursor.
Positions are the top-left corners of cards of ``NODE_WIDTH`` × ``NODE_HEIGHT``.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QPalette, QResizeEvent, QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication, QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsView, QMenu,
    QWidget,
)

from studio.ui.widgets.chapter_graph_items import (
    NODE_HEIGHT, NODE_STATES, NODE_WIDTH, AltLinkItem, EdgeItem, GraphStyle, NodeItem,
    Overview, RefusalBanner, arrow_path, fan_out, sync_links,
)

EMPTY_MESSAGE = ("No chapters yet — right-click to add one, or build the graph from the "
                 "manuscript.")
MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
REFUSAL_FLASH_MS = 2000  # the refused cycle stays red this long (the message longer)
RECACHE_MS = 250  # cards are cached again this long after the last zoom step
ACTION_OPEN, ACTION_DELETE, ACTION_ADD_AFTER = "open", "delete", "add_after"
_GRID_COLUMNS, _GRID_GAP_X, _GRID_GAP_Y = 5, 70.0, 40.0  # the fallback grid
_OUT, _IN = QPointF(NODE_WIDTH + 1, NODE_HEIGHT / 2), QPointF(-2, NODE_HEIGHT / 2)


class ChapterGraphView(QGraphicsView):
    """Chapters and their prerequisites, editable with the mouse; see the module docstring."""

    chapterSelected = Signal(str)  # chapter id; "" when nothing (or an arrow) is selected
    chapterActivated = Signal(str)  # double click
    nodesMoved = Signal(dict)  # {chapter id: (x, y)} once a drag ends
    prerequisiteRequested = Signal(str, str)  # (prerequisite id, chapter id)
    prerequisiteRemoveRequested = Signal(str, str)  # (prerequisite id, chapter id)
    chapterDeleteRequested = Signal(str)
    contextAction = Signal(str, str)  # (ACTION_OPEN | ACTION_DELETE | ACTION_ADD_AFTER, id)
    addChapterRequested = Signal(float, float)  # top-left of a card centred on the click
    layoutRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        # A BSP index finds the few items in view among thousands; cards move only on drags.
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        # Smart updates repaint one bounding rect per frame; each item sets what it draws with,
        # and bounding rects carry their own margin, so Qt need not save state or pad them.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(240, 180)
        self.setAccessibleName("Chapter graph")
        self.viewport().setMouseTracking(True)
        self.graph_style = GraphStyle(self.palette(), self.font())
        self.setBackgroundBrush(self.graph_style.canvas)
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[tuple[str, str], EdgeItem] = {}
        self._alt_links: dict[str, AltLinkItem] = {}
        self._states: dict[str, str] = {}
        self._selected: tuple[str, Any] | None = None  # ("node", id) or ("edge", (a, b))
        self._graph_rect = QRectF()
        self._auto_fit = True  # until the author zooms or pans, the graph follows resizes
        # The gesture under way: None, "pan", "press" (on a card), "move" or "connect".
        self._mode: str | None = None
        self._press, self._press_scene, self._pan_last = QPoint(), QPointF(), QPoint()
        self._hovered: NodeItem | None = None
        self._drag_node: NodeItem | None = None  # pressed, moved, or drawing an arrow from
        self._drag_start = QPointF()
        self._rubber: QGraphicsPathItem | None = None  # the arrow following the mouse
        self._drop: NodeItem | None = None  # the card a new arrow would point to
        self._last_request: tuple[str, str] | None = None  # the last arrow asked for...
        self._ghost: EdgeItem | None = None  # ...drawn dashed if it is refused
        self._overview = Overview(self)
        self.scene().addItem(self._overview)
        # Cards are cached as pixmaps (a pan only blits them), but not while the zoom changes:
        # each step would throw every pixmap away, so they are drawn directly until it stops.
        self._cards_cached = True
        self._recache_timer = QTimer(self, singleShot=True, interval=RECACHE_MS)
        self._recache_timer.timeout.connect(lambda: self._cache_cards(True))
        self._flash_timer = QTimer(self, singleShot=True, interval=REFUSAL_FLASH_MS)
        self._flash_timer.timeout.connect(self._end_flash)
        self._message = RefusalBanner(self)
        self._message.restyle(self.graph_style)

    # -- data ------------------------------------------------------------------------------

    def set_graph(self, chapters: list[dict[str, Any]],
                  positions: dict[str, tuple[float, float]] | None = None) -> None:
        """Show ``chapters`` (dicts as in chapter_graph.schema.json).  A card's place comes
        from ``positions``, else the chapter's ``position``, else where it already is, else a
        simple grid below the rest.  Unknown prerequisites and self-links are skipped."""
        positions = positions or {}
        was_empty, scene = not self._nodes, self.scene()
        # Scroll values are scene coordinates times the zoom: restored, they keep the view
        # exactly where it was (a centre point would round off a little on every call).
        scroll = (self.horizontalScrollBar().value(), self.verticalScrollBar().value())
        seen: dict[str, dict[str, Any]] = {}
        for ch in chapters:
            seen.setdefault(str(ch.get("id") or ""), ch)
        seen.pop("", None)
        for cid in [c for c in self._nodes if c not in seen]:
            scene.removeItem(self._nodes.pop(cid))
        unplaced: list[NodeItem] = []
        for cid, ch in seen.items():
            node = self._nodes.get(cid)
            fresh = node is None
            if node is None:
                node = self._nodes[cid] = NodeItem(self, cid)
                if not self._cards_cached:
                    node.setCacheMode(QGraphicsItem.CacheMode.NoCache)
                scene.addItem(node)
            node.set_data(int(ch.get("number") or 0), str(ch.get("title") or ""),
                          str(ch.get("status") or "idea"), str(ch.get("alternate_of") or ""))
            node.state = self._states.get(cid, "")
            pos, stored = positions.get(cid), ch.get("position")
            if pos is None and isinstance(stored, dict) and {"x", "y"} <= stored.keys():
                pos = (stored["x"], stored["y"])
            if pos is not None:
                node.setPos(float(pos[0]), float(pos[1]))
            elif fresh:
                unplaced.append(node)
        self._place_on_grid(unplaced)
        sync_links(self, seen, self._nodes, self._edges, self._alt_links)
        fan_out(self._nodes.values(), self._alt_links.values())
        for node in self._nodes.values():
            node.setToolTip(node.tooltip())
        self._states = {c: s for c, s in self._states.items() if c in self._nodes}
        self._graph_rect = self._nodes_rect()
        self._overview.invalidate(self._graph_rect)
        if self._selected and self._selected[1] not in (
                self._nodes if self._selected[0] == "node" else self._edges):
            self._set_selection(None, emit=True)
        else:
            self._restyle_selection()
        self._update_scene_rect()
        if was_empty and self._nodes:
            self.fit()
        elif self._nodes:
            self.horizontalScrollBar().setValue(scroll[0])
            self.verticalScrollBar().setValue(scroll[1])

    def _place_on_grid(self, nodes: list[NodeItem]) -> None:
        """Cards without a place go in rows of five, in chapter order, below the placed ones."""
        new = set(nodes)
        placed = [n for n in self._nodes.values() if n not in new]
        top = max((n.y() + NODE_HEIGHT + 2 * _GRID_GAP_Y for n in placed), default=0.0)
        left = min((n.x() for n in placed), default=0.0)
        for i, node in enumerate(sorted(nodes, key=lambda n: (n.number, n.chapter_id))):
            row, col = divmod(i, _GRID_COLUMNS)
            node.setPos(left + col * (NODE_WIDTH + _GRID_GAP_X),
                        top + row * (NODE_HEIGHT + _GRID_GAP_Y))

    def set_node_states(self, states: dict[str, str]) -> None:
        """Playtest states by chapter id ("available", "active", "completed", "diverged");
        chapters left out (or given "") have none.  Kept across ``set_graph``."""
        self._states = {c: s for c, s in states.items() if s in NODE_STATES}
        for cid, node in self._nodes.items():
            node.set_flags(state=self._states.get(cid, ""))

    # -- selection -------------------------------------------------------------------------

    def select_chapter(self, chapter_id: str) -> None:
        """Select a card ("" clears) and, if it was not selected already, scroll it into view
        (a host re-selecting after each reload must not undo the author's panning).  No
        signal, so that a host can mirror its own selection here without an echo."""
        node, before = self._nodes.get(chapter_id), self.selected_chapter()
        self._set_selection(("node", chapter_id) if node else None, emit=False)
        if node is not None and chapter_id != before:
            self.ensureVisible(node.sceneBoundingRect(), 40, 40)

    def selected_chapter(self) -> str:
        return self._selected[1] if self._selected and self._selected[0] == "node" else ""

    def selected_edge(self) -> tuple[str, str] | None:
        return self._selected[1] if self._selected and self._selected[0] == "edge" else None

    def _set_selection(self, selection: tuple[str, Any] | None, emit: bool) -> None:
        before, self._selected = self.selected_chapter(), selection
        self._restyle_selection()
        if emit and self.selected_chapter() != before:
            self.chapterSelected.emit(self.selected_chapter())

    def _restyle_selection(self) -> None:
        """Mark the selected card or arrow.  A selected card also tints its own arrows, so its
        prerequisites and dependants stand out in a dense graph."""
        chosen, edge_key = self.selected_chapter(), self.selected_edge()
        for cid, node in self._nodes.items():
            node.set_flags(selected=cid == chosen)
        for key, edge in self._edges.items():
            if (key == edge_key, chosen in key) != (edge.selected, edge.related):
                edge.selected, edge.related = key == edge_key, chosen in key
                edge.apply_look(self.graph_style)

    # -- questions, for the panel and for tests --------------------------------------------

    def node_ids(self) -> list[str]:
        return list(self._nodes)

    def nodes(self) -> Iterable[NodeItem]:
        return self._nodes.values()

    def node_item(self, chapter_id: str) -> NodeItem | None:
        return self._nodes.get(chapter_id)

    def edge_item(self, prerequisite_id: str, chapter_id: str) -> EdgeItem | None:
        return self._edges.get((prerequisite_id, chapter_id))

    def edges(self) -> list[tuple[str, str]]:
        """(prerequisite id, chapter id) of every arrow drawn."""
        return list(self._edges)

    def alternate_links(self) -> list[tuple[str, str]]:
        """(alternate id, original id) of every dotted link drawn."""
        return [(c, link.original.chapter_id) for c, link in self._alt_links.items()]

    def zoom(self) -> float:
        return self.transform().m11()

    def node_view_pos(self, chapter_id: str, where: str = "centre") -> QPoint:
        """A viewport point on a card: its "centre" or its "connector"."""
        local = QPointF(NODE_WIDTH - 1, NODE_HEIGHT / 2) if where == "connector" else \
            QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)
        return self.mapFromScene(self._nodes[chapter_id].mapToScene(local))

    def refusal_message(self) -> str:
        """The refusal text while it is shown, else ""."""
        return self._message.text() if self._message.isVisible() else ""

    # -- refusal ---------------------------------------------------------------------------

    def flash_refusal(self, ids: list[str], message: str) -> None:
        """Redden the cards ``ids`` and the arrows between them for ~2 s and show ``message``
        at the top.  If the author just asked for an arrow between two of them, that refused
        arrow is drawn too, dashed, so the loop it would have closed is in plain sight."""
        self._end_flash()
        flashed = {c for c in ids if c in self._nodes}
        for cid in flashed:
            self._nodes[cid].set_flags(flashed=True)
        for key, edge in self._edges.items():
            if key[0] in flashed and key[1] in flashed:
                edge.flashed = True
                edge.apply_look(self.graph_style)
        request = self._last_request
        if request and set(request) <= flashed and request not in self._edges:
            self._ghost = EdgeItem(self._nodes[request[0]], self._nodes[request[1]], ghost=True)
            self._ghost.rebuild()
            self._ghost.apply_look(self.graph_style)
            self.scene().addItem(self._ghost)
        self._message.announce(message)
        self._flash_timer.start()

    def _end_flash(self) -> None:
        for node in self._nodes.values():
            node.set_flags(flashed=False)
        for edge in self._edges.values():
            if edge.flashed:
                edge.flashed = False
                edge.apply_look(self.graph_style)
        if self._ghost is not None:
            self.scene().removeItem(self._ghost)
            self._ghost = None

    # -- zoom and pan ----------------------------------------------------------------------

    def fit(self) -> None:
        """Show the whole graph (never above 1:1) and follow resizes again."""
        self._auto_fit = True
        rect, view = self._graph_rect.adjusted(-40, -40, 40, 40), self.viewport().rect()
        scale = 1.0 if not self._nodes else max(MIN_ZOOM, min(
            1.0, view.width() / rect.width(), view.height() / rect.height()))
        self._zooming()
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_scene_rect()
        self.centerOn(rect.center())

    def zoom_at(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` (clamped to 0.1–4×), keeping the scene point under ``anchor`` (a
        viewport position; the centre by default) where it is."""
        current = self.zoom()
        scale = max(MIN_ZOOM, min(MAX_ZOOM, current * factor))
        if abs(scale - current) < 1e-9:
            return
        self._auto_fit = False
        self._zooming()
        anchor = QPointF(self.viewport().rect().center()) if anchor is None else anchor
        point = self.viewportTransform().inverted()[0].map(anchor)
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_scene_rect()
        delta = self.viewportTransform().map(point) - anchor
        self._scroll_by(round(delta.x()), round(delta.y()))

    def _scroll_by(self, dx: int, dy: int) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + dx)
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + dy)

    def _zooming(self) -> None:
        if self._cards_cached:
            self._cache_cards(False)
        self._recache_timer.start()

    def _cache_cards(self, on: bool) -> None:
        self._cards_cached = on
        mode = QGraphicsItem.CacheMode.DeviceCoordinateCache if on else \
            QGraphicsItem.CacheMode.NoCache
        for node in self._nodes.values():
            node.setCacheMode(mode)

    def _nodes_rect(self) -> QRectF:
        if not self._nodes:
            return QRectF()
        xs, ys = [n.x() for n in self._nodes.values()], [n.y() for n in self._nodes.values()]
        return QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH,
                      max(ys) - min(ys) + NODE_HEIGHT)

    def _update_scene_rect(self) -> None:
        """The graph plus most of a viewport on every side, at the current zoom: the author
        can pan any card to any edge of the view, and zooming stays anchored at the cursor."""
        view = self.viewport().rect()
        pad = max(view.width(), view.height()) / self.zoom() * 0.85
        self.setSceneRect(self._graph_rect.adjusted(-pad, -pad, pad, pad) if self._nodes
                          else QRectF(0, 0, 1, 1))

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Wheel and Ctrl+wheel both zoom around the cursor: panning is a drag."""
        steps = event.angleDelta().y() / 120 or event.pixelDelta().y() / 50
        if steps and self._nodes:
            self.zoom_at(1.15 ** steps, event.position())
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_scene_rect()
        if self._auto_fit:
            self.fit()
        self._message.place()

    # -- mouse -----------------------------------------------------------------------------

    def _hit(self, view_pos: QPoint) -> NodeItem | EdgeItem | None:
        """The card or arrow under a viewport point (cards first: they are on top)."""
        for item in self.items(view_pos):
            if isinstance(item, NodeItem) or (isinstance(item, EdgeItem) and not item.ghost):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position().toPoint()
        self._press = self._pan_last = pos
        self._press_scene = self.mapToScene(pos)
        button = event.button()
        hit = self._hit(pos) if button == Qt.MouseButton.LeftButton else None
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            super().mousePressEvent(event)
            return
        if isinstance(hit, NodeItem) and (hit.handle_at(self._press_scene) or
                                          event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self._mode, self._drag_node = "connect", hit
            self._rubber = self.scene().addPath(arrow_path(hit.mapToScene(_OUT),
                                                           self._press_scene),
                                                self.graph_style.rubber_pen)
            self._rubber.setZValue(5)
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        elif isinstance(hit, NodeItem):
            self._set_selection(("node", hit.chapter_id), emit=True)
            self._mode, self._drag_node, self._drag_start = "press", hit, hit.pos()
        elif isinstance(hit, EdgeItem):
            self._set_selection(("edge", hit.key), emit=True)
        else:  # the canvas, or the middle button anywhere: pan
            self._mode = "pan"
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        scene_pos = self.mapToScene(pos)
        if self._mode == "pan":
            delta, self._pan_last = pos - self._pan_last, pos
            self._auto_fit = False
            self._scroll_by(-delta.x(), -delta.y())
        elif self._mode in ("press", "move") and self._drag_node is not None:
            if self._mode == "move" or \
                    (pos - self._press).manhattanLength() >= QApplication.startDragDistance():
                self._mode = "move"
                self._drag_node.setPos(self._drag_start + (scene_pos - self._press_scene))
                fan_out(self._with_neighbours(self._drag_node), self._alt_links.values())
                self._overview.invalidate()
        elif self._mode == "connect" and self._rubber is not None:
            target = self._hit(pos)
            target = target if isinstance(target, NodeItem) and target is not self._drag_node \
                else None
            if target is not self._drop:
                for node, on in ((self._drop, False), (target, True)):
                    if node is not None:
                        node.set_flags(drop_target=on)
                self._drop = target
            self._rubber.setPath(arrow_path(self._drag_node.mapToScene(_OUT),
                                            target.mapToScene(_IN) if target else scene_pos))
        else:
            self._hover(pos, scene_pos, event.modifiers())
            super().mouseMoveEvent(event)

    def _hover(self, pos: QPoint, scene_pos: QPointF, modifiers) -> None:
        """Light up the card under the mouse; a crosshair where a drag would draw an arrow."""
        hit = self._hit(pos)
        node = hit if isinstance(hit, NodeItem) else None
        if node is not self._hovered:
            if self._hovered is not None and self._hovered.scene() is not None:
                self._hovered.set_flags(hovered=False)
            if node is not None:
                node.set_flags(hovered=True)
            self._hovered = node
        if node is not None and (node.handle_at(scene_pos)
                                 or modifiers & Qt.KeyboardModifier.ShiftModifier):
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if hit is not None
                                      else Qt.CursorShape.ArrowCursor)

    def _with_neighbours(self, node: NodeItem) -> list[NodeItem]:
        """A moved card and every card whose arrows or link fan-out it changes."""
        return [node] + [e.source for e in node.in_edges] + [e.target for e in node.out_edges] \
            + [lk.original for lk in self._alt_links.values() if lk.alternate is node] \
            + [lk.alternate for lk in self._alt_links.values() if lk.original is node]

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        mode, node, self._mode, self._drag_node = self._mode, self._drag_node, None, None
        pos = event.position().toPoint()
        self.viewport().unsetCursor()
        if mode == "pan" and event.button() == Qt.MouseButton.LeftButton \
                and (pos - self._press).manhattanLength() < 3:
            self._set_selection(None, emit=True)  # a click on the canvas
        elif mode == "move" and node is not None and node.scene() is not None:
            node.setPos(round(node.x()), round(node.y()))
            fan_out(self._with_neighbours(node), self._alt_links.values())
            self._graph_rect = self._nodes_rect()
            self._overview.invalidate(self._graph_rect)
            self._update_scene_rect()
            if node.pos() != self._drag_start:
                self.nodesMoved.emit({node.chapter_id: (node.x(), node.y())})
        elif mode == "connect":
            target, hit = self._end_connect(), self._hit(pos)
            target = target or (hit if isinstance(hit, NodeItem) and hit is not node else None)
            if target is not None and node is not None:
                self._last_request = (node.chapter_id, target.chapter_id)
                self.prerequisiteRequested.emit(node.chapter_id, target.chapter_id)
        elif mode is None:
            super().mouseReleaseEvent(event)

    def _end_connect(self) -> NodeItem | None:
        """Remove the rubber band; the card it was dropped on, if any."""
        if self._rubber is not None:
            self.scene().removeItem(self._rubber)
            self._rubber = None
        target, self._drop = self._drop, None
        if target is not None:
            target.set_flags(drop_target=False)
        return target

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position().toPoint())
        if isinstance(hit, NodeItem) and event.button() == Qt.MouseButton.LeftButton:
            self.chapterActivated.emit(hit.chapter_id)
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:
        if self._hovered is not None and self._hovered.scene() is not None:
            self._hovered.set_flags(hovered=False)
        self._hovered = None
        super().leaveEvent(event)

    # -- keys and menus --------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, ctrl = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected:
            if self.selected_edge():
                self.prerequisiteRemoveRequested.emit(*self.selected_edge())
            else:
                self.chapterDeleteRequested.emit(self.selected_chapter())
        elif ctrl and key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            self.zoom_at(0.8 if key == Qt.Key.Key_Minus else 1.25)
        elif ctrl and key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_Escape and self._mode == "connect":
            self._mode, self._drag_node = None, None
            self._end_connect()
        elif key == Qt.Key.Key_Escape and self._selected:
            self._set_selection(None, emit=True)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def context_menu(self, view_pos: QPoint) -> QMenu:
        """The menu for a viewport point: a card's, an arrow's, or the canvas's."""
        menu = QMenu(self)
        hit = self._hit(view_pos)
        if isinstance(hit, NodeItem):
            cid = hit.chapter_id
            self._set_selection(("node", cid), emit=True)
            for label, action in (("Open in inspector", ACTION_OPEN),
                                  ("Add chapter after", ACTION_ADD_AFTER),
                                  ("Delete chapter", ACTION_DELETE)):
                menu.addAction(label, lambda a=action: self.contextAction.emit(a, cid))
        elif isinstance(hit, EdgeItem):
            key = hit.key
            self._set_selection(("edge", key), emit=True)
            menu.addAction("Remove prerequisite",
                           lambda: self.prerequisiteRemoveRequested.emit(*key))
        else:
            at = self.mapToScene(view_pos)
            x, y = round(at.x() - NODE_WIDTH / 2), round(at.y() - NODE_HEIGHT / 2)
            menu.addAction("Add chapter here", lambda: self.addChapterRequested.emit(x, y))
            menu.addAction("Arrange automatically", self.layoutRequested.emit) \
                .setEnabled(bool(self._nodes))
            menu.addSeparator()
            menu.addAction("Fit graph to view", self.fit).setEnabled(bool(self._nodes))
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._mode is None:
            menu = self.context_menu(event.pos())
            menu.exec(event.globalPos())
            menu.deleteLater()

    # -- theme and painting ----------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """A theme or font change: a new style, re-wrapped titles, recoloured arrows."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self.graph_style = style = GraphStyle(self.palette(), self.font())
            self.setBackgroundBrush(style.canvas)
            for node in self._nodes.values():
                node.relayout()
            for edge in self._edges.values():
                edge.apply_look(style)
            for link in self._alt_links.values():
                link.setPen(style.alt_link_pen)
            self._message.restyle(style)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """The hint for an empty graph, centred in the view."""
        if self._nodes:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.setFont(self.font())
        painter.drawText(QRectF(self.viewport().rect()).adjusted(32, 12, -32, -12),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_MESSAGE)
        painter.restore()

"""The chapter graph editor as a real widget, offscreen: built from chapter dicts, driven with
real mouse and key events on its viewport, checked through its signals and items."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.ui.theme import _dark_palette
from studio.ui.widgets.chapter_graph_items import LOD_BOX, NODE_HEIGHT, NODE_WIDTH
from studio.ui.widgets.chapter_graph_view import (
    ACTION_ADD_AFTER, ACTION_DELETE, ACTION_OPEN, EMPTY_MESSAGE, MAX_ZOOM, MIN_ZOOM,
    ChapterGraphView,
)

LEFT, SHIFT = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier

# A small DAG: a -> b, a -> c, b -> d, c -> d; e is an alternate of d; f has no position.
CHAPTERS = [
    {"id": "gch_a", "number": 1, "title": "The Coronation Feast", "status": "final",
     "prerequisites": [], "position": {"x": 0, "y": 100}},
    {"id": "gch_b", "number": 2, "title": "A Letter Sealed in Black Wax", "status": "revised",
     "prerequisites": ["gch_a"], "position": {"x": 290, "y": 0}},
    {"id": "gch_c", "number": 3, "title": "Whispers in the Rose Gallery", "status": "draft",
     "prerequisites": ["gch_a", "gch_nowhere", "gch_c"], "position": {"x": 290, "y": 200}},
    {"id": "gch_d", "number": 4, "title": "The Queen's Confession", "status": "idea",
     "prerequisites": ["gch_b", "gch_c", "gch_b"], "position": {"x": 580, "y": 100}},
    {"id": "gch_e", "number": 5, "title": "The Duel Beneath the Clocktower", "status": "idea",
     "prerequisites": ["gch_c"], "alternate_of": "gch_d", "position": {"x": 580, "y": 250}},
    {"id": "gch_f", "number": 6, "title": "Epilogue", "status": "bogus", "prerequisites": []},
    {"id": "gch_a", "number": 99, "title": "a repeated id: ignored", "status": "idea"},
]


def chapters(**changes: dict) -> list[dict]:
    """CHAPTERS with some chapters' fields changed (by id)."""
    return [dict(ch, **changes.get(ch["id"], {})) for ch in CHAPTERS]


@pytest.fixture
def view(qtbot):
    graph = ChapterGraphView()
    qtbot.addWidget(graph)
    graph.resize(1000, 640)
    graph.show()
    qtbot.waitExposed(graph)
    graph.set_graph(chapters())
    return graph


def centre(view: ChapterGraphView, chapter_id: str) -> QPoint:
    return view.node_view_pos(chapter_id)


def on_edge(view: ChapterGraphView, prerequisite: str, chapter: str) -> QPoint:
    """A viewport point on an arrow, halfway along it."""
    edge = view.edge_item(prerequisite, chapter)
    return view.mapFromScene(edge.path().pointAtPercent(0.45))


def drag(view: ChapterGraphView, start: QPoint, end: QPoint, modifiers=NONE, steps: int = 6):
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, modifiers, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, start + (end - start) * (i / steps))
    QTest.mouseRelease(viewport, LEFT, modifiers, end)


def render(item) -> QImage:
    """The item as drawn by its scene at 1:1 (its own bounding rect)."""
    rect = item.sceneBoundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    item.scene().render(painter, QRectF(image.rect()), rect)
    painter.end()
    return image


def inked(image: QImage, background: QColor) -> int:
    return sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if sum(abs(a - b) for a, b in zip(image.pixelColor(x, y).getRgb()[:3],
                                                 background.getRgb()[:3])) > 60)


# -- building --------------------------------------------------------------------------------

def test_builds_cards_arrows_and_alternate_links(view):
    assert view.node_ids() == ["gch_a", "gch_b", "gch_c", "gch_d", "gch_e", "gch_f"]
    # unknown prerequisites, self-links and repeats are skipped
    assert sorted(view.edges()) == [("gch_a", "gch_b"), ("gch_a", "gch_c"), ("gch_b", "gch_d"),
                                    ("gch_c", "gch_d"), ("gch_c", "gch_e")]
    assert view.alternate_links() == [("gch_e", "gch_d")]
    a = view.node_item("gch_a")
    assert (a.pos().x(), a.pos().y()) == (0, 100)
    assert a.number == 1 and a.status == "final" and a.title == "The Coronation Feast"
    assert view.node_item("gch_e").alternate and not view.node_item("gch_d").alternate
    assert view.node_item("gch_f").status == "idea"  # an unknown status is drawn as an idea
    # the chapter without a position goes on the grid below the others
    assert view.node_item("gch_f").y() >= 250 + NODE_HEIGHT
    # an arrow runs from the prerequisite's right edge into the chapter's left edge
    path = view.edge_item("gch_a", "gch_b").path()
    assert path.pointAtPercent(0).x() == pytest.approx(NODE_WIDTH, abs=2)
    assert path.boundingRect().right() == pytest.approx(290, abs=4)


def test_explicit_positions_override_and_other_cards_stay(view):
    view.set_graph(chapters(), positions={"gch_b": (300.0, -40.0)})
    assert view.node_item("gch_b").pos() == QPointF(300, -40)
    view.set_graph(chapters(gch_f={"position": None}))
    assert view.node_item("gch_b").pos() == QPointF(290, 0)  # its own position again
    before = view.node_item("gch_f").pos()
    view.set_graph(chapters())
    assert view.node_item("gch_f").pos() == before  # no position: stays where it is


def test_arrows_follow_a_changed_graph(view):
    edge = view.edge_item("gch_b", "gch_d")
    view.set_graph(chapters(gch_d={"prerequisites": ["gch_b"]}, gch_b={"title": "Renamed"}))
    assert view.edge_item("gch_b", "gch_d") is edge  # kept, not rebuilt
    assert view.edge_item("gch_c", "gch_d") is None
    assert view.node_item("gch_b").title == "Renamed"
    view.set_graph([ch for ch in chapters() if ch["id"] != "gch_d"])
    assert "gch_d" not in view.node_ids() and view.alternate_links() == []
    assert all("gch_d" not in key for key in view.edges())


# -- drawing a new arrow ----------------------------------------------------------------------

def test_shift_drag_from_one_card_to_another_requests_a_prerequisite(view, qtbot):
    requested = []
    view.prerequisiteRequested.connect(lambda a, b: requested.append((a, b)))
    start, end = centre(view, "gch_b"), centre(view, "gch_e")
    QTest.mousePress(view.viewport(), LEFT, SHIFT, start)
    QTest.mouseMove(view.viewport(), (start + end) / 2)
    QTest.mouseMove(view.viewport(), end)
    assert view._rubber is not None and view._rubber.scene() is view.scene()
    assert view.node_item("gch_e").drop_target
    assert requested == []  # nothing until the button is released
    QTest.mouseRelease(view.viewport(), LEFT, SHIFT, end)
    assert requested == [("gch_b", "gch_e")]
    assert view._rubber is None and not view.node_item("gch_e").drop_target
    assert view.node_item("gch_b").pos() == QPointF(290, 0)  # a connecting drag moves nothing


def test_drag_from_the_connector_requests_a_prerequisite(view):
    requested = []
    view.prerequisiteRequested.connect(lambda a, b: requested.append((a, b)))
    drag(view, view.node_view_pos("gch_a", "connector"), centre(view, "gch_e"))
    assert requested == [("gch_a", "gch_e")]


def test_a_new_arrow_dropped_on_nothing_or_its_own_card_asks_nothing(view):
    requested = []
    view.prerequisiteRequested.connect(lambda a, b: requested.append((a, b)))
    drag(view, centre(view, "gch_a"), QPoint(5, 600), SHIFT)
    drag(view, centre(view, "gch_a"), centre(view, "gch_a") + QPoint(30, 5), SHIFT)
    assert requested == []
    assert view.edges() and len(view.edges()) == 5  # the view never edits the graph itself


# -- moving, selecting, deleting ---------------------------------------------------------------

def test_dragging_a_card_emits_nodes_moved_once_on_release(view):
    moved = []
    view.nodesMoved.connect(moved.append)
    node = view.node_item("gch_b")
    start = centre(view, "gch_b")
    end = start + QPoint(60, 35)
    expected = node.pos() + view.mapToScene(end) - view.mapToScene(start)
    viewport = view.viewport()
    QTest.mousePress(viewport, LEFT, NONE, start)
    for step in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(12 * step, 7 * step))
    assert moved == []  # not during the drag ...
    assert node.pos() != QPointF(290, 0)  # ... though the card follows the mouse
    QTest.mouseRelease(viewport, LEFT, NONE, end)
    assert moved == [{"gch_b": (round(expected.x()), round(expected.y()))}]
    # the arrows went along
    assert view.edge_item("gch_b", "gch_d").path().pointAtPercent(0).x() == \
        pytest.approx(node.x() + NODE_WIDTH, abs=2)


def test_a_click_selects_without_moving(view):
    selected, moved = [], []
    view.chapterSelected.connect(selected.append)
    view.nodesMoved.connect(moved.append)
    QTest.mouseClick(view.viewport(), LEFT, NONE, centre(view, "gch_c"))
    assert selected == ["gch_c"] and view.selected_chapter() == "gch_c"
    assert view.node_item("gch_c").selected and moved == []
    assert view.edge_item("gch_a", "gch_c").related  # its arrows are tinted
    QTest.mouseClick(view.viewport(), LEFT, NONE, QPoint(990, 630))  # the empty canvas
    assert selected == ["gch_c", ""] and view.selected_chapter() == ""


def test_delete_on_a_selected_card_requests_its_deletion(view):
    deleted = []
    view.chapterDeleteRequested.connect(deleted.append)
    QTest.mouseClick(view.viewport(), LEFT, NONE, centre(view, "gch_d"))
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert deleted == ["gch_d"]
    assert "gch_d" in view.node_ids()  # the host deletes, then calls set_graph


def test_clicking_an_arrow_selects_it_and_delete_requests_its_removal(view):
    removed, selected = [], []
    view.prerequisiteRemoveRequested.connect(lambda a, b: removed.append((a, b)))
    view.chapterSelected.connect(selected.append)
    QTest.mouseClick(view.viewport(), LEFT, NONE, centre(view, "gch_b"))
    QTest.mouseClick(view.viewport(), LEFT, NONE, on_edge(view, "gch_c", "gch_d"))
    assert view.selected_edge() == ("gch_c", "gch_d")
    assert view.edge_item("gch_c", "gch_d").selected
    assert selected == ["gch_b", ""]  # no chapter is selected while an arrow is
    QTest.keyClick(view, Qt.Key.Key_Delete)
    QTest.keyClick(view, Qt.Key.Key_Backspace)
    assert removed == [("gch_c", "gch_d")] * 2


def test_double_click_activates_a_chapter(view):
    activated = []
    view.chapterActivated.connect(activated.append)
    QTest.mouseDClick(view.viewport(), LEFT, NONE, centre(view, "gch_e"))
    assert activated == ["gch_e"]


# -- refusal ------------------------------------------------------------------------------------

def test_flash_refusal_reddens_the_cycle_and_shows_the_message(view, qtbot):
    message = "Refused: that would close the loop 2 → 4 → 1 → 2."
    drag(view, centre(view, "gch_d"), centre(view, "gch_a"), SHIFT)  # the arrow asked for
    view._flash_timer.setInterval(150)
    view.flash_refusal(["gch_a", "gch_b", "gch_d"], message)
    assert view.refusal_message() == message and view._message.isVisible()
    assert view._message.geometry().top() < 40  # at the top of the view
    assert all(view.node_item(c).flashed for c in ("gch_a", "gch_b", "gch_d"))
    assert not view.node_item("gch_c").flashed
    assert view.edge_item("gch_a", "gch_b").flashed and view.edge_item("gch_b", "gch_d").flashed
    assert not view.edge_item("gch_a", "gch_c").flashed
    assert view._ghost is not None and view._ghost.key == ("gch_d", "gch_a")
    assert ("gch_d", "gch_a") not in view.edges()
    qtbot.waitUntil(lambda: not view.node_item("gch_a").flashed, timeout=2000)
    assert not view.edge_item("gch_a", "gch_b").flashed and view._ghost is None
    assert view.refusal_message() == message  # the text stays a little longer, to be read
    view._message.timer.setInterval(10)
    view._message.timer.start()
    qtbot.waitUntil(lambda: view.refusal_message() == "", timeout=2000)


# -- zoom, scroll, selection across set_graph --------------------------------------------------

def test_set_graph_keeps_zoom_scroll_and_selection(view):
    selected = []
    view.chapterSelected.connect(selected.append)
    QTest.mouseClick(view.viewport(), LEFT, NONE, centre(view, "gch_c"))
    view.zoom_at(2.0, QPointF(centre(view, "gch_c")))
    zoom = view.zoom()
    scroll = (view.horizontalScrollBar().value(), view.verticalScrollBar().value())
    for _ in range(20):  # the host calls set_graph after every edit: nothing may drift
        view.set_graph(chapters(gch_b={"title": "Renamed"}) + [
            {"id": "gch_new", "number": 7, "title": "New", "prerequisites": ["gch_d"]}])
    assert view.zoom() == zoom
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == scroll
    assert view.selected_chapter() == "gch_c" and view.node_item("gch_c").selected
    assert selected == ["gch_c"]
    view.set_graph([ch for ch in chapters() if ch["id"] != "gch_c"])
    assert view.selected_chapter() == "" and selected == ["gch_c", ""]


def test_select_chapter_from_the_host_sends_no_echo_and_keeps_the_author_s_panning(view):
    selected = []
    view.chapterSelected.connect(selected.append)
    view.zoom_at(3.0)
    view.select_chapter("gch_e")  # a new selection is scrolled into view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.node_item("gch_e").sceneBoundingRect())
    assert view.selected_chapter() == "gch_e" and view.node_item("gch_e").selected
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().minimum())  # panned away
    scroll = view.horizontalScrollBar().value()
    view.set_graph(chapters())
    view.select_chapter("gch_e")  # the host re-selects after a reload: the view stays put
    assert view.horizontalScrollBar().value() == scroll
    view.select_chapter("")
    assert view.selected_chapter() == "" and selected == []


def test_wheel_zooms_around_the_cursor_within_limits(view):
    at = QPointF(centre(view, "gch_c"))
    scene_before = view.mapToScene(at.toPoint())

    def wheel(steps: int, modifiers=NONE):
        event = QWheelEvent(at, QPointF(view.viewport().mapToGlobal(at.toPoint())), QPoint(),
                            QPoint(0, 120 * steps), Qt.MouseButton.NoButton, modifiers,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), event)

    zoom = view.zoom()
    wheel(2)
    assert view.zoom() == pytest.approx(zoom * 1.15 ** 2)
    after = view.mapToScene(at.toPoint())
    assert abs(after.x() - scene_before.x()) < 2 and abs(after.y() - scene_before.y()) < 2
    wheel(-1, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(zoom * 1.15)
    for _ in range(40):
        wheel(3)
    assert view.zoom() == pytest.approx(MAX_ZOOM)
    for _ in range(60):
        wheel(-3)
    assert view.zoom() == pytest.approx(MIN_ZOOM)


def test_zoom_keys_and_fit(view):
    view.setFocus()
    fitted = view.zoom()
    QTest.keyClick(view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted * 1.25)
    QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted * 0.8)
    QTest.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted)
    # fitted: every card is in view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(view.node_item(c).sceneBoundingRect().center())
               for c in view.node_ids())


def test_dragging_the_canvas_or_the_middle_button_pans(view):
    hbar, vbar = view.horizontalScrollBar(), view.verticalScrollBar()
    h, v = hbar.value(), vbar.value()
    drag(view, QPoint(980, 620), QPoint(900, 560))
    assert (hbar.value(), vbar.value()) == (h + 80, v + 60)
    start = centre(view, "gch_b")  # the middle button pans even over a card
    QTest.mousePress(view.viewport(), Qt.MouseButton.MiddleButton, NONE, start)
    QTest.mouseMove(view.viewport(), start + QPoint(-30, 0))
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.MiddleButton, NONE, start + QPoint(-30, 0))
    assert hbar.value() == h + 110 and view.node_item("gch_b").pos() == QPointF(290, 0)


# -- menus ----------------------------------------------------------------------------------

def test_card_and_canvas_context_menus(view):
    actions, added, arranged, removed = [], [], [], []
    view.contextAction.connect(lambda a, c: actions.append((a, c)))
    view.addChapterRequested.connect(lambda x, y: added.append((x, y)))
    view.layoutRequested.connect(lambda: arranged.append(True))
    view.prerequisiteRemoveRequested.connect(lambda a, b: removed.append((a, b)))
    menu = view.context_menu(centre(view, "gch_b"))
    assert [a.text() for a in menu.actions()] == ["Open in inspector", "Add chapter after",
                                                  "Delete chapter"]
    for action in menu.actions():
        action.trigger()
    assert actions == [(ACTION_OPEN, "gch_b"), (ACTION_ADD_AFTER, "gch_b"),
                       (ACTION_DELETE, "gch_b")]
    assert view.selected_chapter() == "gch_b"
    menu = view.context_menu(on_edge(view, "gch_a", "gch_c"))
    menu.actions()[0].trigger()
    assert removed == [("gch_a", "gch_c")]
    spot = QPoint(900, 600)
    menu = view.context_menu(spot)
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:2] == ["Add chapter here", "Arrange automatically"]
    menu.actions()[0].trigger()
    menu.actions()[1].trigger()
    at = view.mapToScene(spot)
    assert added == [(round(at.x() - NODE_WIDTH / 2), round(at.y() - NODE_HEIGHT / 2))]
    assert arranged == [True]


# -- look -------------------------------------------------------------------------------------

def test_node_states_change_how_a_card_is_drawn(view):
    node = view.node_item("gch_d")
    plain = render(node)
    view.set_node_states({"gch_d": "active", "gch_a": "completed", "gch_b": "no-such-state",
                          "gch_gone": "active"})
    assert node.state == "active" and view.node_item("gch_a").state == "completed"
    assert view.node_item("gch_b").state == ""
    active = render(node)
    assert active != plain
    view.set_graph(chapters())  # states survive a rebuild
    assert node.state == "active"
    view.set_node_states({"gch_d": "diverged"})
    assert node.state == "diverged" and view.node_item("gch_a").state == ""
    assert render(node) not in (plain, active)
    assert "Playtest: Diverged" in node.toolTip()
    view.set_node_states({})
    assert render(node) == plain


def test_zoomed_far_out_cards_are_boxes_filled_by_the_overview(view):
    view.zoom_at(LOD_BOX * 0.7 / view.zoom())
    assert view.zoom() < LOD_BOX
    image = view.grab().toImage()
    assert view._overview.rects is not None
    assert sum(len(r) for r in view._overview.rects.values()) == len(view.node_ids())
    background = view.graph_style.canvas
    assert inked(image, background) > 20  # the boxes are drawn


def test_empty_graph_shows_the_hint(qtbot):
    graph = ChapterGraphView()
    qtbot.addWidget(graph)
    graph.resize(700, 400)
    graph.show()
    qtbot.waitExposed(graph)
    graph.set_graph([])
    assert "right-click to add one" in EMPTY_MESSAGE
    empty = graph.grab().toImage()
    middle = empty.copy(0, 150, 700, 100)
    assert inked(middle, graph.graph_style.canvas) > 20  # the centred hint
    graph.set_graph(CHAPTERS[:1])
    graph.set_graph([])
    assert graph.node_ids() == [] and graph.edges() == []
    menu = graph.context_menu(QPoint(350, 200))
    assert [a.isEnabled() for a in menu.actions() if a.text() == "Arrange automatically"] == \
        [False]


def test_a_theme_change_restyles_the_graph(view):
    light_canvas = view.graph_style.canvas
    view.setPalette(_dark_palette())
    assert view.graph_style.dark and view.graph_style.canvas != light_canvas
    assert view.backgroundBrush().color() == view.graph_style.canvas
    assert view.edge_item("gch_a", "gch_b").pen().color() == view.graph_style.edge_pen.color()

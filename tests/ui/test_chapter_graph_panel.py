"""The Chapter Graph panel in a real window: draw a prerequisite by dragging, a cycle refused
and named, undo, and three playtest turns that show the log and make a chapter version."""

from __future__ import annotations

import copy

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.services import bible, chapter_graph, stories
from studio.ui.panels.chapter_graph_panel import ChapterGraphPanel

COURT = {"characters": [{"id": "char_king", "name": "King Aldric"}],
         "setting": {"locations": [{"name": "throne room"}, {"name": "stables"}]}}


def open_graph_story(window, qtbot, chapters: int = 3):
    db = window.db
    story = stories.create_story(db, "The King's Envoy")
    bible.save(db, story.id, "story", 0, COURT)
    previous = None
    for i in range(chapters):
        made = chapter_graph.add_chapter(db, story.id, f"Chapter {i + 1}", after=previous,
                                         position=(i * 260.0, 0.0))
        previous = made["id"]
    window.open_story(story.id)
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.story_id == story.id, timeout=10_000)
    panel = next(p for p in window.panels if isinstance(p, ChapterGraphPanel))
    window.show_panel(panel)
    qtbot.waitUntil(lambda: len(panel.graph["chapters"]) == chapters
                    and len(panel.canvas.node_ids()) == chapters, timeout=10_000)
    panel.canvas.fit()
    return story, panel


def shift_drag(view, start: QPoint, end: QPoint) -> None:
    viewport = view.viewport()
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, shift, start)
    for i in range(1, 7):
        QTest.mouseMove(viewport, start + (end - start) * (i / 6))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, shift, end)


def ids_by_number(panel) -> dict[int, str]:
    return {c["number"]: c["id"] for c in panel.graph["chapters"]}


def test_drawing_an_edge_adds_a_prerequisite_and_undo_removes_it(make_window, qtbot):
    window = make_window()
    story, panel = open_graph_story(window, qtbot)
    ids = ids_by_number(panel)
    canvas = panel.canvas
    shift_drag(canvas, canvas.node_view_pos(ids[1]), canvas.node_view_pos(ids[3]))
    qtbot.waitUntil(lambda: (ids[1], ids[3]) in canvas.edges(), timeout=10_000)
    stored = {c["id"]: c for c in chapter_graph.load(window.db, story.id).graph["chapters"]}
    assert set(stored[ids[3]]["prerequisites"]) == {ids[1], ids[2]}
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: (ids[1], ids[3]) not in canvas.edges(), timeout=10_000)
    stored = {c["id"]: c for c in chapter_graph.load(window.db, story.id).graph["chapters"]}
    assert stored[ids[3]]["prerequisites"] == [ids[2]]


def test_an_edge_that_closes_a_cycle_is_refused_and_named(make_window, qtbot):
    window = make_window()
    story, panel = open_graph_story(window, qtbot)
    ids = ids_by_number(panel)
    canvas = panel.canvas
    before = chapter_graph.load(window.db, story.id).graph
    shift_drag(canvas, canvas.node_view_pos(ids[3]), canvas.node_view_pos(ids[1]))
    qtbot.waitUntil(lambda: "cycle" in canvas.refusal_message(), timeout=5_000)
    message = canvas.refusal_message()
    assert "1 “Chapter 1”" in message and "3 “Chapter 3”" in message
    assert "cycle" in panel.message.text()
    qtbot.waitUntil(window.runner.is_idle, timeout=5_000)  # whatever was queued has landed…
    assert chapter_graph.load(window.db, story.id).graph == before  # …and saved no edge


def test_three_playtest_turns_show_the_log_and_a_new_chapter_version(make_window, qtbot):
    window = make_window()
    story, panel = open_graph_story(window, qtbot, chapters=1)
    chapter = copy.deepcopy(panel.graph["chapters"][0])
    chapter.update(summary="The king grants the royal decree in the throne room.",
                   triggers=[{"kind": "location", "value": "throne room"},
                             {"kind": "character", "value": "char_king"},
                             {"kind": "item", "value": "royal decree"}],
                   beats=[{"text": "The king grants the royal decree", "priority": 1}])
    panel.update_chapter(chapter)
    qtbot.waitUntil(lambda: len(panel.graph["chapters"][0]["triggers"]) == 3, timeout=10_000)
    play = panel.playtest
    panel.side.setCurrentWidget(play)
    play.location.setCurrentText("throne room")
    play.inventory.setText("royal decree")
    for i in range(play.present.count()):
        play.present.item(i).setCheckState(Qt.CheckState.Checked)
    play.new_button.click()
    qtbot.waitUntil(lambda: panel.play is not None and play.play_button.isEnabled(),
                    timeout=10_000)
    turns = [("The hero kneels before the old king.", None),
             ("Horses stamp in the stables; the hero fingers a forged letter.",
              ("stables", "forged letter")),
             ("Rain on the stable roof.", None)]
    for number, (text, change) in enumerate(turns, 1):
        if change:
            play.location.setCurrentText(change[0])
            play.inventory.setText(change[1])
        qtbot.keyClicks(play.text, text)
        qtbot.keyClick(play.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda n=number: panel.play is not None
                        and len(panel.play.turns) == n and play.play_button.isEnabled(),
                        timeout=10_000)
    assert panel.play.progress[chapter["id"]]["activated_turn"] == 1
    assert panel.canvas.node_item(chapter["id"]).state in ("active", "completed")
    assert play.log.topLevelItemCount() >= 3
    turn_two = [play.log.topLevelItem(i) for i in range(play.log.topLevelItemCount())
                if play.log.topLevelItem(i).text(0) == "2"][0]
    assert turn_two.text(3) in ("adapt content", "relax conditions")
    assert turn_two.childCount() >= 3  # the score's breakdown, line by line
    if turn_two.text(3) == "relax conditions":
        play.pending_box.findChild(type(play.play_button), "applyRelaxation").click()
    qtbot.waitUntil(lambda: panel.versions.topLevelItemCount() >= 1, timeout=10_000)
    assert panel.versions.topLevelItem(0).text(2) in ("auto-adapt", "auto-relax")
    assert chapter_graph.chapter_versions(window.db, story.id, chapter["id"])

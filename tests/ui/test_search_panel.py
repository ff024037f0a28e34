"""Project search, offscreen: real searches on a real database, through the service runner."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox

from studio.domain.outline import SearchHit, SearchResults
from studio.services import manuscript as ms
from studio.services import stories
from studio.ui.runner import ServiceRunner
from studio.ui.widgets.search_panel import (
    NO_MATCHES, QUERY_PLACEHOLDER, ProjectSearchPanel, find_text, snippet_html, summary_text,
)


@pytest.fixture
def story(db):
    story = stories.create_story(db, "The Salt Road")
    ch1 = ms.add_chapter(db, story.id, "Departure")
    ch2 = ms.add_chapter(db, story.id, "The Flats")
    market = ms.add_scene(db, story.id, ch1.uid, "Market",
                          text="Mara counted the stalls.\n\nThe old lantern swung.")
    gate = ms.add_scene(db, story.id, ch1.uid, "Gate",
                        text="Guards <and> dogs & a lantern at the gate.")
    ms.add_scene(db, story.id, ch2.uid, "Thirst", text="Salt, and more salt.")
    night = ms.add_scene(db, story.id, ch2.uid, "Night", text="A lantern on the flats.")
    return story, (ch1, ch2), (market, gate, night)


@pytest.fixture
def runner():
    r = ServiceRunner()
    yield r
    r.wait_idle(10)
    r.shutdown()


@pytest.fixture
def make_panel(qtbot, db, story, runner):
    def make(search_fn=None):
        panel = ProjectSearchPanel(runner, search_fn or partial(ms.search, db, story[0].id))
        qtbot.addWidget(panel)
        panel.resize(360, 600)
        panel.show()
        qtbot.waitExposed(panel)
        return panel
    return make


def search(qtbot, panel: ProjectSearchPanel, text: str) -> SearchResults:
    panel.query_edit.clear()
    qtbot.keyClicks(panel.query_edit, text)
    qtbot.waitUntil(lambda: panel.results is not None and panel.results.query == text
                    and not panel.is_searching(), timeout=5000)
    return panel.results


def test_typing_shows_hits_grouped_by_chapter_and_scene(make_panel, qtbot, story):
    _st, (ch1, ch2), (market, gate, night) = story
    panel = make_panel()
    assert panel.query_edit.placeholderText() == QUERY_PLACEHOLDER
    results = search(qtbot, panel, "lantern")
    assert results.total == 3
    tree = panel.tree
    chapters = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [c.text(0) for c in chapters] == ["Departure", "The Flats"]
    assert [chapters[0].child(i).text(0) for i in range(chapters[0].childCount())] == [
        "Market", "Gate"]
    assert [chapters[1].child(i).text(0) for i in range(chapters[1].childCount())] == ["Night"]
    hits = panel.hit_items()
    assert [h.data(0, Qt.ItemDataRole.UserRole + 2).scene_uid for h in hits] == [
        market.uid, gate.uid, night.uid]
    assert hits[0].text(0) == "The old lantern swung."  # the snippet, markers removed
    assert all(c.isExpanded() for c in chapters)
    assert panel.summary.text().startswith("3 matches in 3 scenes · ")
    assert panel.summary.text().endswith(" ms")

    search(qtbot, panel, "nothing-like-this")
    assert panel.summary.text() == NO_MATCHES and panel.tree.topLevelItemCount() == 0
    panel.query_edit.clear()
    assert panel.tree.topLevelItemCount() == 0 and panel.summary.text() == ""


def test_the_match_is_rendered_bold_on_a_highlight_and_the_rest_escaped(make_panel, qtbot):
    panel = make_panel()
    search(qtbot, panel, "lantern")
    gate_hit = panel.hit_items()[1].data(0, Qt.ItemDataRole.UserRole + 2)
    assert "\x02lantern\x03" in gate_hit.snippet
    markup = snippet_html(gate_hit.snippet)
    assert "Guards &lt;and&gt; dogs &amp; a " in markup
    assert 'font-weight:700;">lantern</span>' in markup and "background-color:" in markup
    assert "\x02" not in markup and "\x03" not in markup
    # and it reaches the screen: the highlight colour is painted in the results
    image = panel.tree.viewport().grab().toImage()
    mark = QColor("#ffe08a")
    assert any(image.pixelColor(x, y) == mark
               for y in range(0, image.height(), 2) for x in range(0, image.width(), 2))


def test_enter_activates_hits(make_panel, qtbot, story):
    _st, _chapters, (market, gate, night) = story
    panel = make_panel()
    search(qtbot, panel, "lantern")
    with qtbot.waitSignal(panel.hitActivated) as blocker:
        qtbot.keyClick(panel.query_edit, Qt.Key.Key_Return)  # the first hit
    hit, query = blocker.args
    assert isinstance(hit, SearchHit) and hit.scene_uid == market.uid and query == "lantern"

    qtbot.keyClick(panel.query_edit, Qt.Key.Key_Down)  # into the results
    assert panel.tree.currentItem() is panel.hit_items()[0]
    qtbot.keyClick(panel.tree, Qt.Key.Key_Down)
    qtbot.keyClick(panel.tree, Qt.Key.Key_Down)  # past the "Gate" scene row
    with qtbot.waitSignal(panel.hitActivated) as blocker:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Enter)
    assert blocker.args[0].scene_uid == gate.uid
    assert "\x02lantern\x03" in blocker.args[0].snippet

    item = panel.hit_items()[2]
    with qtbot.waitSignal(panel.hitActivated) as blocker:
        rect = panel.tree.visualItemRect(item)
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0].scene_uid == night.uid

    panel.activateWindow()
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Escape)
    qtbot.waitUntil(panel.query_edit.hasFocus)


def test_enter_straight_after_typing_waits_for_the_search(make_panel, qtbot, story):
    _st, _chapters, (_market, _gate, night) = story
    panel = make_panel()
    with qtbot.waitSignal(panel.hitActivated, timeout=5000) as blocker:
        qtbot.keyClicks(panel.query_edit, "flats")
        qtbot.keyClick(panel.query_edit, Qt.Key.Key_Return)
    assert blocker.args[0].scene_uid == night.uid and blocker.args[1] == "flats"


def test_a_late_answer_to_an_old_query_is_discarded(make_panel, qtbot, db, story):
    story_id = story[0].id
    started = threading.Event()

    def slow_first(query: str) -> SearchResults:
        if query == "lantern":
            started.set()
            time.sleep(0.6)  # the author types on meanwhile
        return ms.search(db, story_id, query)

    panel = make_panel(slow_first)
    shown = []
    panel.resultsChanged.connect(lambda r: shown.append(r.query if r else None))
    qtbot.keyClicks(panel.query_edit, "lantern")
    qtbot.waitUntil(started.is_set, timeout=3000)
    panel.query_edit.setText("salt")
    qtbot.waitUntil(lambda: panel.results is not None, timeout=5000)
    assert panel.results.query == "salt" and panel.results.total == 1
    panel._runner.wait_idle(5)
    qtbot.wait(50)
    assert [q for q in shown if q] == ["salt"]  # "lantern" never reached the screen
    assert [h.text(0) for h in panel.hit_items()] == ["Salt, and more salt."]


def test_replace_all_asks_and_then_only_emits(make_panel, qtbot, monkeypatch):
    panel = make_panel()
    asked = []

    def answer(reply):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply
        return staticmethod(question)

    assert not panel.replace_button.isEnabled()  # nothing searched yet
    search(qtbot, panel, "lantern")
    assert panel.replace_button.isEnabled()
    panel.replace_edit.setText("lamp")
    panel.whole_word.setChecked(True)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    with qtbot.assertNotEmitted(panel.replaceRequested):
        qtbot.mouseClick(panel.replace_button, Qt.MouseButton.LeftButton)
    assert "Replace every “lantern” with “lamp”" in asked[-1]
    assert "3 matches in 3 scenes" in asked[-1]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(panel.replaceRequested) as blocker:
        qtbot.mouseClick(panel.replace_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["lantern", "lamp", False, True]

    search(qtbot, panel, '"old lantern"')  # a phrase: replaced without its quotes
    panel.match_case.setChecked(True)
    with qtbot.waitSignal(panel.replaceRequested) as blocker:
        qtbot.keyClick(panel.replace_edit, Qt.Key.Key_Return)
    assert blocker.args == ["old lantern", "lamp", True, True]
    assert "1 match in 1 scene" in asked[-1]

    search(qtbot, panel, "nothing-like-this")
    assert not panel.replace_button.isEnabled()


def test_without_a_story_the_panel_is_inert(make_panel, qtbot):
    panel = make_panel()
    search(qtbot, panel, "lantern")
    panel.set_enabled_story(False)
    assert not panel.query_edit.isEnabled() and not panel.replace_button.isEnabled()
    assert panel.tree.topLevelItemCount() == 0 and panel.results is None
    panel.set_enabled_story(True)  # the query is searched again, in the story now open
    qtbot.waitUntil(lambda: panel.results is not None and panel.results.total == 3)
    panel.focus_query()
    assert panel.query_edit.selectedText() == "lantern"


def test_summary_lines():
    hit = SearchHit("c", "C", "s", "S", "g", "x")
    assert summary_text(SearchResults("x", [], 0)) == NO_MATCHES
    assert summary_text(SearchResults("x", [hit], 1, 0.4)) == "1 match in 1 scene · <1 ms"
    assert summary_text(SearchResults("x", [hit] * 500, 1234, 12.3)) == (
        "Showing the first 500 of 1,234 · 12 ms")
    assert find_text('  "a phrase" ') == "a phrase" and find_text("two words") == "two words"


def test_a_failed_search_says_so(make_panel, qtbot):
    def broken(query):
        raise RuntimeError("disk on fire")

    panel = make_panel(broken)
    qtbot.keyClicks(panel.query_edit, "lantern")
    qtbot.waitUntil(lambda: "disk on fire" in panel.summary.text(), timeout=5000)
    assert panel.tree.topLevelItemCount() == 0

"""The chapter inspector (Chapter Graph panel) as a real widget, offscreen, driven by keyboard
and mouse the way a user would."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QLabel

from studio.ui.widgets.bible_fields import error_color
from studio.ui.widgets.chapter_inspector import EMPTY_HINT, ChapterInspector

CHAPTERS = [
    {"id": "gch_a1", "number": 1, "title": "The Harvest Festival"},
    {"id": "gch_b2", "number": 2, "title": "A Stranger at the Gate"},
    {"id": "gch_c3", "number": 3, "title": "The King's Summons"},
    {"id": "gch_d4", "number": 4, "title": "Whispers in the Archive"},
]
CHARACTERS = [("char_aldric", "King Aldric"), ("char_maren", "Lady Maren"),
              ("char_tobin", "Tobin the Squire")]
LOCATIONS = ["Throne room", "Great hall", "Royal archive"]
SUMMONS = {
    "id": "gch_c3", "number": 3, "title": "The King's Summons", "status": "draft",
    "description": "Tobin is called before the king.", "summary": "The king hands over a decree.",
    "prerequisites": ["gch_a1"],
    "triggers": [{"kind": "item", "value": "royal decree", "critical": False,
                  "alternatives": []}],
    "instructions": "Formal, slow pacing.",
    "beats": [{"text": "A herald fetches Tobin", "priority": 3}],
    "allow_divergence": True, "threshold": 0.4, "source": "manual",
    "alternate_of": None, "manuscript_chapter": None,
}


@pytest.fixture
def inspector(qtbot):
    w = ChapterInspector()
    qtbot.addWidget(w)
    w.resize(460, 900)
    w.set_context(CHAPTERS, CHARACTERS, LOCATIONS)
    w.set_chapter(copy.deepcopy(SUMMONS))
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def emitted(inspector):
    seen: list[dict] = []
    inspector.edited.connect(seen.append)
    return seen


def type_into(qtbot, widget, text: str, enter: bool = True) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)
    if enter:
        qtbot.keyClick(widget, Qt.Key.Key_Return)


def add_condition(qtbot, inspector, label: str) -> None:
    actions = {a.text(): a for a in inspector.conditions.add_button.menu().actions()}
    assert set(actions) == {"Location", "Item", "Character present", "Key = value"}
    actions[label].trigger()
    qtbot.wait(10)  # let the layout place the new row


def last_row(editor):
    return editor._rows[editor.row_count() - 1]


# --- chapter fields ---------------------------------------------------------------------------

def test_shows_the_chapter(inspector):
    assert inspector.stack.currentWidget() is inspector.scroll
    assert inspector.number.text() == "3"
    assert inspector.title.text() == "The King's Summons"
    assert inspector.status.currentData() == "draft"
    assert inspector.source.text() == "Manual"
    assert inspector.description.toPlainText() == "Tobin is called before the king."
    assert inspector.summary.toPlainText() == "The king hands over a decree."
    assert inspector.instructions.toPlainText() == "Formal, slow pacing."
    assert not inspector.form.isRowVisible(inspector.alternate)
    assert inspector.allow_divergence.isChecked()
    assert inspector.threshold.value() == pytest.approx(0.4)
    assert inspector.threshold_slider.value() == 40
    assert inspector.chapter() == SUMMONS


def test_edit_title_by_keyboard_emits_once_on_enter(qtbot, inspector, emitted):
    inspector.title.setFocus()
    qtbot.waitUntil(inspector.title.hasFocus)
    qtbot.keyClick(inspector.title, Qt.Key.Key_End)
    qtbot.keyClicks(inspector.title, " Again")
    assert emitted == []  # not per keystroke
    qtbot.keyClick(inspector.title, Qt.Key.Key_Return)
    assert len(emitted) == 1
    assert emitted[0]["title"] == "The King's Summons Again"
    assert emitted[0]["id"] == "gch_c3"
    assert {k: v for k, v in emitted[0].items() if k != "title"} == \
        {k: v for k, v in SUMMONS.items() if k != "title"}
    qtbot.keyClick(inspector.title, Qt.Key.Key_Return)  # nothing new: nothing reported
    assert len(emitted) == 1
    emitted[0]["title"] = "mutated by the host"
    assert inspector.chapter()["title"] == "The King's Summons Again"  # a copy was sent


def test_ctrl_z_commits_the_typing_and_goes_to_the_hosts_undo(qtbot, inspector, emitted):
    undo = QAction("Undo", inspector)  # the host's undo action, as in the main window
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    inspector.addAction(undo)
    undone: list[int] = []
    undo.triggered.connect(lambda: undone.append(len(emitted)))
    inspector.title.setFocus()
    qtbot.waitUntil(inspector.title.hasFocus)
    qtbot.keyClick(inspector.title, Qt.Key.Key_End)
    qtbot.keyClicks(inspector.title, "!")
    qtbot.keyClick(inspector.title, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [e["title"] for e in emitted] == ["The King's Summons!"]
    assert undone == [1]  # the typing was committed first, then the host's undo ran


def test_an_empty_title_is_refused_and_put_back(qtbot, inspector, emitted):
    type_into(qtbot, inspector.title, "   ")
    assert emitted == []
    assert inspector.title.text() == "The King's Summons"


def test_status_combo_and_multiline_text_commit_after_a_pause(qtbot, inspector, emitted):
    inspector.status.setFocus()
    qtbot.keyClick(inspector.status, Qt.Key.Key_Down)
    assert [e["status"] for e in emitted] == ["revised"]
    inspector.summary.setFocus()
    qtbot.waitUntil(inspector.summary.hasFocus)
    qtbot.keyClick(inspector.summary, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(inspector.summary, " He accepts.")
    assert len(emitted) == 1
    qtbot.waitUntil(lambda: len(emitted) == 2, timeout=3000)  # the idle commit
    assert emitted[1]["summary"] == "The king hands over a decree. He accepts."
    assert emitted[1]["status"] == "revised"


def test_flush_commits_typed_text(qtbot, inspector, emitted):
    type_into(qtbot, inspector.instructions, "Keep it short.", enter=False)
    inspector.flush()
    assert [e["instructions"] for e in emitted] == ["Keep it short."]
    inspector.flush()
    assert len(emitted) == 1


# --- trigger conditions -------------------------------------------------------------------------

def test_add_location_condition_picked_from_the_bible_and_mark_it_critical(
        qtbot, inspector, emitted):
    add_condition(qtbot, inspector, "Location")
    assert emitted == []  # a draft until it has a value
    row = last_row(inspector.conditions)
    assert [row.location.itemText(i) for i in range(row.location.count())] == LOCATIONS
    row.location.setFocus()
    qtbot.waitUntil(row.location.hasFocus)
    qtbot.keyClick(row.location, Qt.Key.Key_Down)  # the first bible location
    qtbot.keyClick(row.location, Qt.Key.Key_Down)  # the second
    assert emitted[-1]["triggers"][-1] == {"kind": "location", "value": "Great hall",
                                           "critical": False}
    count = len(emitted)
    qtbot.mouseClick(row.critical, Qt.MouseButton.LeftButton,
                     pos=row.critical.rect().center())
    assert len(emitted) == count + 1
    assert emitted[-1]["triggers"] == [
        SUMMONS["triggers"][0],
        {"kind": "location", "value": "Great hall", "critical": True}]


def test_a_typed_location_is_kept(qtbot, inspector, emitted):
    add_condition(qtbot, inspector, "Location")
    row = last_row(inspector.conditions)
    type_into(qtbot, row.location_line, "Chapel of the Dawn")
    assert len(emitted) == 1
    assert emitted[0]["triggers"][-1]["value"] == "Chapel of the Dawn"


def test_character_condition_picked_by_name_stores_the_id(qtbot, inspector, emitted):
    add_condition(qtbot, inspector, "Character present")
    row = last_row(inspector.conditions)
    assert row.character.hasFocus()
    assert [row.character.itemText(i) for i in range(row.character.count())] == \
        ["King Aldric", "Lady Maren", "Tobin the Squire"]
    qtbot.keyClicks(row.character, "Lady")
    assert len(emitted) == 1
    assert emitted[0]["triggers"][-1] == {"kind": "character", "value": "char_maren",
                                          "critical": False}
    assert row.character.currentText() == "Lady Maren"
    assert row.character.property("unknown") is False


def test_key_condition_stores_key_and_value(qtbot, inspector, emitted):
    add_condition(qtbot, inspector, "Key = value")
    row = last_row(inspector.conditions)
    assert row.key.hasFocus()
    qtbot.keyClicks(row.key, "gate_open")
    qtbot.keyClick(row.key, Qt.Key.Key_Return)
    assert emitted == []  # still no value
    type_into(qtbot, row.key_value, "true")
    assert len(emitted) == 1
    assert emitted[0]["triggers"][-1] == {"kind": "key", "key": "gate_open", "value": "true",
                                          "critical": False}


def test_alternatives_and_remove(qtbot, inspector, emitted):
    row = inspector.conditions._rows[0]
    type_into(qtbot, row.alternatives, "sealed letter,  writ ,")
    assert emitted[-1]["triggers"][0]["alternatives"] == ["sealed letter", "writ"]
    qtbot.mouseClick(row.remove, Qt.MouseButton.LeftButton)
    assert emitted[-1]["triggers"] == []
    assert len(emitted) == 2
    assert inspector.conditions.empty.isVisibleTo(inspector)


def test_clearing_a_saved_value_puts_it_back(qtbot, inspector, emitted):
    row = inspector.conditions._rows[0]
    type_into(qtbot, row.item, "")
    assert emitted == []
    assert row.item.text() == "royal decree"


def test_changing_kind_keeps_a_matching_name(qtbot, inspector, emitted):
    chapter = copy.deepcopy(SUMMONS)
    chapter["triggers"] = [{"kind": "item", "value": "king aldric", "critical": True}]
    inspector.set_chapter(chapter)
    row = inspector.conditions._rows[0]
    row.kind.setFocus()
    qtbot.keyClick(row.kind, Qt.Key.Key_Down)  # Item → Character present
    assert emitted[-1]["triggers"] == [{"kind": "character", "value": "char_aldric",
                                        "critical": True}]
    assert row.value.currentWidget() is row.character


def test_unknown_character_is_flagged(qtbot, inspector):
    chapter = copy.deepcopy(SUMMONS)
    chapter["triggers"] = [{"kind": "character", "value": "char_ghost", "critical": False},
                           {"kind": "character", "value": "char_tobin", "critical": False}]
    inspector.set_chapter(chapter)
    ghost, tobin = inspector.conditions._rows[:2]
    assert ghost.character.currentText() == "Unknown (char_ghost)"
    assert "not in the scene bible" in ghost.character.toolTip()
    red = error_color(inspector.palette())
    assert ghost.character.palette().color(QPalette.ColorRole.ButtonText) == red
    assert ghost.character.property("unknown") is True
    assert tobin.character.currentText() == "Tobin the Squire"
    assert tobin.character.palette().color(QPalette.ColorRole.ButtonText) != red
    assert inspector.conditions.unknown_characters() == ["char_ghost"]
    # the bible gains the character: the flag goes
    inspector.set_context(CHAPTERS, CHARACTERS + [("char_ghost", "The Grey Lady")], LOCATIONS)
    assert ghost.character.currentText() == "The Grey Lady"
    assert ghost.character.property("unknown") is False


# --- beats ------------------------------------------------------------------------------------

def test_add_a_beat_with_priority_one(qtbot, inspector, emitted):
    qtbot.mouseClick(inspector.beats.add_button, Qt.MouseButton.LeftButton)
    qtbot.wait(10)
    row = last_row(inspector.beats)
    assert row.text.hasFocus()
    assert emitted == []  # a draft until it has text
    qtbot.keyClicks(row.text, "The king hands over the decree")
    qtbot.keyClick(row.text, Qt.Key.Key_Return)
    assert emitted[-1]["beats"][-1] == {"text": "The king hands over the decree", "priority": 3}
    type_into(qtbot, row.priority, "1")
    assert len(emitted) == 2
    assert emitted[-1]["beats"] == [SUMMONS["beats"][0],
                                    {"text": "The king hands over the decree", "priority": 1}]


def test_move_and_remove_beats(qtbot, inspector, emitted):
    chapter = copy.deepcopy(SUMMONS)
    chapter["beats"] = [{"text": "one", "priority": 1}, {"text": "two", "priority": 2},
                        {"text": "three", "priority": 3}]
    inspector.set_chapter(chapter)
    rows = inspector.beats._rows
    assert not rows[0].up.isEnabled() and not rows[2].down.isEnabled()
    qtbot.mouseClick(rows[2].up, Qt.MouseButton.LeftButton)
    assert [b["text"] for b in emitted[-1]["beats"]] == ["one", "three", "two"]
    qtbot.mouseClick(rows[0].down, Qt.MouseButton.LeftButton)
    assert [b["text"] for b in emitted[-1]["beats"]] == ["three", "one", "two"]
    qtbot.mouseClick(rows[1].remove, Qt.MouseButton.LeftButton)
    assert emitted[-1]["beats"] == [{"text": "three", "priority": 3},
                                    {"text": "two", "priority": 2}]
    assert len(emitted) == 3
    assert [r.text.text() for r in inspector.beats._rows] == ["three", "two"]


def test_drafts_survive_a_reload_of_the_same_chapter_only(qtbot, inspector, emitted):
    qtbot.mouseClick(inspector.beats.add_button, Qt.MouseButton.LeftButton)
    qtbot.wait(10)
    add_condition(qtbot, inspector, "Item")
    inspector.set_chapter(copy.deepcopy(SUMMONS))
    assert inspector.beats.row_count() == 2 and inspector.conditions.row_count() == 2
    other = dict(copy.deepcopy(SUMMONS), id="gch_d4", number=4, title="Whispers")
    inspector.set_chapter(other)
    assert inspector.beats.row_count() == 1 and inspector.conditions.row_count() == 1
    assert emitted == []


# --- divergence -------------------------------------------------------------------------------

def test_allow_divergence_and_threshold(qtbot, inspector, emitted):
    box = inspector.allow_divergence
    inspector.scroll.ensureWidgetVisible(box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert [e["allow_divergence"] for e in emitted] == [False]
    type_into(qtbot, inspector.threshold, "0.55")
    assert len(emitted) == 2
    assert emitted[-1]["threshold"] == pytest.approx(0.55)
    assert emitted[-1]["allow_divergence"] is False
    assert inspector.threshold_slider.value() == 55
    inspector.threshold_slider.setFocus()
    qtbot.keyClick(inspector.threshold_slider, Qt.Key.Key_PageUp)
    assert len(emitted) == 3
    assert emitted[-1]["threshold"] == pytest.approx(0.65)
    assert inspector.threshold.value() == pytest.approx(0.65)


def test_threshold_defaults_to_0_40(inspector):
    chapter = {"id": "gch_x", "number": 9, "title": "Bare"}
    inspector.set_chapter(chapter)
    assert inspector.threshold.value() == pytest.approx(0.40)
    assert inspector.status.currentData() == "draft"
    assert inspector.chapter() == chapter


# --- prerequisites ----------------------------------------------------------------------------

def test_prerequisite_picker_excludes_the_chapter_and_adds_one(qtbot, inspector, emitted):
    picker = inspector.prerequisites.picker
    ids = [cid for cid, _ in inspector.prerequisites.options()]
    assert "gch_c3" not in ids  # not itself
    assert "gch_a1" not in ids  # already required
    assert inspector.prerequisites.options() == [("gch_b2", "2. A Stranger at the Gate"),
                                                 ("gch_d4", "4. Whispers in the Archive")]
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)
    assert len(emitted) == 1
    assert emitted[0]["prerequisites"] == ["gch_a1", "gch_b2"]
    assert picker.currentIndex() == 0
    assert [cid for cid, _ in inspector.prerequisites.options()] == ["gch_d4"]
    labels = [w.text() for w in inspector.prerequisites.frame.findChildren(QLabel)
              if w.isVisibleTo(inspector)]
    assert "1. The Harvest Festival" in labels and "2. A Stranger at the Gate" in labels
    remove = inspector.prerequisites._rows[0][2]
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert emitted[-1]["prerequisites"] == ["gch_b2"]
    # the host refuses (a cycle, say) and shows the stored chapter again
    inspector.set_chapter(copy.deepcopy(SUMMONS))
    assert inspector.prerequisites.prerequisites() == ["gch_a1"]


def test_alternate_and_manuscript_labels(inspector):
    chapter = dict(copy.deepcopy(SUMMONS), alternate_of="gch_b2", manuscript_chapter="chap_7")
    inspector.set_chapter(chapter)
    assert inspector.form.isRowVisible(inspector.alternate)
    assert inspector.alternate.text() == "2. A Stranger at the Gate"
    assert inspector.form.isRowVisible(inspector.manuscript)
    assert inspector.manuscript.text() == "chap_7"


# --- loading, read-only, empty ----------------------------------------------------------------

def test_set_chapter_and_set_context_do_not_emit(qtbot, inspector):
    with qtbot.assertNotEmitted(inspector.edited):
        other = dict(copy.deepcopy(SUMMONS), id="gch_d4", number=4, title="Whispers",
                     threshold=0.8, allow_divergence=False, status="final",
                     triggers=[{"kind": "location", "value": "Throne room", "critical": True}],
                     beats=[{"text": "x", "priority": 5}])
        inspector.set_chapter(other)
        inspector.set_context(CHAPTERS[:2], CHARACTERS[:1], ["Great hall"])
        inspector.set_chapter(copy.deepcopy(SUMMONS))
        inspector.set_chapter(None)
        inspector.set_chapter(copy.deepcopy(SUMMONS))
        qtbot.wait(700)  # longer than the idle commit of the text fields
    assert inspector.chapter() == SUMMONS


def test_reloading_keeps_what_is_being_typed(qtbot, inspector, emitted):
    inspector.title.setFocus()
    qtbot.waitUntil(inspector.title.hasFocus)
    qtbot.keyClicks(inspector.title, "!")
    inspector.set_chapter(copy.deepcopy(SUMMONS))  # e.g. after another field was saved
    assert inspector.title.text().endswith("!")
    other = dict(copy.deepcopy(SUMMONS), id="gch_d4", number=4)  # same title, other chapter
    inspector.set_chapter(other)
    assert inspector.title.text() == "The King's Summons"
    assert emitted == []


def test_read_only_disables_edits(qtbot, inspector):
    inspector.set_chapter(copy.deepcopy(SUMMONS), read_only=True)
    assert inspector.read_only_note.isVisibleTo(inspector)
    with qtbot.assertNotEmitted(inspector.edited):
        type_into(qtbot, inspector.title, "Changed")
        inspector.scroll.ensureWidgetVisible(inspector.allow_divergence)
        qtbot.mouseClick(inspector.allow_divergence, Qt.MouseButton.LeftButton,
                         pos=QPoint(8, inspector.allow_divergence.height() // 2))
        inspector.flush()
    assert inspector.title.isReadOnly() and inspector.title.text() == "The King's Summons"
    assert inspector.description.isReadOnly() and inspector.summary.isReadOnly()
    for w in (inspector.status, inspector.allow_divergence, inspector.threshold,
              inspector.threshold_slider, inspector.prerequisites.picker,
              inspector.conditions.add_button, inspector.beats.add_button):
        assert not w.isEnabled(), w
    row = inspector.conditions._rows[0]
    assert not row.kind.isEnabled() and not row.remove.isEnabled()
    assert row.item.isReadOnly()
    beat = inspector.beats._rows[0]
    assert beat.text.isReadOnly() and not beat.priority.isEnabled()
    assert not inspector.prerequisites._rows[0][2].isEnabled()
    inspector.set_chapter(copy.deepcopy(SUMMONS))
    assert not inspector.read_only_note.isVisibleTo(inspector)
    assert inspector.title.isReadOnly() is False and inspector.status.isEnabled()


def test_empty_state(inspector):
    inspector.set_chapter(None)
    assert inspector.stack.currentWidget() is inspector.empty
    assert inspector.empty.text() == EMPTY_HINT
    assert inspector.chapter() is None
    inspector.flush()  # nothing to do, no error


def test_scroll_position_kept_for_the_same_chapter(qtbot, inspector):
    inspector.resize(460, 400)
    bar = inspector.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 300)
    bar.setValue(300)
    inspector.set_chapter(copy.deepcopy(SUMMONS))
    assert bar.value() == 300
    qtbot.wait(20)
    assert bar.value() == 300
    inspector.set_chapter(dict(copy.deepcopy(SUMMONS), id="gch_d4", number=4))
    assert bar.value() == 0


def test_fits_a_460_pixel_side_panel(qtbot, inspector):
    form = inspector.scroll.widget()
    assert form.minimumSizeHint().width() <= 460 - inspector.scroll.verticalScrollBar().width()
    assert inspector.scroll.horizontalScrollBar().maximum() == 0

"""The scene-bible editor, offscreen: real widgets, keyboard and mouse through pytest-qt."""

from __future__ import annotations

import copy
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMainWindow, QWidget

from studio.ui.widgets import bible_fields
from studio.domain import bible as domain_bible
from studio.ui.widgets.bible_characters import NO_CHARACTERS
from studio.ui.widgets.bible_editor import BibleEditor, new_character_id

BIBLE = {
    "characters": [
        {"id": "char_ada", "name": "Ada Lindqvist", "aliases": ["the keeper"],
         "traits": ["meticulous"], "introduced_in": "seg_a1",
         "relationships": [{"target": "char_tom", "type": "sibling"}]},
        {"id": "char_tom", "name": "Tomas Lindqvist", "aliases": ["Tom"]},
        {"id": "char_hale", "name": "Inspector Hale"},
    ],
    "setting": {"primary_location": "Skerry Light", "world_rules": ["The lamp is lit at dusk."],
                "locations": [{"name": "Skerry Light"}, {"name": "The lamp room"}]},
    "timeline": {"current_point": "The storm", "events": [
        {"id": "evt_one", "event": "Oskar drowns", "segment": "seg_a1"},
        {"id": "evt_two", "event": "Hale arrives"}]},
    "plot_threads": [{"id": "thread_lease", "description": "The lease", "status": "active"}],
    "style_guide": {"tone": "Quiet", "genre": "Mystery"},
}
SERIES = {
    "characters": [{"id": "char_sea", "name": "The Sea"}],
    "setting": {"locations": [{"name": "Bergen"}]},
    "timeline": {"events": [{"id": "evt_storm", "event": "The great storm"}]},
    "plot_threads": [{"id": "thread_curse", "description": "The curse"}],
}


@pytest.fixture
def editor(qtbot):
    window = QMainWindow()
    ed = BibleEditor()
    window.setCentralWidget(ed)
    qtbot.addWidget(window)
    window.resize(1000, 680)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    ed.set_bible(copy.deepcopy(BIBLE))
    ed.emitted = []
    ed.edited.connect(ed.emitted.append)
    yield ed
    window.close()


def char(bible: dict, cid: str) -> dict:
    return next(c for c in bible["characters"] if c["id"] == cid)


def focus(qtbot, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    focus(qtbot, widget)
    widget.selectAll()
    qtbot.keyClicks(widget, text)


# --- characters -----------------------------------------------------------------------------

def test_editing_a_name_by_keyboard_emits_it_once_with_the_same_id(qtbot, editor):
    editor.select_character("char_tom")
    name = editor.characters.name
    type_into(qtbot, name, "Tomas Moe")
    assert editor.emitted == []  # nothing per keystroke
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert len(editor.emitted) == 1
    new = editor.emitted[0]
    assert char(new, "char_tom")["name"] == "Tomas Moe"
    assert [c["id"] for c in new["characters"]] == ["char_ada", "char_tom", "char_hale"]
    focus(qtbot, editor.characters.aliases)  # focus out after Enter: same value, no repeat
    assert len(editor.emitted) == 1
    assert editor.bible() == new
    assert editor.characters.list.currentItem().text() == "Tomas Moe"


def test_focus_out_commits_a_line_and_lists_are_split_on_commas(qtbot, editor):
    editor.select_character("char_ada")
    type_into(qtbot, editor.characters.aliases, "the keeper,  Miss Ada , ")
    focus(qtbot, editor.characters.traits)
    assert len(editor.emitted) == 1
    assert char(editor.emitted[0], "char_ada")["aliases"] == ["the keeper", "Miss Ada"]
    assert editor.characters.aliases.text() == "the keeper, Miss Ada"


def test_clearing_a_name_is_refused_and_the_old_name_comes_back(qtbot, editor):
    editor.select_character("char_tom")
    type_into(qtbot, editor.characters.name, "   ")
    qtbot.keyClick(editor.characters.name, Qt.Key.Key_Return)
    assert editor.emitted == []
    assert editor.characters.name.text() == "Tomas Lindqvist"


def test_description_commits_after_a_pause_exactly_once(qtbot, editor):
    editor.select_character("char_hale")
    description = editor.characters.description
    focus(qtbot, description)
    qtbot.keyClicks(description, "Sent by the Board of Trade.")
    assert editor.emitted == []
    qtbot.waitUntil(lambda: len(editor.emitted) == 1, timeout=3000)
    assert char(editor.emitted[0], "char_hale")["description"] == "Sent by the Board of Trade."
    focus(qtbot, editor.characters.name)  # focus out with nothing new: no second report
    qtbot.wait(bible_fields.TEXT_IDLE_MS + 100)
    assert len(editor.emitted) == 1


def test_undo_keys_are_left_to_the_host_and_commit_the_typing_first(qtbot, editor):
    window = editor.window()
    undo = QAction("Undo", window)
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    undo.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    triggered = []
    undo.triggered.connect(lambda: triggered.append(editor.bible()))
    window.addAction(undo)
    editor.select_character("char_tom")
    name = editor.characters.name
    type_into(qtbot, name, "Tom Moe")
    qtbot.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(triggered) == 1  # the host's undo ran…
    assert char(triggered[0], "char_tom")["name"] == "Tom Moe"  # …after the typing landed
    assert len(editor.emitted) == 1
    assert name.text() == "Tom Moe"  # the field did not undo by itself


class Replace(QUndoCommand):
    def __init__(self, editor: BibleEditor, old: dict, new: dict):
        super().__init__("Edit bible")
        self.editor, self.old, self.new = editor, old, new

    def redo(self) -> None:
        self.editor.set_bible(self.new)

    def undo(self) -> None:
        self.editor.set_bible(self.old)


def test_a_host_undo_stack_round_trip_keeps_the_user_in_place(qtbot, editor):
    stack = QUndoStack()
    current = {"bible": editor.bible()}

    def push(new: dict) -> None:  # what the host does with every edit
        stack.push(Replace(editor, current["bible"], new))
        current["bible"] = new
    editor.edited.connect(push)
    editor.select_character("char_tom")
    type_into(qtbot, editor.characters.name, "Tom")
    qtbot.keyClick(editor.characters.name, Qt.Key.Key_Return)
    type_into(qtbot, editor.characters.traits, "reckless, charming")
    qtbot.keyClick(editor.characters.traits, Qt.Key.Key_Return)
    assert stack.count() == 2 and len(editor.emitted) == 2
    stack.undo()
    assert editor.selected_character() == "char_tom"
    assert editor.characters.traits.text() == "" and editor.characters.name.text() == "Tom"
    stack.undo()
    assert editor.characters.name.text() == "Tomas Lindqvist"
    assert editor.characters.list.currentItem().text() == "Tomas Lindqvist"
    stack.redo()
    assert editor.characters.name.text() == "Tom"
    assert len(editor.emitted) == 2  # reloading never reports an edit
    assert editor.bible() == stack.command(0).new


def test_switching_tabs_commits_pending_text(qtbot, editor):
    editor.select_character("char_hale")
    focus(qtbot, editor.characters.description)
    qtbot.keyClicks(editor.characters.description, "Polite")
    editor.show_section("json")
    assert len(editor.emitted) == 1
    assert char(json.loads(editor.json_page.editor.toPlainText()),
                "char_hale")["description"] == "Polite"
    qtbot.wait(bible_fields.TEXT_IDLE_MS + 100)
    assert len(editor.emitted) == 1


def test_add_gives_a_char_id_selects_it_and_ctrl_n_in_the_list_adds_too(qtbot, editor):
    qtbot.mouseClick(editor.characters.add_button, Qt.MouseButton.LeftButton)
    assert len(editor.emitted) == 1
    added = editor.emitted[0]["characters"][-1]
    assert added["id"].startswith("char_") and len(added["id"]) == 13
    assert added["name"] == "New character"
    assert editor.selected_character() == added["id"]
    assert editor.characters.name.hasFocus()
    qtbot.keyClicks(editor.characters.name, "Mina Strand")
    qtbot.keyClick(editor.characters.name, Qt.Key.Key_Return)
    assert char(editor.emitted[-1], added["id"])["name"] == "Mina Strand"

    window = editor.window()  # the main window has its own Ctrl+N (New Story)
    new_story = QAction("New Story", window)
    new_story.setShortcut(QKeySequence.StandardKey.New)
    stories = []
    new_story.triggered.connect(lambda: stories.append(1))
    window.addAction(new_story)
    focus(qtbot, editor.characters.list)
    qtbot.keyClick(editor.characters.list, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert stories == []
    assert len(editor.emitted) == 3
    ids = [c["id"] for c in editor.emitted[-1]["characters"]]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert editor.emitted[-1]["characters"][-1]["name"] == "New character"


def test_new_character_id_never_collides(monkeypatch):
    tokens = iter(["aaaa1111", "aaaa1111", "bbbb2222"])
    monkeypatch.setattr(domain_bible.secrets, "token_hex", lambda n: next(tokens))
    assert new_character_id(["char_aaaa1111"]) == "char_bbbb2222"


def test_delete_removes_the_selected_character_and_selects_a_neighbour(qtbot, editor):
    editor.select_character("char_tom")
    qtbot.mouseClick(editor.characters.delete_button, Qt.MouseButton.LeftButton)
    assert [c["id"] for c in editor.emitted[-1]["characters"]] == ["char_ada", "char_hale"]
    assert editor.selected_character() == "char_hale"
    focus(qtbot, editor.characters.list)
    qtbot.keyClick(editor.characters.list, Qt.Key.Key_Delete)
    assert [c["id"] for c in editor.emitted[-1]["characters"]] == ["char_ada"]
    assert len(editor.emitted) == 2


def test_adding_and_editing_a_relationship(qtbot, editor):
    editor.select_character("char_hale")
    rels = editor.characters.relationships
    assert rels.empty.isVisible()
    qtbot.mouseClick(rels.add_button, Qt.MouseButton.LeftButton)
    assert char(editor.emitted[-1], "char_hale")["relationships"] == [
        {"target": "char_ada", "type": "friend"}]
    target, kind, note, _remove = rels._rows[0]
    assert [target.itemText(i) for i in range(target.count())] == [
        "Ada Lindqvist", "Tomas Lindqvist"]  # everyone but Hale himself
    type_into(qtbot, kind.lineEdit(), "rival")
    qtbot.keyClick(kind.lineEdit(), Qt.Key.Key_Return)
    type_into(qtbot, note, "Both want the lease")
    qtbot.keyClick(note, Qt.Key.Key_Return)
    target.setCurrentIndex(1)
    target.activated.emit(1)
    assert char(editor.emitted[-1], "char_hale")["relationships"] == [
        {"target": "char_tom", "type": "rival", "note": "Both want the lease"}]
    assert len(editor.emitted) == 4
    qtbot.mouseClick(rels._rows[0][3], Qt.MouseButton.LeftButton)
    assert "relationships" not in char(editor.emitted[-1], "char_hale")


def test_set_bible_does_not_emit_and_keeps_the_selection(qtbot, editor):
    editor.select_character("char_tom")
    bar = editor.characters.list.verticalScrollBar().value()
    changed = copy.deepcopy(BIBLE)
    char(changed, "char_tom")["name"] = "Tomas L."
    changed["characters"].insert(0, {"id": "char_new", "name": "Newcomer"})
    editor.set_bible(changed)
    editor.set_bible(changed)
    assert editor.emitted == []
    assert editor.selected_character() == "char_tom"
    assert editor.characters.name.text() == "Tomas L."
    assert editor.characters.list.verticalScrollBar().value() == bar
    assert editor.bible() == changed


def test_user_selection_reports_the_character_but_select_character_does_not(qtbot, editor):
    seen = []
    editor.characterSelected.connect(seen.append)
    editor.select_character("char_hale")
    assert seen == []
    focus(qtbot, editor.characters.list)
    qtbot.keyClick(editor.characters.list, Qt.Key.Key_Up)
    assert seen == ["char_tom"]
    assert editor.characters.name.text() == "Tomas Lindqvist"


def test_filter_hides_characters_that_do_not_match_name_or_alias(qtbot, editor):
    qtbot.keyClicks(editor.characters.filter, "tom")
    shown = [editor.characters.list.item(i).text() for i in range(editor.characters.list.count())
             if not editor.characters.list.item(i).isHidden()]
    assert shown == ["Tomas Lindqvist"]
    editor.characters.filter.clear()
    qtbot.keyClicks(editor.characters.filter, "keeper")
    shown = [editor.characters.list.item(i).text() for i in range(editor.characters.list.count())
             if not editor.characters.list.item(i).isHidden()]
    assert shown == ["Ada Lindqvist"]


def test_segments_show_their_labels_and_clear_removes_them(qtbot, editor):
    editor.set_segment_labels({"seg_a1": "Ch 1 · Scene 1 · ¶1 “The lamp…”"})
    editor.select_character("char_ada")
    field = editor.characters.introduced_in
    assert field.label.text() == "Ch 1 · Scene 1 · ¶1 “The lamp…”"
    assert editor.timeline.table.item(0, 2).text() == "Ch 1 · Scene 1 · ¶1 “The lamp…”"
    qtbot.mouseClick(field.clear_button, Qt.MouseButton.LeftButton)
    assert "introduced_in" not in char(editor.emitted[-1], "char_ada")
    assert not field.clear_button.isEnabled()


def test_unticking_active_and_giving_a_reason(qtbot, editor):
    editor.select_character("char_tom")
    assert not editor.characters.inactive_reason.isEnabled()
    editor.characters.active.click()
    assert char(editor.emitted[-1], "char_tom")["active"] is False
    type_into(qtbot, editor.characters.inactive_reason, "emigrated")
    qtbot.keyClick(editor.characters.inactive_reason, Qt.Key.Key_Return)
    assert char(editor.emitted[-1], "char_tom")["inactive_reason"] == "emigrated"
    assert "inactive" in editor.characters.list.currentItem().text()


def test_empty_bible_says_how_to_start(qtbot, editor):
    editor.set_bible({})
    assert editor.characters.empty.text() == NO_CHARACTERS
    assert editor.characters.stack.currentWidget() is editor.characters.empty
    assert editor.characters.list.placeholder == NO_CHARACTERS


# --- read-only and series -------------------------------------------------------------------

def test_read_only_disables_editing_and_shows_the_banner(qtbot, editor):
    editor.set_bible(copy.deepcopy(BIBLE), read_only=True)
    editor.set_banner("As of Ch 2 · Scene 3 — read-only")
    assert editor.banner.isVisible() and editor.banner.text() == "As of Ch 2 · Scene 3 — read-only"
    editor.select_character("char_tom")
    ch = editor.characters
    assert ch.name.isReadOnly() and ch.description.isReadOnly()
    assert not ch.add_button.isEnabled() and not ch.delete_button.isEnabled()
    assert not ch.active.isEnabled() and not ch.relationships.add_button.isEnabled()
    focus(qtbot, ch.name)
    qtbot.keyClicks(ch.name, "xyz")
    qtbot.keyClick(ch.name, Qt.Key.Key_Return)
    qtbot.keyClick(ch.list, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert ch.name.text() == "Tomas Lindqvist"
    assert not editor.setting.rule_add.isEnabled() and editor.setting.primary.isReadOnly()
    assert not editor.timeline.add_button.isEnabled()
    assert not editor.threads.add_button.isEnabled()
    assert all(f.isReadOnly() for f in editor.style_page.fields.values())
    editor.show_section("json")
    assert editor.json_page.editor.isReadOnly() and not editor.json_page.can_apply()
    assert editor.emitted == []
    editor.set_banner(None)
    editor.set_bible(copy.deepcopy(BIBLE))
    assert not editor.banner.isVisible() and not editor.characters.name.isReadOnly()


def test_series_items_are_shown_read_only_and_never_output(qtbot, editor):
    editor.set_bible(copy.deepcopy(BIBLE), inherited=SERIES)
    ch = editor.characters
    texts = [ch.list.item(i).text() for i in range(ch.list.count())]
    assert "The Sea  ·  from series" in texts
    assert ch.list.item(texts.index("The Sea  ·  from series")).font().italic()
    editor.select_character("char_sea")
    assert ch.series_note.isVisible() and ch.name.isReadOnly()
    assert not ch.delete_button.isEnabled()
    editor.select_character("char_hale")
    qtbot.mouseClick(ch.relationships.add_button, Qt.MouseButton.LeftButton)
    target = ch.relationships._rows[0][0]
    assert "The Sea  (series)" in [target.itemText(i) for i in range(target.count())]
    out = editor.emitted[-1]
    assert [c["id"] for c in out["characters"]] == ["char_ada", "char_tom", "char_hale"]
    assert out["setting"]["locations"] == BIBLE["setting"]["locations"]
    assert out["timeline"]["events"] == BIBLE["timeline"]["events"]
    assert out["plot_threads"] == BIBLE["plot_threads"]
    assert editor.bible() == out
    assert editor.timeline.table.rowCount() == 3
    assert "from series" in editor.timeline.table.item(0, 0).text()
    assert not editor.timeline.table.item(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    assert editor.threads.table.rowCount() == 2
    assert not editor.threads.table.cellWidget(0, 2).isEnabled()
    locations = [editor.setting.locations.item(i).text()
                 for i in range(editor.setting.locations.count())]
    assert locations[0] == "Bergen  ·  from series"


# --- other sections -------------------------------------------------------------------------

def test_setting_fields_rules_and_locations(qtbot, editor):
    editor.show_section("setting")
    page = editor.setting
    type_into(qtbot, page.period, "Winter 1911")
    qtbot.keyClick(page.period, Qt.Key.Key_Return)
    assert editor.emitted[-1]["setting"]["time_period"] == "Winter 1911"
    qtbot.mouseClick(page.rule_add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(page.rules.focusWidget(), bible_fields.LineEdit),
                    timeout=2000)
    editor_widget = page.rules.focusWidget()
    qtbot.keyClicks(editor_widget, "Nobody believes in the bell.")
    qtbot.keyClick(editor_widget, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(editor.emitted) == 2, timeout=2000)  # the delegate commits queued
    assert editor.emitted[-1]["setting"]["world_rules"] == [
        "The lamp is lit at dusk.", "Nobody believes in the bell."]
    qtbot.mouseClick(page.rule_add, Qt.MouseButton.LeftButton)  # then think better of it
    qtbot.waitUntil(lambda: isinstance(page.rules.focusWidget(), bible_fields.LineEdit),
                    timeout=2000)
    qtbot.keyClick(page.rules.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.rules.count() == 2, timeout=2000)  # the blank row is gone
    assert len(editor.emitted) == 2
    qtbot.mouseClick(page.loc_add, Qt.MouseButton.LeftButton)
    assert editor.emitted[-1]["setting"]["locations"][-1] == {"name": "New location"}
    qtbot.keyClicks(page.loc_name, "The Teeth")
    qtbot.keyClick(page.loc_name, Qt.Key.Key_Return)
    assert editor.emitted[-1]["setting"]["locations"][-1] == {"name": "The Teeth"}
    assert len(editor.emitted) == 4


def test_timeline_add_edit_and_move_events(qtbot, editor):
    editor.show_section("timeline")
    page = editor.timeline
    page.table.setCurrentCell(1, 0)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    events = editor.emitted[-1]["timeline"]["events"]
    assert len(events) == 3 and events[2]["id"].startswith("evt_")
    assert events[2]["event"] == "New event"
    page.table.item(2, 1).setText("The lease is in question; Ada worries")
    assert editor.emitted[-1]["timeline"]["events"][2]["consequences"] == [
        "The lease is in question", "Ada worries"]
    page.table.setCurrentCell(2, 0)
    qtbot.mouseClick(page.up_button, Qt.MouseButton.LeftButton)
    assert [e["id"] for e in editor.emitted[-1]["timeline"]["events"]][:2] == [
        "evt_one", events[2]["id"]]
    assert page.table.currentRow() == 1
    page.table.item(0, 0).setText("")  # an event needs words: refused
    assert page.table.item(0, 0).text() == "Oskar drowns"
    assert len(editor.emitted) == 3


def test_threads_add_and_status(qtbot, editor):
    editor.show_section("threads")
    page = editor.threads
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    threads = editor.emitted[-1]["plot_threads"]
    assert threads[-1]["id"].startswith("thread_") and threads[-1]["status"] == "active"
    assert not page.table.item(1, 0).flags() & Qt.ItemFlag.ItemIsEditable  # ids are fixed
    combo = page.table.cellWidget(0, 2)
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert editor.emitted[-1]["plot_threads"][0]["status"] == "resolved"
    page.table.item(0, 3).setText("lease, automation")
    assert editor.emitted[-1]["plot_threads"][0]["keywords"] == ["lease", "automation"]


def test_style_guide_commits_on_focus_out(qtbot, editor):
    editor.show_section("style")
    tone = editor.style_page.fields["tone"]
    focus(qtbot, tone)
    qtbot.keyClick(tone, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(tone, ", salt-worn")
    focus(qtbot, editor.style_page.fields["genre"])
    assert len(editor.emitted) == 1
    assert editor.emitted[0]["style_guide"]["tone"] == "Quiet, salt-worn"


# --- JSON -----------------------------------------------------------------------------------

def set_json(qtbot, editor: BibleEditor, text: str) -> None:
    editor.show_section("json")
    page = editor.json_page
    focus(qtbot, page.editor)
    page.editor.selectAll()
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(page.editor, Qt.Key.Key_Return)
        qtbot.keyClicks(page.editor, line)
    qtbot.waitUntil(lambda: not page._timer.isActive(), timeout=3000)


def test_json_shows_the_bible_and_follows_form_edits(qtbot, editor):
    editor.show_section("json")
    assert json.loads(editor.json_page.editor.toPlainText()) == BIBLE
    assert editor.json_page.editor.toPlainText().startswith('{\n  "characters"')
    editor.show_section("characters")
    editor.select_character("char_tom")
    type_into(qtbot, editor.characters.name, "Tom")
    qtbot.keyClick(editor.characters.name, Qt.Key.Key_Return)
    editor.show_section("json")
    assert char(json.loads(editor.json_page.editor.toPlainText()), "char_tom")["name"] == "Tom"


def test_invalid_json_shows_line_and_column_and_apply_is_disabled(qtbot, editor):
    set_json(qtbot, editor, '{\n  "characters": [,]\n}')
    page = editor.json_page
    assert page.errors.isVisible()
    assert page.errors.item(0).text().startswith("line 2, column 18: ")
    assert not page.apply_button.isEnabled()
    qtbot.keyClick(page.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.emitted == []


def test_validator_errors_show_path_and_reason(qtbot, editor):
    editor.set_validator(lambda b: [("characters/0/relationships/0/target",
                                     "no character with id char_zz")]
                         if "char_zz" in json.dumps(b) else [])
    set_json(qtbot, editor, json.dumps({"characters": [
        {"id": "char_a", "name": "A", "relationships": [{"target": "char_zz", "type": "x"}]}]}))
    page = editor.json_page
    assert [page.errors.item(i).text() for i in range(page.errors.count())] == [
        "characters/0/relationships/0/target — no character with id char_zz"]
    assert not page.apply_button.isEnabled()


def test_valid_json_and_apply_emits_the_new_bible(qtbot, editor):
    editor.set_validator(lambda b: [])
    new = {"characters": [{"id": "char_a", "name": "Ada"}], "style_guide": {"tone": "dry"}}
    set_json(qtbot, editor, json.dumps(new))
    page = editor.json_page
    assert page.errors.count() == 0 and page.apply_button.isEnabled()
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    assert editor.emitted == [new]
    assert editor.bible() == new
    assert not page.apply_button.isEnabled()  # nothing left to apply
    assert json.loads(page.editor.toPlainText()) == new
    editor.show_section("characters")
    assert editor.characters.name.text() == "Ada"


def test_ctrl_enter_applies(qtbot, editor):
    new = copy.deepcopy(BIBLE)
    new["style_guide"]["genre"] = "Gothic"
    editor.show_section("json")
    editor.json_page.editor.setPlainText(json.dumps(new, indent=2))
    focus(qtbot, editor.json_page.editor)
    qtbot.keyClick(editor.json_page.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert editor.emitted == [new]

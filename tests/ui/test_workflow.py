"""An author's day in the app: the five modules, undo/redo, autosave, versions, restart."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from studio.services import stories
from tests.ui.conftest import settle


def page(window, key):
    """Bring a module's page forward, as the author does before typing in it."""
    window.panels[0].show_module(key)
    return window.panels[0].page_by_key[key]


def test_first_run_opens_the_sample_story(make_window, qtbot):
    window = make_window()
    doc = window.document
    assert doc.detail.fields.title == "The Lighthouse Keeper’s Daughter"
    panel = window.panels[0]
    assert panel.header.title.text() == doc.detail.fields.title
    for row in range(5):  # every module of the sample is marked filled
        assert panel.navigator.item(row).text().startswith("✔")
    assert page(window, "idea_spark").notes.toPlainText().startswith("Image I can’t shake")
    assert window.library.list.count() == 1
    assert window.windowTitle().startswith("The Lighthouse Keeper’s Daughter")
    manuscript = window.panels[1]  # the sample has a short manuscript to start from
    window.show_panel(manuscript)
    qtbot.waitUntil(lambda: manuscript.current_scene_uid is not None)
    qtbot.waitUntil(lambda: manuscript.editor.edit.toPlainText().startswith(
        "The sea returned a glove"))
    assert [c.title for c in manuscript.outline.chapters] == ["No. 997", "The Board’s Letter"]


def test_create_fill_undo_redo_version_diff_restore_restart(make_window, qtbot):
    window = make_window()
    qtbot.mouseClick(window.library.findChild(type(window.versions.save_button), "newStory"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.document.detail.fields.title == "Untitled story"
                    and window.library.list.count() == 2)
    doc = window.document
    panel = window.panels[0]

    # Title: typed over the selected "Untitled story".
    panel.header.title.setFocus()
    panel.header.title.selectAll()
    qtbot.keyClicks(panel.header.title, "The Glass Orchard")
    assert doc.detail.fields.title == "The Glass Orchard"
    assert window.windowTitle().startswith("The Glass Orchard")

    # Idea Spark: notes, premise, genre, a theme.
    idea = page(window, "idea_spark")
    qtbot.keyClicks(idea.notes, "Trees that grow glass fruit.")
    premise = idea.form.editors["premise"].edit
    qtbot.keyClicks(premise, "An orchard keeper must harvest before the frost.")
    genre = idea.form.editors["genre"].combo
    genre.setCurrentIndex(genre.findData("Fantasy"))
    genre.activated.emit(genre.currentIndex())
    themes = idea.form.editors["themes"]
    qtbot.mouseClick(themes.buttons.add, Qt.MouseButton.LeftButton)
    editor = themes.list.findChild(QLineEdit)
    assert editor is not None, "a new theme opens for typing"
    qtbot.keyClicks(editor, "fragility")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next loop turn
    qtbot.waitUntil(lambda: doc.detail.modules["idea_spark"].output["themes"] == ["fragility"])
    out = doc.detail.modules["idea_spark"].output
    assert out["premise"] == "An orchard keeper must harvest before the frost."
    assert out["genre"] == "Fantasy"
    assert out["themes"] == ["fragility"]
    assert panel.navigator.item(0).text().startswith("✔")

    # Undo the theme (adding and naming it was one step), then the genre; redo the genre.
    window.act_undo.trigger()
    assert doc.detail.modules["idea_spark"].output["themes"] == []
    assert themes.list.count() == 0
    window.act_undo.trigger()
    assert doc.detail.modules["idea_spark"].output["genre"] == ""
    assert genre.currentText() == ""
    window.act_redo.trigger()
    assert doc.detail.modules["idea_spark"].output["genre"] == "Fantasy"
    assert genre.currentText() == "Fantasy"

    # Ctrl+Z in a focused field goes to the story's undo stack (one merged typing step).
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    premise.setFocus()
    premise.moveCursor(premise.textCursor().MoveOperation.End)
    qtbot.keyClicks(premise, " Quickly.")
    qtbot.keyClick(premise, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert premise.toPlainText() == "An orchard keeper must harvest before the frost."
    qtbot.keyClick(premise, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert premise.toPlainText().endswith("frost. Quickly.")
    qtbot.keyClick(premise, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.detail.modules["idea_spark"].output["premise"] == \
        "An orchard keeper must harvest before the frost."

    # Autosave lands in the database within two seconds of the pause.
    started = time.monotonic()
    settle(qtbot, window)
    assert time.monotonic() - started < 2.5
    stored = stories.open_story(window.db, doc.story_id)
    assert stored.fields.title == "The Glass Orchard"
    assert stored.modules["idea_spark"].output["premise"].startswith("An orchard keeper")
    assert window.save_state.text() == "Saved"

    # Version 1, an edit, version 2.
    window.versions.save_version(label="first idea")
    qtbot.waitUntil(lambda: len(window.versions.versions) == 1)
    qtbot.keyClicks(idea.notes, " They chime in the wind.")
    window.versions.save_version(label="chimes")
    qtbot.waitUntil(lambda: len(window.versions.versions) == 2)
    assert window.versions.versions[0].summary == "Idea Spark: notes"

    # Compare the two.
    tree = window.versions.tree
    tree.selectAll()
    window.versions.compare_selected()
    dialog = window.last_diff_dialog
    qtbot.waitUntil(lambda: bool(dialog.diffs))
    changed = [d.title for d in dialog.diffs if d.changed]
    assert changed == ["Idea Spark"]
    assert "They chime in the wind." in dialog.view.toPlainText()
    dialog.close()

    # Restore version 1 (a new version 3), then undo and redo the restore.
    tree.clearSelection()
    tree.topLevelItem(1).setSelected(True)  # newest first: row 1 is version 1
    window.versions.restore_selected()
    qtbot.waitUntil(lambda: len(window.versions.versions) == 3 and not doc.busy)
    assert doc.detail.modules["idea_spark"].input_text == "Trees that grow glass fruit."
    assert idea.notes.toPlainText() == "Trees that grow glass fruit."
    assert window.versions.versions[0].restored_from == 1
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: not doc.busy and doc.detail.modules["idea_spark"].input_text
                    .endswith("They chime in the wind."))
    window.act_redo.trigger()
    qtbot.waitUntil(lambda: not doc.busy and doc.detail.modules["idea_spark"].input_text
                    == "Trees that grow glass fruit.")
    assert len(window.versions.versions) == 3  # undo/redo never rewrites history

    # A last edit, then quit without any "save changes?" — and find everything again.
    qtbot.keyClicks(page(window, "wordsmith_lab").form.editors["sample_passage"].edit,
                    "The first pear rang like a bell.")
    story_id = doc.story_id
    window.close()
    reopened = make_window()
    assert reopened.document.story_id == story_id  # the last open story comes back
    detail = reopened.document.detail
    assert detail.fields.title == "The Glass Orchard"
    assert detail.modules["idea_spark"].input_text == "Trees that grow glass fruit."
    assert detail.modules["wordsmith_lab"].output["sample_passage"] == \
        "The first pear rang like a bell."
    settle(qtbot, reopened)
    assert [v.number for v in reopened.versions.versions] == [3, 2, 1]
    assert reopened.library.list.count() == 2


def test_plot_template_lays_out_beats_and_undo_removes_them(make_window, qtbot):
    window = make_window()
    window.new_story()
    qtbot.waitUntil(lambda: window.document.detail.fields.title == "Untitled story")
    doc = window.document
    plot = page(window, "plot_skeleton")
    combo = plot.form.editors["template"].combo
    combo.setCurrentIndex(combo.findData("heros_journey"))
    combo.activated.emit(combo.currentIndex())
    acts = doc.detail.modules["plot_skeleton"].output["acts"]
    assert [a["name"] for a in acts] == ["Departure", "Initiation", "Return"]
    assert plot.form.editors["acts"].list.count() == 3
    beats = plot.form.editors["acts"].form.editors["beats"]
    assert beats.list.item(0).text() == "Ordinary World"
    beats.list.setCurrentRow(1)
    qtbot.keyClicks(beats.form.editors["summary"].edit, "A letter arrives.")
    assert doc.detail.modules["plot_skeleton"].output["acts"][0]["beats"][1]["summary"] == \
        "A letter arrives."
    assert window.panels[0].navigator.item(3).text().startswith("✔")
    window.act_undo.trigger()  # the summary
    window.act_undo.trigger()  # template + skeleton, one step
    assert doc.detail.modules["plot_skeleton"].output == {"template": "", "acts": []}
    assert plot.form.editors["acts"].list.count() == 0


def test_character_records_add_rename_remove(make_window, qtbot):
    window = make_window()
    doc = window.document
    chars = page(window, "character_forge").form.editors["characters"]
    before = len(doc.detail.modules["character_forge"].output["characters"])
    chars._add()
    name = chars.form.editors["name"].edit
    qtbot.keyClicks(name, "Marguerite")
    assert chars.list.currentItem().text() == "Marguerite"
    assert doc.detail.modules["character_forge"].output["characters"][-1]["name"] == "Marguerite"
    chars._remove()
    assert len(doc.detail.modules["character_forge"].output["characters"]) == before
    window.act_undo.trigger()
    assert doc.detail.modules["character_forge"].output["characters"][-1]["name"] == "Marguerite"
    assert chars.list.count() == before + 1

"""The Edit History view in a real window: it lists the story's edits, filters narrow them,
selecting one shows the change with differences marked, Restore This puts the old text back into
the editor (unsaved typing is saved first, nothing lost), and the outline's "History of This
Chapter…" opens it filtered to that chapter."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QMenu, QMessageBox

from studio.services import edit_history
from studio.services import manuscript as ms
from studio.services import stories
from studio.ui.panels import history_panel, manuscript_structure
from tests.ui.conftest import settle

SHOTS = Path("/tmp/shots/issue11")
OPENING = "The ferry came in under a bruised sky."
COUNTING = "Wren counted the lanterns on the quay, one by one, twice."
RECOUNT = "Wren counted the lanterns on the quay, lost count, and began again."
LAST = "Nobody waited for her."


def story_with_edits(window, qtbot):
    window.new_story()
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.detail.fields.title == "Untitled story")
    panel = window.panels[1]
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.outline is not None)
    db, story_id = window.db, window.document.story_id
    chapter = ms.add_chapter(db, story_id, "Arrival")
    scene = ms.add_scene(db, story_id, chapter.uid, "The harbour",
                         text=f"{OPENING}\n\n{COUNTING}\n\n{LAST}")
    ms.save_scene_text(db, story_id, scene.uid, f"{OPENING}\n\n{RECOUNT}\n\n{LAST}")
    ms.update_scene(db, story_id, scene.uid, title="The quay")
    storm = ms.add_chapter(db, story_id, "Storm")
    ms.add_scene(db, story_id, storm.uid, "The gale", text="Wind, then rain.")
    panel.refresh_outline(open_first=True)
    qtbot.waitUntil(lambda: panel.current_scene_uid == scene.uid
                    and RECOUNT in panel.editor.edit.toPlainText())
    return panel, chapter, scene


def rows(history):
    tree = history.tree
    return [tuple(tree.topLevelItem(i).text(c) for c in range(5))
            for i in range(tree.topLevelItemCount())]


def choose(combo, key) -> None:
    index = combo.findData(key)
    assert index >= 0, key
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def select_row(history, predicate) -> None:
    tree = history.tree
    for i in range(tree.topLevelItemCount()):
        if predicate(rows(history)[i]):
            tree.setCurrentItem(tree.topLevelItem(i))
            return
    raise AssertionError(f"no such row in {rows(history)}")


def test_list_filter_see_the_change_and_restore_it_into_the_editor(make_window, qtbot,
                                                                   monkeypatch):
    window = make_window()
    manuscript, _chapter, scene = story_with_edits(window, qtbot)
    history = window.history.panel
    window.history.action.trigger()  # View ▸ Edit History
    assert window.history.action.shortcut().toString() == "Ctrl+Shift+H"
    qtbot.waitUntil(lambda: window.history.dock.isVisible() and len(rows(history)) >= 7)
    # Typing sessions are grouped by default: the scene's first text and the edit a moment
    # later are one row; switched off, every save is its own row again.
    assert history.group_box.isChecked()
    assert ("Scene “The quay”", "Wrote · 2 saves") in {r[2:4] for r in rows(history)}
    history.group_box.setChecked(False)
    assert not any("saves" in r[3] for r in rows(history))
    listed = rows(history)
    assert len(listed) >= 8 and "rows" not in history.count_label.text()
    ours = [r[2:] for r in listed if r[2].startswith("Scene")]  # newest first
    assert ours[:4] == [("Scene “The gale”", "Wrote", "added 1 paragraph, +3 words"),
                        ("Scene “The gale”", "Created", "“The gale”"),
                        ("Scene “The quay”", "Edited", "title “The harbour” → “The quay”"),
                        ("Scene “The quay”", "Wrote", "changed 1 paragraph, +1 word")]
    assert listed[0][0] == "just now" and listed[0][1]
    assert history.tree.topLevelItem(0).toolTip(0)[:2] == "20"  # the exact time

    choose(history.type_combo, "scene_text")
    qtbot.waitUntil(lambda: {r[3] for r in rows(history)} == {"Wrote"})
    assert len(rows(history)) == 3
    history.search.setText("lost count")  # words inside the change
    qtbot.waitUntil(lambda: len(rows(history)) == 1)
    assert rows(history)[0][4] == "changed 1 paragraph, +1 word"
    assert "(filtered)" in history.count_label.text()
    history.clear_button.click()
    qtbot.waitUntil(lambda: len(rows(history)) == len(listed))
    assert history.type_combo.currentData() is None and history.search.text() == ""

    select_row(history, lambda r: r[4] == "changed 1 paragraph, +1 word")
    shown = history.detail.toHtml()
    assert "one by one, twice" in shown and "line-through" in shown  # the replaced words
    assert "lost count, and" in shown and "Paragraph 2" in shown
    assert history.restore_button.isEnabled() and not history.which_combo.isVisible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert history.grab().save(str(SHOTS / "history_panel.png"))

    # Unsaved typing in the same scene is saved before the restore, and survives it.
    edit = manuscript.editor.edit
    cursor = edit.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    edit.setTextCursor(cursor)
    qtbot.keyClicks(edit, " She smiled.")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, title, text, *a:
                        asked.append((title, text)) or QMessageBox.StandardButton.Yes)
    history.restore_button.click()
    qtbot.waitUntil(lambda: COUNTING in edit.toPlainText(), timeout=10_000)
    assert edit.toPlainText() == f"{OPENING}\n\n{COUNTING}\n\n{LAST} She smiled."
    title, text = asked[0]
    assert title == "Restore this?"
    assert "paragraph 2 of Scene “The quay”" in text and f"now “{RECOUNT}”" in text
    settle(qtbot, window)
    stored = ms.load_scene(window.db, window.document.story_id, scene.uid).text
    assert stored == f"{OPENING}\n\n{COUNTING}\n\n{LAST} She smiled."
    qtbot.waitUntil(lambda: rows(history)[0][3] == "Restored")
    assert "restoring entry #" in rows(history)[0][4]
    assert "Restored paragraph 2" in window.statusBar().currentMessage()
    keys = [a.shortcut().toString() for a in window.findChildren(QAction)] + \
        [k.key().toString() for k in window.findChildren(QShortcut)]
    assert keys.count("Ctrl+Shift+H") == 1 and keys.count("Ctrl+R") == 1  # no clash

    # The restore is one step on the undo stack, and redo does it again.
    assert window.act_undo.text() == "&Undo Restore paragraph 2 of Scene “The quay”"
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: RECOUNT in edit.toPlainText())
    assert edit.toPlainText() == f"{OPENING}\n\n{RECOUNT}\n\n{LAST} She smiled."
    window.act_redo.trigger()
    qtbot.waitUntil(lambda: COUNTING in edit.toPlainText())
    settle(qtbot, window)
    assert ms.load_scene(window.db, window.document.story_id, scene.uid).text == \
        f"{OPENING}\n\n{COUNTING}\n\n{LAST} She smiled."


def test_history_of_a_chapter_modules_and_paging(make_window, qtbot, monkeypatch):
    window = make_window()
    manuscript, chapter, scene = story_with_edits(window, qtbot)
    db, story_id = window.db, window.document.story_id
    stories.save_module(db, story_id, "world_seed", "", {"era": "Bronze age"})
    stories.save_module(db, story_id, "world_seed", "", {"era": "Iron age"})
    history = window.history.panel

    # The outline's context menu opens the history of that chapter (with its scenes).
    class ChoosingMenu(QMenu):
        def exec(self, *_args):  # noqa: A003 - choose instead of showing the menu
            next(a for a in self.actions() if a.text() == "History of This Chapter…").trigger()

    monkeypatch.setattr(manuscript_structure, "QMenu", ChoosingMenu)
    item = manuscript._item_for(chapter.uid)
    manuscript._tree_menu(manuscript.tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: window.history.dock.isVisible() and bool(rows(history)))
    assert history.item_only.isVisible() and history.item_only.isChecked()
    assert history.item_only.text() == "Only Chapter 1 “Arrival”"
    qtbot.waitUntil(lambda: {r[2] for r in rows(history)} ==
                    {"Chapter 1 “Arrival”", "Scene “The quay”"})
    history.item_only.setChecked(False)
    qtbot.waitUntil(lambda: "Scene “The gale”" in {r[2] for r in rows(history)})

    # What cannot be restored says why; the button stays off.
    select_row(history, lambda r: r[2] == "Chapter 1 “Arrival”" and r[3] == "Created")
    assert not history.restore_button.isEnabled()
    assert "holds no replaced text" in history.why_not.text()
    history.restore_selected()
    assert "holds no replaced text" in window.statusBar().currentMessage()

    # A module field comes back and the open story shows it.
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_a: QMessageBox.StandardButton.Yes)
    window.reload_story()
    qtbot.waitUntil(lambda: window.document.detail.modules["world_seed"].output["era"]
                    == "Iron age")
    history.refresh()
    qtbot.waitUntil(lambda: any(r[2] == "Module World Seed" for r in rows(history)))
    select_row(history, lambda r: r[2] == "Module World Seed" and "Era" in r[4])
    history.restore_selected()
    qtbot.waitUntil(lambda: window.document.detail.modules["world_seed"].output["era"]
                    == "Bronze age")

    # Paging: "Load more" fetches the next entries until there are no more.
    monkeypatch.setattr(history_panel, "PAGE", 4)
    history.clear_filters()
    qtbot.waitUntil(lambda: len(rows(history)) == 4 and history.more_button.isVisible())
    total = len(edit_history.query(db, story_id, limit=1000))
    while history.more_button.isVisible():
        before = len(history.items)  # entries: a new page may only lengthen a session row
        history.more_button.click()
        qtbot.waitUntil(lambda: len(history.items) > before)
    ids = [i.id for i in history.items]
    assert len(ids) == total == len(set(ids)) and ids == sorted(ids, reverse=True)


def test_a_typing_session_is_one_row_restored_at_once_and_undone(make_window, qtbot,
                                                                 monkeypatch):
    window = make_window()
    manuscript, _chapter, _scene = story_with_edits(window, qtbot)
    db, story_id = window.db, window.document.story_id
    gale = next(s for c in ms.outline(db, story_id).chapters for s in c.scenes
                if s.title == "The gale")
    ms.update_scene(db, story_id, gale.uid, synopsis="The wall holds.")  # ends the first run
    for text in ("Wind, then hail.", "Wind, then hail all night.\n\nThe wall held.",
                 "Wind, then hail all night long.\n\nThe wall held, barely."):
        ms.save_scene_text(db, story_id, gale.uid, text)
    history = window.history.panel
    window.history.action.trigger()
    qtbot.waitUntil(lambda: bool(rows(history)) and rows(history)[0][3] == "Wrote · 3 saves")
    assert rows(history)[0][2:] == ("Scene “The gale”", "Wrote · 3 saves",
                                    "changed 1 paragraph, added 1 paragraph, +7 words")
    assert "rows" in history.count_label.text()
    history.tree.setCurrentItem(history.tree.topLevelItem(0))
    shown = " ".join(history.detail.toPlainText().split())
    assert "Wind, then rain." in shown and "all night long" in shown and "3 saves" in shown
    assert "line-through" in history.detail.toHtml()  # differences marked as for one entry
    assert history.restore_button.isEnabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    history.resize(1100, 520)
    assert history.grab().save(str(SHOTS / "history_sessions.png"))

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, title, text, *a:
                        asked.append(text) or QMessageBox.StandardButton.Yes)
    history.restore_button.click()
    edit = manuscript.editor.edit
    qtbot.waitUntil(lambda: ms.load_scene(db, story_id, gale.uid).text ==
                    "Wind, then rain.\n\nThe wall held, barely.", timeout=10_000)
    assert "before this typing session?" in asked[0] and "left as they are" in asked[0]
    qtbot.waitUntil(lambda: edit.toPlainText() == "Wind, then rain.\n\nThe wall held, barely.")
    qtbot.waitUntil(lambda: rows(history)[0][3] == "Restored")
    assert "typing session of 3 saves" in rows(history)[0][4]
    assert window.act_undo.text() == "&Undo Restore paragraph 1 of Scene “The gale”"
    window.act_undo.trigger()  # one step back: the text as the session left it
    qtbot.waitUntil(lambda: ms.load_scene(db, story_id, gale.uid).text ==
                    "Wind, then hail all night long.\n\nThe wall held, barely.")
    settle(qtbot, window)

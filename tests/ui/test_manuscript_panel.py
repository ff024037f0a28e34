"""The manuscript panel in a real window: structure, typing and autosave, search and jump,
replace across the project with undo, drag to reorder, targets and counts."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.services import manuscript as ms
from tests.ui.conftest import settle


def manuscript_panel(window):
    panel = window.panels[1]
    window.show_panel(panel)
    return panel


def fresh_story(window, qtbot):
    """A new, empty story (the sample story has a manuscript of its own)."""
    window.new_story()
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.detail.fields.title == "Untitled story")
    panel = manuscript_panel(window)
    qtbot.waitUntil(lambda: panel.outline is not None and not panel.outline.chapters)
    return panel


def outline_titles(panel):
    tree = panel.tree
    return [(tree.topLevelItem(i).text(0),
             [tree.scene_title(tree.topLevelItem(i).child(j))
              for j in range(tree.topLevelItem(i).childCount())])
            for i in range(tree.topLevelItemCount())]


def test_write_a_chapter_and_find_it_again(make_window, qtbot):
    window = make_window()
    panel = fresh_story(window, qtbot)
    doc = window.document
    panel.add_chapter("Arrival")
    qtbot.waitUntil(lambda: panel.outline is not None and len(panel.outline.chapters) == 1)
    panel.add_scene("The quay")
    qtbot.waitUntil(lambda: panel.current_scene_uid is not None)
    scene_uid = panel.current_scene_uid
    qtbot.keyClicks(panel.editor.edit, "The ferry came in under a bruised sky.")
    qtbot.keyClick(panel.editor.edit, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.editor.edit, "Wren counted the lanterns on the quay.")
    settle(qtbot, window)
    stored = ms.load_scene(window.db, doc.story_id, scene_uid)
    assert stored.text == ("The ferry came in under a bruised sky.\n"
                           "Wren counted the lanterns on the quay.")
    assert len(stored.segments) == 2
    qtbot.waitUntil(lambda: "Scene 15" in window.word_counts.text())
    assert "Story 15" in window.word_counts.text() and "Today 15 words" in \
        window.word_counts.text()
    assert outline_titles(panel) == [("Arrival", ["The quay"])]
    assert panel.tree.topLevelItem(0).child(0).text(1) == "15"

    # Undo the scene and the chapter (structure lives on the story's undo stack).
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: outline_titles(panel) == [("Arrival", [])])
    window.act_redo.trigger()
    qtbot.waitUntil(lambda: outline_titles(panel) == [("Arrival", ["The quay"])])
    panel.open_scene(scene_uid)
    qtbot.waitUntil(lambda: panel.editor.edit.toPlainText().startswith("The ferry"))

    # Restart: the prose is there.
    window.close()
    again = make_window()
    panel2 = manuscript_panel(again)
    qtbot.waitUntil(lambda: panel2.current_scene_uid == scene_uid)
    qtbot.waitUntil(lambda: "lanterns on the quay" in panel2.editor.edit.toPlainText())


def _story_with_scenes(window, qtbot):
    panel = fresh_story(window, qtbot)
    db, story_id = window.db, window.document.story_id
    ch1 = ms.add_chapter(db, story_id, "One")
    ch2 = ms.add_chapter(db, story_id, "Two")
    a = ms.add_scene(db, story_id, ch1.uid, "A", text="The salt lamp burned.\n\nA gull cried.")
    b = ms.add_scene(db, story_id, ch1.uid, "B", text="Nothing of note.")
    c = ms.add_scene(db, story_id, ch2.uid, "C", text="More salt, more sea.")
    panel.refresh_outline(open_first=True)
    qtbot.waitUntil(lambda: panel.outline is not None and len(panel.outline.chapters) == 2
                    and panel.current_scene_uid is not None)
    return panel, ch1, ch2, a, b, c


def test_search_and_jump_to_the_match(make_window, qtbot):
    window = make_window()
    panel, ch1, ch2, a, b, c = _story_with_scenes(window, qtbot)
    panel.show_search()
    assert panel.search.isVisible()
    results = ms.search(window.db, window.document.story_id, "gull")
    assert results.total == 1
    panel.jump_to_hit(results.hits[0], "gull")
    qtbot.waitUntil(lambda: panel.current_scene_uid == a.uid
                    and panel.editor.edit.textCursor().selectedText() == "gull")
    assert panel.editor.edit.textCursor().block().text() == "A gull cried."
    results = ms.search(window.db, window.document.story_id, "sea")
    panel.jump_to_hit(results.hits[0], "sea")
    qtbot.waitUntil(lambda: panel.current_scene_uid == c.uid
                    and panel.editor.edit.textCursor().selectedText() == "sea")


def test_replace_across_the_project_is_one_undo_step(make_window, qtbot):
    window = make_window()
    panel, ch1, ch2, a, b, c = _story_with_scenes(window, qtbot)
    story_id = window.document.story_id
    panel.replace_across_project("salt", "brine", False, True)
    qtbot.waitUntil(lambda: ms.search(window.db, story_id, "brine").total == 2)
    qtbot.waitUntil(lambda: "brine lamp" in panel.editor.edit.toPlainText())
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: ms.search(window.db, story_id, "salt").total == 2
                    and ms.search(window.db, story_id, "brine").total == 0)
    qtbot.waitUntil(lambda: "salt lamp" in panel.editor.edit.toPlainText())
    window.act_redo.trigger()
    qtbot.waitUntil(lambda: ms.search(window.db, story_id, "brine").total == 2)


def _drag(tree, source_item, target_item, below: bool):
    """Drag ``source_item`` onto the lower or upper edge of ``target_item``.

    A synthetic drag has no source widget, and Qt's InternalMove mode refuses drags from
    elsewhere; DragDrop mode lets the same enter/move/drop events reach the tree's own drop
    handling, which is what is under test.
    """
    from PySide6.QtWidgets import QAbstractItemView

    tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
    tree.setCurrentItem(source_item)
    rect = tree.visualItemRect(target_item)
    point = QPoint(rect.center().x(), rect.bottom() - 1 if below else rect.top() + 1)
    mime = tree.mimeData([source_item])
    enter = QDragEnterEvent(point, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tree.viewport(), enter)
    move = QDragMoveEvent(point, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tree.viewport(), move)
    drop = QDropEvent(point.toPointF(), Qt.DropAction.MoveAction, mime or QMimeData(),
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tree.viewport(), drop)


def test_drag_a_scene_to_another_chapter_and_undo(make_window, qtbot):
    window = make_window()
    panel, ch1, ch2, a, b, c = _story_with_scenes(window, qtbot)
    tree = panel.tree
    source = tree.topLevelItem(0).child(0)  # A
    target = tree.topLevelItem(1).child(0)  # C
    _drag(tree, source, target, below=True)
    qtbot.waitUntil(lambda: outline_titles(panel) == [("One", ["B"]), ("Two", ["C", "A"])])
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: outline_titles(panel) == [("One", ["A", "B"]), ("Two", ["C"])])


def test_delete_a_chapter_with_scenes_and_undo(make_window, qtbot):
    window = make_window()
    panel, ch1, ch2, a, b, c = _story_with_scenes(window, qtbot)
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.delete_selected()
    qtbot.waitUntil(lambda: outline_titles(panel) == [("Two", ["C"])])
    assert ms.search(window.db, window.document.story_id, "gull").total == 0
    window.act_undo.trigger()
    qtbot.waitUntil(lambda: outline_titles(panel) == [("One", ["A", "B"]), ("Two", ["C"])])
    assert ms.load_scene(window.db, window.document.story_id, a.uid).text.startswith("The salt")


def test_targets_and_progress(make_window, qtbot):
    window = make_window()
    panel, ch1, ch2, a, b, c = _story_with_scenes(window, qtbot)
    ms.set_story_target(window.db, window.document.story_id, 100)
    ms.update_chapter(window.db, window.document.story_id, ch1.uid, word_target=10)
    panel.refresh_outline()
    qtbot.waitUntil(lambda: panel.outline.word_target == 100)
    panel.open_scene(a.uid)
    qtbot.waitUntil(lambda: panel.current_scene_uid == a.uid)
    panel._update_counts()
    assert panel.story_target.percent() == 14  # 14 of 100 words
    assert panel.chapter_target.is_reached()  # 10 words in chapter One
    panel.show_progress()
    qtbot.waitUntil(lambda: not panel.chart.is_empty())


def test_story_language_drives_spell_check(make_window, qtbot):
    window = make_window()
    panel, *_ = _story_with_scenes(window, qtbot)
    qtbot.waitUntil(lambda: panel.editor._speller is not None, timeout=10_000)
    assert panel.editor._speller.is_correct("lighthouse")
    panel.set_language("fr")
    qtbot.waitUntil(lambda: panel.editor._speller is not None
                    and panel.editor._speller.is_correct("phare"), timeout=10_000)
    assert ms.outline(window.db, window.document.story_id).language == "fr"
    assert panel.language.currentData() == "fr"

"""What-if branches in the desktop app: the toolbar switcher, New Branch, Compare Branches and
merging (with and without a conflict), on the real service and a real SQLite database.

Screenshots for looking at go to /tmp/shots/issue11/."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QShortcut, QTextCursor
from PySide6.QtWidgets import QApplication

from studio.services import branches, manuscript, versions
from tests.ui.conftest import settle

SHOTS = Path("/tmp/shots/issue11")


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def manuscript_panel(window):
    return next(p for p in window.panels if p.object_name == "manuscriptPanel")


def scenes(window, story_id: int) -> list[tuple[str, list[str]]]:
    """[(chapter uid, [scene uids])] of a story."""
    return [(c.uid, [s.uid for s in c.scenes])
            for c in manuscript.outline(window.db, story_id).chapters]


def text(window, story_id: int, scene_uid: str) -> str:
    return manuscript.load_scene(window.db, story_id, scene_uid).text


def pick_from_menu(qtbot, show_menu, wanted: str) -> None:
    """Open a context menu (``show_menu`` runs its ``exec``) and choose ``wanted`` in it."""
    seen: list[str] = []

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, choose)
            return
        seen.extend(a.text() for a in menu.actions())
        action = next(a for a in menu.actions() if a.text() == wanted)
        menu.close()
        action.trigger()

    QTimer.singleShot(0, choose)
    show_menu()
    assert wanted in seen


def open_branch(qtbot, window, story_id: int) -> None:
    window.branches.switcher.select(story_id)
    qtbot.waitUntil(lambda: window.document.story_id == story_id
                    and window.branches.switcher.current_id == story_id, timeout=10_000)


def wait_compare(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: not dialog.is_loading() and bool(dialog.diffs), timeout=10_000)


def test_switcher_lists_the_family_and_a_switch_saves_typed_text_first(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    title = window.document.detail.fields.title
    switcher = window.branches.switcher
    qtbot.waitUntil(lambda: switcher.combo.count() == 1)
    assert switcher.combo.itemText(0).endswith("Main")
    assert window.windowTitle() == f"{title} — Story Studio"
    toolbar = window.findChild(type(window.branches.toolbar), "branchToolBar")
    assert toolbar is not None and toolbar.isVisible()

    info = branches.create_branch(window.db, main_id, "Storm ending",
                                  "What if she leaves before the storm?")
    window.branches.refresh()
    qtbot.waitUntil(lambda: switcher.combo.count() == 2)
    assert [switcher.combo.itemData(i) for i in range(2)] == [main_id, info.story_id]
    assert "Storm ending" in switcher.combo.itemText(1)
    tip = switcher.combo.itemData(1, Qt.ItemDataRole.ToolTipRole)
    assert "What if she leaves before the storm?" in tip
    assert f"version {info.base_version}" in tip

    # Type into Main's editor and switch at once: the typed words must reach the database.
    panel = manuscript_panel(window)
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.current_scene_uid is not None
                    and panel.editor.edit.toPlainText() != "")
    scene_uid = panel.current_scene_uid
    panel.editor.edit.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(panel.editor.edit, " The gulls knew first.")
    assert window.document.has_unsaved()
    open_branch(qtbot, window, info.story_id)
    settle(qtbot, window)
    assert text(window, main_id, scene_uid).endswith("The gulls knew first.")
    assert "The gulls knew first." not in text(window, info.story_id, scene_uid)
    assert window.windowTitle() == f"{title} ⎇ Storm ending — Story Studio"
    assert switcher.combo.currentData() == info.story_id
    assert switcher.act_delete.isEnabled()
    qtbot.waitUntil(lambda: "stores" in switcher.combo.toolTip())  # its own bytes, in words
    qtbot.waitUntil(lambda: panel.editor.edit.toPlainText() != "")
    assert "The gulls knew first." not in panel.editor.edit.toPlainText()
    shot(window, "switcher_in_toolbar")

    open_branch(qtbot, window, main_id)
    assert window.windowTitle() == f"{title} — Story Studio"
    qtbot.waitUntil(lambda: window.library.current_id == main_id)  # listed by its Main


def test_new_branch_dialog_requires_a_free_name_and_creates_the_branch(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    story_menu = window.branches._story_menu()
    assert window.branches.act_new in story_menu.actions()
    assert window.branches.act_compare in story_menu.actions()
    keys = [a.shortcut().toString() for a in window.findChildren(QAction)] + \
        [k.key().toString() for k in window.findChildren(QShortcut)]
    assert keys.count("Ctrl+Alt+B") == 1 and keys.count("Ctrl+Alt+M") == 1  # no clash
    assert window.branches.act_new.shortcut().toString() == "Ctrl+Alt+B"
    window.branches.act_new.trigger()
    dialog = window.branches.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.from_now.isChecked()
    assert not dialog.ok.isEnabled()
    assert dialog.message.text() == "Give the branch a name."
    qtbot.keyClicks(dialog.name, "main")
    assert not dialog.ok.isEnabled()
    assert "main story's name" in dialog.message.text()
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Storm  ending")
    assert dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.description, "She leaves before the storm.")
    shot(dialog, "new_branch_dialog")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.branches.current() is not None
                    and not window.branches.current().is_main, timeout=10_000)
    branch = window.branches.current()
    assert branch.name == "Storm ending"
    assert branch.info.description == "She leaves before the storm."
    labels = {v.number: v.label for v in versions.list_versions(window.db, main_id)}
    assert labels[branch.info.base_version] == "Branch point: Storm ending"
    assert window.windowTitle().endswith("⎇ Storm ending — Story Studio")

    # The same name again: said at once in the dialog; and if the list was stale, the
    # service's refusal shows in the dialog, which stays open with the text kept.
    window.branches.new_branch()
    dialog = window.branches.dialog
    qtbot.keyClicks(dialog.name, "storm ending")
    assert not dialog.ok.isEnabled()
    assert "exists already" in dialog.message.text()
    shot(dialog, "new_branch_dialog_duplicate")
    dialog.reject()
    from studio.ui.dialogs.branch_dialog import NewBranchDialog

    stale = NewBranchDialog(window.runner, window.db, main_id, "story", ["Main"], [],
                            parent=window)
    qtbot.addWidget(stale)
    stale.show()
    qtbot.keyClicks(stale.name, "Storm ending")
    qtbot.keyClicks(stale.description, "kept")
    qtbot.mouseClick(stale.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "exists already" in stale.message.text(), timeout=10_000)
    assert stale.isVisible() and stale.ok.isEnabled()
    assert stale.description.toPlainText() == "kept"
    assert len(branches.family(window.db, main_id)) == 2
    stale.reject()

    # Rename it (the same checks), then delete it: back on Main, Main untouched.
    edit = window.branches.edit_branch()
    qtbot.waitUntil(edit.isVisible)
    edit.name.selectAll()
    qtbot.keyClicks(edit.name, "Main")
    assert not edit.ok.isEnabled()
    edit.name.selectAll()
    qtbot.keyClicks(edit.name, "Gale ending")
    qtbot.mouseClick(edit.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.windowTitle().endswith("⎇ Gale ending — Story Studio"),
                    timeout=10_000)
    assert branches.branch_info(window.db, branch.story_id).name == "Gale ending"
    box = window.branches.delete_branch()
    qtbot.waitUntil(box.isVisible)
    assert "Gale ending" in box.text()
    box.findChild(type(edit.ok), "confirmDeleteBranch").click()
    qtbot.waitUntil(lambda: window.document.story_id == main_id
                    and len(window.branches.members) == 1, timeout=10_000)
    assert [m.name for m in branches.family(window.db, main_id)] == ["Main"]
    assert window.windowTitle() == f"{window.document.detail.fields.title} — Story Studio"


def test_branch_from_a_chapter_and_from_a_version(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    panel = manuscript_panel(window)
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)
    chapter = panel.tree.topLevelItem(1)
    chapter_uid = scenes(window, main_id)[1][0]
    rect = panel.tree.visualItemRect(chapter)
    pick_from_menu(qtbot, lambda: panel._tree_menu(rect.center()), "Branch From Here…")
    dialog = window.branches.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.from_chapter.isChecked()
    assert "The Board’s Letter" in dialog.from_chapter.text()
    qtbot.keyClicks(dialog.name, "Letter unopened")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.branches.current() is not None
                    and window.branches.current().name == "Letter unopened", timeout=10_000)
    info = window.branches.current().info
    assert info.branch_chapter == chapter_uid
    assert info.branch_chapter_title == "The Board’s Letter"
    assert "from chapter “The Board’s Letter”" in window.branches.switcher.combo.toolTip()

    # Back on Main: "Branch From Here…" on a saved version branches from that version.
    open_branch(qtbot, window, main_id)
    first = versions.save_version(window.db, main_id, "first draft").number
    window.versions.refresh()
    tree = window.versions.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() >= 2)
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == first)
    pick_from_menu(qtbot, lambda: window.versions._tree_menu(
        tree.visualItemRect(item).center()), "Branch From Here…")
    dialog = window.branches.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.from_version.isChecked() and dialog.version_combo.currentData() == first
    qtbot.keyClicks(dialog.name, "From the draft")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.branches.current() is not None
                    and window.branches.current().name == "From the draft", timeout=10_000)
    assert window.branches.current().info.base_version == first
    assert [m.name for m in window.branches.members] == \
        ["Main", "Letter unopened", "From the draft"]

    # The app reopens where the author left off: on that branch, not just on its Main.
    branch_id = window.document.story_id
    window.close()
    again = make_window()
    qtbot.waitUntil(lambda: again.document.story_id == branch_id and again.windowTitle()
                    .endswith("⎇ From the draft — Story Studio"), timeout=10_000)
    qtbot.waitUntil(lambda: again.library.current_id == main_id)


def test_compare_shows_the_changed_chapter_and_merges_only_the_checked_one(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    info = branches.create_branch(window.db, main_id, "Storm")
    (ch1, [glove, lamp]), (ch2, [tuesday]) = scenes(window, info.story_id)
    glove_before = text(window, main_id, glove)
    new_glove = glove_before.replace("first morning of August", "last morning of August")
    new_tuesday = text(window, main_id, tuesday) + "\n\nThe storm came that night."
    manuscript.save_scene_text(window.db, info.story_id, glove, new_glove)
    manuscript.save_scene_text(window.db, info.story_id, tuesday, new_tuesday)
    window.branches.refresh()
    qtbot.waitUntil(lambda: len(window.branches.members) == 2)

    window.branches.act_compare.trigger()
    dialog = window.branches.compare_dialog
    wait_compare(qtbot, dialog)
    assert (dialog.a_id(), dialog.b_id()) == (main_id, info.story_id)
    assert [(d.chapter_uid, d.state) for d in dialog.diffs] == [(ch1, "changed"),
                                                                (ch2, "changed")]
    assert dialog.chapters.topLevelItem(1).text(1).strip() == "changed"
    dialog.select_chapter(ch2)
    shown = dialog.view.toHtml()
    assert "The storm came that night." in shown
    assert "#c8ecc9" in shown  # what B added is marked
    dialog.select_chapter(ch1)
    assert "last" in dialog.view.toPlainText() and "first" in dialog.view.toPlainText()
    assert not dialog.merge_button.isEnabled()  # nothing checked yet
    dialog.set_checked(ch2)
    assert dialog.merge_button.isEnabled()
    assert dialog.merge_button.text() == "Merge 1 checked chapter of “Storm” into Main…"
    dialog.select_chapter(ch2)
    shot(dialog, "compare_dialog")

    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not None and dialog.last_box.isVisible(),
                    timeout=10_000)
    confirm = dialog.last_box
    assert confirm.objectName() == "confirmMergeBox"
    qtbot.mouseClick(confirm.findChild(type(dialog.merge_button), "confirmMerge"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not confirm and dialog.last_box.isVisible(),
                    timeout=10_000)
    done = dialog.last_box
    labels = {v.number: v.label for v in versions.list_versions(window.db, main_id)}
    saved = next(n for n, label in labels.items() if label.startswith("Before merging"))
    assert f"Version {saved}" in done.informativeText()
    done.accept()
    assert text(window, main_id, tuesday) == new_tuesday  # the checked chapter came in
    assert text(window, main_id, glove) == glove_before  # the other did not
    assert text(window, info.story_id, glove) == new_glove  # the branch is kept
    wait_compare(qtbot, dialog)
    assert [d.state for d in dialog.diffs] == ["changed", "same"]
    qtbot.waitUntil(lambda: window.branches.members[1].info.merged_at is not None)
    # Main moves on in chapter 1; merging Main into the branch brings it up to date there,
    # keeping the branch's own change in the same chapter.
    lamp_main = text(window, main_id, lamp) + "\n\nThe lamp smoked all night."
    manuscript.save_scene_text(window.db, main_id, lamp, lamp_main)
    dialog.swap_sides()  # Main as B
    wait_compare(qtbot, dialog)
    assert "brings the branch up to date" in dialog.summary.text()
    dialog.set_checked(ch1)
    assert dialog.merge_button.isEnabled()
    assert dialog.merge_button.text() == "Merge 1 checked chapter of Main into “Storm”…"
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not None and dialog.last_box.isVisible()
                    and dialog.last_box.objectName() == "confirmMergeBox", timeout=10_000)
    confirm = dialog.last_box
    qtbot.mouseClick(confirm.findChild(type(dialog.merge_button), "confirmMerge"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not confirm and dialog.last_box.isVisible(),
                    timeout=10_000)
    dialog.last_box.accept()
    assert text(window, info.story_id, lamp) == lamp_main  # Main's change came in
    assert text(window, info.story_id, glove) == new_glove  # the branch's own stays
    assert text(window, main_id, glove) == glove_before  # Main untouched
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)  # Keep Both: closes
    assert not dialog.isVisible()


def test_a_merge_with_a_conflict_goes_through_the_conflict_view(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    info = branches.create_branch(window.db, main_id, "Storm")
    (_ch1, [glove, _lamp]), _ = scenes(window, main_id)
    paragraphs = text(window, main_id, glove).split("\n\n")
    theirs = paragraphs[0].replace("first morning", "stormy morning")
    branch_text = "\n\n".join([theirs, paragraphs[1] + " The branch adds this.",
                               *paragraphs[2:]])
    manuscript.save_scene_text(window.db, info.story_id, glove, branch_text)

    # Main changes the same words, typed in the editor and not yet saved.
    panel = manuscript_panel(window)
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.current_scene_uid == glove
                    and panel.editor.edit.toPlainText().startswith(paragraphs[0][:20]))
    edit = panel.editor.edit
    cursor = edit.textCursor()
    start = edit.toPlainText().index("first morning")
    cursor.setPosition(start)
    cursor.setPosition(start + len("first"), QTextCursor.MoveMode.KeepAnchor)
    edit.setTextCursor(cursor)
    qtbot.keyClicks(edit, "grey")  # over the selected "first": the same words, otherwise
    assert window.document.has_unsaved()

    window.branches.refresh()
    qtbot.waitUntil(lambda: len(window.branches.members) == 2)
    dialog = window.branches.compare()
    wait_compare(qtbot, dialog)
    dialog.set_checked(_ch1)
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.conflict_dialog is not None
                    and dialog.conflict_dialog.isVisible(), timeout=10_000)
    conflicts = dialog.conflict_dialog
    assert len(conflicts.conflicts) == 1
    assert conflicts.conflicts[0].mine == paragraphs[0].replace("first morning", "grey morning")
    assert conflicts.conflicts[0].theirs == theirs
    assert conflicts.buttons["theirs"].text().startswith("Use “Storm”")
    assert conflicts.apply_button.text() == "Apply the merge"
    assert not conflicts.apply_button.isEnabled()
    conflicts.list.setCurrentRow(0)
    qtbot.mouseClick(conflicts.buttons["theirs"], Qt.MouseButton.LeftButton)
    assert conflicts.apply_button.isEnabled()
    shot(conflicts, "branch_conflict_view")
    qtbot.mouseClick(conflicts.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not None
                    and dialog.last_box.objectName() == "mergedBox", timeout=10_000)
    merged = text(window, main_id, glove).split("\n\n")
    assert merged[0] == theirs  # the chosen text landed
    assert merged[1].endswith("The branch adds this.")  # the clean change came too
    labels = [v.label for v in versions.list_versions(window.db, main_id)]
    assert any(label.startswith("Before merging") for label in labels)
    # Main is open: the editor shows the merged text.
    qtbot.waitUntil(lambda: panel.editor.edit.toPlainText().startswith(theirs), timeout=10_000)
    dialog.last_box.accept()
    dialog.reject()


def test_a_switch_whose_save_fails_stays_on_the_story_and_keeps_the_text(make_window, qtbot,
                                                                           monkeypatch):
    """A full disk while switching: the branch is not opened, the window says why, and the
    typed words are saved once the disk takes them again."""
    from studio.domain.errors import StudioError

    window = make_window()
    settle(qtbot, window)
    main_id = window.document.story_id
    info = branches.create_branch(window.db, main_id, "Calm ending")
    window.branches.refresh()
    qtbot.waitUntil(lambda: window.branches.switcher.combo.count() == 2)
    panel = manuscript_panel(window)
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.current_scene_uid is not None
                    and panel.editor.edit.toPlainText() != "")
    scene_uid = panel.current_scene_uid

    real_save = manuscript.save_scene_text
    failing = {"on": True}

    def save(db, story_id, uid, text_):
        if failing["on"]:
            raise StudioError("database or disk is full")
        return real_save(db, story_id, uid, text_)

    monkeypatch.setattr(manuscript, "save_scene_text", save)
    window.last_error_box = None
    panel.editor.edit.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(panel.editor.edit, " Salt on the glass.")
    window.branches.switcher.select(info.story_id)
    qtbot.waitUntil(lambda: window.last_error_box is not None, timeout=10_000)
    shown = window.last_error_box.text()
    assert "could not be saved" in shown and "nothing is lost" in shown, shown
    window.last_error_box.close()
    assert window.document.story_id == main_id
    qtbot.waitUntil(lambda: window.branches.switcher.combo.currentData() == main_id)
    failing["on"] = False  # space again: the retry saves it
    qtbot.waitUntil(lambda: text(window, main_id, scene_uid).endswith("Salt on the glass."),
                    timeout=15_000)

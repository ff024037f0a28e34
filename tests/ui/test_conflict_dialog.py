"""The conflict view: source and mine side by side with differences marked, one choice per
conflict by mouse or keyboard, and nothing applied until every conflict has a choice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.ui.dialogs.conflict_dialog import ConflictDialog, ConflictItem, diff_html

CONFLICTS = [
    ConflictItem("seg_1", "One › Arrival", "Her father was polishing the lens.",
                 "Her father was cleaning the great lens.",
                 "Her father was asleep beside the lens."),
    ConflictItem("seg_7", "Two › Night", "The beam swept the water.",
                 "The beam swept the black water.", "The beam crossed the water."),
]


def test_differences_are_marked_on_each_side():
    shown = diff_html("Her father was asleep beside the lens.",
                      "Her father was cleaning the great lens.", "new")
    assert "Her father was " in shown
    assert "background:#c8ecc9" in shown and "cleaning" in shown
    assert "asleep" not in shown  # the other side's words are not in this side's view
    old = diff_html("a <b> c", "a d c", "old")
    assert "&lt;b&gt;" in old and "line-through" in old  # escaped, struck through


def test_every_conflict_needs_a_choice_and_keys_choose(qtbot):
    dialog = ConflictDialog(CONFLICTS, "2 changes apply on their own.")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    assert not dialog.apply_button.isEnabled()
    assert "2 of 2" in dialog.status.text()
    assert "cleaning" in dialog.theirs_view.toPlainText()
    assert "asleep" in dialog.mine_view.toPlainText()
    QTest.keyClick(dialog.list, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # keep both
    assert dialog.resolutions() == {"seg_1": "both"}
    assert "Both" in dialog.list.item(0).text()
    dialog.list.setCurrentRow(1)
    assert "black" in dialog.theirs_view.toPlainText()
    assert not any(b.isChecked() for b in dialog.buttons.values())  # no choice carried over
    QTest.keyClick(dialog.list, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)  # keep mine
    assert dialog.resolutions() == {"seg_1": "both", "seg_7": "mine"}
    assert dialog.apply_button.isEnabled()
    dialog.list.setCurrentRow(0)
    assert dialog.buttons["both"].isChecked()  # the earlier choice is shown again
    dialog.buttons["theirs"].click()
    assert dialog.resolutions()["seg_1"] == "theirs"

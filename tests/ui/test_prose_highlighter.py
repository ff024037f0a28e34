"""The manuscript editor's light formatting and spell-check marks, read back from the layout."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QMenu, QPlainTextEdit

from studio.services.spelling import Speller, get_speller
from studio.ui.widgets.prose_highlighter import SPELL_CHECK_MAX_BLOCK, ProseHighlighter
from studio.ui.widgets.spell_menu import add_spelling_actions

WAVE = QTextCharFormat.UnderlineStyle.SpellCheckUnderline


@pytest.fixture
def speller(tmp_path) -> Speller:
    get_speller("en")  # the dictionary, loaded once for the whole run
    return Speller("en", tmp_path / "personal.txt")


@pytest.fixture
def editor(qtbot, speller):
    edit = QPlainTextEdit()
    edit.resize(640, 400)
    qtbot.addWidget(edit)
    edit.highlighter = ProseHighlighter(edit.document(), speller)
    edit.show()
    qtbot.waitExposed(edit)
    return edit


def fmt_at(edit: QPlainTextEdit, line: int, column: int) -> QTextCharFormat:
    """The display format Qt will draw at a column (an empty format where none applies)."""
    block = edit.document().findBlockByNumber(line)
    for r in block.layout().formats():
        if r.start <= column < r.start + r.length:
            return QTextCharFormat(r.format)  # a copy: the range dies with the list
    return QTextCharFormat()


def waved(edit: QPlainTextEdit, line: int = 0) -> list[str]:
    block = edit.document().findBlockByNumber(line)
    text = block.text()
    return [text[r.start:r.start + r.length] for r in block.layout().formats()
            if r.format.underlineStyle() == WAVE]


def test_heading_is_bold_and_larger_with_a_dim_marker(editor):
    editor.setPlainText("# The Lamp Room\nplain line\n## Second")
    base = editor.document().defaultFont().pointSizeF()
    heading = fmt_at(editor, 0, 4)
    assert heading.fontWeight() == QFont.Weight.Bold
    assert heading.fontPointSize() == pytest.approx(base * 1.5)
    assert fmt_at(editor, 0, 0).foreground().color().alphaF() < 0.6
    assert fmt_at(editor, 1, 2).fontWeight() != QFont.Weight.Bold
    assert fmt_at(editor, 2, 5).fontPointSize() == pytest.approx(base * 1.25)
    editor.setPlainText("#hashtag and ### three")
    assert fmt_at(editor, 0, 3).fontWeight() != QFont.Weight.Bold


def test_emphasis_strong_and_markers(editor):
    editor.setPlainText("The *sea* was **loud** and _cold_, snake_case_name stays.")
    text = editor.toPlainText()
    sea, loud, cold = text.index("sea"), text.index("loud"), text.index("cold")
    assert fmt_at(editor, 0, sea).fontItalic()
    assert not fmt_at(editor, 0, sea).fontWeight() == QFont.Weight.Bold
    assert fmt_at(editor, 0, sea - 1).foreground().color().alphaF() < 0.6  # the marker is dim
    assert not fmt_at(editor, 0, text.index("The")).fontItalic()
    assert fmt_at(editor, 0, loud).fontWeight() == QFont.Weight.Bold
    assert not fmt_at(editor, 0, loud).fontItalic()
    assert fmt_at(editor, 0, cold).fontItalic()
    assert not fmt_at(editor, 0, text.index("case")).fontItalic()


def test_scene_breaks_are_dim_and_spaced(editor):
    editor.setPlainText("***\n* * *\n---\n*** not a break")
    for line in range(3):
        fmt = fmt_at(editor, line, 0)
        assert fmt.fontLetterSpacing() > 100, line
        assert fmt.foreground().color().alphaF() < 0.6
    assert fmt_at(editor, 3, 0).fontLetterSpacing() in (0, 100)


def test_misspelled_words_get_a_red_wave_and_turning_off_removes_it(editor):
    editor.setPlainText("The lihgthouse keeper’s *lampp* shone — see https://gul.rok/lihgt")
    assert waved(editor) == ["lihgthouse", "lampp"]
    fmt = fmt_at(editor, 0, editor.toPlainText().index("lampp"))
    assert fmt.fontItalic() and fmt.underlineColor().red() > 200  # italic kept under the wave
    editor.highlighter.set_speller(None)
    assert waved(editor) == []
    assert fmt_at(editor, 0, editor.toPlainText().index("lampp")).fontItalic()


def test_positions_after_an_emoji_follow_qt_not_python(editor):
    editor.setPlainText("🌊 lihgthouse")  # the wave is one Python character, two Qt positions
    block = editor.document().firstBlock()
    wave = [r for r in block.layout().formats() if r.format.underlineStyle() == WAVE]
    assert [(r.start, r.length) for r in wave] == [(3, 10)]
    assert editor.highlighter.misspelled_at(block, 5) == (3, 10, "lihgthouse")


def test_long_paragraphs_are_not_spell_checked(editor):
    long_line = ("lihgthouse " * (SPELL_CHECK_MAX_BLOCK // 11 + 1)) + "*end*"
    editor.setPlainText(long_line + "\nlihgthouse")
    assert waved(editor, 0) == []
    assert fmt_at(editor, 0, len(long_line) - 3).fontItalic()  # formatting still applies
    assert waved(editor, 1) == ["lihgthouse"]


def test_misspelled_at(editor):
    editor.setPlainText("A lihgthouse stood.")
    block = editor.document().firstBlock()
    assert editor.highlighter.misspelled_at(block, 5) == (2, 10, "lihgthouse")
    assert editor.highlighter.misspelled_at(block, 12) == (2, 10, "lihgthouse")  # at its end
    assert editor.highlighter.misspelled_at(block, 15) is None  # "stood" is fine
    editor.highlighter.set_speller(None)
    assert editor.highlighter.misspelled_at(block, 5) is None


def _menu_at(editor, word: str) -> QMenu:
    menu = editor.createStandardContextMenu()
    cursor = QTextCursor(editor.document())
    cursor.setPosition(editor.toPlainText().index(word) + 2)
    add_spelling_actions(menu, editor, editor.highlighter, editor.cursorRect(cursor).center())
    return menu


def test_spell_menu_replaces_the_word_as_one_edit(editor):
    editor.setPlainText("The Lihgthouse was dark.")
    standard = len(editor.createStandardContextMenu().actions())
    menu = _menu_at(editor, "Lihgthouse")
    actions = menu.actions()
    texts = [a.text() for a in actions]
    assert texts[0] == "Lighthouse"
    sep = next(i for i, a in enumerate(actions) if a.isSeparator())
    assert texts[sep - 2:sep] == ["Add to dictionary", "Ignore"]
    assert 1 <= sep - 2 <= 5 and len(actions) == standard + sep + 1

    actions[0].trigger()
    assert editor.toPlainText() == "The Lighthouse was dark."
    assert waved(editor) == []
    editor.undo()  # one step back to the misspelling, not through a half-replaced word
    assert editor.toPlainText() == "The Lihgthouse was dark."
    editor.redo()
    assert editor.toPlainText() == "The Lighthouse was dark."


def test_spell_menu_add_and_ignore(editor, speller, tmp_path):
    editor.setPlainText("Wrenna met Zorblax.\nWrenna’s lamp.")
    assert waved(editor, 0) == ["Wrenna", "Zorblax"] and waved(editor, 1) == ["Wrenna’s"]
    add = next(a for a in _menu_at(editor, "Wrenna").actions() if a.text() == "Add to dictionary")
    add.trigger()
    assert waved(editor, 0) == ["Zorblax"] and waved(editor, 1) == []
    assert (tmp_path / "personal.txt").read_text(encoding="utf-8") == "Wrenna\n"
    ignore = next(a for a in _menu_at(editor, "Zorblax").actions() if a.text() == "Ignore")
    ignore.trigger()
    assert waved(editor, 0) == []
    assert speller.personal_words() == ["Wrenna"]


def test_no_spelling_actions_on_a_correct_word_or_without_a_speller(editor):
    editor.setPlainText("The lighthouse was lihgt.")
    standard = [a.text() for a in editor.createStandardContextMenu().actions()]
    assert [a.text() for a in _menu_at(editor, "lighthouse").actions()] == standard
    editor.highlighter.set_speller(None)
    assert [a.text() for a in _menu_at(editor, "lihgt").actions()] == standard

"""The spelling part of the manuscript editor's context menu.

Call ``add_spelling_actions`` from the editor's ``contextMenuEvent`` (or a
``customContextMenuRequested`` handler) after building the standard menu and before showing it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import QMenu, QPlainTextEdit

from studio.domain.errors import StudioError
from studio.ui.widgets.prose_highlighter import ProseHighlighter

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 5


def add_spelling_actions(menu: QMenu, editor: QPlainTextEdit, highlighter: ProseHighlighter,
                         pos: QPoint) -> None:
    """If the word under ``pos`` (viewport coordinates, as a context-menu event gives them) is
    misspelled, put its suggestions, "Add to dictionary" and "Ignore" at the top of ``menu``."""
    speller = highlighter.speller()
    if speller is None:
        return
    cursor = editor.cursorForPosition(pos)
    block = cursor.block()
    hit = highlighter.misspelled_at(block, cursor.positionInBlock())
    if hit is None:
        return
    start, length, word = hit
    doc_start = block.position() + start

    def replace(text: str) -> None:
        # The menu is modal, but check anyway: never overwrite text that is no longer the word.
        edit = QTextCursor(editor.document())
        edit.setPosition(doc_start)
        edit.setPosition(doc_start + length, QTextCursor.MoveMode.KeepAnchor)
        if edit.selectedText() != word:
            return
        edit.beginEditBlock()  # one edit: undo brings the misspelling back in one step
        edit.insertText(text)
        edit.endEditBlock()
        editor.setTextCursor(edit)

    def add() -> None:
        try:
            speller.add_to_personal(word)
        except StudioError as exc:  # accepted for this session all the same
            log.warning("%s", exc)
        highlighter.recheck_word(word)

    def ignore() -> None:
        speller.ignore(word)
        highlighter.recheck_word(word)

    first = menu.actions()[0] if menu.actions() else None
    actions: list[QAction] = []
    suggestions = speller.suggestions(word, MAX_SUGGESTIONS)
    for text in suggestions:
        action = QAction(text, menu)
        font = action.font()
        font.setBold(True)
        action.setFont(font)
        action.triggered.connect(lambda _checked=False, t=text: replace(t))
        actions.append(action)
    if not suggestions:
        none = QAction("No suggestions", menu)
        none.setEnabled(False)
        actions.append(none)
    add_action = QAction("Add to dictionary", menu)
    add_action.triggered.connect(add)
    ignore_action = QAction("Ignore", menu)
    ignore_action.triggered.connect(ignore)
    actions += [add_action, ignore_action]
    if first is None:
        menu.addActions(actions)
    else:
        menu.insertActions(first, actions)
        menu.insertSeparator(first)

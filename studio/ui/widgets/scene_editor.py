"""The prose editor of the manuscript: plain-text fast, with light formatting, spelling, find
and replace, an adjustable font and line width, and a distraction-free mode.

Each scene gets its own ``QTextDocument`` (kept for the last few scenes opened), so typing undo
(Ctrl+Z inside the text) survives switching between scenes, as in any good editor.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextDocumentLayout, QPlainTextEdit,
    QPushButton, QToolButton, QVBoxLayout, QWidget,
)

from studio.ui.widgets.prose_highlighter import ProseHighlighter
from studio.ui.widgets.spell_menu import add_spelling_actions

DOCUMENT_CACHE = 12
DEFAULT_LINE_CHARS = 72
# Above this size a scene is not spell-checked (a 10 MB paste must not freeze the window).
SPELLCHECK_LIMIT = 400_000
BIG_PASTE = 200_000  # characters: above this a paste goes in piece by piece
PASTE_PIECE = 200_000


class ProseEdit(QPlainTextEdit):
    """The text area: a centred column of ``line_chars`` characters, Ctrl+I / Ctrl+B wrap the
    selection in emphasis markers, and a huge paste goes in piece by piece so the window keeps
    breathing (with spell-check paused for a text that long)."""

    bigPasteStarted = Signal(int)  # characters
    bigPasteProgress = Signal(int, int)  # done, total
    bigPasteFinished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("proseEdit")
        self.line_chars = DEFAULT_LINE_CHARS
        self.highlighter: ProseHighlighter | None = None
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(False)
        font = QFont("Serif")
        font.setStyleHint(QFont.StyleHint.Serif)
        font.setPointSizeF(12.5)
        self.setFont(font)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)

    def set_line_chars(self, chars: int) -> None:
        self.line_chars = max(30, min(200, chars))
        self._update_margins()

    def set_point_size(self, size: float) -> None:
        font = self.font()
        font.setPointSizeF(max(8.0, min(36.0, size)))
        self.setFont(font)
        self._update_margins()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_margins()

    def _update_margins(self) -> None:
        column = self.fontMetrics().horizontalAdvance("n") * self.line_chars
        spare = max(0, self.viewport().width() + self.viewportMargins().left()
                    + self.viewportMargins().right() - column)
        side = spare // 2
        if self.viewportMargins().left() != side:
            self.setViewportMargins(side, 12, side, 12)

    def wrap_selection(self, marker: str) -> None:
        cursor = self.textCursor()
        text = cursor.selectedText()
        cursor.beginEditBlock()
        cursor.insertText(f"{marker}{text}{marker}")
        if not text:
            cursor.movePosition(QTextCursor.MoveOperation.Left, n=len(marker))
        cursor.endEditBlock()
        self.setTextCursor(cursor)

    def insertFromMimeData(self, source) -> None:  # noqa: N802 - paste and drop
        text = source.text() if source.hasText() else ""
        if len(text) < BIG_PASTE:
            super().insertFromMimeData(source)
            return
        self.paste_in_pieces(text)

    def paste_in_pieces(self, text: str) -> None:
        """Insert ``text`` in pieces, one per turn of the event loop, as one undo step."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.highlighter is not None:
            self.highlighter.set_speller(None)  # a scene this long is not checked as you type
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.removeSelectedText()
        self.setReadOnly(True)
        total, done = len(text), 0
        self.bigPasteStarted.emit(total)

        def step() -> None:
            nonlocal done
            if done < total:
                piece = text[done:done + PASTE_PIECE]
                cursor.insertText(piece)
                done += len(piece)
                self.bigPasteProgress.emit(done, total)
                QTimer.singleShot(0, step)
                return
            cursor.endEditBlock()
            self.setTextCursor(cursor)
            self.setReadOnly(False)
            self.bigPasteFinished.emit()

        step()

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        menu = self.createStandardContextMenu(event.pos())
        if self.highlighter is not None:
            add_spelling_actions(menu, self, self.highlighter, event.pos())
        menu.exec(event.globalPos())


class FindBar(QWidget):
    """Find and replace inside the open scene (the edits go into the scene's typing undo)."""

    closed = Signal()

    def __init__(self, edit: ProseEdit):
        super().__init__()
        self.edit = edit
        self.setObjectName("findBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        self.find = QLineEdit()
        self.find.setObjectName("findText")
        self.find.setPlaceholderText("Find in scene")
        self.replace = QLineEdit()
        self.replace.setObjectName("replaceText")
        self.replace.setPlaceholderText("Replace with")
        self.case = QCheckBox("Aa")
        self.case.setToolTip("Match case")
        self.status = QLabel("")
        prev_b, next_b = QToolButton(), QToolButton()
        prev_b.setText("▲")
        prev_b.setToolTip("Previous (Shift+Enter)")
        next_b.setText("▼")
        next_b.setToolTip("Next (Enter)")
        rep_b, all_b = QPushButton("Replace"), QPushButton("All")
        all_b.setToolTip("Replace every match in this scene")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        for w in (self.find, prev_b, next_b, self.case, self.replace, rep_b, all_b, self.status,
                  close):
            lay.addWidget(w)
        lay.setStretch(0, 2)
        lay.setStretch(4, 2)
        self.find.returnPressed.connect(self.find_next)
        self.find.textChanged.connect(lambda _t: self.find_next(from_start=True))
        next_b.clicked.connect(self.find_next)
        prev_b.clicked.connect(lambda: self.find_next(backward=True))
        rep_b.clicked.connect(self.replace_one)
        all_b.clicked.connect(self.replace_all)
        close.clicked.connect(self.hide_bar)
        QShortcut(QKeySequence("Shift+Return"), self.find, lambda: self.find_next(backward=True))
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.hide_bar)

    def _flags(self, backward: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if self.case.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        return flags

    def find_next(self, backward: bool = False, from_start: bool = False) -> bool:
        needle = self.find.text()
        if not needle:
            self.status.setText("")
            return False
        if from_start:
            cursor = self.edit.textCursor()
            cursor.setPosition(cursor.selectionStart())
            self.edit.setTextCursor(cursor)
        found = self.edit.find(needle, self._flags(backward))
        if not found:  # wrap around
            cursor = self.edit.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End if backward
                                else QTextCursor.MoveOperation.Start)
            self.edit.setTextCursor(cursor)
            found = self.edit.find(needle, self._flags(backward))
        self.status.setText("" if found else "Not found")
        return found

    def replace_one(self) -> None:
        cursor = self.edit.textCursor()
        needle = self.find.text()
        selected = cursor.selectedText()
        same = selected == needle if self.case.isChecked() else \
            selected.casefold() == needle.casefold()
        if needle and same:
            cursor.insertText(self.replace.text())
        self.find_next()

    def replace_all(self) -> int:
        needle = self.find.text()
        if not needle:
            return 0
        doc = self.edit.document()
        cursor = QTextCursor(doc)
        count = 0
        edit_cursor = QTextCursor(doc)
        edit_cursor.beginEditBlock()  # one undo step for the whole scene
        while True:
            cursor = doc.find(needle, cursor, self._flags())
            if cursor.isNull():
                break
            cursor.insertText(self.replace.text())
            count += 1
        edit_cursor.endEditBlock()
        self.status.setText(f"{count} replaced")
        return count

    def show_bar(self) -> None:
        self.setVisible(True)
        selected = self.edit.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find.setText(selected)
        self.find.setFocus()
        self.find.selectAll()

    def hide_bar(self) -> None:
        self.setVisible(False)
        self.edit.setFocus()
        self.closed.emit()


class SceneEditor(QWidget):
    """The editor for one scene at a time; ``textEdited`` fires on every change of the text."""

    textEdited = Signal(str)  # scene uid

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.edit = ProseEdit()
        self.find_bar = FindBar(self.edit)
        self.find_bar.setVisible(False)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.find_bar)
        self.scene_uid: str | None = None
        self._documents: OrderedDict[str, QTextDocument] = OrderedDict()
        self._highlighters: dict[str, ProseHighlighter] = {}
        self._speller = None
        self._loading = False
        QShortcut(QKeySequence.StandardKey.Find, self, self.find_bar.show_bar)
        QShortcut(QKeySequence("Ctrl+I"), self.edit, lambda: self.edit.wrap_selection("*"))
        QShortcut(QKeySequence("Ctrl+B"), self.edit, lambda: self.edit.wrap_selection("**"))

    def set_speller(self, speller) -> None:
        self._speller = speller
        for uid, hl in self._highlighters.items():
            doc = self._documents.get(uid)
            if doc is not None and doc.characterCount() <= SPELLCHECK_LIMIT:
                hl.set_speller(speller)

    def has_scene(self, uid: str) -> bool:
        return uid in self._documents

    def show_scene(self, uid: str, text: str | None) -> None:
        """Show ``uid``; ``text`` fills a new document (None: reuse the cached one)."""
        doc = self._documents.get(uid)
        if doc is None or text is not None and doc.toPlainText() != text and \
                not doc.isModified():
            doc = QTextDocument(self)
            doc.setDocumentLayout(QPlainTextDocumentLayout(doc))
            doc.setDefaultFont(self.edit.font())
            self._loading = True
            doc.setPlainText(text or "")
            self._loading = False
            doc.setModified(False)
            doc.contentsChange.connect(
                lambda _pos, removed, added, u=uid: self._changed(u, removed, added))
            highlighter = ProseHighlighter(doc)
            if self._speller is not None and len(text or "") <= SPELLCHECK_LIMIT:
                highlighter.set_speller(self._speller)
            self._highlighters[uid] = highlighter
            self._documents[uid] = doc
        self._documents.move_to_end(uid)
        self._evict()
        self.scene_uid = uid
        self.edit.setDocument(doc)
        self.edit.highlighter = self._highlighters.get(uid)
        self.edit.setReadOnly(False)

    def _evict(self) -> None:
        while len(self._documents) > DOCUMENT_CACHE:
            uid, doc = next(iter(self._documents.items()))
            if uid == self.scene_uid or doc.isModified():
                self._documents.move_to_end(uid)
                if all(d.isModified() or u == self.scene_uid
                       for u, d in self._documents.items()):
                    return
                continue
            self._documents.pop(uid)
            self._highlighters.pop(uid, None)
            doc.deleteLater()

    def _changed(self, uid: str, removed: int, added: int) -> None:
        if self._loading or not (removed or added):
            return
        self.textEdited.emit(uid)

    def text_of(self, uid: str) -> str | None:
        doc = self._documents.get(uid)
        return doc.toPlainText() if doc is not None else None

    def mark_saved(self, uid: str, text: str) -> None:
        """The text ``text`` of scene ``uid`` is on disk; if nothing changed since, it's clean."""
        doc = self._documents.get(uid)
        if doc is not None and doc.toPlainText() == text:
            doc.setModified(False)

    def forget(self, uid: str) -> None:
        doc = self._documents.pop(uid, None)
        self._highlighters.pop(uid, None)
        if uid == self.scene_uid:
            self.scene_uid = None
            self.clear()
        if doc is not None:
            doc.deleteLater()

    def forget_all(self) -> None:
        for uid in list(self._documents):
            self.forget(uid)

    def clear(self) -> None:
        empty = QTextDocument(self)
        empty.setDocumentLayout(QPlainTextDocumentLayout(empty))
        self.edit.setDocument(empty)
        self.edit.highlighter = None
        self.edit.setReadOnly(True)
        self.scene_uid = None

    def select_in_block(self, block_number: int, word: str) -> None:
        """Put the cursor on ``word`` in paragraph ``block_number`` (a search hit)."""
        doc = self.edit.document()
        block = doc.findBlockByNumber(block_number)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        found = doc.find(word, cursor) if word else QTextCursor()
        if not found.isNull() and found.block().blockNumber() == block_number:
            cursor = found
        self.edit.setTextCursor(cursor)
        self.edit.centerCursor()
        self.edit.setFocus()

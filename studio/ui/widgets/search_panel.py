"""Project search for a dock: search as you type, results grouped chapter → scene → passage.

The panel only reads.  Searching goes through the ``search_fn`` the manuscript panel hands in,
on the service runner's thread; "Replace all in project…" asks for confirmation and then emits
``replaceRequested`` — the manuscript panel does the writing (and its undo).

Results come back out of order in principle (a slow query, a fast one), so every search carries
a generation number and only the answer to the newest one is shown.  Snippets mark matches
with \\x02 … \\x03; a delegate paints them bold on a highlight with QTextDocument.
"""

from __future__ import annotations

import html
import re
from functools import partial
from typing import Callable

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout, QKeyEvent, QPainter, QPalette, QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QCheckBox, QHBoxLayout, QLabel, QLineEdit,
    QMessageBox, QPushButton, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.outline import SearchHit, SearchResults

DEBOUNCE_MS = 200
QUERY_PLACEHOLDER = 'Search the manuscript — words, or "a phrase"'
NO_MATCHES = "No matches"
REPLACE_LABEL = "Replace all in project…"

HIT_START, HIT_END = "\x02", "\x03"

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "chapter", "scene" or "hit"
HIT_ROLE = Qt.ItemDataRole.UserRole + 2  # the SearchHit (a group's first hit for groups)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 3  # matches under a chapter or scene row
SNIPPET_ROLE = Qt.ItemDataRole.UserRole + 4  # the raw snippet, markers included

# Match highlight (background, text) on a light and on a dark palette; both colours are set so
# the match stays readable on a selected row as well.
_MARK_LIGHT = ("#ffe08a", "#1a1a1a")
_MARK_DARK = ("#7a5f12", "#fff4d6")


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural_form or word + 's')}"


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """``snippet`` as (text, is_match) runs; unbalanced markers are tolerated."""
    runs: list[tuple[str, bool]] = []
    on = False
    for piece in re.split(f"([{HIT_START}{HIT_END}])", snippet.replace("\n", " ")):
        if piece == HIT_START:
            on = True
        elif piece == HIT_END:
            on = False
        elif piece:
            runs.append((piece, on))
    return runs


def snippet_plain(snippet: str) -> str:
    return "".join(text for text, _ in snippet_parts(snippet))


def snippet_html(snippet: str, dark: bool = False) -> str:
    """The snippet as HTML: everything escaped, matches bold on a highlight."""
    bg, fg = _MARK_DARK if dark else _MARK_LIGHT
    out = []
    for text, match in snippet_parts(snippet):
        text = html.escape(text, quote=False)
        if match:
            out.append(f'<span style="background-color:{bg}; color:{fg}; '
                       f'font-weight:700;">{text}</span>')
        else:
            out.append(text)
    return "".join(out)


def format_elapsed(ms: float) -> str:
    return "<1 ms" if ms < 1 else f"{ms:,.0f} ms"


def summary_text(results: SearchResults) -> str:
    if results.total == 0 or not results.hits:
        return NO_MATCHES
    elapsed = format_elapsed(results.elapsed_ms)
    if results.total > len(results.hits):
        return f"Showing the first {len(results.hits):,} of {results.total:,} · {elapsed}"
    scenes = len({h.scene_uid for h in results.hits})
    return (f"{plural(results.total, 'match', 'matches')} in {plural(scenes, 'scene')}"
            f" · {elapsed}")


def find_text(query: str) -> str:
    """What "Replace all" looks for: the query, without the quotes of a phrase."""
    query = query.strip()
    if len(query) >= 2 and query[0] == query[-1] == '"' and '"' not in query[1:-1]:
        return query[1:-1].strip()
    return query


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class SnippetDelegate(QStyledItemDelegate):
    """Paints result rows as rich text: groups with their match count, hits with highlights."""

    _PAD = 3  # above and below the text

    def __init__(self, tree: QTreeWidget):
        super().__init__(tree)
        self._tree = tree
        self._heights: dict[tuple, int] = {}

    def clear_cache(self) -> None:
        self._heights.clear()

    def row_html(self, index: QModelIndex, palette: QPalette, selected: bool) -> str:
        kind = index.data(KIND_ROLE)
        if kind == "hit":
            return snippet_html(index.data(SNIPPET_ROLE) or "", _is_dark(palette))
        group = QPalette.ColorRole.HighlightedText if selected else \
            QPalette.ColorRole.PlaceholderText
        dim = palette.color(group).name()
        title = html.escape(index.data(Qt.ItemDataRole.DisplayRole) or "", quote=False)
        count = index.data(COUNT_ROLE) or 0
        if kind == "chapter":
            title = f"<b>{title}</b>"
        return f'{title}&nbsp;&nbsp;<span style="color:{dim};">{count:,}</span>'

    def _document(self, text_html: str, font, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(font)
        doc.setTextWidth(max(40, width))
        doc.setHtml(text_html)
        return doc

    def _text_width(self, index: QModelIndex) -> int:
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        tree = self._tree
        indent = tree.indentation() * (depth + (1 if tree.rootIsDecorated() else 0))
        margin = 2 * (tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin,
                                                None, tree) + 1)
        return tree.viewport().width() - indent - margin

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        width = self._text_width(index)
        kind = index.data(KIND_ROLE)
        key = (kind, index.data(SNIPPET_ROLE) if kind == "hit" else
               (index.data(Qt.ItemDataRole.DisplayRole), index.data(COUNT_ROLE)),
               width, option.font.key())
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) > 5000:
                self._heights.clear()
            doc = self._document(self.row_html(index, option.palette, False), option.font,
                                 width)
            height = int(doc.size().height() + 0.999) + 2 * self._PAD
            self._heights[key] = height
        return QSize(width, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal if opt.state & QStyle.StateFlag.State_Active \
            else QPalette.ColorGroup.Inactive
        if not opt.state & QStyle.StateFlag.State_Enabled:
            group = QPalette.ColorGroup.Disabled
        doc = self._document(self.row_html(index, opt.palette, selected), opt.font,
                             rect.width())
        context = QAbstractTextDocumentLayout.PaintContext()
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(group, role))
        painter.save()
        painter.translate(rect.left(), rect.top() + self._PAD)
        painter.setClipRect(QRect(0, -self._PAD, rect.width(), rect.height()))
        doc.documentLayout().draw(painter, context)
        painter.restore()


class _QueryEdit(QLineEdit):
    downPressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.downPressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class _ResultsTree(QTreeWidget):
    activateRequested = Signal(object)  # QTreeWidgetItem
    escapePressed = Signal()
    upFromTop = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._last_width = -1

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.currentItem() is not None:
                self.activateRequested.emit(self.currentItem())
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.escapePressed.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Up and self.currentItem() is not None \
                and self.itemAbove(self.currentItem()) is None:
            self.upFromTop.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        width = self.viewport().width()
        if width != self._last_width:
            self._last_width = width
            delegate = self.itemDelegate()
            if isinstance(delegate, SnippetDelegate):
                delegate.clear_cache()
            self.scheduleDelayedItemsLayout()


class ProjectSearchPanel(QWidget):
    """Search the whole manuscript; activate a hit to open it; ask to replace everywhere."""

    hitActivated = Signal(object, str)  # SearchHit, the query it was found with
    replaceRequested = Signal(str, str, bool, bool)  # find, replacement, match case, whole word
    resultsChanged = Signal(object)  # the SearchResults now shown, or None

    def __init__(self, runner, search_fn: Callable[[str], SearchResults],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("projectSearch")
        self._runner = runner
        self._search_fn = search_fn
        self._generation = 0
        self._pending = False  # a search for the current generation is running
        self._activate_when_ready = False
        self._story_enabled = True
        self.results: SearchResults | None = None  # what the tree shows (current query only)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.query_edit = _QueryEdit()
        self.query_edit.setObjectName("searchQuery")
        self.query_edit.setPlaceholderText(QUERY_PLACEHOLDER)
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.setAccessibleName("Search the manuscript")
        layout.addWidget(self.query_edit)

        self.summary = QLabel()
        self.summary.setObjectName("searchSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setMinimumHeight(self.summary.fontMetrics().height())
        self._dim(self.summary)
        layout.addWidget(self.summary)

        self.tree = _ResultsTree()
        self.tree.setObjectName("searchResults")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(1)
        self.tree.setUniformRowHeights(False)
        self.tree.setIndentation(14)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setAccessibleName("Search results")
        self.delegate = SnippetDelegate(self.tree)
        self.tree.setItemDelegate(self.delegate)
        layout.addWidget(self.tree, 1)

        layout.addSpacing(2)

        replace_row = QHBoxLayout()
        self.replace_edit = QLineEdit()
        self.replace_edit.setObjectName("replaceWith")
        self.replace_edit.setPlaceholderText("Replace with…")
        self.replace_edit.setAccessibleName("Replacement text")
        replace_row.addWidget(self.replace_edit, 1)
        self.replace_button = QPushButton(REPLACE_LABEL)
        self.replace_button.setObjectName("replaceAll")
        self.replace_button.setToolTip("Replace the search text everywhere in this story "
                                       "(asks first)")
        replace_row.addWidget(self.replace_button)
        layout.addLayout(replace_row)
        row = QHBoxLayout()
        row.setSpacing(12)
        self.match_case = QCheckBox("Match case")
        self.match_case.setObjectName("matchCase")
        self.whole_word = QCheckBox("Whole word")
        self.whole_word.setObjectName("wholeWord")
        for box in (self.match_case, self.whole_word):
            box.setToolTip("Applies to Replace all; the search itself finds words and phrases "
                           "in any case")
            row.addWidget(box)
        row.addStretch(1)
        layout.addLayout(row)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._search_now)
        self._busy = QTimer(self)
        self._busy.setSingleShot(True)
        self._busy.setInterval(300)
        self._busy.timeout.connect(self._show_busy)

        self.query_edit.textChanged.connect(self._query_changed)
        self.query_edit.returnPressed.connect(self._activate_first)
        self.query_edit.downPressed.connect(self.focus_results)
        self.tree.activateRequested.connect(self._activate_item)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._activate_item(item))
        self.tree.escapePressed.connect(self.focus_query)
        self.tree.upFromTop.connect(self.focus_query)
        self.replace_button.clicked.connect(self._confirm_replace)
        self.replace_edit.returnPressed.connect(self._confirm_replace)
        self._update_replace()

    # --- API -----------------------------------------------------------------------------

    def set_enabled_story(self, enabled: bool) -> None:
        """With no story open the panel is inert; opening one re-runs the query, if any."""
        self._story_enabled = enabled
        for widget in (self.query_edit, self.tree, self.replace_edit, self.match_case,
                       self.whole_word):
            widget.setEnabled(enabled)
        self._generation += 1
        self._debounce.stop()
        self._clear_results()
        if enabled and self.query().strip():
            self._search_now()
        self._update_replace()

    def focus_query(self) -> None:
        self.query_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.query_edit.selectAll()

    def focus_results(self) -> None:
        first = self._first_hit_item()
        if first is None:
            return
        if self.tree.currentItem() is None or not self.tree.currentItem().isSelected():
            self.tree.setCurrentItem(first)
        self.tree.setFocus(Qt.FocusReason.OtherFocusReason)

    def query(self) -> str:
        return self.query_edit.text()

    def set_query(self, text: str) -> None:
        self.query_edit.setText(text)

    def refresh(self) -> None:
        """Search the current query again now (after a replace, or when the story changed)."""
        self._generation += 1
        self._debounce.stop()
        if self.query().strip():
            self._search_now()
        else:
            self._clear_results()

    def hit_items(self) -> list[QTreeWidgetItem]:
        items = []
        for c in range(self.tree.topLevelItemCount()):
            chapter = self.tree.topLevelItem(c)
            for s in range(chapter.childCount()):
                scene = chapter.child(s)
                items.extend(scene.child(h) for h in range(scene.childCount()))
        return items

    def is_searching(self) -> bool:
        return self._pending or self._debounce.isActive()

    # --- searching ---------------------------------------------------------------------------

    def _query_changed(self, text: str) -> None:
        self._generation += 1
        self._activate_when_ready = False
        self._pending = False
        if not text.strip():
            self._debounce.stop()
            self._clear_results()
        else:
            self._debounce.start()
        self._update_replace()

    def _search_now(self) -> None:
        query = self.query().strip()
        if not query or not self._story_enabled:
            return
        self._debounce.stop()
        generation = self._generation
        self._pending = True
        self._busy.start()
        self._runner.run(self._search_fn, query,
                         on_done=partial(self._on_results, generation),
                         on_error=partial(self._on_error, generation))

    def _alive(self, generation: int) -> bool:
        return shiboken6.isValid(self) and generation == self._generation

    def _on_results(self, generation: int, results: SearchResults) -> None:
        if not self._alive(generation):
            return  # an answer to a query the author has since changed
        self._pending = False
        self._busy.stop()
        self._show(results)
        if self._activate_when_ready:
            self._activate_when_ready = False
            self._activate_first()

    def _on_error(self, generation: int, error: BaseException) -> None:
        if not self._alive(generation):
            return
        self._pending = False
        self._busy.stop()
        self._activate_when_ready = False
        self._clear_results()
        self.summary.setText(f"Search failed: {error}")

    def _show_busy(self) -> None:
        if self._pending:
            self.summary.setText("Searching…")

    def _clear_results(self) -> None:
        self.results = None
        self._busy.stop()
        self.tree.clear()
        self.summary.setText("")
        self._update_replace()
        self.resultsChanged.emit(None)

    def _show(self, results: SearchResults) -> None:
        self.results = results
        tree = self.tree
        tree.setUpdatesEnabled(False)
        tree.clear()
        chapters: dict[str, QTreeWidgetItem] = {}
        scenes: dict[str, QTreeWidgetItem] = {}
        top: list[QTreeWidgetItem] = []
        for hit in results.hits:
            chapter = chapters.get(hit.chapter_uid)
            if chapter is None:
                chapter = self._group_item("chapter", hit.chapter_title or "Untitled chapter",
                                           hit)
                chapters[hit.chapter_uid] = chapter
                top.append(chapter)
            scene = scenes.get(hit.scene_uid)
            if scene is None:
                scene = self._group_item("scene", hit.scene_title or "Untitled scene", hit)
                chapter.addChild(scene)
                scenes[hit.scene_uid] = scene
            item = QTreeWidgetItem([snippet_plain(hit.snippet)])
            item.setData(0, KIND_ROLE, "hit")
            item.setData(0, HIT_ROLE, hit)
            item.setData(0, SNIPPET_ROLE, hit.snippet)
            item.setToolTip(0, f"{hit.chapter_title} › {hit.scene_title}")
            scene.addChild(item)
            for group in (chapter, scene):
                group.setData(0, COUNT_ROLE, group.data(0, COUNT_ROLE) + 1)
        tree.addTopLevelItems(top)
        tree.expandAll()
        tree.setUpdatesEnabled(True)
        self.summary.setText(summary_text(results))
        self._update_replace()
        self.resultsChanged.emit(results)

    @staticmethod
    def _group_item(kind: str, title: str, hit: SearchHit) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title])
        item.setData(0, KIND_ROLE, kind)
        item.setData(0, HIT_ROLE, hit)
        item.setData(0, COUNT_ROLE, 0)
        return item

    # --- activation ----------------------------------------------------------------------

    def _first_hit_item(self) -> QTreeWidgetItem | None:
        chapter = self.tree.topLevelItem(0)
        if chapter is None or chapter.childCount() == 0:
            return None
        scene = chapter.child(0)
        return scene.child(0) if scene.childCount() else None

    def _activate_first(self) -> None:
        if not self.query().strip():
            return
        if self.is_searching():
            self._activate_when_ready = True
            if self._debounce.isActive():
                self._search_now()
            return
        first = self._first_hit_item()
        if first is not None:
            self.tree.setCurrentItem(first)
            self._activate_item(first)

    def _activate_item(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self.results is None:
            return
        if item.data(0, KIND_ROLE) == "chapter":
            item.setExpanded(not item.isExpanded())
            return
        hit = item.data(0, HIT_ROLE)  # a scene row opens its first hit
        if isinstance(hit, SearchHit):
            self.hitActivated.emit(hit, self.results.query)

    # --- replace -------------------------------------------------------------------------

    def _update_replace(self) -> None:
        ready = (self._story_enabled and not self.is_searching() and self.results is not None
                 and self.results.total > 0 and bool(find_text(self.query())))
        self.replace_button.setEnabled(ready)

    def _confirm_replace(self) -> None:
        self._update_replace()
        if not self.replace_button.isEnabled() or self.results is None:
            return
        find = find_text(self.query())
        replacement = self.replace_edit.text()
        case, whole = self.match_case.isChecked(), self.whole_word.isChecked()
        scenes = len({h.scene_uid for h in self.results.hits})
        if replacement:
            question = f"Replace every “{find}” with “{replacement}” in the whole project?"
        else:
            question = f"Delete every “{find}” in the whole project?"
        found = (f"The search found {plural(self.results.total, 'match', 'matches')} in "
                 f"{plural(scenes, 'scene')}" + ("" if self.results.total <= len(
                     self.results.hits) else " (and more)") + ".")
        rules = [("Match case" if case else "Any case"), ("whole words only" if whole else
                                                          "also inside longer words")]
        answer = QMessageBox.question(
            self, "Replace all in project",
            f"{question}\n\n{found}\n{rules[0]}, {rules[1]}.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.replaceRequested.emit(find, replacement, case, whole)

    # --- look --------------------------------------------------------------------------

    def _dim(self, label: QLabel) -> None:
        pal = label.palette()
        pal.setColor(QPalette.ColorRole.WindowText,
                     pal.color(QPalette.ColorRole.PlaceholderText))
        label.setPalette(pal)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "summary"):
            self.summary.setPalette(QPalette())
            self._dim(self.summary)

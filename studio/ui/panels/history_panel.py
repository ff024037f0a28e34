"""The edit history view: who changed what, when, and how — per story or per item, filtered,
with "Restore This" for any text an edit replaced.

The list pages through the journal newest first (“Load more” fetches the next page by key, so
nothing repeats when new edits arrive).  Selecting an entry shows its change: prose and fields
before and after, differences marked as in the conflict view.  Restoring flushes unsaved text
first (the service thread runs in order, so the restore sees it), asks for confirmation naming
what will be replaced, and then tells the window what changed so the editor and outline show it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSizePolicy, QSplitter, QTextBrowser, QToolButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.history_sessions import TypingSession, group_sessions
from studio.domain.history_text import HistoryItem, plural
from studio.services import edit_history
from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.conflict_dialog import diff_html
from studio.ui.document import StoryDocument
from studio.ui.timefmt import relative_time

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

RESTORE_KEYS = "Ctrl+R"
REFRESH_KEYS = "F5"
PAGE = edit_history.PAGE
SHOWN_CHARS = 6000  # of one side of a change in the detail pane (a whole deleted scene…)
ID_ROLE = Qt.ItemDataRole.UserRole
GONE = QColor("#8a8a8a")
BEFORE_BG, AFTER_BG = "#fbf1f1", "#eef8ef"
CONFIRM_CHARS = 180


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _side(text: str | None, other: str | None, show: str, kind: str) -> str:
    if text is None:
        return "<i style='color:#777'>(not there)</i>" if show == "old" else \
            "<i style='color:#777'>(removed)</i>"
    more = ""
    if len(text) > SHOWN_CHARS:
        more = f"<br><i style='color:#777'>… {len(text) - SHOWN_CHARS:,} more characters</i>"
        text = text[:SHOWN_CHARS]
        other = (other or "")[:SHOWN_CHARS]
    if text == "":
        return "<i style='color:#777'>(empty)</i>"
    if other is None or kind != "text":
        return html.escape(text).replace("\n", "<br>") + more
    return diff_html(other, text, "new") + more if show == "new" else \
        diff_html(text, other, "old") + more


def _when(item: HistoryItem) -> str:
    """When the entry was made; a typing session's span, and which entries it holds."""
    at = item.at.astimezone()
    if not isinstance(item, TypingSession):
        return f"{at.strftime('%A %d %B %Y, %H:%M:%S')} · entry #{item.id}"
    start = item.started.astimezone()
    ids = sorted(item.entry_ids)
    day = start.strftime("%A %d %B %Y, %H:%M")
    span = f"{day}, within a minute" if start.strftime("%d %H:%M") == at.strftime("%d %H:%M") \
        else f"{day}–{at.strftime('%H:%M')}"
    return f"{span} · entries #{ids[0]}–#{ids[-1]}"


def detail_html(item: HistoryItem) -> str:
    """The change of one entry: every pair before and after, differences marked.  For a typing
    session, before is the text before its first save and after the text after its last."""
    parts = [f"<p style='margin:0 0 2px 0; font-size:12pt'><b>{html.escape(item.item)}</b></p>",
             f"<p style='margin:0 0 8px 0; color:#666'>{html.escape(item.action_label)} by "
             f"{html.escape(item.actor)} · {_when(item)}</p>",
             f"<p style='margin:0 0 10px 0'>{html.escape(item.summary)}</p>"]
    if isinstance(item, TypingSession):
        parts.append("<p style='margin:0 0 6px 0; color:#666'>Each paragraph the session "
                     "touched: before its first save, and after its last.</p>")
    for d in item.details:
        if d.old is None and d.new is None:
            parts.append(f"<p style='color:#666'>{html.escape(d.label)}</p>")
            continue
        parts.append(f"<p style='margin:10px 0 3px 0'><b>{html.escape(d.label)}</b></p>"
                     "<table width='100%' cellspacing='0' cellpadding='5'>"
                     f"<tr><td width='56' style='color:#9a4d4d'>Before</td>"
                     f"<td bgcolor='{BEFORE_BG}'>{_side(d.old, d.new, 'old', d.kind)}</td></tr>"
                     f"<tr><td width='56' style='color:#3f7a44'>After</td>"
                     f"<td bgcolor='{AFTER_BG}'>{_side(d.new, d.old, 'new', d.kind)}</td></tr>"
                     "</table>")
    if not item.details:
        parts.append("<p style='color:#777'>This entry records that it happened; there is no "
                     "before and after to show.</p>")
    return "".join(parts)


class HistoryPanel(QWidget):
    """The Edit History dock's contents."""

    #: The service restored something: (the entry restored, what was restored, the sentence).
    restored = Signal(object, str, str)
    #: Show an entry's item where it is edited (a scene's paragraph in the manuscript).
    showRequested = Signal(object)

    def __init__(self, window: "MainWindow"):
        super().__init__()
        self.window = window
        self.document: StoryDocument | None = None
        self.items: list[HistoryItem] = []  # the entries loaded, newest first (paging)
        self.rows: list[HistoryItem] = []  # what the list shows: typing sessions grouped
        self.has_more = False
        self.item_filter: tuple[str, str] | None = None  # (entity id, label)
        self._generation = 0
        self._shown_filters: dict | None = None
        self.last_plan = None
        self.setObjectName("historyPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(4)
        lay.addLayout(self._build_filters())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_list())
        split.addWidget(self._build_detail())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([640, 420])
        self.split = split
        lay.addWidget(split, 1)
        QShortcut(QKeySequence(RESTORE_KEYS), self, self.restore_selected,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence(REFRESH_KEYS), self, self.refresh,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._search_timer = QTimer(self, singleShot=True, interval=300)
        self._search_timer.timeout.connect(self.refresh)
        self._saved_timer = QTimer(self, singleShot=True, interval=900)
        self._saved_timer.timeout.connect(self._refresh_if_shown)
        self.set_document(None)

    # --- construction ------------------------------------------------------------------------

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.type_combo = QComboBox(objectName="historyType", toolTip="Which kind of item")
        self.actor_combo = QComboBox(objectName="historyActor", toolTip="Who made the change")
        self.action_combo = QComboBox(objectName="historyAction", toolTip="What was done")
        for combo in (self.type_combo, self.actor_combo, self.action_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.activated.connect(lambda _i: self.refresh())
        self.search = QLineEdit(objectName="historySearch")
        self.search.setPlaceholderText("Search titles and changed text…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.item_only = QCheckBox(objectName="historyItemOnly")
        self.item_only.setToolTip("Only the entries of this item (a chapter includes its scenes)")
        self.item_only.toggled.connect(lambda _on: self.refresh())
        self.clear_button = QToolButton(text="Clear filters", objectName="historyClear")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip("Show the whole story's history")
        self.clear_button.clicked.connect(self.clear_filters)
        self.refresh_button = QToolButton(text="⟳", objectName="historyRefresh")
        self.refresh_button.setAutoRaise(True)
        self.refresh_button.setToolTip(f"Refresh ({REFRESH_KEYS})")
        self.refresh_button.clicked.connect(self.refresh)
        for w in (self.type_combo, self.actor_combo, self.action_combo):
            row.addWidget(w)
        row.addWidget(self.search, 1)
        row.addWidget(self.item_only)
        row.addWidget(self.clear_button)
        row.addWidget(self.refresh_button)
        self._fill_facets(None)
        return row

    def _build_list(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.tree = QTreeWidget(objectName="historyList")
        self.tree.setHeaderLabels(["When", "Who", "Item", "Action", "Change"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for col, width in ((0, 96), (1, 72), (2, 180), (3, 112)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.tree.setColumnWidth(col, width)
        self.tree.currentItemChanged.connect(lambda *_: self._show_selected())
        self.tree.itemDoubleClicked.connect(lambda *_: self._go_to_selected())
        lay.addWidget(self.tree, 1)
        foot = QHBoxLayout()
        self.count_label = QLabel("", objectName="historyCount")
        self.count_label.setStyleSheet("color: #666;")
        self.group_box = QCheckBox("Group typing sessions", objectName="historyGroup")
        self.group_box.setChecked(True)
        self.group_box.setToolTip("Show a scene's autosaves made in one sitting (each within "
                                  "10 minutes of the last) as one row; off: every save")
        self.group_box.toggled.connect(lambda _on: self._fill(self._selected_id()))
        foot.addWidget(self.group_box)
        self.more_button = QPushButton("Load more", objectName="historyMore")
        self.more_button.setToolTip(f"The next {PAGE} older entries")
        self.more_button.clicked.connect(self.load_more)
        foot.addWidget(self.count_label, 1)
        foot.addWidget(self.more_button)
        lay.addLayout(foot)
        return box

    def _build_detail(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.detail = QTextBrowser(objectName="historyDetail")
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText("Choose an entry to see what changed.")
        lay.addWidget(self.detail, 1)
        self.why_not = QLabel("", objectName="historyWhyNot")
        self.why_not.setWordWrap(True)
        self.why_not.setStyleSheet("color: #666;")
        lay.addWidget(self.why_not)
        row = QHBoxLayout()
        self.which_combo = QComboBox(objectName="historyWhich")
        self.which_combo.setToolTip("Restore everything this edit replaced, or one part of it")
        self.go_button = QPushButton("Show in Story", objectName="historyGoTo")
        self.go_button.setToolTip("Open the item where it is edited (double-click)")
        self.go_button.clicked.connect(self._go_to_selected)
        self.restore_button = QPushButton("Restore This", objectName="historyRestore")
        self.restore_button.setToolTip(
            f"Put back the text this edit replaced ({QKeySequence(RESTORE_KEYS).toString()}); "
            "the restore is itself recorded and can be restored back")
        self.restore_button.clicked.connect(self.restore_selected)
        self.restore_button.setDefault(True)  # the panel's main action, drawn as such
        for button in (self.go_button, self.restore_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.which_combo, 1)
        row.addStretch(0)
        row.addWidget(self.go_button)
        row.addWidget(self.restore_button)
        lay.addLayout(row)
        return box

    # --- the document and loading ----------------------------------------------------------

    def set_document(self, document: StoryDocument | None) -> None:
        if self.document is not None:
            for signal, slot in ((self.document.saveStateChanged, self._save_state),
                                 (self.document.reloaded, self._refresh_if_shown)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.document = document
        self.items, self.has_more = [], False
        self.item_filter = None
        self.setEnabled(document is not None)
        if document is not None:
            document.saveStateChanged.connect(self._save_state)
            document.reloaded.connect(self._refresh_if_shown)
        self._update_item_only()
        self._fill()
        if document is not None and self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - load when first shown, not at start-up
        super().showEvent(event)
        if self.document is not None:
            self.refresh()

    def _save_state(self, state: str, _message: str) -> None:
        if state == "saved":
            self._saved_timer.start()

    def _refresh_if_shown(self) -> None:
        if self.isVisible():
            self.refresh()

    def _filters(self) -> dict:
        return {"entity_type": self.type_combo.currentData() or None,
                "actor": self.actor_combo.currentData() or None,
                "action": self.action_combo.currentData() or None,
                "text": self.search.text().strip() or None,
                "entity_id": self.item_filter[0] if self.item_filter and
                self.item_only.isChecked() else None}

    def refresh(self, *_args) -> None:
        """Reload from the newest entry (as many as were shown), keeping the selection."""
        self._load(reset=True)

    def load_more(self) -> None:
        if self.items and self.has_more:
            self._load(reset=False)

    def _load(self, reset: bool) -> None:
        doc = self.document
        if doc is None:
            return
        self._generation += 1
        generation = self._generation
        filters = self._filters()
        same = filters == self._shown_filters  # a refresh keeps what was loaded; new filters
        limit = max(PAGE, len(self.items)) if reset and same else PAGE  # start at one page
        before = None if reset else self.items[-1].id
        keep = self.selected_item().id if self.selected_item() else None

        def shown(result) -> None:
            facets, items = result
            if generation != self._generation or self.document is not doc:
                return
            self._fill_facets(facets)
            self._shown_filters = filters
            self.has_more = len(items) > limit
            items = items[:limit]
            self.items = items if reset else self.items + items
            self._fill(keep)

        def work():
            found = edit_history.query(doc.db, doc.story_id, limit=limit + 1, before_id=before,
                                       **filters)
            return (edit_history.facets(doc.db, doc.story_id) if reset else None), found

        self.count_label.setText("Loading…")
        self.window.runner.run(work, on_done=shown, on_error=self.window.show_error)

    def _fill_facets(self, facets) -> None:
        if facets is None and self.type_combo.count():
            return
        for combo, everything, choices in (
                (self.type_combo, "All items",
                 [(c.key, c.label) for c in facets.types] if facets else []),
                (self.actor_combo, "Anyone", [(a, a) for a in facets.actors] if facets else []),
                (self.action_combo, "Any action",
                 [(c.key, c.label) for c in facets.actions] if facets else [])):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for key, label in choices:
                combo.addItem(label, key)
            if current is not None and combo.findData(current) < 0:
                combo.addItem(str(current), current)  # a filter the page no longer lists
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    def _selected_id(self) -> int | None:
        item = self.selected_item()
        return item.id if item is not None else None

    def _fill(self, keep: int | None = None) -> None:
        # Sessions are grouped over every entry loaded so far: one cut by the page boundary
        # shows as a shorter session (or a single save) until "Load more" brings the rest.
        self.rows = group_sessions(self.items) if self.group_box.isChecked() else \
            list(self.items)
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        select = None
        for entry in self.rows:
            row = QTreeWidgetItem([relative_time(entry.at), entry.actor, entry.item,
                                   entry.action_label, entry.summary])
            row.setData(0, ID_ROLE, entry.id)
            stamp = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(entry, TypingSession):
                stamp = f"{entry.started.astimezone().strftime('%Y-%m-%d %H:%M:%S')} – " \
                    f"{entry.at.astimezone().strftime('%H:%M:%S')} ({plural(entry.saves, 'save')})"
            row.setToolTip(0, stamp)
            row.setToolTip(3, entry.action_label)
            row.setToolTip(2, entry.item)
            row.setToolTip(4, entry.summary)
            if not entry.item_exists:
                for col in range(5):
                    row.setForeground(col, QBrush(GONE))
            self.tree.addTopLevelItem(row)
            if entry.id == keep or (isinstance(entry, TypingSession) and keep in entry.entry_ids):
                select = row
        self.tree.setUpdatesEnabled(True)
        if select is not None:
            self.tree.setCurrentItem(select)
        self.more_button.setVisible(self.has_more)
        n = len(self.items)
        filtered = any(v for v in self._filters().values())
        if self.document is None:
            self.count_label.setText("")
        elif n == 0:
            self.count_label.setText("No entries match these filters." if filtered
                                     else "No edits recorded yet.")
        else:
            grouped = n - len(self.rows)
            self.count_label.setText(f"{n:,} entr{'y' if n == 1 else 'ies'}"
                                     f"{' so far — older ones below' if self.has_more else ''}"
                                     f"{' (filtered)' if filtered else ''}"
                                     f"{f' in {len(self.rows):,} rows' if grouped else ''}")
        self.clear_button.setEnabled(filtered or self.item_filter is not None)
        self._show_selected()

    # --- filters ------------------------------------------------------------------------------

    def show_item(self, entity_id: str, label: str) -> None:
        """Show one item's history (a scene, a chapter with its scenes)."""
        self.item_filter = (entity_id, label)
        self._update_item_only()
        self.item_only.blockSignals(True)
        self.item_only.setChecked(True)
        self.item_only.blockSignals(False)
        self.refresh()

    def _update_item_only(self) -> None:
        self.item_only.setVisible(self.item_filter is not None)
        if self.item_filter is not None:
            self.item_only.setText(f"Only {self.item_filter[1]}")

    def clear_filters(self) -> None:
        for combo in (self.type_combo, self.actor_combo, self.action_combo):
            combo.setCurrentIndex(0)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.item_filter = None
        self._update_item_only()
        self._shown_filters = None  # a fresh start: the newest page
        self.refresh()

    # --- the selected entry ----------------------------------------------------------------------

    def selected_item(self) -> HistoryItem | None:
        row = self.tree.currentItem()
        if row is None:
            return None
        wanted = row.data(0, ID_ROLE)
        return next((i for i in self.rows if i.id == wanted), None)

    def _show_selected(self) -> None:
        item = self.selected_item()
        self.which_combo.clear()
        if item is None:
            self.detail.clear()
            self.why_not.setText("")
            self.restore_button.setEnabled(False)
            self.which_combo.setVisible(False)
            self.go_button.setEnabled(False)
            return
        self.detail.setHtml(detail_html(item))
        parts = [d for d in item.details if d.restorable]
        whole = "this session" if isinstance(item, TypingSession) else "this edit"
        self.which_combo.addItem(f"Everything {whole} replaced" if len(parts) > 1 else
                                 (parts[0].label if parts else ""), None)
        for d in parts if len(parts) > 1 else []:
            self.which_combo.addItem(f"Only {d.label[:1].lower()}{d.label[1:]}", d.key)
        self.which_combo.setVisible(item.restorable and len(parts) > 1)
        self.restore_button.setEnabled(item.restorable)
        self.why_not.setText("" if item.restorable else item.why_not)
        self.why_not.setVisible(not item.restorable and bool(item.why_not))
        self.go_button.setEnabled(item.item_exists and item.entity_type in
                                  ("scene", "scene_text", "chapter"))

    def _go_to_selected(self) -> None:
        item = self.selected_item()
        if item is not None and item.item_exists:
            self.showRequested.emit(item)

    # --- restoring ------------------------------------------------------------------------------

    def restore_selected(self) -> None:
        item = self.selected_item()
        doc = self.document
        if item is None or doc is None:
            return
        if not item.restorable:
            self.window.statusBar().showMessage(item.why_not, 8000)
            return
        which = self.which_combo.currentData() if self.which_combo.isVisible() else None
        doc.flush()  # unsaved text is saved first: the runner keeps it ahead of the restore
        if isinstance(item, TypingSession):
            self.window.runner.run(edit_history.preview_session, doc.db, doc.story_id,
                                   item.entry_ids, which,
                                   on_done=lambda plan: self._confirm(item, which, plan),
                                   on_error=self.window.show_error)
            return
        self.window.runner.run(edit_history.preview_restore, doc.db, doc.story_id, item.id,
                               which, on_done=lambda plan: self._confirm(item, which, plan),
                               on_error=self.window.show_error)

    def _confirm(self, item: HistoryItem, which: str | None, plan) -> None:
        doc = self.document
        self.last_plan = plan
        if doc is None:
            return
        if not plan.changes:
            self.window.statusBar().showMessage(
                f"Nothing to restore: {plan.what} already reads as it did before "
                f"{plan.before}.", 8000)
            return
        lines = [plan.sentence, ""]
        for change in plan.changes[:4]:
            now = "(not there now)" if change.old is None else \
                f"now “{_clip(change.old, CONFIRM_CHARS)}”"
            after = _clip(change.new or "", CONFIRM_CHARS)
            lines.append(f"• {change.label}: {now}\n   becomes “{after}”")
        if len(plan.changes) > 4:
            lines.append(f"• … and {len(plan.changes) - 4} more")
        if isinstance(item, TypingSession) and any(not d.restorable and d.key
                                                   for d in item.details):
            lines += ["", "Paragraphs this session added are left as they are: the history "
                      "puts back text an edit replaced."]
        lines += ["", "Undo (Ctrl+Z) takes it back; the restore is also recorded in the "
                  "history."]
        answer = QMessageBox.question(
            self, "Restore this?", "\n".join(lines),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            return

        self._push_restore(doc, item, which, plan.what)

    def _push_restore(self, doc: StoryDocument, item: HistoryItem, which: str | None,
                      what: str) -> None:
        """The restore as one step on the story's undo stack: undo restores the entry the
        restore wrote (which puts back what the restore replaced), redo restores that one.
        A typing session's first restore goes through ``restore_session_entry``; its undo
        and redo are single restores like any other."""
        state: dict = {"last": None}

        def run(entry_id: int | None, part: str | None, undoing: bool,
                session: tuple[int, ...] | None = None) -> None:
            if entry_id is None and session is None:
                return
            doc.flush()
            doc.begin_busy()  # no keystroke lands in text that is about to be replaced

            def done(result) -> None:
                doc.end_busy()
                sentence, state["last"] = result
                if undoing:
                    sentence = f"Undid the restore of {what}."
                self.window.statusBar().showMessage(sentence, 8000)
                self.restored.emit(item, which or "", sentence)
                self.refresh()

            def failed(exc: BaseException) -> None:
                doc.end_busy()
                self.window.show_error(exc)

            if session is not None:
                self.window.runner.run(edit_history.restore_session_entry, doc.db,
                                       doc.story_id, session, part, on_done=done,
                                       on_error=failed)
                return
            self.window.runner.run(edit_history.restore_entry, doc.db, doc.story_id, entry_id,
                                   part, on_done=done, on_error=failed)

        session = item.entry_ids if isinstance(item, TypingSession) else None
        doc.undo_stack.push(CallbackCommand(
            f"Restore {what}",
            lambda first: run(item.id, which, False, session) if first else
            run(state["last"], None, False),
            lambda: run(state["last"], None, True)))


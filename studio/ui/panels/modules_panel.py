"""The story modules panel: the story's fields and the five-step workflow, Idea Spark to
Wordsmith Lab.  Any module can be opened in any order; the navigator shows which are filled."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFrame, QHBoxLayout, QLabel, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QScrollArea, QSplitter, QStackedWidget,
    QVBoxLayout, QWidget,
)

from studio.domain import assist as assist_rules
from studio.domain.modules import (
    MODULES, PLOT_TEMPLATE_LABELS, ModuleSpec, is_filled, module_spec, plot_template_acts,
)
from studio.services import assist as assist_service
from studio.ui.panels.base import Panel
from studio.ui.widgets.assist_pane import AssistPane
from studio.ui.widgets.form import FormView, LineEdit, PlainTextEdit

SUGGEST_SHORTCUT = "Ctrl+Shift+G"

GENRES = module_spec("idea_spark").field("genre").choices


class StoryHeader(QFrame):
    """Title, logline, genre and the complete flag of the open story."""

    def __init__(self, panel: "ModulesPanel"):
        super().__init__()
        self.panel = panel
        self.setObjectName("storyHeader")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 6)
        self.title = LineEdit()
        self.title.setObjectName("storyTitle")
        self.title.setPlaceholderText("Story title")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setFrame(False)
        lay.addWidget(self.title)
        row = QHBoxLayout()
        self.logline = LineEdit()
        self.logline.setObjectName("storyLogline")
        self.logline.setPlaceholderText("Logline — the story in one sentence")
        row.addWidget(self.logline, 4)
        self.genre = QComboBox()
        self.genre.setObjectName("storyGenre")
        self.genre.setEditable(True)
        self.genre.setLineEdit(LineEdit())
        self.genre.lineEdit().setPlaceholderText("Genre")
        self.genre.addItems(("",) + GENRES)
        self.genre.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        row.addWidget(self.genre, 1)
        self.complete = QCheckBox("Complete")
        self.complete.setObjectName("storyComplete")
        self.complete.setToolTip("Mark the story as finished")
        row.addWidget(self.complete)
        lay.addLayout(row)
        self.title.textEdited.connect(lambda t: panel.edit(("story", "title"), t))
        self.logline.textEdited.connect(lambda t: panel.edit(("story", "logline"), t))
        self.genre.lineEdit().textEdited.connect(lambda t: panel.edit(("story", "genre"), t))
        self.genre.activated.connect(
            lambda i: panel.edit(("story", "genre"), self.genre.itemText(i)))
        self.complete.clicked.connect(
            lambda checked: panel.edit(("story", "complete"), checked, mergeable=False))

    def load(self, fields) -> None:
        for widget, value in ((self.title, fields.title), (self.logline, fields.logline)):
            if widget.text() != value:
                pos = widget.cursorPosition() if widget.hasFocus() else 0
                widget.setText(value)
                widget.setCursorPosition(min(pos, len(value)))
        if self.genre.currentText() != fields.genre:
            self.genre.blockSignals(True)
            self.genre.setEditText(fields.genre)
            self.genre.blockSignals(False)
        self.complete.setChecked(fields.complete)


class ModulePage(QWidget):
    """One module: its guiding questions, the author's notes and the structured output."""

    def __init__(self, spec: ModuleSpec, panel: "ModulesPanel"):
        super().__init__()
        self.spec = spec
        self.panel = panel
        self.setObjectName(f"module_{spec.key}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 12)
        heading = QLabel(f"<span style='font-size:15pt; font-weight:600'>{spec.order}. "
                         f"{spec.title}</span>&nbsp;&nbsp;<i>{spec.tagline}</i>")
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        what = assist_rules.KINDS[spec.key].what
        self.suggest_button = QPushButton(f"Suggest {what}")
        self.suggest_button.setObjectName(f"{spec.key}_suggest")
        self.suggest_button.setToolTip(
            f"Ask your AI text provider for {what} built on what you wrote "
            f"({SUGGEST_SHORTCUT}). Nothing changes until you insert one.")
        self.suggest_button.clicked.connect(lambda: panel.suggest(spec.key))
        top.addWidget(self.suggest_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addLayout(top)
        questions = QLabel("<br>".join(f"◆&nbsp;{q}" for q in spec.questions))
        questions.setObjectName("guidingQuestions")
        questions.setWordWrap(True)
        questions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(questions)

        row = QSplitter(Qt.Orientation.Horizontal)
        row.setObjectName(f"{spec.key}_split")
        self.split = row
        notes_box = QWidget()
        notes_lay = QVBoxLayout(notes_box)
        notes_lay.setContentsMargins(0, 0, 6, 0)
        notes_label = QLabel("<b>Your notes</b> — think on the page; anything goes")
        notes_label.setWordWrap(True)
        notes_lay.addWidget(notes_label)
        self.notes = PlainTextEdit()
        self.notes.setObjectName(f"{spec.key}_notes")
        self.notes.setPlaceholderText("Free notes, questions, fragments…")
        self.notes.textChanged.connect(
            lambda: panel.edit(("input", spec.key), self.notes.toPlainText()))
        notes_lay.addWidget(self.notes)
        row.addWidget(notes_box)

        self.form = FormView(spec.fields)
        self.form.setObjectName(f"{spec.key}_form")
        self.form.edited.connect(self._form_edited)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        holder_lay = QVBoxLayout(holder)
        holder_lay.setContentsMargins(6, 0, 0, 0)
        output_label = QLabel("<b>Output</b> — what this step decides")
        output_label.setWordWrap(True)
        holder_lay.addWidget(output_label)
        holder_lay.addWidget(self.form)
        holder_lay.addStretch(1)
        scroll.setWidget(holder)
        row.addWidget(scroll)
        self.assist = AssistPane(what)
        self.assist.insertRequested.connect(lambda text: panel.insert_suggestion(spec.key, text))
        self.assist.providersRequested.connect(panel.open_providers)
        self.assist.dismissed.connect(self._assist_closed)
        self.assist.hide()
        row.addWidget(self.assist)
        for index, stretch in enumerate((2, 3, 3)):
            row.setStretchFactor(index, stretch)
        row.setCollapsible(1, False)
        self._sizes_before_assist: list[int] | None = None
        lay.addWidget(row, 1)

    def open_assist(self) -> None:
        """Show the suggestions beside the form; on a narrow page the notes step aside (drag
        the divider to bring them back) so the form and the suggestions stay readable."""
        if not self.assist.isHidden():
            return
        sizes = self.split.sizes()
        self._sizes_before_assist = sizes
        width = sum(sizes) or self.width()
        self.assist.show()
        if width < 980:
            self.split.setSizes([0, width * 11 // 20, width * 9 // 20])
        else:
            self.split.setSizes([width // 4, width * 2 // 5, width - width // 4 - width * 2 // 5])

    def _assist_closed(self) -> None:
        if self._sizes_before_assist:
            self.split.setSizes(self._sizes_before_assist)
        self._sizes_before_assist = None

    def _form_edited(self, path: tuple, value: Any) -> None:
        if self.spec.key == "plot_skeleton" and path == ("template",):
            self.panel.choose_plot_template(value)
            return
        self.panel.edit(("output", self.spec.key) + tuple(path), value)

    def load(self, state) -> None:
        self.notes.set_text_keeping_cursor(state.input_text)
        self.form.load(state.output)


class ModulesPanel(Panel):
    title = "Story modules"
    object_name = "modulesPanel"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = StoryHeader(self)
        lay.addWidget(self.header)
        body = QHBoxLayout()
        body.setSpacing(0)
        self.navigator = QListWidget()
        self.navigator.setObjectName("moduleNavigator")
        self.navigator.setMinimumWidth(180)
        self.navigator.setMaximumWidth(215)
        self.navigator.setSpacing(2)
        self.pages = QStackedWidget()
        self.page_by_key: dict[str, ModulePage] = {}
        for spec in MODULES:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(spec.tagline)
            self.navigator.addItem(item)
            page = ModulePage(spec, self)
            self.page_by_key[spec.key] = page
            self.pages.addWidget(page)
        self.navigator.currentRowChanged.connect(self._page_chosen)
        self._stale: set[str] = set()  # pages still showing an older state than the document
        self.navigator.setCurrentRow(0)
        QShortcut(QKeySequence(SUGGEST_SHORTCUT), self, lambda: self.suggest(None),
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        body.addWidget(self.navigator)
        body.addWidget(self.pages, 1)
        lay.addLayout(body, 1)
        self._loading = False
        self.setEnabled(False)

    # --- editing ---------------------------------------------------------------------------

    def edit(self, target: tuple, value: Any, mergeable: bool = True) -> None:
        if self._loading or self.document is None:
            return
        self.document.edit(target, value, mergeable=mergeable)

    def choose_plot_template(self, template: str) -> None:
        doc = self.document
        if doc is None or self._loading:
            return
        output = doc.detail.modules["plot_skeleton"].output
        replace = bool(template)
        if template and is_filled("", output, "plot_skeleton"):
            answer = QMessageBox.question(
                self, "Replace the plot skeleton?",
                f"Lay out the acts and beats of “{PLOT_TEMPLATE_LABELS[template]}”? The current "
                "acts and beats are replaced (Undo brings them back).",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            replace = answer == QMessageBox.StandardButton.Yes
        doc.undo_stack.beginMacro("Choose plot structure")
        doc.edit(("output", "plot_skeleton", "template"), template, mergeable=False)
        if replace:
            doc.edit(("output", "plot_skeleton", "acts"), plot_template_acts(template),
                     mergeable=False)
        doc.undo_stack.endMacro()

    # --- module assist ---------------------------------------------------------------------

    def _assist_context(self) -> tuple[str, dict[str, dict[str, Any]]]:
        """The title and every module as they are on screen, unsaved edits included; each
        module's notes go along, as the author's own thinking the ideas should build on."""
        detail = self.document.detail
        modules = {}
        for key, state in detail.modules.items():
            modules[key] = copy.deepcopy(dict(state.output))
            if state.input_text.strip():
                modules[key]["notes"] = state.input_text
        return detail.fields.title, modules

    def suggest(self, key: str | None = None) -> None:
        """Ask the text provider for suggestions for module ``key`` (default: the one shown);
        they appear beside the form, nothing is changed until the author inserts one."""
        doc = self.document
        if doc is None:
            return
        key = key or MODULES[max(0, self.navigator.currentRow())].key
        if self.pages.currentWidget() is not self.page_by_key[key]:
            self.show_module(key)
        page = self.page_by_key[key]
        db, run_db, story_id = doc.db, doc.runner.future, doc.story_id

        def request():
            title, modules = self._assist_context()
            return assist_service.suggest(run_db, db, story_id, key, modules, title)

        page.open_assist()
        page.assist.run(request)

    def insert_suggestion(self, key: str, text: str) -> None:
        """Add a suggestion to the module (never over the author's text) as one undo step."""
        doc = self.document
        if doc is None:
            return
        old = doc.detail.modules[key].output
        new = assist_rules.insert(key, old, text)
        changed = [field for field in new if field in old and new[field] != old[field]]
        if not changed:
            return
        label = f"Insert suggested {assist_rules.KINDS[key].what.rstrip('s')}"
        doc.undo_stack.beginMacro(label)
        for field in changed:
            doc.edit(("output", key, field), new[field], text=label, mergeable=False)
        doc.undo_stack.endMacro()

    def open_providers(self) -> None:
        opener = getattr(self.window(), "show_providers", None)
        if opener is not None:
            opener()

    def show_module(self, key: str) -> None:
        self.navigator.setCurrentRow([m.key for m in MODULES].index(key))

    def _page_chosen(self, row: int) -> None:
        self.pages.setCurrentIndex(row)
        if 0 <= row < len(MODULES):
            self._load_page(MODULES[row].key)

    def _load_page(self, key: str) -> None:
        """Pages are filled when shown: opening a story costs one page, not five."""
        doc = self.document
        if doc is None or key not in self._stale:
            return
        self._stale.discard(key)
        was_loading, self._loading = self._loading, True
        try:
            self.page_by_key[key].load(doc.detail.modules[key])
        finally:
            self._loading = was_loading

    # --- showing ---------------------------------------------------------------------------

    def _refresh_navigator(self) -> None:
        doc = self.document
        for row, spec in enumerate(MODULES):
            item = self.navigator.item(row)
            filled = doc is not None and doc.detail.modules[spec.key].filled
            mark = "✔" if filled else "○"
            item.setText(f"{mark}  {spec.order}. {spec.title}\n      {spec.tagline}")
            item.setData(Qt.ItemDataRole.AccessibleDescriptionRole,
                         "filled" if filled else "not filled yet")

    def on_reloaded(self) -> None:
        doc = self.document
        self.setEnabled(doc is not None)
        for page in self.page_by_key.values():  # suggestions belong to the story they were for
            if not page.assist.isHidden():
                page.assist.dismiss()
        self._loading = True
        try:
            if doc is not None:
                self.header.load(doc.detail.fields)
                self._stale = set(self.page_by_key)
                self._load_page(MODULES[max(0, self.navigator.currentRow())].key)
            self._refresh_navigator()
        finally:
            self._loading = False

    def on_value_changed(self, target: tuple) -> None:
        doc = self.document
        if doc is None:
            return
        self._loading = True
        try:
            if target[0] == "story":
                self.header.load(doc.detail.fields)
            else:
                key = target[1]
                page = self.page_by_key[key]
                if page.assist.cards:
                    page.assist.sync_inserted(doc.detail.modules[key].output)
                if self.pages.currentWidget() is page:
                    page.load(doc.detail.modules[key])
                else:  # an undo or redo on another page: show it, filled afresh
                    self._stale.add(key)
                    self.show_module(key)
                self._refresh_navigator()
        finally:
            self._loading = False


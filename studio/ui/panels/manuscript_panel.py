"""The manuscript panel: the chapter → scene tree, the scene editor, the outline cards,
targets and the writing-progress chart, and project-wide search and replace.

Opening a story loads its outline and the visible scene only; prose is saved scene by scene,
paragraph by paragraph, on the service thread.  Structure edits (add, rename, move, delete,
replace across the project) are undoable steps on the story's undo stack; typing undo lives in
each scene's text, as in any editor.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from studio.domain.manuscript import STATUSES, count_words
from studio.domain.outline import Outline, SceneSaved, SceneText, SearchHit
from studio.services import manuscript
from studio.ui.panels.base import Panel
from studio.ui.panels.manuscript_images import SceneIllustrations
from studio.ui.panels.manuscript_structure import StructureEditing
from studio.ui.widgets.outline_tree import KIND_ROLE, UID_ROLE, OutlineTree
from studio.ui.widgets.progress_chart import WritingProgressChart
from studio.ui.widgets.scene_editor import SceneEditor
from studio.ui.widgets.target_bar import TargetProgress

LIVE_COUNT_LIMIT = 200_000  # characters: above this the scene count comes from the saves
BIG_SAVE = 300_000


class _OpenStoryRunner:
    """The service runner of whichever story the panel shows (the search panel is built
    before any story is open)."""

    def __init__(self, panel: "ManuscriptPanel"):
        self._panel = panel

    def run(self, fn: Callable, *args: Any, **kwargs: Any) -> int:
        return self._panel.document.runner.run(fn, *args, **kwargs)


class ManuscriptPanel(SceneIllustrations, StructureEditing, Panel):
    title = "Manuscript"
    object_name = "manuscriptPanel"
    countsChanged = Signal(str)
    sceneLoaded = Signal(str)
    branchFromHereRequested = Signal(str, str)  # chapter uid, title: a what-if branch
    historyRequested = Signal(str, str)  # "chapter"/"scene", uid: its edit history

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.outline: Outline | None = None
        self.current_scene_uid: str | None = None
        self._scene_segments: dict[str, list] = {}
        self._live_words: int | None = None
        self._focus_state: dict | None = None
        self._outline_view_stale = False
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        lay.addWidget(self.split)

        # Left: the tree and its buttons.
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(4, 4, 0, 4)
        buttons = QHBoxLayout()
        self.add_chapter_button = QToolButton(text="+ Chapter")
        self.add_chapter_button.setToolTip("Add a chapter (Ctrl+Shift+N)")
        self.add_scene_button = QToolButton(text="+ Scene")
        self.add_scene_button.setToolTip("Add a scene to the selected chapter (Ctrl+Alt+N)")
        self.delete_button = QToolButton(text="Delete")
        self.delete_button.setToolTip("Delete the selected chapter or scene (undoable)")
        for b in (self.add_chapter_button, self.add_scene_button, self.delete_button):
            b.setAutoRaise(True)
            buttons.addWidget(b)
        buttons.addStretch(1)
        left_lay.addLayout(buttons)
        self.tool_row = buttons
        self.tree = OutlineTree()
        left_lay.addWidget(self.tree, 1)
        self.split.addWidget(left)
        self.left = left

        # Centre: write / outline / progress.
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        write = QWidget()
        write_lay = QVBoxLayout(write)
        write_lay.setContentsMargins(0, 0, 0, 0)
        write_lay.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 4)
        self.scene_label = QLabel("")
        self.scene_label.setObjectName("sceneTitle")
        self.status_combo = QComboBox()
        self.status_combo.addItems(list(STATUSES))
        self.status_combo.setToolTip("Scene status")
        self.synopsis = QLineEdit()
        self.synopsis.setObjectName("sceneSynopsis")
        self.synopsis.setPlaceholderText("Synopsis — what happens in this scene")
        self.font_size = QSpinBox(minimum=8, maximum=36, value=13, suffix=" pt")
        self.font_size.setToolTip("Text size")
        self.line_width = QSpinBox(minimum=40, maximum=160, value=72, suffix=" ch")
        self.line_width.setToolTip("Line width in characters")
        self.language = QComboBox()
        self.language.setObjectName("storyLanguage")
        self.language.setToolTip("The story's language (spell-check dictionary)")
        from studio.services.spelling import available_languages

        for code in available_languages():
            self.language.addItem(code, code)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(90)
        self.busy.setVisible(False)
        self.busy.setToolTip("Saving a large scene…")
        for w, stretch in ((self.scene_label, 0), (self.status_combo, 0), (self.synopsis, 1),
                           (self.busy, 0), (self.language, 0), (self.font_size, 0),
                           (self.line_width, 0)):
            header.addWidget(w, stretch)
        write_lay.addLayout(header)
        self.editor = SceneEditor()
        write_lay.addWidget(self.editor, 1)
        self.tabs.addTab(write, "Write")
        self.outline_view = self._make_outline_view()
        if self.outline_view is not None:
            self.tabs.addTab(self.outline_view, "Outline")
        progress = QWidget()
        prog_lay = QVBoxLayout(progress)
        self.story_target = TargetProgress()
        self.chapter_target = TargetProgress()
        self.chart = WritingProgressChart()
        target_row = QHBoxLayout()
        set_story = QPushButton("Story target…")
        set_story.clicked.connect(self.ask_story_target)
        set_chapter = QPushButton("Chapter target…")
        set_chapter.clicked.connect(self.ask_chapter_target)
        target_row.addWidget(set_story)
        target_row.addWidget(set_chapter)
        target_row.addStretch(1)
        for w in (self.story_target, self.chapter_target):
            prog_lay.addWidget(w)
            w.targetRequested.connect(self.ask_story_target if w is self.story_target
                                      else self.ask_chapter_target)
        prog_lay.addLayout(target_row)
        prog_lay.addWidget(QLabel("<b>Words written per day</b> — the last 90 days"))
        prog_lay.addWidget(self.chart, 1)
        self.tabs.addTab(progress, "Progress")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.split.addWidget(self.tabs)

        # Right: project search (hidden until asked for).
        self.search = self._make_search_panel()
        if self.search is not None:
            self.split.addWidget(self.search)
            self.search.setVisible(False)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([250, 800, 300])

        self._connect()
        self._setup_illustrations()
        self._count_timer = QTimer(self, singleShot=True, interval=400)
        self._count_timer.timeout.connect(self._update_live_count)
        self._restore_view_settings()
        self.setEnabled(False)

    def _tab_changed(self, _index: int) -> None:
        if getattr(self, "_outline_view_stale", False):
            self._refresh_outline_view()

    # --- construction helpers ---------------------------------------------------------------

    def _make_outline_view(self):
        try:
            from studio.ui.widgets.outline_view import OutlineView
        except ImportError:  # pragma: no cover - the view ships with the app
            return None
        view = OutlineView()
        view.sceneActivated.connect(self._outline_scene_activated)
        return view

    def _make_search_panel(self):
        try:
            from studio.ui.widgets.search_panel import ProjectSearchPanel
        except ImportError:  # pragma: no cover
            return None
        panel = ProjectSearchPanel(_OpenStoryRunner(self), self._search)
        panel.hitActivated.connect(self.jump_to_hit)
        panel.replaceRequested.connect(self.replace_across_project)
        return panel


    def _connect(self) -> None:
        self.tree.currentItemChanged.connect(self._tree_selected)
        self.tree.sceneMoveRequested.connect(self.move_scene)
        self.tree.chapterMoveRequested.connect(self.move_chapter)
        self.tree.renamed.connect(self.rename)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._tree_menu)
        self.add_chapter_button.clicked.connect(lambda: self.add_chapter())
        self.add_scene_button.clicked.connect(lambda: self.add_scene())
        self.delete_button.clicked.connect(self.delete_selected)
        self.editor.textEdited.connect(self._text_edited)
        self.editor.edit.bigPasteStarted.connect(self._big_paste_started)
        self.editor.edit.bigPasteProgress.connect(
            lambda done, total: self.busy.setValue(int(1000 * done / max(1, total))))
        self.editor.edit.bigPasteFinished.connect(lambda: self.busy.setRange(0, 0))
        self.status_combo.activated.connect(
            lambda i: self._scene_field("status", self.status_combo.itemText(i)))
        self.synopsis.editingFinished.connect(
            lambda: self._scene_field("synopsis", self.synopsis.text()))
        self.language.activated.connect(
            lambda i: self.set_language(self.language.itemData(i)))
        self.font_size.valueChanged.connect(self._view_changed)
        self.line_width.valueChanged.connect(self._view_changed)
        QShortcut(QKeySequence("Ctrl+Shift+F"), self, self.show_search)
        QShortcut(QKeySequence("Ctrl+Shift+N"), self, lambda: self.add_chapter())
        QShortcut(QKeySequence("Ctrl+Alt+N"), self, lambda: self.add_scene())
        QShortcut(QKeySequence("Shift+F11"), self, self.toggle_focus_mode)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.editor.edit,
                  lambda: self.toggle_focus_mode() if self._focus_state else None)

    def _restore_view_settings(self) -> None:
        settings = QSettings()
        self.font_size.setValue(int(settings.value("manuscript/fontSize", 13)))
        self.line_width.setValue(int(settings.value("manuscript/lineWidth", 72)))
        self._view_changed()

    def _view_changed(self, *_args) -> None:
        self.editor.edit.set_point_size(self.font_size.value())
        self.editor.edit.set_line_chars(self.line_width.value())
        settings = QSettings()
        settings.setValue("manuscript/fontSize", self.font_size.value())
        settings.setValue("manuscript/lineWidth", self.line_width.value())

    # --- the document ---------------------------------------------------------------------------

    def on_reloaded(self) -> None:
        doc = self.document
        self.setEnabled(doc is not None)
        self.editor.forget_all()
        self.current_scene_uid = None
        self.outline = None
        self.tree.clear()
        self._forget_scene_images()
        if doc is None:
            return
        doc.scene_text = self.editor.text_of
        if getattr(self, "_connected_doc", None) is not doc:  # reloads keep the connection
            doc.sceneSaved.connect(self._scene_saved)
            self._connected_doc = doc
        if self.search is not None:
            self.search.set_enabled_story(True)
        self.refresh_outline(open_first=True)

    def _run(self, fn: Callable, *args: Any, then: Callable | None = None, **kwargs: Any) -> None:
        """Run a manuscript service for the open story on the service thread."""
        doc = self.document
        if doc is None:
            return
        on_error = getattr(self.window(), "show_error", None)
        doc.runner.run(fn, doc.db, doc.story_id, *args, on_done=then, on_error=on_error,
                       **kwargs)

    def refresh_outline(self, open_first: bool = False, then: Callable | None = None) -> None:
        doc = self.document

        def show(outline: Outline) -> None:
            if self.document is not doc:
                return
            self.outline = outline
            self.tree.fill(outline, self.current_scene_uid)
            self._refresh_outline_view()
            still_there = self.current_scene_uid and outline.scene(self.current_scene_uid)
            if (open_first or not still_there):
                first = next((s.uid for c in outline.chapters for s in c.scenes), None)
                if still_there:
                    first = self.current_scene_uid
                if first:
                    self.open_scene(first)
                else:
                    self.editor.clear()
                    self.current_scene_uid = None
                    self._show_scene_header()
            self._update_counts()
            self._ensure_speller(outline.language)
            if then:
                then(outline)

        self._run(manuscript.outline, then=show)

    def set_language(self, language: str) -> None:
        """The story's language: saved with the story, and spell-check follows it."""
        if self.outline is None or language == self.outline.language:
            return
        self.outline.language = language
        self._run(manuscript.set_language, language)
        self._ensure_speller(language)

    def _refresh_outline_view(self) -> None:
        """The cards are laid out only while their tab is shown (and when it is opened)."""
        if self.outline_view is None or self.outline is None:
            return
        if self.tabs.currentWidget() is self.outline_view:
            self.outline_view.set_outline(self.outline)
            self.outline_view.set_current_scene(self.current_scene_uid)
            self._outline_view_stale = False
            self._load_scene_images()
        else:
            self._outline_view_stale = True

    def _ensure_speller(self, language: str) -> None:
        """Load the dictionary on the service thread (it takes a moment), then underline."""
        index = self.language.findData(language)
        if index >= 0:
            self.language.setCurrentIndex(index)
        if getattr(self, "_speller_language", None) == language or self.document is None:
            return
        self._speller_language = language
        from studio.services.spelling import get_speller

        path = self.document.db.data_dir / f"personal-words-{language}.txt"
        self.document.runner.run(get_speller, language, path, on_done=self.editor.set_speller,
                                 on_error=lambda exc: self.window().statusBar().showMessage(
                                     f"Spell-check is off: {exc}", 8000))

    # --- scenes ---------------------------------------------------------------------------------

    def open_scene(self, uid: str) -> None:
        if self.editor.has_scene(uid):
            self._show_scene(uid, None)
            return
        doc = self.document

        def loaded(scene: SceneText) -> None:
            if self.document is doc:
                self._scene_segments[uid] = scene.segments
                self._show_scene(uid, scene.text)

        self._run(manuscript.load_scene, uid, then=loaded)

    def _show_scene(self, uid: str, text: str | None) -> None:
        self.current_scene_uid = uid
        self.editor.show_scene(uid, text)
        self._live_words = None
        self._show_scene_header()
        item = self._item_for(uid)
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
        if self.outline_view is not None and self.tabs.currentWidget() is self.outline_view:
            self.outline_view.set_current_scene(uid)
        self._update_counts()
        self.sceneLoaded.emit(uid)

    def _show_scene_header(self) -> None:
        scene = self.outline.scene(self.current_scene_uid) if (
            self.outline and self.current_scene_uid) else None
        self.scene_label.setText(f"<b>{scene.title}</b>" if scene else "")
        self.status_combo.setEnabled(scene is not None)
        self.synopsis.setEnabled(scene is not None)
        if scene is not None:
            self.status_combo.setCurrentText(scene.status)
            if not self.synopsis.hasFocus():
                self.synopsis.setText(scene.synopsis)
                self.synopsis.setCursorPosition(0)

    def _item_for(self, uid: str):
        for i in range(self.tree.topLevelItemCount()):
            ch = self.tree.topLevelItem(i)
            if ch.data(0, UID_ROLE) == uid:
                return ch
            for j in range(ch.childCount()):
                if ch.child(j).data(0, UID_ROLE) == uid:
                    return ch.child(j)
        return None

    def _tree_selected(self, item, _previous) -> None:
        if item is None:
            return
        if item.data(0, KIND_ROLE) == "scene":
            self.open_scene(item.data(0, UID_ROLE))
        self._update_counts()

    def _outline_scene_activated(self, uid: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.open_scene(uid)

    def _text_edited(self, uid: str) -> None:
        if self.document is not None:
            self.document.mark_scene_dirty(uid)
        if uid == self.current_scene_uid:
            self._count_timer.start()

    def _scene_saved(self, result: SceneSaved, text: str) -> None:
        self.editor.mark_saved(result.uid, text)
        if self.outline is not None:
            scene = self.outline.scene(result.uid)
            if scene is not None:
                scene.words = result.words
            self.outline.today_words += result.delta
            item = self._item_for(result.uid)
            if item is not None:
                item.setText(1, f"{result.words:,}")
                chapter = self.outline.chapter_of(result.uid)
                if chapter is not None and item.parent() is not None:
                    item.parent().setText(1, f"{chapter.words:,}")
        self._scene_segments.pop(result.uid, None)
        self.busy.setVisible(False)
        self._update_counts()

    def _big_paste_started(self, characters: int) -> None:
        self.busy.setRange(0, 1000)
        self.busy.setValue(0)
        self.busy.setVisible(True)
        self.window().statusBar().showMessage(
            f"Pasting {characters:,} characters… (spell-check is paused for a scene this long)",
            8000)

    def _update_live_count(self) -> None:
        text = self.editor.text_of(self.current_scene_uid) if self.current_scene_uid else None
        if text is None:
            return
        if len(text) > BIG_SAVE:
            self.busy.setVisible(True)
        self._live_words = count_words(text) if len(text) <= LIVE_COUNT_LIMIT else None
        self._update_counts()

    def _update_counts(self) -> None:
        outline = self.outline
        if outline is None:
            self.countsChanged.emit("")
            return
        scene = outline.scene(self.current_scene_uid) if self.current_scene_uid else None
        chapter = outline.chapter_of(self.current_scene_uid) if scene else None
        extra = (self._live_words - scene.words) if (scene and self._live_words is not None) \
            else 0
        scene_words = scene.words + extra if scene else 0
        chapter_words = chapter.words + extra if chapter else 0
        story_words = outline.words + extra
        today = outline.today_words + extra
        parts = []
        if scene:
            parts.append(f"Scene {scene_words:,}")
        if chapter:
            parts.append(f"Chapter {chapter_words:,}")
        parts += [f"Story {story_words:,}", f"Today {today:,} words"]
        self.countsChanged.emit(" · ".join(parts))
        self.story_target.set_progress("Story", story_words, outline.word_target)
        if chapter is not None:
            self.chapter_target.set_progress(chapter.title, chapter_words, chapter.word_target)
        self.chapter_target.setVisible(chapter is not None)

    def show_progress(self) -> None:
        self.tabs.setCurrentIndex(self.tabs.count() - 1)
        self._run(manuscript.writing_history, then=lambda days: self.chart.set_data(days))

    # --- search and replace ------------------------------------------------------------------

    def _search(self, query: str):
        doc = self.document
        return manuscript.search(doc.db, doc.story_id, query)

    def show_search(self) -> None:
        if self.search is None:
            return
        self.search.setVisible(True)
        self.search.focus_query()

    def jump_to_hit(self, hit: SearchHit, query: str) -> None:
        self.tabs.setCurrentIndex(0)
        word = query.strip().strip('"').split()[0] if query.strip().strip('"') else ""

        def place(scene: SceneText | None = None) -> None:
            segments = scene.segments if scene is not None else self._scene_segments.get(
                hit.scene_uid)
            if scene is not None:
                self._scene_segments[hit.scene_uid] = scene.segments
                if not self.editor.has_scene(hit.scene_uid):
                    self._show_scene(hit.scene_uid, scene.text)
            if self.current_scene_uid != hit.scene_uid:
                self._show_scene(hit.scene_uid, None)
            block = 0
            for i, seg in enumerate(segments or []):
                block += seg.gap + (1 if i else 0)
                if seg.id == hit.segment_uid:
                    break
            self.editor.select_in_block(block, word)

        if self.editor.has_scene(hit.scene_uid) and not self.editor_modified(hit.scene_uid) \
                and hit.scene_uid in self._scene_segments:
            place()
        else:
            self.document.flush()
            self._run(manuscript.load_scene, hit.scene_uid, then=place)

    def jump_to_segment(self, scene_uid: str, segment_uid: str) -> None:
        self.jump_to_hit(SearchHit("", "", scene_uid, "", segment_uid, ""), "")

    def show_restored(self, kind: str, uid: str, segment_uid: str = "") -> None:
        """The edit history restored something of ``uid``: read it again from the database
        (a scene's cached text is dropped first, so the editor shows the restored words)."""
        if kind != "scene_text":
            self._reload_outline_only()
            return
        self.editor.forget(uid)
        self._scene_segments.pop(uid, None)
        self.refresh_outline(then=lambda _o: self.jump_to_segment(uid, segment_uid))

    def editor_modified(self, uid: str) -> bool:
        doc = self.editor._documents.get(uid)
        return bool(doc is not None and doc.isModified())

    # --- focus mode -------------------------------------------------------------------------

    def toggle_focus_mode(self) -> None:
        """Distraction-free writing: only the text, full screen; Esc or Shift+F11 leaves."""
        window = self.window()
        if self._focus_state is None:
            self._focus_state = {"full": window.isFullScreen()}
            self.left.setVisible(False)
            self.tabs.tabBar().setVisible(False)
            if self.search is not None:
                self._focus_state["search"] = self.search.isVisible()
                self.search.setVisible(False)
            for bar in (window.menuBar(), window.statusBar()):
                bar.setVisible(False)
            self._focus_state["hidden_docks"] = []
            from PySide6.QtWidgets import QDockWidget
            for dock in window.findChildren(QDockWidget):
                if dock.isVisible():
                    self._focus_state["hidden_docks"].append(dock)
                    dock.setVisible(False)
            tabs = self.parentWidget()
            while tabs is not None and not isinstance(tabs, QTabWidget):
                tabs = tabs.parentWidget()
            if tabs is not None:
                tabs.tabBar().setVisible(False)
                self._focus_state["outer_tabs"] = tabs
            window.showFullScreen()
            self.editor.edit.setFocus()
        else:
            state, self._focus_state = self._focus_state, None
            self.left.setVisible(True)
            self.tabs.tabBar().setVisible(True)
            if self.search is not None and state.get("search"):
                self.search.setVisible(True)
            for bar in (window.menuBar(), window.statusBar()):
                bar.setVisible(True)
            for dock in state["hidden_docks"]:
                dock.setVisible(True)
            if state.get("outer_tabs") is not None:
                state["outer_tabs"].tabBar().setVisible(True)
            if not state["full"]:
                window.showNormal()

    @property
    def in_focus_mode(self) -> bool:
        return self._focus_state is not None


"""The Chapter Graph panel: chapters as a graph, an inspector, and the playtest.

Graph edits (add, link, unlink, move, delete, arrange, edit in the inspector, import) go through
the story's undo stack; undo stores the graph as it was.  A prerequisite that would close a
cycle is refused before anything is sent (the cycle is flashed on the graph and named).  The
playtest runs turns on the worker thread and shows activation, scores, healing and the log.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain import chapters as rules
from studio.domain.errors import StudioError
from studio.services import chapter_graph, chapter_import, playtest
from studio.ui.commands import CallbackCommand
from studio.ui.panels.base import Panel
from studio.ui.panels.chapter_graph_ai import ChapterGraphAi
from studio.ui.widgets.chapter_graph_view import ChapterGraphView
from studio.ui.widgets.chapter_inspector import ChapterInspector
from studio.ui.widgets.playtest_view import PlaytestView


class ChapterGraphPanel(ChapterGraphAi, Panel):
    title = "Chapter Graph"
    object_name = "chapterGraphPanel"
    graphChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.graph: dict[str, Any] = {"chapters": []}
        self.view_data: chapter_graph.GraphView | None = None
        self.selected: str | None = None
        self.play: playtest.PlaythroughView | None = None
        self._build()

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.add_button = QPushButton("+ Chapter")
        self.add_button.setToolTip("Add a chapter (after the selected one, if any)")
        self.add_button.clicked.connect(lambda: self.add_chapter(after=self.selected))
        self.arrange_button = QPushButton("Arrange")
        self.arrange_button.setToolTip("Lay the graph out in layers automatically")
        self.arrange_button.clicked.connect(self.arrange)
        self.fit_button = QPushButton("Fit")
        self.import_markers_button = QPushButton("Import ‹chapter›…")
        self.import_markers_button.clicked.connect(lambda: self.import_file("markers"))
        self.import_twee_button = QPushButton("Import Twee…")
        self.import_twee_button.clicked.connect(lambda: self.import_file("twee"))
        self.export_twee_button = QPushButton("Export Twee…")
        self.export_twee_button.clicked.connect(self.export_twee)
        for b in (self.add_button, self.arrange_button, self.fit_button,
                  self.import_markers_button, self.import_twee_button,
                  self.export_twee_button):
            bar.addWidget(b)
        bar.addStretch(1)
        self.message = QLabel()
        self.message.setObjectName("graphMessage")
        self.message.setWordWrap(True)
        bar.addWidget(self.message, 2)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.canvas = ChapterGraphView()
        self.fit_button.clicked.connect(self.canvas.fit)
        self.canvas.chapterSelected.connect(self._selected)
        self.canvas.chapterActivated.connect(lambda cid: self.side.setCurrentIndex(0))
        self.canvas.prerequisiteRequested.connect(self.add_prerequisite)
        self.canvas.prerequisiteRemoveRequested.connect(self.remove_prerequisite)
        self.canvas.chapterDeleteRequested.connect(self.delete_chapter)
        self.canvas.nodesMoved.connect(self.move_nodes)
        self.canvas.addChapterRequested.connect(
            lambda x, y: self.add_chapter(position=(x, y)))
        self.canvas.layoutRequested.connect(self.arrange)
        self.canvas.contextAction.connect(self._context_action)
        split.addWidget(self.canvas)
        self.side = QTabWidget()
        self.side.setDocumentMode(True)
        self.inspector = ChapterInspector()
        self.inspector.edited.connect(self.update_chapter)
        self.side.addTab(self.inspector, "Inspector")
        self.playtest = PlaytestView()
        self.playtest.newRequested.connect(self.new_playthrough)
        self.playtest.playthroughChosen.connect(self.open_playthrough)
        self.playtest.playRequested.connect(self.play_turn)
        self.playtest.replayRequested.connect(self.replay)
        self.playtest.replayManuscriptRequested.connect(self.replay_manuscript)
        self.playtest.relaxationAccepted.connect(self.apply_relaxation)
        self.playtest.completeRequested.connect(self.complete_chapter)
        self.side.addTab(self.playtest, "Playtest")
        self.versions = QTreeWidget()
        self.versions.setObjectName("chapterVersions")
        self.versions.setHeaderLabels(["Chapter", "#", "By", "What changed"])
        self.versions.setRootIsDecorated(False)
        self.side.addTab(self.versions, "Versions")
        split.addWidget(self.side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.split = split
        self._sized = False
        lay.addWidget(split, 1)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._sized:
            # The graph gets the larger share once the panel has a real width.
            self._sized = True
            total = sum(self.split.sizes())
            self.split.setSizes([round(total * 0.6), total - round(total * 0.6)])
            self.canvas.fit()

    # --- loading ------------------------------------------------------------------------

    def _run(self, fn: Callable, *args, then: Callable | None = None,
             on_error: Callable | None = None) -> None:
        doc = self.document
        if doc is None:
            return

        def done(result):
            if self.document is doc and then is not None:
                then(result)

        doc.runner.run(fn, doc.db, doc.story_id, *args, on_done=done,
                       on_error=on_error or self._error)

    def on_reloaded(self) -> None:
        self.graph = {"chapters": []}
        self.selected = None
        self.play = None
        self.playtest.set_playthrough(None)
        if self.document is None:
            self.canvas.set_graph([])
            self.inspector.set_chapter(None)
            return
        self.refresh()
        self._run(playtest.list_playthroughs,
                  then=lambda items: self.playtest.set_playthroughs(items, None))

    def refresh(self) -> None:
        self._run(chapter_graph.load, then=self._loaded)

    def _loaded(self, view: chapter_graph.GraphView) -> None:
        self.view_data = view
        self._show_graph(view.graph)

    def _show_graph(self, graph: dict[str, Any]) -> None:
        self.graph = graph
        chapters = graph.get("chapters", [])
        self.canvas.set_graph(chapters)
        characters = self.view_data.characters if self.view_data else []
        locations = self.view_data.locations if self.view_data else []
        self.inspector.set_context(chapters, characters, locations)
        self.playtest.set_context(chapters, characters, locations)
        ids = {c["id"] for c in chapters}
        if self.selected not in ids:
            self.selected = None
        self._show_selected()
        self._update_states()
        self._run(chapter_graph.chapter_versions, then=self._versions_loaded)
        self.graphChanged.emit()

    def _show_selected(self) -> None:
        chapter = next((c for c in self.graph.get("chapters", [])
                        if c["id"] == self.selected), None)
        self.inspector.set_chapter(copy.deepcopy(chapter) if chapter else None)
        if chapter is not None:
            self.canvas.select_chapter(chapter["id"])

    def _versions_loaded(self, items: list[dict]) -> None:
        titles = {c["id"]: f"{c['number']}. {c['title']}" for c in self.graph["chapters"]}
        self.versions.clear()
        for v in reversed(items):
            item = QTreeWidgetItem([titles.get(v["chapter"], v["chapter"]), str(v["number"]),
                                    v["created_by"], v["description"]])
            item.setToolTip(3, v["description"])
            self.versions.addTopLevelItem(item)
        for col in range(3):
            self.versions.resizeColumnToContents(col)

    # --- graph edits (undoable) ---------------------------------------------------------

    def _edit(self, label: str, op: Callable, *args) -> None:
        """Run ``op`` as an undoable step; undo puts back the graph as it is now."""
        if self.document is None:
            return
        before = copy.deepcopy(self.graph)
        after: dict[str, Any] = {}

        def redo(first: bool) -> None:
            if first:
                self._run(op, *args, then=lambda g: (after.update(g), self._show_graph(g)))
            else:
                self._run(chapter_graph.replace_graph, after, "redo", then=self._show_graph)

        def undo() -> None:
            self._run(chapter_graph.replace_graph, before, "undo", then=self._show_graph)

        self.document.undo_stack.push(CallbackCommand(label, redo, undo))

    def add_chapter(self, after: str | None = None,
                    position: tuple[float, float] | None = None) -> None:
        def op(db, story_id):
            chapter_graph.add_chapter(db, story_id, "", position, after)
            return chapter_graph.load(db, story_id).graph

        self._edit("Add chapter", op)

    def add_prerequisite(self, prerequisite: str, chapter_id: str) -> None:
        graph = rules.ChapterGraph.from_dict(self.graph)
        if prerequisite == chapter_id:
            return
        cycle = rules.cycle_if_added(graph, prerequisite, chapter_id)
        if cycle:
            names = " → ".join(f"{graph.by_id[c].number} “{graph.by_id[c].title}”"
                               for c in cycle)
            message = f"Refused: that prerequisite would make a cycle: {names}"
            self.canvas.flash_refusal(cycle, message)
            self._show_message(message)
            return
        self._hide_message()
        self._edit("Add prerequisite", chapter_graph.add_prerequisite, prerequisite, chapter_id)

    def remove_prerequisite(self, prerequisite: str, chapter_id: str) -> None:
        self._edit("Remove prerequisite", chapter_graph.remove_prerequisite, prerequisite,
                   chapter_id)

    def delete_chapter(self, chapter_id: str) -> None:
        def op(db, story_id):
            chapter_graph.delete_chapter(db, story_id, chapter_id)
            return chapter_graph.load(db, story_id).graph

        self._edit("Delete chapter", op)

    def move_nodes(self, positions: dict) -> None:
        self._edit("Move chapters", chapter_graph.move_nodes, positions)

    def arrange(self) -> None:
        self._edit("Arrange graph", chapter_graph.arrange)

    def update_chapter(self, chapter: dict) -> None:
        self._edit("Edit chapter", chapter_graph.update_chapter, chapter)

    def _context_action(self, action: str, chapter_id: str) -> None:
        if action in ("open", "Open in inspector"):
            self._selected(chapter_id)
            self.side.setCurrentIndex(0)
        elif action in ("delete", "Delete chapter"):
            self.delete_chapter(chapter_id)
        elif action in ("add_after", "Add chapter after"):
            self.add_chapter(after=chapter_id)

    def _selected(self, chapter_id: str) -> None:
        self.inspector.flush()
        self.selected = chapter_id or None
        self._show_selected()

    # --- import / export ----------------------------------------------------------------

    def import_file(self, kind: str, path: str | None = None) -> None:
        if path is None:
            filters = ("Chapter text (*.txt *.md);;All files (*)" if kind == "markers"
                       else "Twee 3 (*.twee *.tw);;All files (*)")
            path, _ = QFileDialog.getOpenFileName(self, "Import chapters", "", filters)
            if not path:
                return
        fn = chapter_import.import_markers if kind == "markers" else chapter_import.import_twee

        def op(db, story_id, p=Path(path)):
            fn(db, story_id, p)
            return chapter_graph.load(db, story_id).graph

        self._edit(f"Import {Path(path).name}", op)

    def export_twee(self, path: str | None = None) -> None:
        if path is None:
            title = self.document.detail.fields.title if self.document else "story"
            path, _ = QFileDialog.getSaveFileName(self, "Export Twee", f"{title}.twee",
                                                  "Twee 3 (*.twee)")
            if not path:
                return
        self._run(chapter_import.export_twee, Path(path),
                  then=lambda _: self._show_message(f"Exported to {path}", error=False))

    # --- playtest -----------------------------------------------------------------------

    def _update_states(self) -> None:
        states: dict[str, str] = {}
        if self.play is not None:
            for cid, p in self.play.progress.items():
                if p.get("completed_turn"):
                    states[cid] = ("diverged" if p.get("completion_method")
                                   == "diverged-alternate" else "completed")
                elif p.get("activated_turn"):
                    states[cid] = "active"
            for cid in (self.play.last or {}).get("available", []):
                states.setdefault(cid, "available")
        self.canvas.set_node_states(states)

    def _show_play(self, view: playtest.PlaythroughView) -> None:
        self.play = view
        self.playtest.set_busy(False)
        self.playtest.set_playthrough(view)
        if view.graph and view.graph != self.graph:
            self._show_graph(view.graph)
        else:
            self._update_states()
            self._run(chapter_graph.chapter_versions, then=self._versions_loaded)
        self._run(playtest.list_playthroughs,
                  then=lambda items: self.playtest.set_playthroughs(items, view.uid))

    def new_playthrough(self, state: dict) -> None:
        self.playtest.set_busy(True, "Starting…")
        self._run(playtest.start, "", state, then=self._show_play, on_error=self._play_error)

    def open_playthrough(self, uid: str) -> None:
        self._run(playtest.open_playthrough, uid, then=self._show_play)

    def replay(self) -> None:
        if self.play is not None:
            self.playtest.set_busy(True, "Replaying…")
            self._run(playtest.replay, self.play.uid, then=self._show_play,
                      on_error=self._play_error)

    def replay_manuscript(self) -> None:
        """A new playthrough whose turns are the manuscript's paragraphs."""
        self.playtest.set_busy(True, "Replaying the manuscript…")

        def job(db, story_id, state=self.playtest.state()):
            view = playtest.start(db, story_id, "Manuscript replay", state)
            for text in playtest.manuscript_turns(db, story_id):
                view = playtest.play_turn(db, story_id, view.uid, text, {})
            return view

        self._run(job, then=self._show_play, on_error=self._play_error)

    def apply_relaxation(self, proposal: dict) -> None:
        if self.play is not None:
            self._run(playtest.apply_relaxation, self.play.uid, proposal,
                      then=self._show_play, on_error=self._play_error)

    def complete_chapter(self, chapter_id: str) -> None:
        if self.play is not None:
            self._run(playtest.complete_chapter, self.play.uid, chapter_id,
                      then=self._show_play)

    def _play_error(self, exc: BaseException) -> None:
        self.playtest.set_busy(False, str(exc))
        self._error(exc)

    # --- messages -----------------------------------------------------------------------

    def _show_message(self, text: str, error: bool = True) -> None:
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        self.message.setText(text)
        self.message.show()

    def _hide_message(self) -> None:
        self.message.clear()

    def _error(self, exc: BaseException) -> None:
        self._show_message(str(exc) if isinstance(exc, StudioError)
                           else f"Something went wrong: {exc}")
        self.refresh()

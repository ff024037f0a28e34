"""The Scene Bible panel: the open story's cast and world, its history, emotions, continuity.

Left, the bible editor (forms per section and a JSON view).  Above it, whose bible is edited
(this book, or the series it belongs to) and a slider to see the bible *as of* any scene.
Right, the relationship graph, the emotional arcs, the continuity findings and the bible's own
version history.

Every edit is a save of a new bible version through the story's undo stack (undo saves the
previous record as yet another version: history is never rewritten).  Saves name the version
they were made against; a refused stale save opens a dialog with both versions.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QMessageBox, QSlider, QSplitter,
    QTabWidget, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain import bible as rules
from studio.domain.errors import StudioError
from studio.services import bible as bible_service
from studio.services import continuity, emotions
from studio.services.bible import StaleBibleError
from studio.services.schemas import bible_problems
from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.stale_bible_dialog import StaleBibleDialog
from studio.ui.panels.base import Panel
from studio.ui.panels.bible_emotions import BibleEmotionsMixin
from studio.ui.timefmt import relative_time
from studio.ui.widgets.bible_editor import BibleEditor
from studio.ui.widgets.continuity_view import ContinuityView
from studio.ui.widgets.emotion_arc_chart import ArcPoint, EmotionArcChart
from studio.ui.widgets.emotion_editor import EmotionEditor
from studio.ui.widgets.relationship_graph import RelationshipGraph

CHECK_AFTER_EDIT_MS = 4000


class _Cancelled(Exception):
    """Raised from the checker's progress callback when a newer check replaced it."""


class _Progress(QObject):
    """Carries progress from the worker thread to the UI thread (queued signal)."""

    changed = Signal(int, int, int)  # generation, done, total


class BiblePanel(BibleEmotionsMixin, Panel):
    title = "Scene Bible"
    object_name = "biblePanel"
    segmentRequested = Signal(str, str)  # scene uid, segment uid

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state: bible_service.BibleState | None = None
        self.scope: bible_service.Scope = "story"
        self._expected = {"story": 0, "series": 0}  # version the next save is made against
        self._scenes: list[tuple[str, str]] = []
        self._places: dict[str, tuple[str, str]] = {}
        self._emotions: list[dict] = []
        self._steps: dict[tuple[str, str], Any] = {}
        self._graph_chars: list[dict] | None = None
        self._series_cache: list[bible_service.SeriesInfo] = []
        self._viewing: str | None = None  # banner text while a past state is shown
        self._check_generation = 0
        self._sized = False
        self._checked_once = False
        self._progress = _Progress(self)
        self._progress.changed.connect(self._on_progress)
        self._build()

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(QLabel("Editing"))
        self.scope_box = QComboBox()
        self.scope_box.setObjectName("bibleScope")
        self.scope_box.setToolTip("Edit this book's own bible or the series bible it shares")
        self.scope_box.currentIndexChanged.connect(self._scope_changed)
        top.addWidget(self.scope_box)
        self.series_button = QToolButton()
        self.series_button.setText("Series")
        self.series_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.series_menu = QMenu(self)
        self.series_menu.aboutToShow.connect(self._fill_series_menu)
        self.series_button.setMenu(self.series_menu)
        top.addWidget(self.series_button)
        top.addSpacing(16)
        top.addWidget(QLabel("As of"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("asOfSlider")
        self.slider.setToolTip("See the bible as it stood at the end of any scene")
        self.slider.setPageStep(1)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._slider_moved)
        top.addWidget(self.slider, 1)
        self.as_of_label = QLabel("Now")
        self.as_of_label.setObjectName("asOfLabel")
        self.as_of_label.setMinimumWidth(160)
        top.addWidget(self.as_of_label)
        lay.addLayout(top)
        self.message = QLabel()
        self.message.setObjectName("bibleMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        lay.addWidget(self.message)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.editor = BibleEditor()
        self.editor.set_validator(self._validate_for_editor)
        self.editor.edited.connect(self._edited)
        self.editor.characterSelected.connect(self._character_selected)
        split.addWidget(self.editor)
        self.side = QTabWidget()
        self.side.setObjectName("bibleSide")
        self.side.setDocumentMode(True)
        self.graph = RelationshipGraph()
        self.graph.characterActivated.connect(self._graph_character)
        self.side.addTab(self.graph, "Relationships")
        emotions_page = QWidget()
        elay = QVBoxLayout(emotions_page)
        elay.setContentsMargins(0, 0, 0, 0)
        self.chart = EmotionArcChart()
        self.chart.sceneActivated.connect(self._chart_scene)
        self.emotion_editor = EmotionEditor()
        self.emotion_editor.characterChanged.connect(lambda _: self._show_emotion())
        self.emotion_editor.sceneChanged.connect(lambda _: self._show_emotion())
        self.emotion_editor.saveRequested.connect(self._save_emotion)
        self.emotion_editor.removeRequested.connect(self._remove_emotion)
        esplit = QSplitter(Qt.Orientation.Vertical)
        esplit.addWidget(self.chart)
        esplit.addWidget(self.emotion_editor)
        esplit.setSizes([300, 260])
        elay.addWidget(esplit)
        self.side.addTab(emotions_page, "Emotions")
        self.findings = ContinuityView()
        self.findings.runRequested.connect(self.run_check)
        self.findings.findingActivated.connect(
            lambda f: self.segmentRequested.emit(f.scene_uid or "", f.segment_id or ""))
        self.findings.dismissRequested.connect(self._dismiss)
        self.findings.undismissRequested.connect(self._undismiss)
        self.findings.addToBibleRequested.connect(self._add_from_finding)
        self.side.addTab(self.findings, "Continuity")
        self.history = QTreeWidget()
        self.history.setObjectName("bibleHistory")
        self.history.setHeaderLabels(["#", "Change", "Caused by", "Saved"])
        self.history.setRootIsDecorated(False)
        self.history.setAlternatingRowColors(True)
        self.history.itemActivated.connect(self._history_activated)
        self.side.addTab(self.history, "History")
        self.side.currentChanged.connect(self._side_tab_changed)
        split.addWidget(self.side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([720, 440])
        self.split = split
        lay.addWidget(split, 1)
        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_AFTER_EDIT_MS)
        self._check_timer.timeout.connect(self.run_check)
        QShortcut(QKeySequence("F7"), self, self.run_check,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- the open story -----------------------------------------------------------------

    def set_document(self, document) -> None:
        if self.document is not None:
            try:
                self.document.sceneSaved.disconnect(self._scene_saved)
            except (RuntimeError, TypeError):
                pass
        self._check_generation += 1
        self._checked_once = False
        super().set_document(document)
        if document is not None:
            document.sceneSaved.connect(self._scene_saved)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._sized:
            # The editor gets the larger share once the panel has a real width.
            self._sized = True
            total = sum(self.split.sizes())
            self.split.setSizes([round(total * 0.58), total - round(total * 0.58)])
        # The first look at a story's bible checks it; from then on, edits re-check it.
        if self.document is not None and not self._checked_once:
            QTimer.singleShot(0, self.run_check)
        self._side_tab_changed(self.side.currentIndex())

    def on_reloaded(self) -> None:
        self.state = None
        self._viewing = None
        if self.document is None:
            self.editor.set_bible({}, read_only=True)
            return
        self.refresh()
        if self.isVisible() and not self._checked_once:
            QTimer.singleShot(0, self.run_check)

    def _run(self, fn, *args, then=None, on_error=None) -> None:
        doc = self.document
        if doc is None:
            return
        story_id = doc.story_id

        def done(result):
            if self.document is doc and then is not None:
                then(result)

        doc.runner.run(fn, doc.db, story_id, *args, on_done=done,
                       on_error=on_error or self._show_error)

    def refresh(self) -> None:
        """Reload the bible, the scenes and the emotions from the database."""
        self._run(bible_service.load, then=self._loaded)
        self._run(bible_service.segment_places, then=self._places_loaded)
        self._run(emotions.arcs, then=self._arcs_loaded)

    def _loaded(self, state: bible_service.BibleState) -> None:
        self.state = state
        self._expected = {"story": state.story_version, "series": state.series_version}
        self.scope_box.blockSignals(True)
        self.scope_box.clear()
        self.scope_box.addItem("This book", "story")
        if state.series is not None:
            self.scope_box.addItem(f"Series: {state.series.name}", "series")
        self.scope_box.setCurrentIndex(max(0, self.scope_box.findData(self.scope)))
        self.scope = self.scope_box.currentData()
        self.scope_box.blockSignals(False)
        self._show_current()
        self._load_history()
        # The series menu reads this cache: no database read on the UI thread when it opens.
        self._run(lambda db, _story: bible_service.list_series(db),
                  then=lambda items: setattr(self, "_series_cache", items))

    def _show_current(self) -> None:
        state = self.state
        if state is None:
            return
        if not self._at_now():
            self._slider_moved(self.slider.value())
            return
        self._viewing = None
        if self.scope == "series":
            self.editor.set_bible(state.series_data)
            self.editor.set_banner(f"Editing the series bible of “{state.series.name}”, shared "
                                   f"by {state.series.stories} book(s).")
        else:
            inherited = state.series_data if state.series else None
            self.editor.set_bible(state.story_data, inherited=inherited)
            self.editor.set_banner(None)
        self._effective_changed(state.effective)

    def _effective_changed(self, effective: dict) -> None:
        chars = rules.characters(effective)
        self._show_graph_of(chars)
        self.emotion_editor.set_choices([(c["id"], c["name"]) for c in chars], self._scenes)
        self._show_emotion()

    def _show_graph_of(self, chars: list[dict]) -> None:
        """The graph is laid out only while its tab is shown (200 characters take ~60 ms)."""
        self._graph_chars = chars
        if self.side.currentWidget() is self.graph and self.isVisible():
            self._graph_chars = None
            self.graph.set_characters(chars)

    def _side_tab_changed(self, _index: int) -> None:
        if self.side.currentWidget() is self.graph and self._graph_chars is not None:
            chars, self._graph_chars = self._graph_chars, None
            self.graph.set_characters(chars)

    def _places_loaded(self, places: dict[str, tuple[str, str]]) -> None:
        self._places = places
        labels = {seg: label for seg, (_scene, label) in places.items()}
        self.editor.set_segment_labels(labels)
        self.findings.set_segment_labels(labels)

    def _arcs_loaded(self, arcs: emotions.Arcs) -> None:
        at_now = self._at_now()
        self._scenes = arcs.scenes
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(arcs.scenes))
        if at_now:
            self.slider.setValue(len(arcs.scenes))
        self.slider.blockSignals(False)
        self._update_as_of_label()
        self.chart.set_data(arcs.scenes, {
            arcs.names[cid]: [ArcPoint(st.scene_uid, st.state.primary, st.state.intensity,
                                       dict(st.state.secondary)) for st in steps]
            for cid, steps in arcs.arcs.items()})
        self._emotions = [st.state.as_dict() for steps in arcs.arcs.values() for st in steps]
        self._steps = {(cid, st.scene_uid): st for cid, steps in arcs.arcs.items()
                       for st in steps}
        if self.state is not None:
            self.emotion_editor.set_choices(
                [(c["id"], c["name"]) for c in rules.characters(self.state.effective)],
                self._scenes)
        self._show_emotion()

    def _load_history(self) -> None:
        self._run(bible_service.versions, self.scope, then=self._history_loaded)

    def _history_loaded(self, entries: list[bible_service.VersionEntry]) -> None:
        self.history.clear()
        for e in reversed(entries):
            cause = self._places.get(e.cause_segment or "", ("", e.cause_segment or ""))[1]
            item = QTreeWidgetItem([str(e.number), e.summary, cause,
                                    relative_time(e.created_at)])
            item.setData(0, Qt.ItemDataRole.UserRole, e.number)
            item.setToolTip(1, e.summary)
            self.history.addTopLevelItem(item)
        for col in (0, 2, 3):
            self.history.resizeColumnToContents(col)

    # --- saving -------------------------------------------------------------------------

    def _validate_for_editor(self, data: dict) -> list[tuple[str, str]]:
        inherited = None
        if self.scope == "story" and self.state is not None and self.state.series:
            inherited = self.state.series_data
        return bible_problems(data, inherited)

    def _edited(self, new: dict, cause: str | None = None, text: str | None = None) -> None:
        if self.state is None or self.document is None or self._viewing:
            return
        problems = self._validate_for_editor(new)
        if problems:
            path, reason = problems[0]
            self._show_message(f"Not saved — {path or 'bible'}: {reason}")
            return
        self._hide_message()
        scope = self.scope
        old = self.state.data_of(scope)
        label = text or "Edit bible: " + rules.summarise_change(old, new)
        command = CallbackCommand(
            label, lambda _first: self._save(scope, new, cause), lambda: self._save(scope, old))
        self.document.undo_stack.push(command)

    def _save(self, scope: str, data: dict, cause: str | None = None) -> None:
        assert self.state is not None
        base = self._expected[scope]
        self._expected[scope] = base + 1
        if scope == "series":
            self.state.series_data = data
        else:
            self.state.story_data = data
        self._run(bible_service.save, scope, base, data, cause,
                  then=self._saved, on_error=self._save_failed)

    def _saved(self, state: bible_service.BibleState) -> None:
        self.state = state
        self._expected = {"story": state.story_version, "series": state.series_version}
        if self.editor.bible() != self.state.data_of(self.scope) and not self._viewing:
            self._show_current()
        else:
            self._effective_changed(state.effective)
        self._load_history()
        self._schedule_check()

    def _save_failed(self, exc: BaseException) -> None:
        if isinstance(exc, StaleBibleError):
            dialog = StaleBibleDialog(self, str(exc), exc.theirs, exc.yours, exc.latest)
            dialog.exec()
            if dialog.choice == StaleBibleDialog.APPLY_MINE:
                self._expected[exc.scope] = exc.latest
                self._run(bible_service.save, exc.scope, exc.latest, exc.yours,
                          then=self._saved, on_error=self._save_failed)
                return
        else:
            self._show_error(exc)
        self._run(bible_service.load, then=self._loaded)

    # --- as of a scene, past versions ---------------------------------------------------

    def _at_now(self) -> bool:
        return self.slider.value() >= len(self._scenes)

    def _update_as_of_label(self) -> None:
        value = self.slider.value()
        if value >= len(self._scenes):
            self.as_of_label.setText("Now (latest)")
        else:
            self.as_of_label.setText("End of " + self._scenes[value][1])

    def _slider_moved(self, value: int) -> None:
        self._update_as_of_label()
        if self.document is None:
            return
        if value >= len(self._scenes):
            self._viewing = None
            self._show_current()
            return
        scene_uid, label = self._scenes[value]
        self._viewing = f"As of the end of {label}"

        def show(result: bible_service.AsOf) -> None:
            if self._viewing is None or self.slider.value() != value:
                return
            versions = f"book version {result.story_version or '—'}"
            if result.series_version is not None:
                versions += f", series version {result.series_version}"
            self.editor.set_bible(result.data, read_only=True)
            self.editor.set_banner(f"{self._viewing} ({versions}) — read only. "
                                   "Move the slider to the right end to edit.")
            self._show_graph_of(rules.characters(result.data))

        self._run(bible_service.as_of_scene, scene_uid, then=show)

    def _history_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        number = item.data(0, Qt.ItemDataRole.UserRole)
        scope = self.scope

        def show(data: dict) -> None:
            self._viewing = f"Version {number}"
            self.editor.set_bible(data, read_only=True)
            self.editor.set_banner(f"Bible version {number} — read only.")
            answer = QMessageBox.question(
                self, "Bible version", f"Bible version {number} is shown.\n\nMake it the "
                "current bible again? (This saves it as a new version; nothing is lost.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            self._viewing = None
            if answer == QMessageBox.StandardButton.Yes:
                self._edited(data, text=f"Restore bible version {number}")
            self._show_current()

        self._run(bible_service.version_data, number, scope, then=show)

    # --- scope and series ---------------------------------------------------------------

    def _scope_changed(self, _index: int) -> None:
        self.scope = self.scope_box.currentData() or "story"
        self._show_current()
        self._load_history()

    def _fill_series_menu(self) -> None:
        menu = self.series_menu
        menu.clear()
        if self.document is None:
            return
        in_series = self.state is not None and self.state.series is not None
        menu.addAction("New series with this book…", self._new_series).setEnabled(not in_series)
        join = menu.addMenu("Join series")
        join.setEnabled(not in_series)
        for info in self._series_cache:
            join.addAction(f"{info.name} ({info.stories} book(s))",
                           lambda uid=info.uid: self._run(bible_service.join_series, uid,
                                                          then=self._loaded))
        menu.addAction("Leave series", lambda: self._run(bible_service.leave_series,
                                                          then=self._loaded)
                       ).setEnabled(in_series)

    def _new_series(self) -> None:
        name, ok = QInputDialog.getText(self, "New series", "Name of the series:")
        if ok and name.strip():
            self._run(bible_service.create_series, name, then=self._loaded)

    # --- continuity ---------------------------------------------------------------------

    def _scene_saved(self, *_: Any) -> None:
        self._run(bible_service.segment_places, then=self._places_loaded)
        self._reload_arcs()
        self._schedule_check()

    def _schedule_check(self) -> None:
        if self._checked_once:
            self._check_timer.start()

    def run_check(self) -> None:
        if self.document is None:
            return
        self._check_timer.stop()
        self._check_generation += 1
        generation = self._check_generation
        self._checked_once = True
        self.findings.set_running(True)
        progress = self._progress
        started = time.perf_counter()

        def report(done: int, total: int) -> None:  # on the worker thread
            if generation != self._check_generation:
                raise _Cancelled()
            progress.changed.emit(generation, done, total)

        def job(db, story_id):
            result = continuity.run(db, story_id, progress=report)
            return result, continuity.dismissed(db, story_id)

        def done(result) -> None:
            if generation != self._check_generation:
                return
            report_, dismissed = result
            self.findings.set_report(report_.findings, dismissed,
                                     time.perf_counter() - started)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, _Cancelled) or generation != self._check_generation:
                return
            self.findings.set_error(str(exc))

        self._run(job, then=done, on_error=failed)

    def _on_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._check_generation:
            self.findings.set_progress(done, total)

    def _dismiss(self, finding) -> None:
        self._run(continuity.dismiss, finding.key)

    def _undismiss(self, key: str) -> None:
        self._run(continuity.undismiss, key, then=lambda _: self.run_check())

    def _add_from_finding(self, finding) -> None:
        if self.state is None or self._viewing:
            return
        data = copy.deepcopy(self.state.data_of(self.scope))
        if finding.suggestion == "add_location":
            setting = data.setdefault("setting", {})
            setting["locations"] = list(setting.get("locations", [])) + [
                {"name": finding.subject}]
            section = "setting"
        else:
            ids = [c["id"] for c in rules.characters(self.state.effective)]
            data["characters"] = list(data.get("characters", [])) + [
                {"id": rules.new_character_id(ids), "name": finding.subject,
                 "introduced_in": finding.segment_id}]
            section = "characters"
        self._edited(data, cause=finding.segment_id, text=f"Add {finding.subject} to the bible")
        self.editor.show_section(section)
        self.side.setCurrentWidget(self.findings)

    # --- messages -----------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _hide_message(self) -> None:
        self.message.hide()

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, StudioError):
            self._show_message(str(exc))
        else:
            self._show_message(f"Something went wrong: {exc}")

"""The Story Analysis panel: who is in the story, how it feels, what it is about, how it moves.

The analyser reads the whole story, which for a long novel takes seconds of pure Python.  It
runs in a child process (``analysis_process.run_prepared``) started from a plain ``threading.Thread`` of
this panel — not from the service runner, whose single thread must stay free for autosave, and
never on the UI thread.  Progress and the result come back through a queued Qt signal.  Reading
the story and looking up a stored result (``analysis.prepare``) and storing the new one go
through the runner like every other service call, so the analysis always sees saved text.

An analysis is stored by what it read: analysing unchanged text shows the stored result without
starting the analyser.  One-click actions on the result (add a character to the bible, record a
scene's emotion or voice) go through the story's undo stack (``analysis_panel_actions``); the
running itself lives in ``analysis_panel_run``.
"""

from __future__ import annotations

import dataclasses
import html
import time
from datetime import datetime, timezone
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget, QTabWidget,
    QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.services import analysis, versions
from studio.ui.panels.analysis_panel_actions import AnalysisActionsMixin
from studio.ui.panels.analysis_panel_run import AnalysisRunMixin
from studio.ui.panels.base import Panel
from studio.ui.timefmt import relative_time
from studio.ui.widgets.analysis_models import ResultIndex, fmt_int
from studio.ui.widgets.analysis_reading import InsightsTab, OverviewTab, SummariesTab
from studio.ui.widgets.analysis_tables import CastTab, EmotionsTab, PacingTab, ThemesTab, hint

SHORTCUT = "Ctrl+Shift+A"
CLOCK_MS = 30_000  # "3 minutes ago" is kept true while the panel is shown
RECHECK_S = 60.0


class AnalysisPanel(AnalysisRunMixin, AnalysisActionsMixin, Panel):
    title = "Analysis"
    object_name = "analysisPanel"
    segmentRequested = Signal(str, str)  # scene uid, segment uid (the window opens it)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: dict | None = None
        self.stored: analysis.StoredAnalysis | None = None
        self.index = ResultIndex(None)
        self._init_running()
        self._maybe_stale = False
        self._last_check = 0.0
        self._note = ""  # what the last action said (cached, cancelled, failed)
        self._pick_note = ""  # the picked text has no analysis yet
        self.menu_action: QAction | None = None
        self._pending_tabs: list[QWidget] = []
        self._fill_generation = 0
        self._build()
        self._clock = QTimer(self, interval=CLOCK_MS)
        self._clock.timeout.connect(self._show_status)
        self._notes_timer = QTimer(self, singleShot=True, interval=120)
        self._notes_timer.timeout.connect(self._load_notes)

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.analyse_button = QPushButton("Analyse")
        self.analyse_button.setObjectName("analyseButton")
        self.analyse_button.setToolTip(f"Read the story for its cast, emotions, themes and "
                                       f"pacing ({QKeySequence(SHORTCUT).toString()})")
        self.analyse_button.clicked.connect(self.analyse)
        bar.addWidget(self.analyse_button)
        bar.addSpacing(6)
        bar.addWidget(QLabel("Text:"))
        self.version_box = QComboBox()
        self.version_box.setObjectName("analysisVersion")
        self.version_box.setToolTip("Analyse the text as it is now, or a saved version")
        self.version_box.setMinimumContentsLength(24)
        self.version_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.version_box.addItem("Current text", None)
        self.version_box.currentIndexChanged.connect(self._version_picked)
        bar.addWidget(self.version_box)
        bar.addSpacing(12)
        self.stage_label = QLabel()
        self.stage_label.setObjectName("analysisStage")
        bar.addWidget(self.stage_label)
        self.progress = QProgressBar()
        self.progress.setObjectName("analysisProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(220)
        bar.addWidget(self.progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("analysisCancel")
        self.cancel_button.setToolTip("Stop the analysis; nothing is stored (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        bar.addWidget(self.cancel_button)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.status = QLabel()
        self.status.setObjectName("analysisStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.linkActivated.connect(lambda _link: self.analyse())
        lay.addWidget(self.status)

        self.stack = QStackedWidget()
        self.empty = QWidget()
        row = QHBoxLayout(self.empty)
        row.addStretch(1)
        column = QWidget()
        column.setFixedWidth(520)
        clay = QVBoxLayout(column)
        clay.setSpacing(10)
        clay.addStretch(2)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("analysisEmpty")
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        clay.addWidget(self.empty_text)
        self.empty_hint = hint("It runs offline, on this computer: the story never leaves it.")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        clay.addWidget(self.empty_hint)
        clay.addStretch(3)
        row.addWidget(column)
        row.addStretch(1)
        self.stack.addWidget(self.empty)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("analysisTabs")
        self.tabs.setDocumentMode(True)
        self.overview = OverviewTab()
        self.cast = CastTab()
        self.emotions = EmotionsTab()
        self.themes = ThemesTab()
        self.pacing = PacingTab()
        self.insights = InsightsTab()
        self.summaries = SummariesTab()
        for tab, name in ((self.overview, "Overview"), (self.cast, "Cast"),
                          (self.emotions, "Emotions"), (self.themes, "Themes"),
                          (self.pacing, "Pacing"), (self.insights, "Insights"),
                          (self.summaries, "Summaries")):
            self.tabs.addTab(tab, name)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.stack.addWidget(self.tabs)
        lay.addWidget(self.stack, 1)

        self.overview.allInsightsRequested.connect(
            lambda: self.tabs.setCurrentWidget(self.insights))
        self.overview.insightActivated.connect(self._overview_insight)
        self.insights.insightActivated.connect(self.go_to_insight)
        self.cast.addToBibleRequested.connect(self.add_to_bible)
        self.cast.sceneRequested.connect(self.go_to_scene)
        self.emotions.sceneRequested.connect(self.go_to_scene)
        self.emotions.sceneSelected.connect(lambda _uid: self._notes_timer.start())
        self.emotions.setEmotionRequested.connect(self.set_scene_emotion)
        self.emotions.voiceRequested.connect(self.suggest_voice)
        self.pacing.sceneRequested.connect(self.go_to_scene)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel, context=context)
        self._set_running(False)
        self._show_empty()

    def story_actions(self, window: QWidget) -> list[QAction]:
        """The Story menu's "Analyse Story" (Ctrl+Shift+A): brings this panel forward and
        analyses — one window-wide shortcut, so it also works from inside the panel."""
        action = QAction("&Analyse Story", window)
        action.setObjectName("actAnalyse")
        action.setShortcut(QKeySequence(SHORTCUT))
        action.triggered.connect(lambda: self._analyse_from_menu(window))
        action.setEnabled(self.document is not None)
        self.menu_action = action
        return [action]

    def _analyse_from_menu(self, window: QWidget) -> None:
        show = getattr(window, "show_panel", None)
        if show is not None:
            show(self)
        self.analyse()

    # --- the open story -----------------------------------------------------------------

    def set_document(self, document) -> None:
        if self.document is not None:
            try:
                self.document.sceneSaved.disconnect(self._text_changed)
            except (RuntimeError, TypeError):
                pass
        self._stop()
        super().set_document(document)
        if document is not None:
            document.sceneSaved.connect(self._text_changed)
        if self.menu_action is not None:
            self.menu_action.setEnabled(document is not None)

    def on_reloaded(self) -> None:
        """A story opened (or was restored): show its newest stored analysis, if any."""
        self._stop()
        self._show_result(None)
        self.stored = None
        self._note = self._pick_note = ""
        self.version_box.blockSignals(True)
        self.version_box.clear()
        self.version_box.addItem("Current text", None)
        self.version_box.blockSignals(False)
        self.analyse_button.setEnabled(self.document is not None)
        self.version_box.setEnabled(self.document is not None)
        if self.document is None:
            self._show_empty()
            self._show_status()
            return
        self._show_empty(loading=True)
        self._run(analysis.latest, then=self._latest_loaded)
        self._refresh_versions()

    def _text_changed(self, *_args) -> None:
        self._maybe_stale = True
        if self.isVisible():
            QTimer.singleShot(0, self._check_current)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._clock.start()
        self._show_status()
        # Text saves and this panel's own actions flag a check at once; edits made elsewhere
        # (the Scene Bible panel) are caught by a check when the panel is shown again, at
        # most once a minute: a check hashes the whole story on the runner (~1.5 s at 1M words).
        if time.monotonic() - self._last_check > RECHECK_S:
            self._maybe_stale = True
        self._check_current()
        self._refresh_versions()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().hideEvent(event)
        self._clock.stop()

    def _run(self, fn: Callable, *args: Any, then: Callable | None = None,
             on_error: Callable | None = None) -> None:
        """A service call for the open story on the runner; its answer is dropped if another
        story was opened meanwhile."""
        doc = self.document
        if doc is None:
            return

        def done(result: Any) -> None:
            if self.document is doc and then is not None:
                then(result)

        def failed(exc: BaseException) -> None:
            if self.document is doc:
                (on_error or self._show_failure)(exc)

        doc.runner.run(fn, doc.db, doc.story_id, *args, on_done=done, on_error=failed)

    def _check_current(self) -> None:
        """After edits, ask once whether the shown analysis still matches the story."""
        if not self._maybe_stale or self.document is None or self.running:
            return
        if self.stored is None or self.stored.version_number is not None:
            self._maybe_stale = False
            return
        self._maybe_stale = False
        self._last_check = time.monotonic()
        digest = self.stored.content_hash
        self._run(analysis.latest, then=lambda s: self._current_checked(digest, s))

    def _current_checked(self, digest: str, stored: analysis.StoredAnalysis | None) -> None:
        if stored is not None and self.stored is not None and stored.content_hash == digest:
            self.stored = stored
            self._show_status()

    # --- versions -------------------------------------------------------------------------

    def _refresh_versions(self) -> None:
        if self.document is None:
            return

        def both(db, story_id):
            return versions.list_versions(db, story_id), analysis.analysed_versions(db, story_id)

        self._run(both, then=self._versions_loaded, on_error=lambda _exc: None)

    def _versions_loaded(self, answer: tuple) -> None:
        listed, analysed = answer
        analysed = set(analysed)
        wanted = self.version_box.currentData()
        self.version_box.blockSignals(True)
        self.version_box.clear()
        self.version_box.addItem("Current text", None)
        for info in sorted(listed, key=lambda v: -v.number):
            label = info.label or info.summary or ""
            text = f"Version {info.number}" + (f" — {label}" if label else "")
            if info.number in analysed:
                text += "  (analysed)"
            self.version_box.addItem(text, info.number)
            self.version_box.setItemData(self.version_box.count() - 1,
                                         f"Saved {relative_time(info.created_at)}",
                                         Qt.ItemDataRole.ToolTipRole)
        self.version_box.setCurrentIndex(max(0, self.version_box.findData(wanted)))
        self.version_box.blockSignals(False)

    def _version_picked(self, _index: int) -> None:
        """Picking a version shows its stored analysis at once, if it has one; otherwise the
        status says it has not been analysed (Analyse runs it)."""
        if self.document is None or self.running:
            return
        version = self.version_box.currentData()
        self._generation += 1
        generation = self._generation
        self._run(analysis.prepare, version,
                  then=lambda p: self._peeked(generation, p))

    def _peeked(self, generation: int, prepared: analysis.Prepared) -> None:
        if generation != self._generation or self.running:
            return
        if prepared.cached is not None:
            self._cached(prepared, note="")
        elif prepared.version_number is None and self.stored is not None \
                and self.stored.version_number is None:
            # Back to the current text, shown already: it simply changed since.
            self._pick_note = ""
            self.stored = dataclasses.replace(self.stored, current=False)
            self._show_status()
        else:
            which = "The current text" if prepared.version_number is None else \
                f"Version {prepared.version_number}"
            self._pick_note = (f"{which} has not been analysed yet — "
                               f"<a href='analyse'>Analyse it</a>")
            self._show_status()

    # --- showing --------------------------------------------------------------------------

    def _latest_loaded(self, stored: analysis.StoredAnalysis | None) -> None:
        if self.running:
            return
        self._last_check = time.monotonic()
        self.stored = stored
        self._note = self._pick_note = ""
        if stored is not None and stored.version_number is not None:
            self.version_box.blockSignals(True)
            at = self.version_box.findData(stored.version_number)
            if at < 0:
                self.version_box.addItem(f"Version {stored.version_number}",
                                         stored.version_number)
                at = self.version_box.count() - 1
            self.version_box.setCurrentIndex(at)
            self.version_box.blockSignals(False)
        self._show_result(stored.result if stored is not None else None)
        self._show_status()

    def _cached(self, prepared: analysis.Prepared, note: str) -> None:
        """A stored result for exactly this text: show it; its date comes from the store."""
        self._note = note
        self._pick_note = ""
        result = prepared.cached or {}
        if self.stored is None or self.stored.content_hash != prepared.content_hash:
            self.stored = analysis.StoredAnalysis(
                prepared.story_id, prepared.content_hash, prepared.version_number,
                int(result.get("words") or 0), 0.0, None, result,  # type: ignore[arg-type]
                prepared.version_number is None)  # dated by the store's answer below
            self._run(analysis.latest, then=lambda s: self._dated(prepared.content_hash, s))
        self._show_result(result)
        self._show_status()

    def _dated(self, digest: str, stored: analysis.StoredAnalysis | None) -> None:
        if stored is not None and stored.content_hash == digest and self.stored is not None \
                and self.stored.content_hash == digest:
            self.stored = stored
            self._show_status()

    def _show_result(self, result: dict | None) -> None:
        """Fill the tab in view now and the others one per turn of the event loop: each tab
        takes a few milliseconds for a 1M-word story, all seven at once would be a stall."""
        self.result = result
        self._fill_generation += 1
        if result is None:
            self._pending_tabs = []
            self._show_empty()
            return
        self.index = ResultIndex(result)
        current = self.tabs.currentWidget()
        self._pending_tabs = [current] + [self.tabs.widget(i) for i in range(self.tabs.count())
                                          if self.tabs.widget(i) is not current]
        self._fill_next(self._fill_generation)
        self.stack.setCurrentWidget(self.tabs)

    def _fill_next(self, generation: int) -> None:
        if generation != self._fill_generation or not self._pending_tabs:
            return
        tab = self._pending_tabs.pop(0)
        tab.set_result(self.result, self.index)
        if self._pending_tabs:
            QTimer.singleShot(0, lambda: self._fill_next(generation))

    def _tab_shown(self, index: int) -> None:
        """A tab not filled yet is filled as soon as the author looks at it."""
        tab = self.tabs.widget(index)
        if tab in self._pending_tabs and self.result is not None:
            self._pending_tabs.remove(tab)
            tab.set_result(self.result, self.index)

    @property
    def filled(self) -> bool:
        """Every tab shows the current result (tests and benchmarks wait for this)."""
        return self.result is not None and not self._pending_tabs

    def _show_empty(self, loading: bool = False) -> None:
        self.result = None
        self.summaries.clear()
        if self.document is None:
            words = "Open a story to analyse it."
        elif loading:
            words = "Looking for a stored analysis…"
        else:
            words = (f"<p style='font-size:13pt'><b>This story has not been analysed yet.</b>"
                     f"</p><p>Analyse ({QKeySequence(SHORTCUT).toString()}) reads the whole "
                     f"story and shows its cast, the emotional colour of every scene, its "
                     f"themes, its pacing, what stands out, and a summary of each scene.</p>")
        self.empty_text.setText(words)
        self.empty_hint.setVisible(self.document is not None and not loading)
        self.stack.setCurrentWidget(self.empty)

    def _show_status(self, plain_note: bool = False) -> None:
        """The line under the toolbar: when the shown analysis was made, of what, and whether
        the story changed since."""
        if self.running:
            return
        stored = self.stored
        if plain_note or stored is None:
            # Nothing shown (the empty page explains), or a note that stands alone.
            self.status.setText(self._pick_note or self._note)
            self.status.setVisible(bool(self.status.text()))
            return
        facts = []
        if stored.created_at is not None:
            facts.append(f"Analysed {relative_time(_aware(stored.created_at))}")
        facts.append(f"{fmt_int(stored.words or (stored.result or {}).get('words'))} words")
        if stored.seconds:
            facts.append(f"{stored.seconds:.1f} s")
        line = " · ".join(facts)
        if stored.version_number is not None:
            line = f"Version {stored.version_number} · {line}"
        elif not stored.current:
            line = ("<b>The story changed since this analysis</b> — "
                    f"<a href='analyse'>Analyse again</a> <span style='color:#80868b'>"
                    f"({line})</span>")
        if self._note:
            line = f"{self._note} · {line}"
        if self._pick_note:
            # The tabs still show the earlier analysis: say which.
            shown = "the current text" if stored.version_number is None else \
                f"version {stored.version_number}"
            line = f"{self._pick_note}. <span style='color:#80868b'>Shown below: {shown} " \
                   f"({line.removeprefix(f'Version {stored.version_number} · ')})</span>"
        self.status.setText(line)
        self.status.setVisible(True)

    def _show_failure(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, StudioError) else f"Something went wrong: {exc}"
        self._note = f"<span style='color:#c0392b'>{html.escape(message)}</span>"
        self._show_status(plain_note=True)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


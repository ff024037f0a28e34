"""The chapter inspector of the Chapter Graph panel: one chapter of the graph as a form.

The shape of a chapter is ``resources/schemas/chapter_graph.schema.json``.  The host sets the
context (every chapter, the scene bible's characters and locations) and the chapter;
``set_chapter`` shows it without reporting anything.  Every user edit is reported once as the
whole chapter (``edited``, a deep copy with the same id): text fields commit on Enter, focus
out or after a pause in typing (``bible_fields.CommitLine`` / ``CommitText``), so a change is
one edit, not one per keystroke.  The host checks the chapter (cycles, unknown characters…);
when it refuses, it shows the stored chapter again with ``set_chapter``.  Reloading the same
chapter keeps the scroll position, the typing in progress and new conditions or beats that
are not complete yet.  Ctrl+Z / Ctrl+Shift+Z belong to the story's undo stack.

The trigger conditions and beats editors live in ``chapter_conditions.py``.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QSlider,
    QStackedWidget, QToolButton, QVBoxLayout, QWidget,
)

from studio.domain.chapters import DEFAULT_THRESHOLD, SOURCES, STATUSES
from studio.ui.widgets.bible_fields import (
    CommitLine, CommitText, error_color, form_layout, form_row, heading, mute, muted_color,
)
from studio.ui.widgets.chapter_conditions import (
    BeatsEditor, ConditionsEditor, set_combo_items, small_button,
)
from studio.ui.widgets.form import _is_undo_key

__all__ = ["ChapterInspector", "EMPTY_HINT", "SUMMARY_HINT", "THRESHOLD_HINT"]

EMPTY_HINT = "Select a chapter in the graph to see and edit it."
SUMMARY_HINT = "What should happen — compared with the story text to score divergence."
THRESHOLD_HINT = ("Below this score the story simply proceeds; up to 0.70 conditions are "
                  "relaxed; above, the chapter is adapted.")
READ_ONLY_NOTE = "Read-only view."
DEFAULT_STATUS = "draft"
DEFAULT_SOURCE = "manual"

_STYLE = """
QLabel[muted="true"] {{ color: {muted}; }}
#chapterReadOnly {{ background: palette(alternate-base); border-left: 3px solid palette(highlight);
                   padding: 6px 8px; }}
#chapterError {{ color: {error}; }}
"""


class DoubleSpinBox(QDoubleSpinBox):
    """A spin box that leaves Ctrl+Z / Ctrl+Shift+Z to the story's undo stack."""

    def event(self, e: QEvent) -> bool:
        if _is_undo_key(e):
            e.ignore()
            return True
        return super().event(e)


def chapter_label(chapter: dict[str, Any]) -> str:
    """How the inspector names a chapter: ``number. title``."""
    return f"{chapter.get('number', '?')}. {chapter.get('title', '')}"


def _selectable(label: QLabel) -> QLabel:
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


# --- prerequisites ------------------------------------------------------------------------

class PrerequisitesEditor(QWidget):
    """The chapters this one requires, each with a remove button, and a picker to add one."""

    changed = Signal(list)
    PICK = "Add a prerequisite…"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._prereqs: list[str] = []
        self._options: list[tuple[str, str]] = []  # (chapter id, "number. title")
        self._editable = True
        self._rows: list[tuple[QWidget, QLabel, QToolButton]] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.frame = QFrame()
        self.frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.list = QVBoxLayout(self.frame)
        self.list.setContentsMargins(8, 4, 6, 4)
        self.list.setSpacing(0)
        self.empty = mute(QLabel("None — this chapter can start first."))
        self.empty.setContentsMargins(0, 4, 0, 4)
        self.list.addWidget(self.empty)
        outer.addWidget(self.frame)
        self.picker = QComboBox()
        self.picker.setAccessibleName("Add a prerequisite")
        self.picker.setToolTip("Chapters that must be completed before this one can start")
        self.picker.activated.connect(self._picked)
        outer.addWidget(self.picker)

    def prerequisites(self) -> list[str]:
        return list(self._prereqs)

    def options(self) -> list[tuple[str, str]]:
        """What the picker offers: (chapter id, label)."""
        return [(self.picker.itemData(i), self.picker.itemText(i))
                for i in range(1, self.picker.count())]

    def load(self, prereqs: list[str], options: list[tuple[str, str]], editable: bool) -> None:
        self._prereqs = [str(p) for p in prereqs]
        self._options = list(options)
        self._editable = editable
        self._sync()

    def _label(self, chapter_id: str) -> str:
        return next((label for cid, label in self._options if cid == chapter_id),
                    f"{chapter_id} (missing)")

    def _sync(self) -> None:
        while len(self._rows) > len(self._prereqs):
            line = self._rows.pop()[0]
            line.hide()
            line.deleteLater()
        while len(self._rows) < len(self._prereqs):
            r = len(self._rows)
            line = QWidget()
            lay = QHBoxLayout(line)
            lay.setContentsMargins(0, 0, 0, 0)
            label = QLabel()
            label.setWordWrap(True)
            remove = small_button("✕", "Remove this prerequisite", lambda r=r: self._remove(r))
            lay.addWidget(label, 1)
            lay.addWidget(remove)
            self.list.addWidget(line)
            line.show()
            self._rows.append((line, label, remove))
        known = {cid for cid, _ in self._options}
        for (_line, label, remove), pid in zip(self._rows, self._prereqs):
            label.setText(self._label(pid))
            label.setToolTip(pid)
            mute(label, pid not in known)
            remove.setEnabled(self._editable)
        self.empty.setVisible(not self._prereqs)
        offered = [(label, cid) for cid, label in self._options if cid not in self._prereqs]
        set_combo_items(self.picker, [(self.PICK if offered else "No other chapters to add",
                                        None)] + offered)
        self.picker.setCurrentIndex(0)
        self.picker.setEnabled(self._editable and bool(offered))

    def _picked(self, index: int) -> None:
        chapter_id = self.picker.itemData(index)
        if not self._editable or index <= 0 or not chapter_id or chapter_id in self._prereqs:
            self.picker.setCurrentIndex(0)
            return
        self._prereqs = self._prereqs + [chapter_id]
        self._sync()
        self.changed.emit(list(self._prereqs))

    def _remove(self, r: int) -> None:
        if self._editable and 0 <= r < len(self._prereqs):
            self._prereqs = self._prereqs[:r] + self._prereqs[r + 1:]
            self._sync()
            self.changed.emit(list(self._prereqs))


class ChapterInspector(QWidget):
    edited = Signal(dict)  # the whole chapter after one user edit (a deep copy; same id)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._chapter: dict[str, Any] | None = None
        self._read_only = False
        self._loading = False
        self._restyling = False
        self._chapters: list[dict[str, Any]] = []
        self._characters: list[tuple[str, str]] = []
        self._locations: list[str] = []

        self.stack = QStackedWidget()
        self.empty = mute(QLabel(EMPTY_HINT))
        self.empty.setObjectName("chapterInspectorEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(24, 24, 24, 24)
        self.stack.addWidget(self.empty)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self._build_form())
        self.stack.addWidget(self.scroll)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self._apply_style()

    # --- building ---------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        body = QWidget()
        body.setObjectName("chapterInspectorForm")
        outer = QVBoxLayout(body)
        outer.setContentsMargins(12, 4, 12, 12)
        self.read_only_note = QLabel(READ_ONLY_NOTE)
        self.read_only_note.setObjectName("chapterReadOnly")
        self.read_only_note.setVisible(False)
        outer.addWidget(self.read_only_note)
        form = self.form = form_layout()

        form.addRow(heading("Chapter"))
        self.number = _selectable(QLabel())
        self.number.setObjectName("chapterNumber")
        form.addRow("Number", self.number)
        self.title = CommitLine("Title (required)", 500)
        self.title.setObjectName("chapterTitle")
        form_row(form, "Title", self.title)
        self.status = QComboBox()
        self.status.setObjectName("chapterStatus")
        for status in STATUSES:
            self.status.addItem(status.capitalize(), status)
        form_row(form, "Status", self.status)
        self.source = _selectable(QLabel())
        self.source.setObjectName("chapterSource")
        form.addRow("Source", self.source)
        self.alternate = _selectable(QLabel())
        self.alternate.setObjectName("chapterAlternateOf")
        self.alternate.setWordWrap(True)
        form.addRow("Alternate of", self.alternate)
        self.manuscript = _selectable(QLabel())
        self.manuscript.setObjectName("chapterManuscript")
        form.addRow("Manuscript", self.manuscript)

        form.addRow(heading("Description"))
        self.description = CommitText("What the chapter is about", 3)
        self.description.setObjectName("chapterDescription")
        self.description.setAccessibleName("Description")
        form.addRow(self.description)

        form.addRow(heading("Intended narrative"))
        self.summary_hint = mute(QLabel(SUMMARY_HINT))
        self.summary_hint.setWordWrap(True)
        form.addRow(self.summary_hint)
        self.summary = CommitText("The author's intended narrative for this chapter", 4)
        self.summary.setObjectName("chapterSummary")
        self.summary.setAccessibleName("Intended narrative")
        form.addRow(self.summary)

        form.addRow(heading("Requires"))
        self.prerequisites = PrerequisitesEditor()
        self.prerequisites.setObjectName("chapterPrerequisites")
        form.addRow(self.prerequisites)

        form.addRow(heading("Trigger conditions"))
        self.conditions = ConditionsEditor()
        self.conditions.setObjectName("chapterConditions")
        form.addRow(self.conditions)

        form.addRow(heading("Narrative instructions"))
        self.instructions = CommitText("For whoever writes or narrates the chapter", 4)
        self.instructions.setObjectName("chapterInstructions")
        self.instructions.setAccessibleName("Narrative instructions")
        form.addRow(self.instructions)

        form.addRow(heading("Suggested beats"))
        self.beats = BeatsEditor()
        self.beats.setObjectName("chapterBeats")
        form.addRow(self.beats)

        form.addRow(heading("Divergence"))
        self.allow_divergence = QCheckBox("Allow divergence")
        self.allow_divergence.setObjectName("chapterAllowDivergence")
        self.allow_divergence.setToolTip("May the story stray from this chapter's plan?")
        form.addRow("", self.allow_divergence)
        threshold = QWidget()
        row = QHBoxLayout(threshold)
        row.setContentsMargins(0, 0, 0, 0)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setObjectName("chapterThresholdSlider")
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setPageStep(10)
        self.threshold_slider.setTracking(False)  # one edit per drag, on release
        self.threshold_slider.setAccessibleName("Similarity threshold")
        self.threshold = DoubleSpinBox()
        self.threshold.setObjectName("chapterThreshold")
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setDecimals(2)
        self.threshold.setSingleStep(0.05)
        self.threshold.setKeyboardTracking(False)  # one edit per typed value, on Enter
        self.threshold.setAccessibleName("Similarity threshold")
        row.addWidget(self.threshold_slider, 1)
        row.addWidget(self.threshold)
        form_row(form, "Threshold", threshold)
        self.threshold_hint = mute(QLabel(THRESHOLD_HINT))
        self.threshold_hint.setWordWrap(True)
        form.addRow("", self.threshold_hint)
        outer.addLayout(form)
        outer.addStretch(1)

        self.title.committed.connect(self._title_committed)
        self.status.activated.connect(
            lambda i: self._edit(lambda ch: ch.__setitem__("status", self.status.itemData(i))))
        self.description.committed.connect(lambda t: self._set_text("description", t))
        self.summary.committed.connect(lambda t: self._set_text("summary", t))
        self.instructions.committed.connect(lambda t: self._set_text("instructions", t))
        self.prerequisites.changed.connect(
            lambda ids: self._edit(lambda ch: ch.__setitem__("prerequisites", ids)))
        self.conditions.changed.connect(
            lambda items: self._edit(lambda ch: ch.__setitem__("triggers", items)))
        self.beats.changed.connect(
            lambda items: self._edit(lambda ch: ch.__setitem__("beats", items)))
        self.allow_divergence.toggled.connect(
            lambda on: self._edit(lambda ch: ch.__setitem__("allow_divergence", on)))
        self.threshold_slider.sliderMoved.connect(self._slider_moved)
        self.threshold_slider.valueChanged.connect(lambda v: self._threshold_changed(v / 100))
        self.threshold.valueChanged.connect(self._threshold_changed)
        return body

    # --- the host's API ---------------------------------------------------------------

    def set_context(self, chapters: list[dict[str, Any]], characters: list[tuple[str, str]],
                    locations: list[str]) -> None:
        """Every chapter (for the prerequisites picker), the scene bible's characters
        (char id, name) and location names.  Refreshes the shown chapter's choices."""
        self._chapters = [dict(c) for c in chapters]
        self._characters = [(str(c), str(n)) for c, n in characters]
        self._locations = [str(loc) for loc in locations]
        if self._chapter is not None:
            self._loading = True
            try:
                self._load_links()
                self.conditions.set_options(self._characters, self._locations)
            finally:
                self._loading = False

    def set_chapter(self, chapter: dict[str, Any] | None, read_only: bool = False) -> None:
        """Show ``chapter`` (None: the empty state) without reporting anything."""
        same = (chapter is not None and self._chapter is not None
                and chapter.get("id") == self._chapter.get("id"))
        bar = self.scroll.verticalScrollBar()
        position = bar.value()
        self._chapter = copy.deepcopy(chapter) if chapter is not None else None
        self._read_only = read_only
        if self._chapter is None:
            self.stack.setCurrentWidget(self.empty)
            return
        self._loading = True
        try:
            self._load(same)
        finally:
            self._loading = False
        self.stack.setCurrentWidget(self.scroll)
        if same:  # restore now and once the layout has settled
            bar.setValue(position)
            cid = self._chapter.get("id")
            QTimer.singleShot(0, lambda: self._restore_scroll(cid, position))
        else:
            bar.setValue(0)

    def chapter(self) -> dict[str, Any] | None:
        """The chapter as shown, with every edit reported so far (a deep copy)."""
        return copy.deepcopy(self._chapter)

    def is_read_only(self) -> bool:
        return self._read_only

    def flush(self) -> None:
        """Commit typed-but-unsent text (before the host switches chapter or saves)."""
        if self._chapter is None:
            return
        for field in (self.title, self.description, self.summary, self.instructions):
            if field.pending():
                field.commit()
        self.conditions.flush()
        self.beats.flush()

    # --- loading ----------------------------------------------------------------------

    def _restore_scroll(self, chapter_id: Any, position: int) -> None:
        if self._chapter is not None and self._chapter.get("id") == chapter_id:
            self.scroll.verticalScrollBar().setValue(position)

    @staticmethod
    def _load_text(field: CommitLine | CommitText, value: Any, same: bool) -> None:
        value = str(value or "")
        if not same:  # another chapter: what was typed for the last one goes
            if isinstance(field, CommitText):
                field.set_text_keeping_cursor(value)
            elif field.text() != value:
                field.setText(value)
        field.load(value)

    def _load(self, same: bool) -> None:
        ch = self._chapter
        assert ch is not None
        editable = not self._read_only
        self.read_only_note.setVisible(self._read_only)
        self.number.setText(str(ch.get("number", "")))
        self._load_text(self.title, ch.get("title"), same)
        self.status.setCurrentIndex(max(0, self.status.findData(ch.get("status")
                                                                or DEFAULT_STATUS)))
        source = ch.get("source") or DEFAULT_SOURCE
        self.source.setText(source.capitalize() if source in SOURCES else str(source))
        self._load_text(self.description, ch.get("description"), same)
        self._load_text(self.summary, ch.get("summary"), same)
        self._load_text(self.instructions, ch.get("instructions"), same)
        self._load_links()
        self.conditions.set_options(self._characters, self._locations)
        keep = same and editable  # unfinished rows stay while the same chapter is edited
        self.conditions.load(list(ch.get("triggers") or []), editable, keep_drafts=keep)
        self.beats.load(list(ch.get("beats") or []), editable, keep_drafts=keep)
        self.allow_divergence.blockSignals(True)
        self.allow_divergence.setChecked(ch.get("allow_divergence", True) is not False)
        self.allow_divergence.blockSignals(False)
        try:
            threshold = min(1.0, max(0.0, float(ch.get("threshold", DEFAULT_THRESHOLD))))
        except (TypeError, ValueError):
            threshold = DEFAULT_THRESHOLD
        self._show_threshold(threshold)
        for field in (self.title, self.description, self.summary, self.instructions):
            field.setReadOnly(not editable)
        for w in (self.status, self.allow_divergence, self.threshold_slider, self.threshold):
            w.setEnabled(editable)

    def _load_links(self) -> None:
        """What depends on the other chapters: prerequisites, "alternate of"."""
        ch = self._chapter
        assert ch is not None
        cid = ch.get("id")
        others = sorted((c for c in self._chapters if c.get("id") != cid),
                        key=lambda c: (c.get("number", 0), c.get("id", "")))
        options = [(c.get("id", ""), chapter_label(c)) for c in others]
        self.prerequisites.load(list(ch.get("prerequisites") or []), options,
                                not self._read_only)
        alternate = ch.get("alternate_of")
        self.form.setRowVisible(self.alternate, bool(alternate))
        if alternate:
            target = next((c for c in self._chapters if c.get("id") == alternate), None)
            self.alternate.setText(chapter_label(target) if target else f"{alternate} (missing)")
            self.alternate.setToolTip(str(alternate))
        manuscript = ch.get("manuscript_chapter")
        self.form.setRowVisible(self.manuscript, bool(manuscript))
        self.manuscript.setText(str(manuscript or ""))
        self.manuscript.setToolTip("The manuscript chapter this node stands for")

    def _show_threshold(self, value: float) -> None:
        for w, v in ((self.threshold, value), (self.threshold_slider, round(value * 100))):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)

    # --- edits ------------------------------------------------------------------------

    def _edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        if self._chapter is None or self._read_only or self._loading:
            return
        chapter = copy.deepcopy(self._chapter)
        change(chapter)
        if chapter != self._chapter:
            self._chapter = chapter
            self.edited.emit(copy.deepcopy(chapter))

    def _title_committed(self, text: str) -> None:
        title = " ".join(text.split())
        if title:
            self._edit(lambda ch: ch.__setitem__("title", title))
        elif self._chapter is not None:
            self.title.load(self._chapter.get("title"))  # a title is required: put it back

    def _set_text(self, key: str, text: str) -> None:
        value = text if text.strip() else ""

        def change(ch: dict[str, Any]) -> None:
            if value or key in ch:
                ch[key] = value
        self._edit(change)

    def _slider_moved(self, position: int) -> None:
        self.threshold.blockSignals(True)  # follow the drag; the edit comes on release
        self.threshold.setValue(position / 100)
        self.threshold.blockSignals(False)

    def _threshold_changed(self, value: float) -> None:
        value = round(min(1.0, max(0.0, value)), 2)
        self._show_threshold(value)
        self._edit(lambda ch: ch.__setitem__("threshold", value))

    # --- palette ----------------------------------------------------------------------

    def _apply_style(self) -> None:
        self.setStyleSheet(_STYLE.format(muted=muted_color(self.palette()).name(),
                                         error=error_color(self.palette()).name()))

    def changeEvent(self, e: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(e)
        if e.type() == QEvent.Type.PaletteChange and not self._restyling:
            self._restyling = True
            try:
                self._apply_style()
                self.conditions.set_options(self._characters, self._locations)
            finally:
                self._restyling = False

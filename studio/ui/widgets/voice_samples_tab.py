"""The Voices panel's My samples tab: the author's own recordings, per template or emotion,
each with its waveform; import, record, play, trim and delete.

Samples are what emotion voices are trained from, so the tab is careful with them: a trim
makes a new sample (the original is kept), a delete always asks, and when the sample trained a
voice the question names that voice.  The waveform comes from the ``peaks`` the service stored
at import, so the table paints from memory and never reads an audio file.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt,
)
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem, QMessageBox,
    QSplitter, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from studio.ui.dialogs.voice_trim_dialog import TrimDialog
from studio.ui.timefmt import relative_time
from studio.ui.widgets.analysis_models import emotion_icon
from studio.ui.widgets.voice_common import (
    button, cap, describe, fmt_clock, fmt_duration, hint, ListTableModel, Note, VoiceHost,
)

from studio.ui.widgets.voice_templates_tab import table
from studio.ui.widgets.waveform import LevelMeter, WaveformView, paint_peaks, wave_colour

Index = QModelIndex | QPersistentModelIndex
PEAKS_ROLE = Qt.ItemDataRole.UserRole + 11
COLUMNS = ("Sample", "Waveform", "Length", "Format", "For", "Added")
AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3);;All files (*)"
ALL = ("all", "")


def format_words(s: Any) -> str:
    """"WAV · 22 kHz · mono"."""
    parts = [s.format.upper()]
    if s.sample_rate:
        parts.append(f"{s.sample_rate / 1000:.0f} kHz")
    if s.channels in (1, 2):
        parts.append("mono" if s.channels == 1 else "stereo")
    return " · ".join(parts)


class SamplesModel(ListTableModel):
    columns = COLUMNS

    def __init__(self, host: VoiceHost, parent: Any = None):
        super().__init__(parent)
        self.host = host

    def for_words(self, s: Any) -> str:
        if s.template_uid:
            return self.host.template_name(s.template_uid)
        return cap(s.emotion) or "—"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return s.label
            if col == 2:
                return fmt_duration(s.duration)
            if col == 3:
                return format_words(s)
            if col == 4:
                return self.for_words(s)
            if col == 5:
                return relative_time(aware(s.created_at)) if s.created_at else ""
            return None
        if role == PEAKS_ROLE and col == 1:
            return s.peaks
        if role == Qt.ItemDataRole.DecorationRole and col == 4:
            return emotion_icon(s.emotion)
        if role == Qt.ItemDataRole.ToolTipRole:
            return s.original_name or s.label
        return None

    def row_of(self, uid: str) -> int:
        return next((i for i, s in enumerate(self.rows) if s.uid == uid), -1)


def blank_icon() -> QIcon:
    """Keeps names without an emotion colour in line with those that have one."""
    pix = QPixmap(12, 12)
    pix.fill(Qt.GlobalColor.transparent)
    return QIcon(pix)


def aware(when: datetime) -> datetime:
    """SQLite hands back naive UTC times."""
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


class WaveDelegate(QStyledItemDelegate):
    """Paints a row's waveform from the peaks the model hands over."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter,
                                option.widget)
        rect = QRectF(option.rect).adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = option.palette.highlightedText().color() if selected else \
            wave_colour(option.palette)
        paint_peaks(painter, rect, index.data(PEAKS_ROLE), colour)


class SamplesTab(QWidget):
    def __init__(self, host: VoiceHost, audio: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = host
        self.audio = audio
        self.trim_dialog: TrimDialog | None = None
        self._select_next: str | None = None
        self.last_question: QMessageBox | None = None
        self._build()
        host.templatesChanged.connect(lambda _t: self._fill_groups())
        host.samplesChanged.connect(lambda: self.refresh())
        audio.devicesChanged.connect(self._devices)
        audio.recordingChanged.connect(self._recording_changed)
        audio.recorded.connect(self._recorded)
        audio.playingChanged.connect(lambda _key: self._selected())
        audio.tick.connect(self._tick)
        self._devices()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.import_button = button("Import…", "importSample",
                                    "Add a WAV, FLAC, Ogg Vorbis or MP3 file as a sample",
                                    self.choose_file)
        self.record_button = button("Record", "recordSample",
                                    "Record a sample from the microphone (press again to stop)",
                                    self.toggle_recording)
        self.elapsed = QLabel("0:00")
        self.elapsed.setObjectName("recordElapsed")
        self.meter = LevelMeter()
        self.meter.setObjectName("recordLevel")
        self.meter.setFixedWidth(140)
        self.play_button = button("Play", "playSample", "Listen to the selected sample",
                                  self.toggle_play)
        self.trim_button = button("Trim…", "trimSample",
                                  "Keep part of the selected sample as a new sample",
                                  self.trim_selected)
        self.delete_button = button("Delete", "deleteSample", "Delete the selected sample",
                                    self.delete_selected)
        for w in (self.import_button, self.record_button, self.elapsed, self.meter):
            bar.addWidget(w)
        bar.addSpacing(16)
        for w in (self.play_button, self.trim_button, self.delete_button):
            bar.addWidget(w)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.device_note = hint("", "recordProblem")
        lay.addWidget(self.device_note)
        self.note = Note("samplesNote")
        lay.addWidget(self.note)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.groups = QListWidget()
        self.groups.setObjectName("sampleGroups")
        self.groups.setMinimumWidth(160)
        self.groups.setMaximumWidth(220)
        self.groups.setIconSize(QSize(12, 12))
        self.groups.setSpacing(1)
        self.groups.currentItemChanged.connect(lambda *_a: self._group_changed())
        split.addWidget(self.groups)
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(8, 0, 0, 0)
        self.model = SamplesModel(self.host, self)
        self.view = table(self.model, "samplesTable")
        self.view.setItemDelegateForColumn(1, WaveDelegate(self.view))
        self.view.verticalHeader().setDefaultSectionSize(34)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.setColumnWidth(0, 200)
        self.view.setColumnWidth(3, 140)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        self.view.doubleClicked.connect(lambda _i: self.toggle_play())
        rlay.addWidget(self.view, 3)
        self.empty = hint("", "samplesEmpty")
        rlay.addWidget(self.empty)
        self.wave = WaveformView()
        self.wave.setObjectName("sampleWaveform")
        self.wave.setMinimumHeight(90)
        rlay.addWidget(self.wave, 1)
        self.facts = QLabel()
        self.facts.setObjectName("sampleFacts")
        self.facts.setWordWrap(True)
        rlay.addWidget(self.facts)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self._fill_groups()
        self._selected()

    # --- groups: all, then each current template ---

    def _fill_groups(self) -> None:
        keep = self.group()
        self.groups.blockSignals(True)
        self.groups.clear()
        first = QListWidgetItem("All samples")
        first.setData(Qt.ItemDataRole.UserRole, ALL)
        first.setIcon(blank_icon())
        self.groups.addItem(first)
        for t in self.host.templates:
            if t.hidden or t.superseded_by:
                continue
            item = QListWidgetItem(t.name if not t.emotion or t.emotion == t.name
                                   else f"{t.name} ({t.emotion})")
            item.setData(Qt.ItemDataRole.UserRole, ("template", t.uid))
            item.setIcon(emotion_icon(t.emotion) or blank_icon())
            self.groups.addItem(item)
        at = next((i for i in range(self.groups.count())
                   if self.groups.item(i).data(Qt.ItemDataRole.UserRole) == keep), 0)
        self.groups.setCurrentRow(at)
        self.groups.blockSignals(False)

    def group(self) -> tuple[str, str]:
        item = self.groups.currentItem() if hasattr(self, "groups") else None
        return tuple(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ALL

    def select_template(self, uid: str) -> None:
        for i in range(self.groups.count()):
            if self.groups.item(i).data(Qt.ItemDataRole.UserRole) == ("template", uid):
                self.groups.setCurrentRow(i)
                return

    def _group_changed(self) -> None:
        self.refresh()

    # --- loading ---

    def refresh(self, select: str | None = None) -> None:
        from studio.services import voice_samples

        select, self._select_next = select or self._select_next, None
        kind, value = self.group()
        template_uid = value if kind == "template" else None
        if not self.host.templates and self.host.document is not None:
            self._load_templates()
        self.host.run(voice_samples.list_samples, template_uid,
                      then=lambda rows: self._loaded(rows, select), on_error=self.note.fail)

    def _load_templates(self) -> None:
        from studio.services import voice_templates

        self.host.run(lambda db: voice_templates.list_templates(
            db, include_hidden=True, include_superseded=True), then=self.host.set_templates,
            on_error=lambda _exc: None)

    def _loaded(self, rows: list, select: str | None) -> None:
        keep = select or (self.selected().uid if self.selected() is not None else None)
        self.model.set_rows(rows)
        at = self.model.row_of(keep) if keep else -1
        if at < 0 and rows:
            at = 0
        if at >= 0:
            self.view.selectRow(at)
        kind, _value = self.group()
        if rows:
            self.empty.hide()
        else:
            self.empty.setText("No samples here yet. Import a recording, or record one: a "
                               "few clear sentences (10 seconds or more) in the emotion are "
                               "what a voice provider needs to clone your voice."
                               if kind == "template" else
                               "No samples yet. Choose a template on the left, then import "
                               "or record a few sentences in that emotion.")
            self.empty.show()
        self._selected()

    def selected(self) -> Any:
        index = self.view.currentIndex() if hasattr(self, "view") else QModelIndex()
        return self.model.rows[index.row()] if index.isValid() and \
            index.row() < len(self.model.rows) else None

    def _selected(self) -> None:
        s = self.selected()
        playing = s is not None and self.audio.playing_key == f"sample:{s.uid}"
        self.play_button.setText("Stop" if playing else "Play")
        self.play_button.setEnabled(s is not None and not self.audio.output_problem)
        self.play_button.setToolTip(self.audio.output_problem or
                                    "Listen to the selected sample")
        for b in (self.trim_button, self.delete_button):
            b.setEnabled(s is not None)
        self.import_button.setEnabled(self.host.document is not None)
        if s is None:
            self.wave.set_audio([], 0.0)
            self.facts.setText("")
            return
        if self.wave.peaks != s.peaks or self.wave.duration != s.duration:
            self.wave.set_audio(s.peaks, s.duration)
        self.facts.setText(f"{s.label} · {fmt_duration(s.duration)} · {format_words(s)}"
                           f" · {s.bytes / 1024:,.0f} KB"
                           + (f" · from {s.original_name}" if s.original_name else ""))

    # --- import ---

    def _target(self) -> dict[str, Any]:
        kind, value = self.group()
        return {"template_uid": value} if kind == "template" else {}

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a voice sample", str(Path.home()),
                                              AUDIO_FILTER)
        if path:
            self.import_path(path)

    def import_path(self, path: str | Path) -> None:
        from studio.services import voice_samples

        target = self._target()
        name = Path(path).name
        self.note.say(f"Importing “{name}”…")
        self.host.run(lambda db: voice_samples.import_file(db, path, **target),
                      then=lambda info: self._imported(info, f"Imported “{name}”: "
                                                             f"{fmt_duration(info.duration)}."),
                      on_error=self.note.fail)

    def _imported(self, info: Any, words: str) -> None:
        self.note.say(words)
        self._select_next = info.uid
        self.host.samplesChanged.emit()  # → refresh here, and the tabs that list samples

    # --- recording ---

    def _devices(self) -> None:
        problem = self.audio.capture_problem
        recording = self.audio.recording
        self.record_button.setEnabled(not problem or recording)
        self.record_button.setToolTip(problem or "Record a sample from the microphone "
                                                 "(press again to stop)")
        words = self.audio.device_words()
        self.device_note.setText(words)
        self.device_note.setVisible(bool(words))
        self.elapsed.setVisible(not problem)
        self.meter.setVisible(not problem)
        self._selected()

    def toggle_recording(self) -> None:
        if self.audio.recording:
            self.audio.stop_recording()
        else:
            self.note.say("Opening the microphone…")
            self.audio.start_recording()

    def _recording_changed(self, recording: bool) -> None:
        self.record_button.setText("Stop recording" if recording else "Record")
        self.import_button.setEnabled(not recording)
        if recording:
            self.note.say("Recording… speak a few sentences, then press Stop recording.")
        self._devices()

    def _recorded(self, wav: bytes) -> None:
        from studio.services import voice_samples

        if not self.isVisible():
            return  # a take for the Roleplay tab (it listens itself)
        target = self._target()
        self.host.run(lambda db: voice_samples.import_bytes(db, wav, "recording.wav",
                                                            label="Recording", **target),
                      then=lambda info: self._imported(
                          info, f"Recording kept: {fmt_duration(info.duration)}."),
                      on_error=self.note.fail)

    def _tick(self) -> None:
        if self.audio.recording:
            self.elapsed.setText(fmt_clock(self.audio.elapsed()))
            self.meter.set_level(self.audio.level())
        s = self.selected()
        if s is not None and self.audio.playing_key == f"sample:{s.uid}":
            self.wave.set_position(self.audio.position())
        elif self.wave.position is not None:
            self.wave.set_position(None)

    # --- play, trim, delete ---

    def toggle_play(self) -> None:
        s = self.selected()
        if s is None:
            return
        if self.audio.playing_key == f"sample:{s.uid}":
            self.audio.stop()
        else:
            self.audio.play_file(s.path, f"sample:{s.uid}")

    def trim_selected(self) -> None:
        s = self.selected()
        if s is None:
            return
        dialog = TrimDialog(s, self)
        self.trim_dialog = dialog
        dialog.accepted.connect(lambda: self._trim(s, *dialog.span()))
        dialog.open()

    def _trim(self, s: Any, start: float, end: float) -> None:
        from studio.services import voice_samples

        self.host.run(voice_samples.trim, s.uid, start, end,
                      then=lambda info: self._imported(
                          info, f"Trimmed copy made ({fmt_duration(info.duration)}); the "
                                f"original “{s.label}” is kept."),
                      on_error=self.note.fail)

    def delete_selected(self) -> None:
        """Ask first; a sample a trained voice came from is named with that voice."""
        from studio.services import voice_samples

        s = self.selected()
        if s is None:
            return
        self.host.run(voice_samples.usage, s.uid, then=lambda names: self._ask_delete(s, names),
                      on_error=self.note.fail)

    def _ask_delete(self, s: Any, voices: list[str]) -> None:
        if voices:
            names = ", ".join(f"“{v}”" for v in voices)
            text = (f"The sample “{s.label}” was used to train the voice"
                    f"{'s' if len(voices) > 1 else ''} {names}. Delete it anyway? Voices "
                    "already trained keep working, but re-training them will need other "
                    "samples.")
        else:
            text = f"Delete the sample “{s.label}”? Its audio file is removed from the data " \
                   "folder."
        self._question(text, lambda: self._delete(s, confirmed=bool(voices)))

    def _question(self, text: str, yes: Any) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete sample", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("deleteSampleQuestion")
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.last_question = box
        box.finished.connect(lambda result: yes() if result == QMessageBox.StandardButton.Yes
                             else None)
        box.open()

    def _delete(self, s: Any, confirmed: bool) -> None:
        from studio.services import voice_samples

        if self.audio.playing_key == f"sample:{s.uid}":
            self.audio.stop()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, voice_samples.SampleInUse) and not confirmed:
                self._question(str(exc), lambda: self._delete(s, confirmed=True))
            else:
                self.note.say(describe(exc), error=True)

        self.host.run(voice_samples.delete, s.uid, confirmed,
                      then=lambda _r: self._deleted(s), on_error=failed)

    def _deleted(self, s: Any) -> None:
        self.note.say(f"Sample “{s.label}” deleted.")
        self.host.samplesChanged.emit()

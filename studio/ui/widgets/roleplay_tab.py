"""The Voices panel's Roleplay tab: take one character of the story and voice their lines.

The author (or a friend: each roleplay names its player, so several people keep their own of
the same story) picks a character from the scene bible; the tab lists that character's quoted
lines in reading order.  Each line is recorded by the player through the microphone or
rendered by a voice (the character's, or the line's own), and played back.  A roleplay only
refers to the story: its lines follow the text as it is edited.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QVBoxLayout, QWidget,
)

from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.narration_dialog import VoiceDialog, voice_words
from studio.ui.widgets.narration_segments import check_icon
from studio.ui.widgets.voice_common import (
    FIXED_IN_PROVIDERS, button, describe, fmt_clock, hint, ListTableModel, Note, VoiceHost,
)

from studio.ui.widgets.voice_templates_tab import table
from studio.ui.widgets.waveform import LevelMeter

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Scene", "Line", "Voice", "Recorded", "Rendered")


class LinesModel(ListTableModel):
    columns = COLUMNS

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.character_voice: dict | None = None
        self.voices: list = []
        self._tick = None

    def set_rows(self, rows: list, character_voice: dict | None, voices: list) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.character_voice = character_voice
        self.voices = voices
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.scene_title or "Scene"
            if col == 1:  # the quote as spoken, without the comma before "said Ada"
                return f"“{r.text.rstrip(',;: ')}”"
            if col == 2:
                return voice_words(r.voice, self.voices) if r.voice else \
                    ("Character's voice" if self.character_voice else "No voice yet")
            if col == 3:
                return "Recorded" if r.sample_uid else ""
            return "" if r.rendered else ""
        if role == Qt.ItemDataRole.DecorationRole:
            if (col == 3 and r.sample_uid) or (col == 4 and r.rendered):
                if self._tick is None:
                    self._tick = check_icon()
                return self._tick
        if role == Qt.ItemDataRole.ForegroundRole and col == 2 and not r.voice:
            return QColor("#8a8d91")
        if role == Qt.ItemDataRole.ToolTipRole and col == 1:
            return r.text
        return None


class RoleplayTab(QWidget):
    def __init__(self, host: VoiceHost, audio: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = host
        self.audio = audio
        self.roleplays: list = []
        self.info: Any = None
        self.characters: dict[str, str] = {}
        self.recording_line: tuple[str, int] | None = None
        self.task = None
        self.dialog: VoiceDialog | None = None
        self.last_question: QMessageBox | None = None
        self._build()
        audio.devicesChanged.connect(self._selected)
        audio.recordingChanged.connect(lambda _on: self._selected())
        audio.playingChanged.connect(lambda _key: self._selected())
        audio.recorded.connect(self._recorded)
        audio.tick.connect(self._tick)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Roleplay:"))
        self.picker = QComboBox()
        self.picker.setObjectName("roleplayPicker")
        self.picker.setMinimumContentsLength(22)
        self.picker.currentIndexChanged.connect(lambda _i: self._picked())
        pick.addWidget(self.picker)
        self.voice_button = button("Character voice…", "roleplayVoice",
                                   "The voice every line uses unless it has its own",
                                   self.change_character_voice)
        self.delete_button = button("Delete", "deleteRoleplay",
                                    "Forget this roleplay (recordings stay as samples)",
                                    self.delete_roleplay)
        pick.addWidget(self.voice_button)
        pick.addWidget(self.delete_button)
        pick.addStretch(1)
        lay.addLayout(pick)
        # A new roleplay: whose role, and who plays it.
        pick = QHBoxLayout()
        pick.addWidget(QLabel("New roleplay of"))
        self.character = QComboBox()
        self.character.setObjectName("roleplayCharacter")
        self.character.setMinimumContentsLength(14)
        self.character.setToolTip("A character of the scene bible")
        pick.addWidget(self.character)
        pick.addWidget(QLabel("played by"))
        self.player = QLineEdit()
        self.player.setObjectName("roleplayPlayer")
        self.player.setPlaceholderText("your name")
        self.player.setMaximumWidth(160)
        pick.addWidget(self.player)
        self.start_button = button("Start", "startRoleplay",
                                   "List this character's lines for this player",
                                   self.start_roleplay)
        pick.addWidget(self.start_button)
        pick.addStretch(1)
        lay.addLayout(pick)
        self.summary = QLabel()
        self.summary.setObjectName("roleplaySummary")
        lay.addWidget(self.summary)

        self.model = LinesModel(self)
        self.view = table(self.model, "roleplayLines")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 160), (2, 170), (3, 90), (4, 90)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        self.view.doubleClicked.connect(lambda _i: self.play_selected())
        lay.addWidget(self.view, 1)
        self.empty = hint("", "roleplayEmpty")
        lay.addWidget(self.empty)

        bar = QHBoxLayout()
        self.record_button = button("Record line", "recordLine",
                                    "Record the selected line yourself (press again to stop)",
                                    self.toggle_record)
        self.elapsed = QLabel("0:00")
        self.meter = LevelMeter()
        self.meter.setFixedWidth(120)
        self.render_button = button("Render line", "renderLine",
                                    "Have the line's voice speak it", self.render_selected)
        self.play_button = button("Play", "playLine",
                                  "Play your recording of the line, else its rendered audio",
                                  self.play_selected)
        self.line_voice_button = button("Line voice…", "lineVoice",
                                        "A voice for this line only", self.change_line_voice)
        for w in (self.record_button, self.elapsed, self.meter, self.render_button,
                  self.play_button, self.line_voice_button):
            bar.addWidget(w)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.device_note = hint("", "roleplayRecordProblem")
        lay.addWidget(self.device_note)
        self.note = Note("roleplayNote")
        lay.addWidget(self.note)
        self._selected()

    # --- loading ---

    def refresh(self, select: str | None = None) -> None:
        from studio.services import roleplays, voice_sources

        story_id = self.host.story_id
        if story_id is None:
            return

        def load(db):
            source = voice_sources.read(db, story_id, None)
            return source.character_names(), roleplays.list_for(db, story_id)

        self.host.run(load, then=lambda a: self._loaded(a, select), on_error=self.note.fail)

    def _loaded(self, answer: tuple, select: str | None) -> None:
        self.characters, self.roleplays = answer
        keep_char = self.character.currentData()
        self.character.clear()
        for cid, name in sorted(self.characters.items(), key=lambda kv: kv[1]):
            self.character.addItem(name, cid)
        self.character.setCurrentIndex(max(0, self.character.findData(keep_char)))
        self.start_button.setEnabled(bool(self.characters))
        keep = select or (self.info.uid if self.info is not None else None)
        self.picker.blockSignals(True)
        self.picker.clear()
        for r in self.roleplays:
            self.picker.addItem(f"{r.character_name}, played by {r.player}" if r.player
                                else r.character_name, r.uid)
        at = self.picker.findData(keep) if keep else -1
        self.picker.setCurrentIndex(at if at >= 0 else (0 if self.roleplays else -1))
        self.picker.blockSignals(False)
        self._picked()

    def _picked(self) -> None:
        uid = self.picker.currentData()
        self.info = next((r for r in self.roleplays if r.uid == uid), None)
        if self.info is None:
            self.model.set_rows([], None, self.host.voices)
            self._show_summary()
            self._selected()
            return
        self.reload_lines()

    def reload_lines(self) -> None:
        from studio.services import emotion_voices, roleplays

        uid = self.picker.currentData()
        if uid is None:
            return

        def load(db):
            return roleplays.get(db, uid), roleplays.lines(db, uid), \
                emotion_voices.list_voices(db)

        def loaded(answer: tuple) -> None:
            if self.picker.currentData() != uid:
                return
            self.info, rows, voices = answer
            self.host.voices = voices
            keep = self.view.currentIndex().row()
            self.model.set_rows(rows, self.info.voice, voices)
            if rows:
                self.view.selectRow(min(max(0, keep), len(rows) - 1))
            self._show_summary()
            self._selected()

        self.host.run(load, then=loaded, on_error=self.note.fail)

    def _show_summary(self) -> None:
        if self.host.document is None:
            self.empty.hide()
            return
        if not self.characters:
            self.empty.setText("The scene bible has no characters yet. Add them in the Scene "
                               "Bible panel; their dialogue lines then show here.")
        elif self.info is None:
            self.empty.setText("Pick a character and your name, then Start roleplay: the "
                               "character's lines are listed for you to record or render.")
        elif not self.model.rows:
            self.empty.setText(f"No dialogue of {self.info.character_name} was found: lines "
                               "are quoted speech attributed to them (“…,” said "
                               f"{self.info.character_name}).")
        self.empty.setVisible(self.info is None or not self.model.rows)
        if self.info is not None:
            recorded = sum(1 for r in self.model.rows if r.sample_uid)
            self.summary.setText(f"{len(self.model.rows)} lines · {recorded} recorded · "
                                 f"Voice: {voice_words(self.info.voice, self.host.voices)}")
        else:
            self.summary.setText("")

    def selected(self) -> Any:
        index = self.view.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and \
            index.row() < len(self.model.rows) else None

    def _selected(self) -> None:
        r = self.selected()
        problem = self.audio.capture_problem
        recording = self.audio.recording and self.recording_line is not None
        self.record_button.setEnabled(r is not None and (not problem or recording))
        self.record_button.setText("Stop recording" if recording else "Record line")
        self.record_button.setToolTip(problem or "Record the selected line yourself "
                                                 "(press again to stop)")
        words = self.audio.device_words()
        self.device_note.setText(words)
        self.device_note.setVisible(bool(words) and self.info is not None)
        self.elapsed.setVisible(recording)
        self.meter.setVisible(recording)
        busy = self.task is not None
        self.render_button.setEnabled(r is not None and not busy)
        playing = r is not None and self.audio.playing_key == self._key(r)
        self.play_button.setText("Stop" if playing else "Play")
        self.play_button.setEnabled(r is not None and (bool(r.sample_uid) or r.rendered)
                                    and not self.audio.output_problem)
        self.play_button.setToolTip(self.audio.output_problem or "Play your recording of "
                                    "the line, else its rendered audio")
        self.line_voice_button.setEnabled(r is not None)
        self.voice_button.setEnabled(self.info is not None)
        self.delete_button.setEnabled(self.info is not None)

    @staticmethod
    def _key(r: Any) -> str:
        return f"line:{r.segment_uid}:{r.line_index}"

    # --- roleplays ---

    def start_roleplay(self) -> None:
        from studio.services import roleplays

        cid = self.character.currentData()
        story_id = self.host.story_id
        if cid is None or story_id is None:
            return
        player = self.player.text()
        self.host.run(lambda db: roleplays.create(db, story_id=story_id, character_id=cid,
                                                  player=player),
                      then=lambda info: (self.note.say(f"Roleplay of {info.character_name} "
                                                       "started."),
                                         self.refresh(select=info.uid)),
                      on_error=self.note.fail)

    def delete_roleplay(self) -> None:
        from studio.services import roleplays

        info = self.info
        if info is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete roleplay",
                          f"Delete this roleplay of {info.character_name}? Your recordings "
                          "stay in My samples; the story is not touched.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        self.last_question = box
        box.finished.connect(lambda r: self.host.run(
            roleplays.delete, info.uid, then=lambda _r: (self.note.say("Roleplay deleted."),
                                                          self.refresh()),
            on_error=self.note.fail) if r == QMessageBox.StandardButton.Yes else None)
        box.open()

    # --- voices (undoable) ---

    def _push(self, text: str, put: Any, put_back: Any) -> None:
        stack = self.host.undo_stack
        if stack is None:
            return
        stack.push(CallbackCommand(
            text, lambda _first: self.host.run(put, then=lambda _r: self.reload_lines(),
                                               on_error=self.note.fail),
            lambda: self.host.run(put_back, then=lambda _r: self.reload_lines(),
                                  on_error=self.note.fail)))

    def change_character_voice(self) -> None:
        info = self.info
        if info is None:
            return
        dialog = VoiceDialog(self.host.voices, f"Voice of {info.character_name}", info.voice,
                             self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._set_character_voice(dialog.voice()))
        dialog.open()

    def _set_character_voice(self, voice: dict | None) -> None:
        from studio.services import roleplays

        uid = self.info.uid
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old = roleplays.set_voice(db, uid, voice)
            holder.setdefault("old", old)

        self._push(f"Set the voice of {self.info.character_name}", put,
                   lambda db: roleplays.set_voice(db, uid, holder.get("old")))

    def change_line_voice(self) -> None:
        r = self.selected()
        if r is None or self.info is None:
            return
        dialog = VoiceDialog(self.host.voices, "Voice of this line", r.voice, self,
                             inherit=f"{self.info.character_name}'s voice")
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._set_line_voice(r, dialog.voice()))
        dialog.open()

    def _set_line_voice(self, r: Any, voice: dict | None) -> None:
        from studio.services import roleplays

        uid = self.info.uid
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old = roleplays.set_line_voice(db, uid, r.segment_uid, r.line_index, voice,
                                           r.settings)
            holder.setdefault("old", old)

        def put_back(db) -> None:
            old = holder.get("old")
            if old is not None:
                roleplays.set_line_voice(db, uid, r.segment_uid, r.line_index, old.voice,
                                         old.settings)

        self._push("Set a line's voice", put, put_back)

    # --- record, render, play ---

    def toggle_record(self) -> None:
        r = self.selected()
        if self.audio.recording:
            self.audio.stop_recording()
            return
        if r is None:
            return
        self.recording_line = (r.segment_uid, r.line_index)
        self.note.say(f"Recording… say: “{r.text}”, then press Stop recording.")
        self.audio.start_recording()

    def _recorded(self, wav: bytes) -> None:
        from studio.services import roleplays

        line, self.recording_line = self.recording_line, None
        if line is None or self.info is None:
            return
        uid = self.info.uid
        self.host.run(roleplays.record_line, uid, line[0], line[1], wav,
                      then=lambda _l: (self.note.say("Recording kept (it is also in My "
                                                     "samples)."), self.reload_lines(),
                                       self.host.samplesChanged.emit()),
                      on_error=self.note.fail)

    def render_selected(self) -> None:
        from studio.services import roleplays

        r = self.selected()
        doc = self.host.document
        if r is None or doc is None or self.info is None or self.task is not None:
            return
        self.note.say("Rendering the line…")
        coro = roleplays.render_line(self.host.run_db, doc.db, self.info.uid, r.segment_uid,
                                     r.line_index)
        self.task = self.host.start(coro, then=lambda audio: self._rendered(r, audio),
                                    on_error=self._failed, on_cancel=lambda: self._failed(None))
        self._selected()

    def _rendered(self, r: Any, audio: Any) -> None:
        self.task = None
        self.note.say("The line is rendered." if self.audio.output_problem else
                      "The line is rendered; playing it.")
        self.reload_lines()
        if not self.audio.output_problem:
            self.audio.play_file(audio.path, self._key(r))

    def _failed(self, exc: BaseException | None) -> None:
        self.task = None
        if exc is None:
            self.note.say("Cancelled.")
        else:
            words = describe(exc)
            if isinstance(exc, FIXED_IN_PROVIDERS):
                words += " (Settings, AI providers: Ctrl+Alt+P)"
            self.note.say(words, error=True)
        self._selected()

    def play_selected(self) -> None:
        from studio.services import roleplays, voice_samples

        r = self.selected()
        doc = self.host.document
        if r is None or doc is None or self.info is None:
            return
        key = self._key(r)
        if self.audio.playing_key == key:
            self.audio.stop()
            return
        if r.sample_uid:
            self.host.run(voice_samples.sample_path, r.sample_uid,
                          then=lambda path: self.audio.play_file(path, key),
                          on_error=self.note.fail)
        elif r.rendered:  # from the render cache: no provider call
            coro = roleplays.render_line(self.host.run_db, doc.db, self.info.uid,
                                         r.segment_uid, r.line_index)
            self.host.start(coro, then=lambda audio: self.audio.play_file(audio.path, key),
                            on_error=self._failed)

    def _tick(self) -> None:
        if self.audio.recording and self.recording_line is not None:
            self.elapsed.setText(fmt_clock(self.audio.elapsed()))
            self.meter.set_level(self.audio.level())

    def stop_work(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        self.recording_line = None

"""The Voices panel's Narrations tab: a story heard aloud, paragraph by paragraph.

Top: which story (the open one, or a marketplace story cached on this computer — a narration
only *refers to* it), which narration of it, its narrator voice and voice type.  Middle: every
paragraph with who speaks it, in which template and emotion — suggested from the scene's
emotion and the speaking character until the author picks (a combo box in the cell).  Every
choice, "Back to suggestion", the narrator and the voice type are steps on the story's undo
stack (Ctrl+Z), because an author tries voices the way they try words.  Bottom (the
``narrations_render`` mixin): preview a paragraph, render with progress, Cancel and resume,
and the exports for studios.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMenu, QMessageBox,
    QProgressBar, QSizePolicy, QVBoxLayout, QWidget,
)

from studio.domain.emotions import EMOTIONS
from studio.ui.commands import CallbackCommand
from studio.ui.dialogs.narration_dialog import (
    VOICE_TYPE_WORDS, NarrationDialog, VoiceDialog, voice_words,
)
from studio.ui.widgets.narration_segments import ChoiceDelegate, SegmentsModel
from studio.ui.widgets.narrations_render import NarrationsRenderMixin
from studio.ui.widgets.voice_common import Note, VoiceHost, button, cap, hint
from studio.ui.widgets.voice_templates_tab import table

NARRATOR = "narrator"
FIELD_WORDS = {"voice": "voice", "template_uid": "template", "emotion": "emotion"}


def load_targets(db, story_id: int | None) -> list[tuple[str, int | None, int | None]]:
    """(label, story id, reference version id): the open story, then each cached version of
    the marketplace stories kept on this computer (newest first)."""
    from studio.services import reference_cache, stories

    out: list[tuple[str, int | None, int | None]] = []
    if story_id is not None:
        title = stories.open_story(db, story_id).fields.title
        out.append((f"This story: {title}", story_id, None))
    try:
        cached = reference_cache.list_cached(db)
    except Exception:  # noqa: BLE001 - no marketplace tables yet: the open story only
        cached = []
    for story in cached:
        for version in reversed(reference_cache.cached_versions(db, story.server_url,
                                                                story.public_id)):
            out.append((f"Marketplace: {story.title} (version {version.number})", None,
                        version.id))
    return out


class NarrationsTab(NarrationsRenderMixin, QWidget):
    def __init__(self, host: VoiceHost, audio: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.host = host
        self.audio = audio
        self.narrations: list = []
        self._all_rows: list = []  # the whole plan; the table shows one chapter or all
        self.info: Any = None
        self.characters: dict[str, str] = {}
        self.dialog: NarrationDialog | None = None
        self.voice_dialog: VoiceDialog | None = None
        self.last_question: QMessageBox | None = None
        self._init_render()
        self._build()
        audio.playingChanged.connect(lambda _key: self._selected())

    # --- layout ---

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        self.target_label = QLabel("Story:")
        top.addWidget(self.target_label)
        self.target = QComboBox()
        self.target.setObjectName("narrationTarget")
        self.target.setMinimumContentsLength(24)
        self.target.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target.currentIndexChanged.connect(lambda _i: self._load_narrations())
        top.addWidget(self.target)
        self.target_label.hide()  # shown when marketplace stories are cached here
        self.target.hide()
        top.addStretch(1)
        lay.addLayout(top)
        top = QHBoxLayout()
        top.addWidget(QLabel("Narration:"))
        self.picker = QComboBox()
        self.picker.setObjectName("narrationPicker")
        self.picker.setMinimumContentsLength(18)
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.currentIndexChanged.connect(lambda _i: self._narration_picked())
        top.addWidget(self.picker)
        self.new_button = button("New…", "newNarration", "Start a narration of this story",
                                 self.new_narration)
        self.narrator_button = button("Narrator voice…", "narratorVoice",
                                      "Change the narrator's voice and the voice type",
                                      self.change_narrator)
        self.cast_button = button("Character voices", "characterVoices",
                                  "Give a character of the scene bible a voice of their own "
                                  "(else the narrator's voice speaks their lines)")
        self.cast_menu = QMenu(self.cast_button)
        self.cast_menu.aboutToShow.connect(self._fill_cast_menu)
        self.cast_button.setMenu(self.cast_menu)
        self.delete_button = button("Delete", "deleteNarration",
                                    "Forget this narration (the story and rendered audio "
                                    "stay)", self.delete_narration)
        for b in (self.new_button, self.narrator_button, self.cast_button, self.delete_button):
            top.addWidget(b)
        top.addStretch(1)
        lay.addLayout(top)
        self.summary = QLabel()
        self.summary.setObjectName("narrationSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        self.chapter = QComboBox()
        self.chapter.setObjectName("narrationChapter")
        self.chapter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chapter.currentIndexChanged.connect(lambda _i: self._show_rows())
        bar.addWidget(self.chapter)
        self.clear_button = button("Back to suggestion", "clearSegment",
                                   "Let the selected paragraph follow the suggestion again",
                                   self.clear_selected)
        self.preview_button = button("Preview", "previewSegment",
                                     "Hear the selected paragraph as it will be rendered",
                                     self.preview_selected)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.preview_button)
        bar.addStretch(1)
        lay.addLayout(bar)

        self.model = SegmentsModel(self)
        self.model.choiceRequested.connect(self.choose)
        self.view = table(self.model, "segmentsTable")
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.SelectedClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setItemDelegate(ChoiceDelegate(self.options, self.view))
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 190), (2, 120), (3, 110), (4, 110), (5, 70), (6, 80)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        lay.addWidget(self.view, 1)
        self.empty = hint("", "narrationsEmpty")
        lay.addWidget(self.empty)

        bottom = QHBoxLayout()
        self.render_button = button("Render", "renderNarration",
                                    "Render every paragraph shown that has no audio yet "
                                    "(what is rendered already is kept)", self.render)
        self.progress = QProgressBar()
        self.progress.setObjectName("renderProgress")
        self.progress.setFixedWidth(220)
        self.progress.setFormat("%v of %m")
        self.cancel_button = button("Cancel", "cancelRender",
                                    "Stop rendering; what is rendered is kept", self.cancel)
        self.render_state = QLabel()
        self.render_state.setObjectName("renderState")
        self.render_state.setWordWrap(True)
        self.render_state.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        bottom.addWidget(self.render_button)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.render_state, 1)
        self.playlist_button = button("Export playlist…", "exportPlaylist",
                                      "Copy the rendered audio into a folder with an M3U "
                                      "playlist", self.choose_playlist_folder)
        self.ssml_button = button("Export SSML…", "exportSsml",
                                  "SSML with each voice and its prosody, for studios",
                                  lambda: self.choose_text_file("ssml"))
        self.script_button = button("Export script…", "exportScript",
                                    "A plain recording script: VOICE [template]: text",
                                    lambda: self.choose_text_file("script"))
        for b in (self.playlist_button, self.ssml_button, self.script_button):
            bottom.addWidget(b)
        lay.addLayout(bottom)
        notes = QHBoxLayout()
        self.note = Note("narrationsNote")
        notes.addWidget(self.note, 1)
        self.providers_button = button("Open AI providers…", "narrationProviders",
                                       "Settings, AI providers (Ctrl+Alt+P)",
                                       self.host.show_providers)
        self.providers_button.hide()
        notes.addWidget(self.providers_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(notes)
        self._set_rendering(False)
        self._selected()

    # --- loading ---

    def refresh(self) -> None:
        """Targets (the open story and cached marketplace stories), templates and voices for
        the combo boxes, then the narrations of the chosen target."""
        from studio.services import emotion_voices, voice_templates

        def load(db, story_id):
            return (load_targets(db, story_id),
                    voice_templates.list_templates(db, include_hidden=True,
                                                   include_superseded=True),
                    emotion_voices.list_voices(db))

        self.host.run(load, self.host.story_id, then=self._targets_loaded,
                      on_error=self.note.fail)

    def _targets_loaded(self, answer: tuple) -> None:
        targets, templates, voices = answer
        self.host.set_templates(templates)
        self.host.set_voices(voices)
        keep = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for label, story_id, version_id in targets:
            self.target.addItem(label, (story_id, version_id))
        at = self.target.findData(keep) if keep is not None else -1
        self.target.setCurrentIndex(max(0, at))
        self.target.blockSignals(False)
        # Only worth a choice when marketplace stories are cached here.
        self.target.setVisible(self.target.count() > 1)
        self.target_label.setVisible(self.target.count() > 1)
        self._load_narrations()

    def target_ids(self) -> tuple[int | None, int | None]:
        data = self.target.currentData()
        return tuple(data) if data else (self.host.story_id, None)

    def target_title(self) -> str:
        text = self.target.currentText()
        return text.split(": ", 1)[-1] if text else ""

    def _load_narrations(self, select: str | None = None) -> None:
        from studio.services import narrations

        story_id, version_id = self.target_ids()
        self.host.run(lambda db: narrations.list_for(db, story_id, version_id),
                      then=lambda found: self._narrations_loaded(found, select),
                      on_error=self.note.fail)

    def _narrations_loaded(self, found: list, select: str | None) -> None:
        keep = select or (self.info.uid if self.info is not None else None)
        self.narrations = list(found)
        self.picker.blockSignals(True)
        self.picker.clear()
        for n in self.narrations:
            self.picker.addItem(n.name, n.uid)
        at = self.picker.findData(keep) if keep else -1
        self.picker.setCurrentIndex(at if at >= 0 else (0 if found else -1))
        self.picker.blockSignals(False)
        self._narration_picked()

    def current_uid(self) -> str | None:
        return self.picker.currentData()

    def _narration_picked(self) -> None:
        uid = self.current_uid()
        self.info = next((n for n in self.narrations if n.uid == uid), None)
        if self.info is None:
            self.model.set_rows([])
            self._fill_chapters([])
            self._show_summary()
            self._selected()
            return
        self.reload_plan()

    def reload_plan(self, then: Any = None) -> None:
        """The narration as stored and its paragraphs' plan (and the bible's characters)."""
        from studio.services import narrations, voice_sources

        uid = self.current_uid()
        if uid is None:
            return

        def load(db):
            info = narrations.get(db, uid)
            rows = narrations.plan(db, uid)
            source = voice_sources.read(db, info.story_id, info.reference_version_id)
            return info, rows, source.character_names()

        def loaded(answer: tuple) -> None:
            if self.current_uid() != uid:
                return
            self.info, rows, self.characters = answer
            self.narrations = [self.info if n.uid == uid else n for n in self.narrations]
            keep = self.selected()
            self._all_rows = rows
            self._fill_chapters(rows)
            self._show_rows(keep.segment_uid if keep is not None else None)
            self._show_summary()
            if then is not None:
                then()

        self.host.run(load, then=loaded, on_error=self.note.fail)

    def _fill_chapters(self, rows: list) -> None:
        keep = self.chapter.currentData()
        self.chapter.blockSignals(True)
        self.chapter.clear()
        self.chapter.addItem("Whole story", None)
        seen: list[str] = []
        for r in rows:
            if r.chapter_uid not in seen:
                seen.append(r.chapter_uid)
                self.chapter.addItem(r.chapter_title or f"Chapter {len(seen)}", r.chapter_uid)
        self.chapter.setCurrentIndex(max(0, self.chapter.findData(keep)))
        self.chapter.blockSignals(False)

    def chapter_uid(self) -> str | None:
        return self.chapter.currentData()

    def _show_rows(self, select: str | None = None) -> None:
        chapter = self.chapter_uid()
        rows = [r for r in self._all_rows if chapter is None or r.chapter_uid == chapter]
        self.model.set_rows(rows)
        at = self.model.row_of(select) if select else -1
        if at >= 0:
            self.view.selectRow(at)
        self._show_render_state()
        self._selected()

    def _show_summary(self) -> None:
        info = self.info
        if info is None:
            has_target = self.host.document is not None
            self.summary.setText("")
            self.empty.setText("No narration of this story yet. New… starts one: choose the "
                               "narrator's voice, and every paragraph gets a suggested voice "
                               "and emotion you can change." if has_target else "")
            self.empty.setVisible(has_target)
            return
        self.empty.setVisible(not self._all_rows)
        self.empty.setText("This story has no text to narrate yet.")
        voiced = [f"{self.characters.get(cid, cid)}: {voice_words(ref, self.host.voices)}"
                  for cid, ref in sorted(info.voices.items())]
        self.summary.setText(
            f"Narrator: {voice_words(info.narrator, self.host.voices)} · "
            f"{VOICE_TYPE_WORDS.get(info.voice_type, info.voice_type)}"
            + (" · " + "; ".join(voiced) if voiced else ""))

    def selected(self) -> Any:
        index = self.view.currentIndex() if hasattr(self, "view") else None
        return self.model.rows[index.row()] if index is not None and index.isValid() and \
            index.row() < len(self.model.rows) else None

    def _selected(self) -> None:
        r = self.selected()
        have = self.info is not None
        self.new_button.setEnabled(self.host.document is not None)
        for b in (self.narrator_button, self.delete_button):
            b.setEnabled(have)
        self.cast_button.setEnabled(have and bool(self.characters))
        self.clear_button.setEnabled(r is not None and not r.auto)
        playing = r is not None and self.audio.playing_key == f"segment:{r.segment_uid}"
        self.preview_button.setText("Stop" if playing else "Preview")
        self.preview_button.setEnabled(r is not None and not self.rendering)
        self._enable_render()

    # --- the combo boxes' choices ---

    def options(self, field: str, row: Any) -> list[tuple[str, Any]]:
        if field == "voice":
            return [("Narrator", NARRATOR)] + sorted(
                ((name, cid) for cid, name in self.characters.items()), key=lambda x: x[0])
        if field == "template_uid":
            out = [("(none)", "")]
            for t in self.host.templates:
                if (not t.hidden and not t.superseded_by) or t.uid == row.template_uid:
                    out.append((t.name + (" (superseded)" if t.superseded_by else ""), t.uid))
            return out
        emotions = list(dict.fromkeys([*EMOTIONS, *(t.emotion for t in self.host.templates
                                                    if t.emotion)]))
        return [("(none)", "")] + [(cap(e), e) for e in emotions]

    def _label(self, field: str, value: Any) -> str:
        if field == "voice":
            return "the narrator" if value == NARRATOR else self.characters.get(value, value)
        if field == "template_uid":
            return self.host.template_name(value) if value else "no template"
        return value or "no emotion"

    # --- undoable steps ---

    def _push(self, text: str, put: Any, put_back: Any, done: str) -> None:
        """An undoable step whose redo and undo are service calls on the runner; the value
        undo needs is written by the redo job (the runner keeps the order), as in the
        Analysis panel."""
        stack = self.host.undo_stack
        if stack is None:
            return

        def redo(_first: bool) -> None:
            self.host.run(put, then=lambda _r: self.reload_plan(lambda: self.note.say(done)),
                          on_error=self.note.fail)

        def undo() -> None:
            self.host.run(put_back, then=lambda _r: self.reload_plan(
                lambda: self.note.say(f"Undone: {text[:1].lower()}{text[1:]}.")),
                on_error=self.note.fail)

        stack.push(CallbackCommand(text, redo, undo))

    def choose(self, segment_uid: str, field: str, value: Any) -> None:
        """A combo box pick in the table: one undoable step."""
        from studio.services import narrations

        uid = self.current_uid()
        if uid is None or field not in FIELD_WORDS:
            return
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old = narrations.set_segment(db, uid, segment_uid, **{field: value})
            if "old" not in holder:
                holder["old"] = old

        def put_back(db) -> None:
            narrations.restore_segment(db, uid, segment_uid, holder.get("old"))

        label = self._label(field, value)
        self._push(f"Set a paragraph's {FIELD_WORDS[field]} to {label}", put, put_back,
                   f"The paragraph's {FIELD_WORDS[field]} is now {label} (Ctrl+Z undoes).")

    def clear_selected(self) -> None:
        from studio.services import narrations

        r = self.selected()
        uid = self.current_uid()
        if r is None or uid is None or r.auto:
            return
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old = narrations.clear_segment(db, uid, r.segment_uid)
            if "old" not in holder:
                holder["old"] = old

        def put_back(db) -> None:
            narrations.restore_segment(db, uid, r.segment_uid, holder.get("old"))

        self._push("Put a paragraph back to the suggestion", put, put_back,
                   "The paragraph follows the suggestion again.")

    # --- narrations ---

    def new_narration(self) -> None:
        if self.host.document is None:
            return
        dialog = NarrationDialog(self.host.voices, self.target_title(), self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._create(dialog))
        dialog.open()

    def _create(self, dialog: NarrationDialog) -> None:
        from studio.services import narrations

        v = dialog.values()
        story_id, version_id = self.target_ids()

        def failed(exc: BaseException) -> None:
            from studio.ui.widgets.voice_common import describe

            dialog.show_problem(describe(exc))
            dialog.open()

        self.host.run(lambda db: narrations.create(
            db, story_id=story_id, reference_version_id=version_id, name=v["name"],
            narrator=v["narrator"], voice_type=v["voice_type"]),
            then=lambda info: (self.note.say(f"Narration “{info.name}” started: every "
                                             "paragraph has a suggested voice; double-click "
                                             "a cell to choose another."),
                               self._load_narrations(select=info.uid)),
            on_error=failed)

    def change_narrator(self) -> None:
        if self.info is None:
            return
        dialog = NarrationDialog(self.host.voices, self.target_title(), self, info=self.info)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._narrator_changed(dialog.values()))
        dialog.open()

    def _narrator_changed(self, v: dict) -> None:
        from studio.services import narrations

        uid = self.current_uid()
        if uid is None:
            return
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old_voice = narrations.set_narrator(db, uid, v["narrator"])
            old_type = narrations.set_voice_type(db, uid, v["voice_type"])
            if "old" not in holder:
                holder["old"] = (old_voice, old_type)

        def put_back(db) -> None:
            old_voice, old_type = holder["old"]
            narrations.set_narrator(db, uid, old_voice)
            narrations.set_voice_type(db, uid, old_type)

        self._push("Change the narrator's voice", put, put_back,
                   f"Narrator: {voice_words(v['narrator'], self.host.voices)}.")

    def _fill_cast_menu(self) -> None:
        self.cast_menu.clear()
        voices = self.info.voices if self.info is not None else {}
        for cid, name in sorted(self.characters.items(), key=lambda kv: kv[1]):
            ref = voices.get(cid)
            words = voice_words(ref, self.host.voices) if ref else "the narrator's voice"
            action = self.cast_menu.addAction(f"{name}: {words}")
            action.triggered.connect(lambda _c=False, c=cid: self.change_character_voice(c))

    def change_character_voice(self, character_id: str) -> None:
        if self.info is None:
            return
        name = self.characters.get(character_id, character_id)
        dialog = VoiceDialog(self.host.voices, f"Voice of {name}",
                             self.info.voices.get(character_id), self,
                             inherit="The narrator's voice")
        self.voice_dialog = dialog
        dialog.accepted.connect(lambda: self.set_character_voice(character_id, dialog.voice()))
        dialog.open()

    def set_character_voice(self, character_id: str, voice: dict | None) -> None:
        """One undoable step: the character speaks in ``voice`` (None: the narrator's)."""
        from studio.services import narrations

        uid = self.current_uid()
        if uid is None:
            return
        name = self.characters.get(character_id, character_id)
        holder: dict[str, Any] = {}

        def put(db) -> None:
            old = narrations.set_character_voice(db, uid, character_id, voice)
            if "old" not in holder:
                holder["old"] = old

        def put_back(db) -> None:
            narrations.set_character_voice(db, uid, character_id, holder.get("old"))

        words = voice_words(voice, self.host.voices) if voice else "the narrator's voice"
        self._push(f"Give {name} a voice", put, put_back, f"{name} speaks in {words}.")

    def delete_narration(self) -> None:
        info = self.info
        if info is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete narration",
                          f"Delete the narration “{info.name}” and its voice choices? The "
                          "story is not touched, and rendered audio stays in the render "
                          "cache (a new narration with the same voices reuses it).",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("deleteNarrationQuestion")
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        self.last_question = box
        box.finished.connect(lambda r: self._delete(info)
                             if r == QMessageBox.StandardButton.Yes else None)
        box.open()

    def _delete(self, info: Any) -> None:
        from studio.services import narrations

        self.host.run(narrations.delete, info.uid,
                      then=lambda _r: (self.note.say(f"Narration “{info.name}” deleted."),
                                       self._load_narrations()),
                      on_error=self.note.fail)


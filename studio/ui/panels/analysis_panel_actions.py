"""The Analysis panel's one-click actions, each an undoable step, and its navigation.

A mixin of ``AnalysisPanel`` (kept apart so each module stays readable); it uses the panel's
``document``, ``_run``, ``cast``, ``emotions``, ``insights``, ``tabs``, ``index`` and
``segmentRequested``.

Undo works the way the rest of the app does: a ``CallbackCommand`` on the story's undo stack
whose redo and undo are service calls.  The value undo needs (the new character's id, the
scene's previous emotion) is only known once the service has run, on the runner thread; the
runner runs jobs in order, so the redo job writes it into a holder that the undo job — always
queued later — reads on that same thread.  No UI callback has to arrive first.
"""

from __future__ import annotations

import copy
from typing import Any

from studio.domain.errors import StudioError
from studio.services import analysis_actions
from studio.services import bible as bible_service
from studio.services import manuscript
from studio.store.database import Database
from studio.ui.commands import CallbackCommand
from studio.ui.widgets.analysis_models import as_dict, emotion_label, text

MESSAGE_MS = 8000


def remove_character(db: Database, story_id: int, char_id: str) -> bool:
    """Undo of "Add to scene bible": save the bible again without that character (one more
    bible version — history is never rewritten).  False when it is already gone."""
    state = bible_service.load(db, story_id)
    data = copy.deepcopy(state.story_data)
    chars = list(data.get("characters") or [])
    kept = [c for c in chars if c.get("id") != char_id]
    if len(kept) == len(chars):
        return False
    data["characters"] = kept
    bible_service.save(db, story_id, "story", state.story_version, data)
    return True


class AnalysisActionsMixin:
    # --- messages ------------------------------------------------------------------------

    def _tell(self, words: str) -> None:
        """A short note in the window's status bar (actions never interrupt with a dialog)."""
        window = self.window()
        bar = getattr(window, "statusBar", None)
        if bar is not None:
            bar().showMessage(words, MESSAGE_MS)

    def _action_failed(self, exc: BaseException) -> None:
        self._tell(str(exc) if isinstance(exc, StudioError) else f"Something went wrong: {exc}")

    def _bible_changed(self) -> None:
        """The Scene Bible panel holds the version its next save is made against; reloading
        it keeps that save from being refused as stale.  The analysis itself now describes an
        older bible, which the status line says."""
        for panel in getattr(self.window(), "panels", []):
            if panel is not self and hasattr(panel, "refresh") and hasattr(panel, "editor"):
                panel.refresh()
        self._maybe_stale = True
        self._check_current()

    # --- add a character to the bible ----------------------------------------------------

    def add_to_bible(self, row: dict) -> None:
        doc = self.document
        name = text(row.get("name")).strip()
        if doc is None or not name:
            return
        aliases = [text(a) for a in row.get("aliases") or [] if a]
        holder: dict[str, Any] = {}

        def add(db: Database, story_id: int) -> str:
            holder["id"] = analysis_actions.add_character(db, story_id, name, aliases)
            return holder["id"]

        def remove(db: Database, story_id: int) -> bool:
            char_id = holder.pop("id", None)
            return bool(char_id) and remove_character(db, story_id, char_id)

        def redo(_first: bool) -> None:
            self._run(add, then=lambda char_id: self._added(name, char_id),
                      on_error=self._action_failed)

        def undo() -> None:
            self._run(remove, then=lambda _done: self._added(name, None),
                      on_error=self._action_failed)

        doc.undo_stack.push(CallbackCommand(f"Add {name} to the scene bible", redo, undo))

    def _added(self, name: str, char_id: str | None) -> None:
        self.cast.mark_in_bible(name, char_id)
        self._tell(f"{name} added to the scene bible." if char_id
                   else f"{name} taken out of the scene bible again.")
        self._bible_changed()

    # --- scene emotion and voice ---------------------------------------------------------

    def set_scene_emotion(self, scene_uid: str, emotion: str) -> None:
        doc = self.document
        if doc is None or not scene_uid:
            return
        holder: dict[str, Any] = {}

        def put(db: Database, story_id: int) -> None:
            old = analysis_actions.set_scene_emotion(db, story_id, scene_uid, emotion)
            holder.setdefault("old", old)

        def put_back(db: Database, story_id: int) -> None:
            analysis_actions.set_scene_emotion(db, story_id, scene_uid, holder.get("old"))

        title = self.index.scene_title(scene_uid) or "scene"
        self._push_scene_step(f"Set “{title}” emotion to {emotion}", scene_uid, put, put_back,
                              f"“{title}” now records {emotion_label(emotion).lower()}.")

    def suggest_voice(self, scene_uid: str, emotion: str) -> None:
        doc = self.document
        if doc is None or not scene_uid:
            return
        holder: dict[str, Any] = {}

        def put(db: Database, story_id: int) -> None:
            old = analysis_actions.set_scene_voice(db, story_id, scene_uid, emotion)
            holder.setdefault("old", old)

        def put_back(db: Database, story_id: int) -> None:
            analysis_actions.set_scene_voice(db, story_id, scene_uid, holder.get("old"),
                                             is_template=True)

        title = self.index.scene_title(scene_uid) or "scene"
        self._push_scene_step(f"Suggest a voice for “{title}”", scene_uid, put, put_back,
                              f"Voice template noted for “{title}”.")

    def _push_scene_step(self, label: str, scene_uid: str, put, put_back, done: str) -> None:
        def redo(_first: bool) -> None:
            self._run(put, then=lambda _r: self._scene_changed(scene_uid, done),
                      on_error=self._action_failed)

        def undo() -> None:
            self._run(put_back, then=lambda _r: self._scene_changed(scene_uid, f"Undone: "
                                                                    f"{label[:1].lower()}"
                                                                    f"{label[1:]}."),
                      on_error=self._action_failed)

        self.document.undo_stack.push(CallbackCommand(label, redo, undo))

    def _scene_changed(self, scene_uid: str, words: str) -> None:
        self._tell(words)
        self._load_notes(scene_uid)

    def _load_notes(self, scene_uid: str | None = None) -> None:
        """What the selected scene has recorded (emotion, voice template), read on the runner
        (selection changes are debounced by the panel's timer)."""
        if scene_uid is None:
            row = self.emotions.selected_scene()
            scene_uid = text(row.get("scene")) if row else ""
        if not scene_uid or self.document is None:
            return
        self._run(analysis_actions.scene_notes, scene_uid,
                  then=lambda notes: self.emotions.show_notes(scene_uid, notes),
                  on_error=lambda _exc: self.emotions.show_notes(scene_uid, {}))

    # --- navigation ----------------------------------------------------------------------

    def go_to_scene(self, scene_uid: str, segment_uid: str = "") -> None:
        """Open the manuscript at the scene's first paragraph (or at ``segment_uid``)."""
        if not scene_uid or self.document is None:
            return
        if segment_uid:
            self.segmentRequested.emit(scene_uid, segment_uid)
            return

        def loaded(scene) -> None:
            first = scene.segments[0].id if scene.segments else ""
            self.segmentRequested.emit(scene_uid, first)

        self._run(manuscript.load_scene, scene_uid, then=loaded,
                  on_error=lambda _exc: self._tell(
                      "That scene is no longer in the manuscript (the analysis is of an "
                      "older text)."))

    def go_to_insight(self, insight: dict) -> None:
        target = as_dict(insight.get("target"))
        scene = text(target.get("scene") or target.get("scene_uid"))
        if not scene and target.get("chapter"):
            scene = self.index.first_scene_of(target.get("chapter"))
        if not scene and target.get("from_chapter"):
            scene = self.index.first_scene_of(target.get("from_chapter"))
        if not scene and (target.get("character_id") or target.get("character")):
            # A character insight opens the scene where they first appear.
            scene = self.index.character_scene(target.get("character_id")) or \
                self.index.character_scene(target.get("character"))
        if scene:
            self.go_to_scene(scene, text(target.get("segment") or target.get("segment_uid")))
        else:
            self._tell("This insight is about the whole story.")

    def _overview_insight(self, insight: dict) -> None:
        self.tabs.setCurrentWidget(self.insights)
        self.insights.select(insight)

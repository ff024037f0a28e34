"""The Scene Bible panel's characters-and-emotions behaviour: selection shared by the editor,
the relationship graph and the emotion editor, and undoable emotion records.

A mixin of ``BiblePanel`` (kept apart so each module stays readable); it uses the panel's
``editor``, ``graph``, ``emotion_editor``, ``_emotions``, ``_steps``, ``_run`` and
``_arcs_loaded``.
"""

from __future__ import annotations

from studio.services import emotions
from studio.ui.commands import CallbackCommand


class BibleEmotionsMixin:
    def _character_selected(self, char_id: str) -> None:
        self.graph.select_character(char_id)
        self.emotion_editor.pick(character_id=char_id)

    def _graph_character(self, char_id: str) -> None:
        self.editor.show_section("characters")
        self.editor.select_character(char_id)
        self.emotion_editor.pick(character_id=char_id)

    def _chart_scene(self, scene_uid: str) -> None:
        self.emotion_editor.pick(scene_uid=scene_uid)

    def _show_emotion(self) -> None:
        char_id, scene_uid = self.emotion_editor.current_pair()
        stored = next((e for e in self._emotions
                       if e["character_id"] == char_id and e["scene_uid"] == scene_uid), None)
        self.emotion_editor.load(stored)
        step = self._steps.get((char_id, scene_uid))
        note = ""
        if step is not None and step.delta is not None:
            note = f"Change since their previous scene: {step.delta:+.2f} intensity."
            if step.abrupt_unexplained:
                note += (" That is a big jump with no reason given — mark the transition "
                         "sudden or triggered, and say what caused it.")
        self.emotion_editor.set_note(note)

    def _save_emotion(self, data: dict) -> None:
        old = next((e for e in self._emotions if e["character_id"] == data["character_id"]
                    and e["scene_uid"] == data["scene_uid"]), None)

        def put(value: dict | None, key=(data["character_id"], data["scene_uid"])) -> None:
            if value is None:
                self._run(emotions.delete_state, *key, then=lambda _: self._reload_arcs())
            else:
                self._run(emotions.set_state, value, then=lambda _: self._reload_arcs(),
                          on_error=lambda exc: self.emotion_editor.show_error(str(exc)))

        self.document.undo_stack.push(CallbackCommand(
            "Record emotion", lambda _first: put(data), lambda: put(old)))

    def _remove_emotion(self) -> None:
        char_id, scene_uid = self.emotion_editor.current_pair()
        old = next((e for e in self._emotions if e["character_id"] == char_id
                    and e["scene_uid"] == scene_uid), None)
        if old is None:
            return
        self.document.undo_stack.push(CallbackCommand(
            "Remove emotion",
            lambda _first: self._run(emotions.delete_state, char_id, scene_uid,
                                     then=lambda _: self._reload_arcs()),
            lambda: self._run(emotions.set_state, old, then=lambda _: self._reload_arcs())))

    def _reload_arcs(self) -> None:
        self._run(emotions.arcs, then=self._arcs_loaded)

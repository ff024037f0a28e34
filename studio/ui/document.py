"""The open story: its state in memory, its undo stack, and autosave.

Widgets never save anything themselves.  They ask the document for an edit; the edit becomes an
undo command; applying it marks the changed part dirty; autosave writes dirty parts through the
service runner when the author pauses (and at the latest ``AUTOSAVE_MAX_MS`` after the first
unsaved edit, so continuous typing is never more than two seconds from the disk).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from studio.domain.modules import module_spec
from studio.domain.story import StoryDetail
from studio.services import stories
from studio.services.stories import ModuleEdit, StoryEdits
from studio.store.database import Database
from studio.ui.commands import EditValueCommand
from studio.ui.runner import ServiceRunner

AUTOSAVE_IDLE_MS = 700
AUTOSAVE_MAX_MS = 1500
RETRY_MS = 5000

Target = tuple


def _get_path(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def _set_path(data: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


class StoryDocument(QObject):
    valueChanged = Signal(tuple)  # the target that changed
    reloaded = Signal()  # the whole story was replaced (restore, undo of a restore)
    saveStateChanged = Signal(str, str)  # "saved" | "saving" | "error", message
    busyChanged = Signal(bool)  # a whole-story operation (restore) is replacing the state
    sceneSaved = Signal(object, str)  # SceneSaved, the text that was saved

    def __init__(self, db: Database, runner: ServiceRunner, detail: StoryDetail,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.detail = detail
        self.undo_stack = QUndoStack(self)
        self._dirty_story: set[str] = set()
        self._dirty_modules: set[str] = set()
        self._dirty_scenes: set[str] = set()
        #: Gives the current text of a scene being edited (the manuscript panel sets it).
        self.scene_text: Callable[[str], str | None] = lambda _uid: None
        self._in_flight = 0
        self._busy = 0
        self.state, self.message = "saved", "Saved"
        self._idle_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_IDLE_MS)
        self._max_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MAX_MS)
        self._retry_timer = QTimer(self, singleShot=True, interval=RETRY_MS)
        for timer in (self._idle_timer, self._max_timer, self._retry_timer):
            timer.timeout.connect(self.save_now)

    @property
    def story_id(self) -> int:
        return self.detail.id

    # --- reading and editing -------------------------------------------------------------

    def value(self, target: Target) -> Any:
        kind = target[0]
        if kind == "story":
            return getattr(self.detail.fields, target[1])
        module = self.detail.modules[target[1]]
        if kind == "input":
            return module.input_text
        if kind == "output":
            return _get_path(module.output, target[2:])
        raise KeyError(target)

    def edit(self, target: Target, new: Any, text: str | None = None,
             mergeable: bool = True) -> None:
        old = self.value(target)
        if old == new:
            return
        self.undo_stack.push(EditValueCommand(self, target, old, new,
                                              text or self._describe(target), mergeable))

    def _describe(self, target: Target) -> str:
        if target[0] == "story":
            return f"Edit {target[1]}"
        spec = module_spec(target[1])
        if target[0] == "input":
            return f"Edit {spec.title} notes"
        try:
            label = spec.field(target[2]).label
        except KeyError:
            label = str(target[2])
        return f"Edit {spec.title}: {label}"

    def apply_value(self, target: Target, value: Any) -> None:
        """Called by undo commands only: set the value, mark it dirty, tell the widgets."""
        value = copy.deepcopy(value)
        kind = target[0]
        if kind == "story":
            setattr(self.detail.fields, target[1], value)
            self._dirty_story.add(target[1])
        else:
            module = self.detail.modules[target[1]]
            if kind == "input":
                module.input_text = value
            else:
                _set_path(module.output, target[2:], value)
            self._dirty_modules.add(target[1])
        self.valueChanged.emit(target)
        self._schedule_save()

    def replace_detail(self, detail: StoryDetail) -> None:
        """Take a fresh copy of the story from the database (after a restore)."""
        self.detail = detail
        self._dirty_story.clear()
        self._dirty_modules.clear()
        self._dirty_scenes.clear()
        self.reloaded.emit()

    # --- whole-story operations -----------------------------------------------------------

    def begin_busy(self) -> None:
        """Editing pauses while the story is being replaced, so no keystroke lands in a state
        that is about to be thrown away."""
        self._busy += 1
        if self._busy == 1:
            self.busyChanged.emit(True)

    def end_busy(self) -> None:
        self._busy = max(0, self._busy - 1)
        if self._busy == 0:
            self.busyChanged.emit(False)

    @property
    def busy(self) -> bool:
        return self._busy > 0

    # --- autosave --------------------------------------------------------------------------

    def has_unsaved(self) -> bool:
        return bool(self._dirty_story or self._dirty_modules or self._dirty_scenes
                    or self._in_flight)

    def mark_scene_dirty(self, scene_uid: str) -> None:
        """A scene's prose changed in the editor; it is saved with the next autosave."""
        self._dirty_scenes.add(scene_uid)
        self._schedule_save()

    def _set_state(self, state: str, message: str) -> None:
        if (state, message) != (self.state, self.message):
            self.state, self.message = state, message
            self.saveStateChanged.emit(state, message)

    def _schedule_save(self) -> None:
        self._set_state("saving", "Saving…")
        self._idle_timer.start()
        if not self._max_timer.isActive():
            self._max_timer.start()

    def save_now(self) -> None:
        self._idle_timer.stop()
        self._max_timer.stop()
        self._retry_timer.stop()
        self._save_scenes()
        if not (self._dirty_story or self._dirty_modules):
            if not self.has_unsaved():
                self._set_state("saved", "Saved")
            return
        story_keys, module_keys = set(self._dirty_story), set(self._dirty_modules)
        self._dirty_story.clear()
        self._dirty_modules.clear()
        edits = StoryEdits(
            story={k: getattr(self.detail.fields, k) for k in story_keys},
            modules={k: ModuleEdit(self.detail.modules[k].input_text,
                                   copy.deepcopy(self.detail.modules[k].output))
                     for k in module_keys},
        )
        self._in_flight += 1
        self._set_state("saving", "Saving…")

        def done(_result: Any) -> None:
            self._in_flight -= 1
            if not self.has_unsaved():
                self._set_state("saved", "Saved")

        def failed(exc: BaseException) -> None:
            self._in_flight -= 1
            # Keep the edits: they are retried until the disk takes them.
            self._dirty_story |= story_keys
            self._dirty_modules |= module_keys
            self._set_state("error", f"Not saved — {exc}")
            self._retry_timer.start()

        self.runner.run(stories.save_edits, self.db, self.story_id, edits,
                        on_done=done, on_error=failed)

    def _save_scenes(self) -> None:
        from studio.services import manuscript

        scenes, self._dirty_scenes = self._dirty_scenes, set()
        for uid in scenes:
            text = self.scene_text(uid)
            if text is None:
                continue
            self._in_flight += 1
            self._set_state("saving", "Saving…")

            def done(result, text=text) -> None:
                self._in_flight -= 1
                self.sceneSaved.emit(result, text)
                if not self.has_unsaved():
                    self._set_state("saved", "Saved")

            def failed(exc: BaseException, uid=uid) -> None:
                self._in_flight -= 1
                self._dirty_scenes.add(uid)
                self._set_state("error", f"Not saved — {exc}")
                self._retry_timer.start()

            self.runner.run(manuscript.save_scene_text, self.db, self.story_id, uid, text,
                            on_done=done, on_error=failed)

    def flush(self) -> None:
        """Queue a save of everything pending (the runner keeps it ahead of later calls)."""
        self.save_now()

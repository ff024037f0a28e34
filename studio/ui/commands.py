"""Undo commands.  Every edit of an open story goes through one of these, so one ``QUndoStack``
covers everything the author did since the story was opened."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from studio.ui.document import StoryDocument

# Typing into one field within this many seconds merges into one undo step, like text editors.
MERGE_WINDOW_S = 2.0
EDIT_COMMAND_ID = 1001


class EditValueCommand(QUndoCommand):
    """Set one value at ``target`` (a story field, module notes, or a path in a module output)."""

    def __init__(self, doc: "StoryDocument", target: tuple, old: Any, new: Any, text: str,
                 mergeable: bool = True):
        super().__init__(text)
        self.doc = doc
        self.target = target
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)
        self.mergeable = mergeable
        self.stamp = time.monotonic()

    def id(self) -> int:
        return EDIT_COMMAND_ID if self.mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditValueCommand) or not other.mergeable:
            return False
        if other.target != self.target or other.stamp - self.stamp > MERGE_WINDOW_S:
            return False
        self.new = copy.deepcopy(other.new)
        self.stamp = other.stamp
        return True

    def redo(self) -> None:
        self.doc.apply_value(self.target, self.new)

    def undo(self) -> None:
        self.doc.apply_value(self.target, self.old)


class CallbackCommand(QUndoCommand):
    """An undoable step whose redo/undo are whole operations (e.g. restoring a version)."""

    def __init__(self, text: str, redo: Callable[[bool], None], undo: Callable[[], None]):
        super().__init__(text)
        self._redo, self._undo = redo, undo
        self._first = True

    def redo(self) -> None:
        self._redo(self._first)
        self._first = False

    def undo(self) -> None:
        self._undo()

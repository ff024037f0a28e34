"""What the Voices panel's tabs share: the host that runs their service calls, the one audio
player, the lists every tab reads (templates, emotion voices), and small helpers for words.

Why a host object instead of each tab talking to the window: templates, samples and emotion
voices belong to the author, not to the open story, yet the tabs still need the story's
runner (the one service thread), its undo stack and the window's status bar and providers
dialog.  ``VoiceHost`` gives them exactly that and nothing more, and tells every tab when a
shared list changed (a template made in one tab appears in another tab's combo boxes).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Coroutine

from PySide6.QtCore import (
    QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal,
)
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from studio.domain.errors import StudioError, ValidationError
from studio.providers import errors as provider_errors
from studio.services import ai_calls

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex

ERROR_STYLE = "color: #b3261e;"
HINT_STYLE = "color: palette(placeholder-text);"
MESSAGE_MS = 8000
#: Errors the providers dialog can fix (no provider, a missing or refused key).
FIXED_IN_PROVIDERS = (ai_calls.NoProvider, provider_errors.KeyMissing,
                      provider_errors.AuthFailed)
VOICE_HOW_TO = ("No voice provider is set up. Voices you clone from your samples, and "
                "narrations in any voice but the system's, need one: open Settings, AI "
                "providers (Ctrl+Alt+P), add ElevenLabs with your API key and make it the "
                "default for speech and voice cloning.")


# --- tables --------------------------------------------------------------------------------

class ListTableModel(QAbstractTableModel):
    """A table over ``self.rows`` under the fixed headers ``columns``: the counts, headers and
    reset every list of the Voices panel needs; each model adds only its cells (``data``)."""

    columns: tuple[str, ...] = ()

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None


# --- words ---------------------------------------------------------------------------------

def describe(exc: BaseException) -> str:
    """A sentence an author can act on (never a traceback)."""
    if isinstance(exc, ai_calls.NoProvider):
        text = str(exc)
        if "speech" in text.lower() or "voice" in text.lower():
            return VOICE_HOW_TO
        return text
    if isinstance(exc, ValidationError):
        where = " ".join(str(p) for p in exc.path)
        text = f"{where}: {exc.reason}" if where else exc.reason
        return text[:1].upper() + text[1:].rstrip(".") + "."
    if isinstance(exc, StudioError):
        return str(exc)
    if isinstance(exc, (OSError, ValueError)):
        return f"That did not work: {exc}"
    log.error("Voices: unexpected failure", exc_info=exc)
    return f"Something went wrong: {exc}"


def fmt_duration(seconds: Any) -> str:
    """4.25 → "4.3 s"; 75 → "1:15"; nothing → "—"."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def fmt_clock(seconds: float) -> str:
    """Elapsed recording time: "0:07"."""
    whole = int(max(0.0, seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def cap(text: Any) -> str:
    text = "" if text is None else str(text)
    return text[:1].upper() + text[1:]


def hint(words: str, name: str = "") -> QLabel:
    label = QLabel(words)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if name:
        label.setObjectName(name)
    return label


def button(text: str, name: str, tip: str, slot: Callable[..., Any] | None = None,
           parent: QWidget | None = None) -> QPushButton:
    b = QPushButton(text, parent)
    b.setObjectName(name)
    b.setToolTip(tip)
    if slot is not None:
        b.clicked.connect(lambda _checked=False: slot())
    return b


class Note(QLabel):
    """One line under a tab's toolbar that says how the last action went."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def say(self, text: str, error: bool = False) -> None:
        self.setText(text)
        self.setStyleSheet(ERROR_STYLE if error else "")
        self.setVisible(bool(text))

    def fail(self, exc: BaseException) -> None:
        self.say(describe(exc), error=True)


# --- the host ------------------------------------------------------------------------------

class VoiceHost(QObject):
    """The tabs' way to the services: ``run`` (a blocking call on the runner, answers
    dropped when another story opened), ``start`` (a coroutine on the qasync loop, a task
    that can be cancelled), the shared lists and the window's status bar."""

    documentChanged = Signal()
    templatesChanged = Signal(list)     # [VoiceTemplate] (all, hidden and superseded too)
    voicesChanged = Signal(list)        # [emotion voices]
    samplesChanged = Signal()

    def __init__(self, panel: QWidget):
        super().__init__(panel)
        self.panel = panel
        self.document = None
        self.templates: list = []
        self.voices: list = []
        self._generation = 0

    # --- what is open ---

    @property
    def db(self):
        return self.document.db if self.document is not None else None

    @property
    def story_id(self) -> int | None:
        return self.document.story_id if self.document is not None else None

    @property
    def undo_stack(self):
        return self.document.undo_stack if self.document is not None else None

    def set_document(self, document) -> None:
        self._generation += 1
        self.document = document
        self.documentChanged.emit()

    # --- running ---

    def run(self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> bool:
        """``fn(db, *args)`` on the service thread; ``then(result)`` back on the UI thread
        (not at all if another story was opened meanwhile).  False when nothing is open."""
        doc = self.document
        if doc is None:
            return False
        generation = self._generation

        def done(result: Any) -> None:
            if generation == self._generation and then is not None:
                then(result)

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                (on_error or self.tell_error)(exc)

        doc.runner.run(fn, doc.db, *args, on_done=done, on_error=failed)
        return True

    def run_db(self, fn: Callable[..., Any], *args: Any) -> "asyncio.Future":
        """The awaitable form of ``run`` (what async services take as ``run_db``)."""
        return self.document.runner.future(fn, *args)

    @staticmethod
    def loop_running() -> bool:
        try:
            return asyncio.get_event_loop().is_running()
        except RuntimeError:
            return False

    def start(self, coro: Coroutine[Any, Any, Any], then: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None,
              on_cancel: Callable[[], None] | None = None) -> asyncio.Task | None:
        """Run a coroutine on the Qt loop (network calls); its end is reported to one of the
        callbacks on the UI thread.  None (and the coroutine closed) when no loop runs."""
        if not self.loop_running():
            coro.close()
            (on_error or self.tell_error)(StudioError(
                "The network loop is not running; restart Story Studio."))
            return None
        generation = self._generation
        task = asyncio.ensure_future(coro)

        def ended(t: asyncio.Task) -> None:
            if generation != self._generation:
                return
            if t.cancelled():
                if on_cancel is not None:
                    on_cancel()
                return
            exc = t.exception()
            if exc is not None:
                (on_error or self.tell_error)(exc)
            elif then is not None:
                then(t.result())

        task.add_done_callback(ended)
        return task

    # --- shared lists ---

    def set_templates(self, templates: list) -> None:
        self.templates = list(templates)
        self.templatesChanged.emit(self.templates)

    def set_voices(self, voices: list) -> None:
        self.voices = list(voices)
        self.voicesChanged.emit(self.voices)

    def template(self, uid: str | None):
        return next((t for t in self.templates if t.uid == uid), None) if uid else None

    def template_name(self, uid: str | None) -> str:
        t = self.template(uid)
        return t.name if t is not None else (uid or "")

    def voice(self, uid: str | None):
        return next((v for v in self.voices if getattr(v, "uid", None) == uid), None)

    # --- the window ---

    def marketplace(self) -> Any:
        """The window's marketplace session (None when the panel lives alone)."""
        return getattr(self.panel.window(), "marketplace", None)

    def tell(self, words: str) -> None:
        bar = getattr(self.panel.window(), "statusBar", None)
        if bar is not None:
            bar().showMessage(words, MESSAGE_MS)

    def tell_error(self, exc: BaseException) -> None:
        self.tell(describe(exc))

    def show_providers(self) -> None:
        """Settings → AI providers: the main window's dialog (the panel may live alone in
        a test, then the dialog itself)."""
        window = self.panel.window()
        show = getattr(window, "show_providers", None)
        if callable(show):
            show()
            return
        if self.document is None:
            return
        from studio.ui.dialogs.providers_dialog import ProvidersDialog

        dialog = ProvidersDialog(self.db, self.document.runner, self.story_id, "", self.panel)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

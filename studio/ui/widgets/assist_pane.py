"""The suggestions pane shown beside a module's form when the author asks for ideas.

It runs one request at a time (a task on the Qt loop), shows a busy line with Cancel while the
provider thinks, then each suggestion as a card with an Insert button.  It never edits
anything itself: Insert emits ``insertRequested`` and the modules panel adds the suggestion to
the module through the story's undo stack.  When no text provider is set up, or the provider
fails, the pane says so in words (and offers the providers dialog or a retry); the module is
left exactly as it was.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any, Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSizePolicy,
    QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.providers import errors as E
from studio.services.ai_calls import HOW_TO_ADD, NoProvider

log = logging.getLogger(__name__)

STYLE = """
#assistPane { background: palette(alternate-base); border-left: 1px solid palette(mid); }
#assistTitle { font-size: 12pt; font-weight: 600; }
#suggestionCard { background: palette(base); border: 1px solid palette(mid);
                  border-radius: 6px; }
#assistMessage { padding: 8px; border-radius: 6px; background: palette(base); }
"""

#: What went wrong, in a few words, before the service's own message.
HEADLINES: tuple[tuple[type, str], ...] = (
    (E.KeyMissing, "The provider has no key yet."),
    (E.AuthFailed, "The service refused the key."),
    (E.RateLimited, "The service is busy: too many requests for now."),
    (E.TimedOut, "No answer in time."),
    (E.Unreachable, "The service cannot be reached."),
    (E.ServiceFault, "The service failed on its side."),
    (E.BadResponse, "The answer could not be read."),
    (E.Refused, "The service refused the request."),
)

Factory = Callable[[], Awaitable[Any]]


def headline(exc: BaseException) -> str:
    for kind, text in HEADLINES:
        if isinstance(exc, kind):
            return text
    return "The suggestions could not be made."


class SuggestionCard(QFrame):
    """One suggestion: its text (selectable, to copy a phrase) and Insert."""

    def __init__(self, text: str, pane: "AssistPane"):
        super().__init__()
        self.text = text
        self.setObjectName("suggestionCard")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(4)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a model's text, shown as written
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        lay.addWidget(self.label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.insert = QPushButton("Insert")
        self.insert.setObjectName("insertSuggestion")
        self.insert.setToolTip("Add this to the module (your text stays; Ctrl+Z takes it out)")
        self.insert.clicked.connect(lambda: pane.insertRequested.emit(self.text))
        row.addWidget(self.insert)
        lay.addLayout(row)

    def set_inserted(self, inserted: bool) -> None:
        self.insert.setText("Inserted" if inserted else "Insert")
        self.insert.setEnabled(not inserted)


class AssistPane(QFrame):
    insertRequested = Signal(str)
    providersRequested = Signal()
    dismissed = Signal()

    def __init__(self, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.what = what
        self.setObjectName("assistPane")
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(240)
        self.task: asyncio.Task | None = None
        self._factory: Factory | None = None
        self.cards: list[SuggestionCard] = []
        self.state = "idle"  # idle | busy | suggestions | empty | error | no_provider | cancelled
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        self.title = QLabel(f"Suggested {what}")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setObjectName("assistTitle")
        lay.addWidget(self.title)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("assistSubtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
        lay.addWidget(self.subtitle)

        self.message = QLabel()
        self.message.setObjectName("assistMessage")
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)

        self.busy_row = QWidget()
        busy = QHBoxLayout(self.busy_row)
        busy.setContentsMargins(0, 4, 0, 4)
        self.busy = QProgressBar()
        self.busy.setObjectName("assistBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(12)
        busy.addWidget(self.busy, 1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("assistCancel")
        self.cancel_button.clicked.connect(self.cancel)
        busy.addWidget(self.cancel_button)
        lay.addWidget(self.busy_row)
        actions = QHBoxLayout()
        self.providers_button = QPushButton("Set up an AI provider…")
        self.providers_button.setObjectName("assistProviders")
        self.providers_button.clicked.connect(self.providersRequested)
        actions.addWidget(self.providers_button)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setObjectName("assistRetry")
        self.retry_button.clicked.connect(self.retry)
        actions.addWidget(self.retry_button)
        actions.addStretch(1)
        lay.addLayout(actions)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setStyleSheet("QScrollArea { background: transparent; }")
        holder = QWidget()
        holder.setObjectName("assistCards")
        holder.setStyleSheet("#assistCards { background: transparent; }")
        self.cards_layout = QVBoxLayout(holder)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.setSpacing(8)
        self.cards_layout.addStretch(1)
        self.scroll.setWidget(holder)
        lay.addWidget(self.scroll, 1)
        self.filler = QWidget()  # keeps a message at the top while there are no cards
        lay.addWidget(self.filler, 1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("assistDismiss")
        self.dismiss_button.setToolTip("Close the suggestions (nothing is changed)")
        self.dismiss_button.clicked.connect(self.dismiss)
        bottom.addWidget(self.dismiss_button)
        lay.addLayout(bottom)
        self._show_state("idle")

    # --- running ------------------------------------------------------------------------------

    def run(self, factory: Factory) -> asyncio.Task:
        """Start (or restart) a request; ``factory()`` makes the coroutine, kept for retries."""
        self.cancel(quiet=True)
        self._factory = factory
        self._clear_cards()
        self.subtitle.setText("")
        self.message.setText(html.escape(f"Asking your text provider for {self.what}, built "
                                         "on what you wrote…"))
        self._show_state("busy")
        self.show()
        self.task = asyncio.ensure_future(factory())
        self.task.add_done_callback(self._finished)
        return self.task

    def retry(self) -> None:
        if self._factory is not None:
            self.run(self._factory)

    def cancel(self, quiet: bool = False) -> None:
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            if not quiet:
                self.message.setText("Cancelled. Nothing was changed.")
                self._show_state("cancelled")

    def dismiss(self) -> None:
        self.cancel(quiet=True)
        self._clear_cards()
        self._show_state("idle")
        self.hide()
        self.dismissed.emit()

    def _finished(self, task: asyncio.Task) -> None:
        if task is not self.task:  # cancelled or replaced by a newer request
            return
        self.task = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self.show_suggestions(task.result())
        elif isinstance(exc, NoProvider):
            self.show_no_provider(str(exc))
        else:
            if not isinstance(exc, StudioError):
                log.error("module assist failed", exc_info=exc)
            self.show_error(exc)

    # --- showing ------------------------------------------------------------------------------

    def _show_state(self, state: str) -> None:
        self.state = state
        self.busy_row.setVisible(state == "busy")
        self.message.setVisible(state not in ("idle", "suggestions"))
        self.providers_button.setVisible(state == "no_provider")
        self.retry_button.setVisible(state in ("error", "empty", "cancelled", "no_provider"))
        self.scroll.setVisible(state == "suggestions")
        self.filler.setVisible(state != "suggestions")

    def _clear_cards(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []

    def show_suggestions(self, suggestions) -> None:
        """``services.assist.Suggestions``: one card each."""
        self._clear_cards()
        if not suggestions.items:
            self.message.setText(html.escape(f"{suggestions.provider} answered, but with no "
                                             f"{self.what} that could be told apart. "
                                             "Try again?"))
            self._show_state("empty")
            return
        for text in suggestions.items:
            card = SuggestionCard(text, self)
            self.cards.append(card)
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)
        self.subtitle.setText(f"From {suggestions.provider}. Your text stays as it is: "
                              "Insert adds one, Ctrl+Z takes it out again.")
        self._show_state("suggestions")

    def show_no_provider(self, explanation: str) -> None:
        if HOW_TO_ADD in explanation:  # the service's sentence says the same thing first
            explanation = HOW_TO_ADD
        self.message.setText("<b>No text provider is set up yet.</b><br>"
                             + html.escape(explanation)
                             + "<br><br>Then come back and try again.")
        self._show_state("no_provider")

    def show_error(self, exc: BaseException) -> None:
        detail = str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"
        self.message.setText(f"<b style='color:#b3261e'>{html.escape(headline(exc))}</b><br>"
                             f"{html.escape(detail)}<br><br>"
                             "<i>Nothing in the module was changed.</i>")
        self._show_state("error")

    def sync_inserted(self, output: Any) -> None:
        """Mark the cards whose text is in the module now (so an undo offers them again)."""
        found = set(_strings(output))
        for card in self.cards:
            card.set_inserted(any(card.text in s for s in found))


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)

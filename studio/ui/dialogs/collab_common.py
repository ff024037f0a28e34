"""What the co-authoring dialogs share: the roles in words, a busy bar, a dialog base that
runs one marketplace call at a time off the UI thread, and the two-sided view of one changed
paragraph (``DiffPair``, with the conflict view's ``diff_html`` marking).

The dialogs talk to the marketplace only through ``studio.services.collaboration`` (passed in as
``service`` so a dialog can be shown with any object that has the same functions, e.g. for a
screenshot before a server exists).  A call is a coroutine on the qasync loop: while it runs the
dialog shows a busy bar and disables its actions, so nothing is sent twice and the window never
freezes; a refusal comes back as a sentence in the dialog, and what the author typed stays.
"""

from __future__ import annotations

import asyncio
import html
from datetime import datetime, timezone
from typing import Any, Awaitable, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication, QDialog, QGridLayout, QHBoxLayout, QLabel, QListWidget, QMessageBox, QProgressBar,
    QPushButton, QTextBrowser, QWidget,
)

from studio.domain.errors import StudioError
from studio.ui.dialogs.conflict_dialog import DELETED, INSERTED, PAGE, diff_html
from studio.ui.timefmt import relative_time

T = TypeVar("T")

#: (key, name, what the role may do) — the one-line explanations the invite form shows.
ROLES = (("editor", "Editor", "may publish new versions of the story"),
         ("contributor", "Contributor", "may propose changes; the owner accepts or declines them"),
         ("viewer", "Viewer", "may read the story, even while it is private"))
ROLE_NAMES = {key: name for key, name, _ in ROLES} | {"owner": "Owner"}
ROLE_DUTIES = {key: duty for key, _, duty in ROLES} | {"owner": "owns the story"}
#: The dialogs' colours (light theme, dark theme): refusals, news, "changed since", faint.
INK = "color:#202124;"  # text on a marked (light) background, in either theme
TONES = {"error": ("#b3261e", "#f2b8b5"), "info": ("#1e6b34", "#8fd19e"),
         "moved": ("#9a5b00", "#e8b458"), "faint": ("#6f7378", "#9aa0a6")}


def tone(name: str) -> str:
    """A colour readable on the current palette (the app follows the system's light/dark)."""
    app = QApplication.instance()
    dark = app is not None and app.palette().window().color().lightness() < 128
    return TONES[name][1 if dark else 0]
#: Roomier rows for the dialogs' lists (the default rows are cramped for two-line entries).
LIST_STYLE = ("QListWidget::item { padding: 5px 4px; }"
              "QTreeWidget::item { padding: 3px 2px; }")


def default_service():
    """The real services module (imported late: the dialogs load without it)."""
    from studio.services import collaboration

    return collaboration


def error_text(exc: BaseException) -> str:
    """A refusal in words: service errors are sentences already; anything else is named."""
    if isinstance(exc, StudioError):
        return str(exc)
    return f"Something went wrong: {exc}" if str(exc) else \
        f"Something went wrong ({type(exc).__name__})."


def when_text(value: Any) -> str:
    """``2 minutes ago`` for a datetime or an ISO string from the server; '' when unknown."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value[:16]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return relative_time(value)
    return str(value)


def where_text(change: Any) -> str:
    """Where the author finds a segment: ``Chapter › Scene``."""
    chapter = getattr(change, "chapter_title", "") or "Untitled chapter"
    scene = getattr(change, "scene_title", "") or "Untitled scene"
    return f"{chapter} › {scene}"


def role_line(role: str) -> str:
    return f"{ROLE_NAMES.get(role, role.title())} — {ROLE_DUTIES.get(role, '')}"


class BusyBar(QWidget):
    """A thin moving bar while a call runs, and one line of news or trouble after it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setObjectName("collabBusy")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(90, 10)
        self.bar.hide()
        self.label = QLabel()
        self.label.setObjectName("collabMessage")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.label, 1)

    def start(self, text: str) -> None:
        self.bar.show()
        self._set(text, "palette(window-text)")

    def stop(self) -> None:
        self.bar.hide()

    def info(self, text: str) -> None:
        self._set(text, tone("info"))

    def error(self, text: str) -> None:
        self._set(text, tone("error"))

    def warn(self, text: str) -> None:
        self._set(text, tone("moved"))

    def clear(self) -> None:
        self.label.clear()

    def text(self) -> str:
        return self.label.text()

    def is_error(self) -> bool:
        return tone("error") in self.label.styleSheet()

    def _set(self, text: str, colour: str) -> None:
        self.label.setStyleSheet(f"color: {colour};")
        self.label.setText(text)


class CollabDialog(QDialog):
    """A dialog whose actions are marketplace calls: ``run`` awaits one with the busy bar shown
    and the actions disabled (``update_actions`` re-reads ``busy``), and turns a failure into
    the bar's red line.  ``last_confirm`` is the question box on screen (tests answer it)."""

    def __init__(self, session, service=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.service = service if service is not None else default_service()
        self.busy = False
        self.last_confirm: QMessageBox | None = None
        self.last_error: BaseException | None = None
        self.status = BusyBar()
        self.setStyleSheet(LIST_STYLE)

    def client(self):
        return self.session.client()

    async def run(self, text: str, work: Awaitable[T]) -> tuple[bool, T | None]:
        """(True, result) or (False, None) after showing why in the dialog."""
        self.busy = True
        self.last_error: BaseException | None = None
        self.update_actions()
        self.status.start(text)
        self.setCursor(Qt.CursorShape.BusyCursor)
        try:
            return True, await work
        except asyncio.CancelledError:
            self.status.error("Cancelled.")
            return False, None
        except Exception as exc:  # noqa: BLE001 - shown to the author in words
            self.status.error(html.escape(error_text(exc)))
            self.last_error = exc
            return False, None
        finally:
            self.busy = False
            self.unsetCursor()
            self.status.stop()
            self.update_actions()

    def run_db(self, fn, *args) -> "asyncio.Future":
        """A local (database) service call on the window's service thread."""
        return self.session.run_db(fn, *args)

    def update_actions(self) -> None:
        """Enable what may be done now (subclasses look at ``self.busy`` and the selection)."""

    async def confirm(self, title: str, text: str, yes: str) -> bool:
        """Ask first (without a nested event loop); True when the author said ``yes``."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Cancel, self)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.last_confirm = box
        future = asyncio.get_event_loop().create_future()
        box.finished.connect(lambda _code: future.done() or future.set_result(
            box.clickedButton() == ok))
        box.open()
        try:
            return await future
        finally:
            self.last_confirm = None
            box.deleteLater()


def plain_button(text: str, name: str) -> QPushButton:
    """A push button that Enter in a text field does not press (the field decides)."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAutoDefault(False)
    button.setDefault(False)
    return button


class DiffPair(QWidget):
    """One segment's two texts side by side: the earlier one with removed words struck
    through, the proposed one with added words marked; a note under them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 0, 0, 0)
        self.old_head, self.new_head = QLabel(), QLabel()
        self.old_view, self.new_view = QTextBrowser(), QTextBrowser()
        self.old_view.setObjectName("baseText")
        self.new_view.setObjectName("proposedText")
        for view in (self.old_view, self.new_view):
            view.setOpenLinks(False)
        grid.addWidget(self.old_head, 0, 0)
        grid.addWidget(self.new_head, 0, 1)
        grid.addWidget(self.old_view, 1, 0)
        grid.addWidget(self.new_view, 1, 1)
        self.note = QLabel()
        self.note.setObjectName("diffNote")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.note, 2, 0, 1, 2)
        self.set_heads("Before", "After")

    def set_heads(self, old: str, new: str) -> None:
        self.old_head.setText(f"<b>{html.escape(old)}</b> <span style='{INK}{DELETED}'>"
                              "&nbsp;removed&nbsp;</span>")
        self.new_head.setText(f"<b>{html.escape(new)}</b> <span style='{INK}{INSERTED}'>"
                              "&nbsp;added&nbsp;</span>")

    def show_texts(self, old: str, new: str, note: str = "") -> None:
        self.old_view.setHtml(PAGE.format(inked(diff_html(old or "", new or "", "old"))))
        self.new_view.setHtml(PAGE.format(inked(diff_html(old or "", new or "", "new"))))
        self.note.setText(note)
        # A wrapped label in a grid gets one line unless told: room for three.
        self.note.setMinimumHeight(self.note.fontMetrics().lineSpacing() * 3 + 4
                                   if note else 0)
        self.note.setVisible(bool(note))

    def clear(self, text: str = "") -> None:
        self.old_view.setHtml(f"<p style='color:gray'><i>{html.escape(text)}</i></p>")
        self.new_view.clear()
        self.note.hide()


def inked(marked: str) -> str:
    """``diff_html``'s marks with dark ink on their light backgrounds, so they stay readable
    when the app is dark (its text light)."""
    return marked.replace('style="background:', f'style="{INK}background:')


def excerpt(text: str, limit: int = 30) -> str:
    """The start of a paragraph, to tell apart two changes in the same scene."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return f"“{text}”"
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return f"“{cut.rstrip(' ,;:')}…”"


def changes_list(name: str) -> QListWidget:
    changes = QListWidget()
    changes.setObjectName(name)
    changes.setMinimumWidth(230)
    changes.setMaximumWidth(320)
    changes.setWordWrap(True)
    changes.setSpacing(1)
    changes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return changes

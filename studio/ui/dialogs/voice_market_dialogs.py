"""Voice templates and the marketplace: share one of the author's templates, take one other
authors shared.

Sharing goes through the outbox like every marketplace operation (it is queued here and sent
when the marketplace is reachable, exactly once), so the dialog only collects the licence,
tags and description.  Taking searches the marketplace on the Qt loop (cancellable: closing
the dialog drops the request) and keeps a permanent local copy of the chosen template.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPlainTextEdit, QVBoxLayout, QWidget,
)

from studio.ui.widgets.voice_common import ERROR_STYLE, describe, hint

LICENCE_WORDS = {"CC-BY": "CC BY: anyone may use it, crediting you",
                 "CC-BY-NC": "CC BY-NC: anyone may use it non-commercially, crediting you",
                 "all-rights-reserved": "All rights reserved: others may only look at it"}


class ShareTemplateDialog(QDialog):
    def __init__(self, template: Any, server: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shareTemplateDialog")
        self.setWindowTitle(f"Share “{template.name}”")
        self.setMinimumWidth(500)
        lay = QVBoxLayout(self)
        lay.addWidget(hint(f"The template goes to the marketplace at {server} with the next "
                           "sync (sign in on the Marketplace panel first). Its parameters "
                           "and description are shared; nothing of your stories is."))
        form = QFormLayout()
        self.licence = QComboBox()
        self.licence.setObjectName("shareLicence")
        for key, words in LICENCE_WORDS.items():
            self.licence.addItem(words, key)
        form.addRow("&Licence:", self.licence)
        self.tags = QLineEdit()
        self.tags.setObjectName("shareTags")
        self.tags.setPlaceholderText("comma-separated, e.g. audio drama, horror")
        form.addRow("&Tags:", self.tags)
        self.description = QPlainTextEdit(template.sample_line)
        self.description.setObjectName("shareDescription")
        self.description.setFixedHeight(70)
        form.addRow("&Description:", self.description)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Share")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {"licence": self.licence.currentData(),
                "tags": [t.strip() for t in self.tags.text().split(",") if t.strip()],
                "description": self.description.toPlainText().strip() or None}


class TakeTemplateDialog(QDialog):
    """Search the marketplace's voice templates; ``chosen()`` is the one to take."""

    def __init__(self, session: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.task: asyncio.Task | None = None
        self.setObjectName("takeTemplateDialog")
        self.setWindowTitle("Take a voice template from the marketplace")
        self.setMinimumSize(520, 420)
        lay = QVBoxLayout(self)
        self.query = QLineEdit()
        self.query.setObjectName("takeQuery")
        self.query.setPlaceholderText("Search by name or description (empty: the newest)")
        lay.addWidget(self.query)
        self.list = QListWidget()
        self.list.setObjectName("takeList")
        lay.addWidget(self.list, 1)
        self.status = QLabel()
        self.status.setObjectName("takeStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Take")
        self.ok_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self._debounce = QTimer(self, singleShot=True, interval=350)
        self._debounce.timeout.connect(self.search)
        self.query.textChanged.connect(lambda _t: self._debounce.start())
        self.list.currentItemChanged.connect(
            lambda item, _old: self.ok_button.setEnabled(item is not None))
        self.finished.connect(lambda _r: self._stop())
        QTimer.singleShot(0, self.search)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def search(self) -> None:
        self._stop()
        try:
            running = asyncio.get_event_loop().is_running()
        except RuntimeError:
            running = False
        if not running:
            self._say("The network loop is not running; restart Story Studio.", True)
            return
        self._say("Searching the marketplace…")
        self.task = asyncio.ensure_future(self.session.client().voice_templates(
            q=self.query.text().strip() or None, limit=50))
        self.task.add_done_callback(self._found)

    def _found(self, task: asyncio.Task) -> None:
        if task.cancelled() or task is not self.task:
            return
        self.task = None
        exc = task.exception()
        if exc is not None:
            self._say(describe(exc), True)
            return
        items = (task.result() or {}).get("items") or []
        self.list.clear()
        for t in items:
            emotion = t.get("emotion") or ""
            words = f"{t.get('name', '')}  ·  {emotion}  ·  by {t.get('owner') or 'someone'}"
            item = QListWidgetItem(words)
            item.setData(Qt.ItemDataRole.UserRole, t.get("id"))
            item.setToolTip(str(t.get("description") or ""))
            self.list.addItem(item)
        self._say(f"{len(items)} template{'s' if len(items) != 1 else ''} found."
                  if items else "No templates found.")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    def _stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None

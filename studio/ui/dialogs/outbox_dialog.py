"""What waits in the outbox: each operation with its state, attempts and last problem; retry a
failed one now, or cancel one that should not be sent."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from studio.ui.timefmt import relative_time

STATE_WORDS = {"pending": "Waiting", "sending": "Sending…", "failed": "Refused",
               "done": "Sent", "cancelled": "Cancelled"}


class OutboxDialog(QDialog):
    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("outboxDialog")
        self.setWindowTitle("Outbox — marketplace changes waiting to be sent")
        self.resize(720, 360)
        lay = QVBoxLayout(self)
        self.note = QLabel("Changes made while offline wait here and are sent in order, each "
                           "exactly once, when the marketplace is reachable.")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.tree = QTreeWidget()
        self.tree.setObjectName("outboxList")
        self.tree.setHeaderLabels(["What", "State", "Tries", "Made", "Last problem"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 260)
        lay.addWidget(self.tree, 1)
        # The last problem in full (a refusal often says what to do, e.g. "use Update from
        # Collaborators, then publish again"): the column alone cuts it off.
        self.problem = QLabel()
        self.problem.setObjectName("outboxProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        self.tree.currentItemChanged.connect(lambda *_: self._show_problem())
        lay.addWidget(self.problem)
        row = QHBoxLayout()
        self.retry_button = QPushButton("Retry now")
        self.retry_button.setObjectName("outboxRetry")
        self.retry_button.clicked.connect(lambda: self._act("retry"))
        self.cancel_button = QPushButton("Don't send")
        self.cancel_button.setObjectName("outboxCancel")
        self.cancel_button.clicked.connect(lambda: self._act("cancel"))
        row.addWidget(self.retry_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row.addWidget(close)
        lay.addLayout(row)
        session.outboxChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        from studio.services import marketplace_outbox

        self.session.runner.run(marketplace_outbox.items, self.session.db, on_done=self._show)

    def _show(self, items) -> None:
        current = self.tree.currentItem()
        chosen = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        self.tree.clear()
        for it in items:
            row = QTreeWidgetItem([it.label or it.kind, STATE_WORDS.get(it.state, it.state),
                                   str(it.attempts), relative_time(it.created_at), it.last_error])
            row.setData(0, Qt.ItemDataRole.UserRole, it.id)
            row.setToolTip(4, it.last_error)
            self.tree.addTopLevelItem(row)
        if not items:
            self.tree.addTopLevelItem(QTreeWidgetItem(["Nothing is waiting.", "", "", "", ""]))
        rows = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        keep = next((r for r in rows if chosen is not None
                     and r.data(0, Qt.ItemDataRole.UserRole) == chosen), None)
        # the entry chosen before stays chosen; else the first problem shows without a click
        if keep is None:
            keep = next((r for r in rows if r.text(4)), None)
        if keep is not None:
            self.tree.setCurrentItem(keep)
        self._show_problem()

    def _show_problem(self) -> None:
        item = self.tree.currentItem()
        text = item.text(4) if item is not None else ""
        self.problem.setText(f"<b>{html.escape(item.text(0))}:</b> {html.escape(text)}"
                             if text else "")
        self.problem.setVisible(bool(text))

    def _act(self, what: str) -> None:
        from studio.services import marketplace_outbox

        item = self.tree.currentItem()
        entry = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if entry is None:
            return
        fn = marketplace_outbox.retry if what == "retry" else marketplace_outbox.cancel
        self.session.runner.run(fn, self.session.db, entry,
                                on_done=lambda _r: (self.refresh(), self.session.wake()))

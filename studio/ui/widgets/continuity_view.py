"""The continuity findings list: run the checker, see what it found, jump, dismiss, add.

The view knows nothing of services: the bible panel runs the check and feeds the report in.
A finding is activated (double-click or Enter) to open its segment in the manuscript; the
unknown-name findings offer "Add to bible"; dismissals are remembered by the panel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

RULE_LABELS = {
    "unknown_character": "Unknown name",
    "inactive_character_acts": "Inactive character acts",
    "unknown_location": "Unknown place",
    "thread_reopened": "Resolved thread reopened",
    "thread_open_at_end": "Thread open at the end",
    "timeline_order": "Timeline order",
    "timeline_missing_segment": "Event's prose deleted",
}

ADDABLE = ("add_character", "add_location")


class ContinuityView(QWidget):
    runRequested = Signal()
    findingActivated = Signal(object)        # Finding
    dismissRequested = Signal(object)        # Finding
    undismissRequested = Signal(str)         # key
    addToBibleRequested = Signal(object)     # Finding with a suggestion (subject = the name)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("continuityView")
        self._findings: list = []
        self._dismissed: list[str] = []
        self._labels: dict[str, str] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.run_button = QPushButton("Check continuity")
        self.run_button.setObjectName("runContinuity")
        self.run_button.setToolTip("Check the whole manuscript against the bible (F7)")
        self.run_button.clicked.connect(self.runRequested)
        top.addWidget(self.run_button)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(18)
        self.progress.hide()
        top.addWidget(self.progress, 1)
        self.status = QLabel("Not checked yet.")
        self.status.setObjectName("continuityStatus")
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        lay.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setObjectName("findings")
        self.tree.setHeaderLabels(["Finding", "Where"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setWordWrap(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.tree, 1)
        bottom = QHBoxLayout()
        self.open_button = QPushButton("Show")
        self.open_button.setToolTip("Open the paragraph in the manuscript (Enter)")
        self.open_button.clicked.connect(lambda: self._activated(self.tree.currentItem()))
        self.add_button = QPushButton("Add to bible")
        self.add_button.setObjectName("addFromFinding")
        self.add_button.clicked.connect(self._add)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("dismissFinding")
        self.dismiss_button.setToolTip("Hide this finding for good (Delete)")
        self.dismiss_button.clicked.connect(self._dismiss)
        self.show_dismissed = QCheckBox("Show dismissed")
        self.show_dismissed.toggled.connect(lambda _: self._fill())
        for w in (self.open_button, self.add_button, self.dismiss_button):
            bottom.addWidget(w)
        bottom.addStretch(1)
        top.addWidget(self.show_dismissed)
        lay.addLayout(bottom)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.tree, self._dismiss,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self._update_buttons()

    # --- fed by the panel -------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.progress.setVisible(running)
        self.status.setVisible(not running)
        if running:
            self.progress.setRange(0, 0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"Checking… {done:,} of {total:,} paragraphs")

    def set_segment_labels(self, labels: dict[str, str]) -> None:
        """seg id → "2.1 Storm" — where each finding points."""
        self._labels = labels

    def set_report(self, findings: list, dismissed_keys: list[str], seconds: float) -> None:
        self._findings = list(findings)
        self._dismissed = list(dismissed_keys)
        self.set_running(False)
        n = len(self._findings)
        hidden = f", {len(self._dismissed)} dismissed" if self._dismissed else ""
        self.status.setText(("No continuity problems found" if n == 0 else
                             f"{n} finding{'s' if n != 1 else ''}") + hidden
                            + f" · checked in {seconds:.1f} s")
        self._fill()

    def set_error(self, message: str) -> None:
        self.set_running(False)
        self.status.setText("The check failed: " + message)

    def findings(self) -> list:
        return list(self._findings)

    # --- internals --------------------------------------------------------------------------

    def _fill(self) -> None:
        self.tree.clear()
        for f in self._findings:
            item = QTreeWidgetItem([f"{RULE_LABELS.get(f.rule, f.rule)} — {f.message}",
                                    self._labels.get(f.segment_id or "", "")])
            item.setData(0, Qt.ItemDataRole.UserRole, f)
            item.setToolTip(0, f.message)
            self.tree.addTopLevelItem(item)
        if self.show_dismissed.isChecked():
            muted = QBrush(self.palette().placeholderText().color())
            for key in self._dismissed:
                item = QTreeWidgetItem([f"(dismissed) {key}", ""])
                item.setData(0, Qt.ItemDataRole.UserRole + 1, key)
                item.setForeground(0, muted)
                self.tree.addTopLevelItem(item)
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._update_buttons()

    def _current(self):
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_buttons(self) -> None:
        f = self._current()
        item = self.tree.currentItem()
        dismissed_key = item.data(0, Qt.ItemDataRole.UserRole + 1) if item else None
        self.open_button.setEnabled(bool(f and f.segment_id))
        self.add_button.setEnabled(bool(f and f.suggestion in ADDABLE))
        self.add_button.setText("Add place to bible" if f is not None
                                and f.suggestion == "add_location" else "Add to bible")
        self.dismiss_button.setEnabled(f is not None or dismissed_key is not None)
        self.dismiss_button.setText("Restore" if dismissed_key else "Dismiss")

    def _activated(self, item: QTreeWidgetItem | None, _column: int = 0) -> None:
        f = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if f is not None and f.segment_id:
            self.findingActivated.emit(f)

    def _add(self) -> None:
        f = self._current()
        if f is not None and f.suggestion in ADDABLE:
            self.addToBibleRequested.emit(f)

    def _dismiss(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        key = item.data(0, Qt.ItemDataRole.UserRole + 1)
        if key:
            self.undismissRequested.emit(key)
            return
        f = item.data(0, Qt.ItemDataRole.UserRole)
        if f is None:
            return
        row = self.tree.indexOfTopLevelItem(item)
        self._findings = [x for x in self._findings if x.key != f.key]
        self._dismissed.append(f.key)
        self._fill()
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(min(row, self.tree.topLevelItemCount() - 1)))
        self.dismissRequested.emit(f)

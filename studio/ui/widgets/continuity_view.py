"""The continuity findings list: run the checker, see what it found, jump, dismiss, add.

The view knows nothing of services: the bible panel runs the check and feeds the report in.
A finding is activated (double-click or Enter) to open its segment in the manuscript; the
unknown-name findings offer "Add to bible"; dismissals are remembered by the panel.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
    QStackedWidget, QTreeView, QVBoxLayout, QWidget,
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
        # Status and progress share one slot: switching between them never relayouts the view.
        self.slot = QStackedWidget()
        self.status = QLabel("Not checked yet.")
        self.status.setObjectName("continuityStatus")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.slot.addWidget(self.status)
        self.slot.addWidget(self.progress)
        self.slot.setFixedHeight(max(self.status.sizeHint().height(),
                                     self.progress.sizeHint().height()))
        top.addWidget(self.slot, 1)
        lay.addLayout(top)
        self.model = FindingsModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("findings")
        self.tree.setModel(self.model)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)  # thousands of findings lay out in no time
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(1, 150)
        self.tree.activated.connect(lambda _index: self.activate_current())
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._update_buttons())
        lay.addWidget(self.tree, 1)
        bottom = QHBoxLayout()
        self.open_button = QPushButton("Show")
        self.open_button.setToolTip("Open the paragraph in the manuscript (Enter)")
        self.open_button.clicked.connect(self.activate_current)
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
        self.slot.setCurrentWidget(self.progress if running else self.status)
        if running:
            self.progress.setRange(0, 0)

    def is_running(self) -> bool:
        return self.slot.currentWidget() is self.progress

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
        rows: list[tuple] = [("finding", f) for f in self._findings]
        if self.show_dismissed.isChecked():
            rows += [("dismissed", key) for key in self._dismissed]
        self.model.set_rows(rows, self._labels)
        if rows:
            self.tree.setCurrentIndex(self.model.index(0, 0))
        self._update_buttons()

    def current_row(self) -> tuple | None:
        index = self.tree.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def select_finding(self, key: str) -> bool:
        """Make the finding with ``key`` current (keyboard users and tests)."""
        for i, (kind, value) in enumerate(self.model.rows):
            if kind == "finding" and value.key == key:
                self.tree.setCurrentIndex(self.model.index(i, 0))
                return True
        return False

    def _current(self):
        row = self.current_row()
        return row[1] if row is not None and row[0] == "finding" else None

    def _update_buttons(self) -> None:
        f = self._current()
        row = self.current_row()
        dismissed_key = row[1] if row is not None and row[0] == "dismissed" else None
        self.open_button.setEnabled(bool(f and f.segment_id))
        self.add_button.setEnabled(bool(f and f.suggestion in ADDABLE))
        self.add_button.setText("Add place to bible" if f is not None
                                and f.suggestion == "add_location" else "Add to bible")
        self.dismiss_button.setEnabled(f is not None or dismissed_key is not None)
        self.dismiss_button.setText("Restore" if dismissed_key else "Dismiss")

    def activate_current(self) -> None:
        f = self._current()
        if f is not None and f.segment_id:
            self.findingActivated.emit(f)

    def _add(self) -> None:
        f = self._current()
        if f is not None and f.suggestion in ADDABLE:
            self.addToBibleRequested.emit(f)

    def _dismiss(self) -> None:
        row = self.current_row()
        if row is None:
            return
        kind, value = row
        if kind == "dismissed":
            self.undismissRequested.emit(value)
            return
        position = self.tree.currentIndex().row()
        self._findings = [x for x in self._findings if x.key != value.key]
        self._dismissed.append(value.key)
        self._fill()
        if self.model.rowCount():
            self.tree.setCurrentIndex(self.model.index(min(position, self.model.rowCount() - 1), 0))
        self.dismissRequested.emit(value)


class FindingsModel(QAbstractTableModel):
    """Findings as rows, built only when shown: a report of thousands costs one reset."""

    HEADERS = ("Finding", "Where")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple] = []
        self._labels: dict[str, str] = {}
        self._muted = None

    def set_rows(self, rows: list[tuple], labels: dict[str, str]) -> None:
        self.beginResetModel()
        self.rows, self._labels = rows, labels
        self.endResetModel()

    def row_at(self, i: int) -> tuple | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else 2

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kind, value = self.rows[index.row()]
        if kind == "dismissed":
            if role == Qt.ItemDataRole.DisplayRole:
                return f"(dismissed) {value}" if index.column() == 0 else ""
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QApplication.palette().placeholderText().color())
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return f"{RULE_LABELS.get(value.rule, value.rule)} — {value.message}"
            return self._labels.get(value.segment_id or "", "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return value.message
        return None

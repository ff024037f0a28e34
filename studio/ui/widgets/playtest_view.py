"""The playtest: set a story state, write what happens, watch chapters activate and heal.

The widget is fed ``services.playtest.PlaythroughView`` objects and reports what the author
asks for through signals; the chapter graph panel runs the turns on the worker thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QSplitter, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

STRATEGY_LABELS = {"proceed": "proceed", "relax": "relax conditions", "adapt": "adapt content",
                   "alternate": "alternate path", "hold": "hold (no divergence allowed)"}


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _flags(text: str) -> dict[str, str]:
    flags: dict[str, str] = {}
    for part in _split(text):
        key, _, value = part.partition("=")
        if key.strip():
            flags[key.strip()] = value.strip()
    return flags


class PlaytestView(QWidget):
    playthroughChosen = Signal(str)
    newRequested = Signal(dict)            # the starting state
    playRequested = Signal(str, dict)      # text, state
    replayRequested = Signal()
    replayManuscriptRequested = Signal()
    relaxationAccepted = Signal(dict)      # a pending proposal
    completeRequested = Signal(str)        # chapter id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("playtestView")
        self._titles: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self.view: Any = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.plays = QComboBox()
        self.plays.setObjectName("playthroughs")
        self.plays.activated.connect(lambda i: self.playthroughChosen.emit(self.plays.itemData(i)))
        top.addWidget(QLabel("Playthrough"))
        top.addWidget(self.plays, 1)
        self.new_button = QPushButton("New")
        self.new_button.setToolTip("Start a new playthrough from the state below")
        self.new_button.clicked.connect(lambda: self.newRequested.emit(self.state()))
        self.replay_button = QPushButton("Replay")
        self.replay_button.setToolTip("Play every turn again on the graph as it is now")
        self.replay_button.clicked.connect(self.replayRequested)
        self.manuscript_button = QPushButton("Replay manuscript")
        self.manuscript_button.setToolTip("Play the manuscript's paragraphs as turns")
        self.manuscript_button.clicked.connect(self.replayManuscriptRequested)
        for b in (self.new_button, self.replay_button, self.manuscript_button):
            top.addWidget(b)
        lay.addLayout(top)

        split = QSplitter(Qt.Orientation.Vertical)
        upper = QWidget()
        ulay = QVBoxLayout(upper)
        ulay.setContentsMargins(0, 0, 0, 0)
        state_box = QGroupBox("Story state")
        form = QFormLayout(state_box)
        self.location = QComboBox()
        self.location.setEditable(True)
        self.location.setObjectName("stateLocation")
        form.addRow("Location", self.location)
        self.inventory = QLineEdit()
        self.inventory.setObjectName("stateInventory")
        self.inventory.setPlaceholderText("items held, comma-separated")
        form.addRow("Inventory", self.inventory)
        self.present = QListWidget()
        self.present.setObjectName("statePresent")
        self.present.setMaximumHeight(90)
        self.present.setFlow(QListWidget.Flow.LeftToRight)
        self.present.setWrapping(True)
        form.addRow("Present", self.present)
        self.flags = QLineEdit()
        self.flags.setPlaceholderText("key = value, comma-separated")
        form.addRow("Flags", self.flags)
        self.turn_label = QLabel("Turn 0")
        form.addRow("Turn", self.turn_label)
        ulay.addWidget(state_box)
        self.text = QPlainTextEdit()
        self.text.setObjectName("turnText")
        self.text.setPlaceholderText("What happens this turn… (Ctrl+Enter plays it)")
        self.text.setMaximumHeight(110)
        ulay.addWidget(self.text)
        row = QHBoxLayout()
        self.summary = QLabel("Start a playthrough, then play turns.")
        self.summary.setObjectName("turnSummary")
        self.summary.setWordWrap(True)
        row.addWidget(self.summary, 1)
        self.play_button = QPushButton("Play turn")
        self.play_button.setObjectName("playTurn")
        self.play_button.setDefault(True)
        self.play_button.clicked.connect(self._play)
        row.addWidget(self.play_button)
        ulay.addLayout(row)
        split.addWidget(upper)

        lower = QWidget()
        llay = QVBoxLayout(lower)
        llay.setContentsMargins(0, 0, 0, 0)
        self.pending_box = QGroupBox("Proposed relaxations (confirm to apply)")
        self.pending_layout = QVBoxLayout(self.pending_box)
        self.pending_box.hide()
        llay.addWidget(self.pending_box)
        self.progress = QTreeWidget()
        self.progress.setObjectName("chapterProgress")
        self.progress.setHeaderLabels(["Chapter", "Activated", "Completed", "How", "Score",
                                       "Adapted"])
        self.progress.setRootIsDecorated(False)
        self.progress.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.progress.itemDoubleClicked.connect(self._complete_item)
        self.progress.setToolTip("Double-click an active chapter to mark it complete")
        llay.addWidget(self.progress, 1)
        self.log = QTreeWidget()
        self.log.setObjectName("divergenceLog")
        self.log.setHeaderLabels(["Turn", "Chapter", "Score", "Strategy", "Why / what changed"])
        self.log.setRootIsDecorated(True)
        self.log.header().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        llay.addWidget(self.log, 2)
        split.addWidget(lower)
        split.setSizes([330, 420])
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("Ctrl+Return"), self.text, self._play,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.set_playthrough(None)

    # --- fed by the panel -------------------------------------------------------------------

    def set_context(self, chapters: list[dict], characters: list[tuple[str, str]],
                    locations: list[str]) -> None:
        self._titles = {c["id"]: f"{c['number']}. {c['title']}" for c in chapters}
        self._names = dict(characters)
        current = self.location.currentText()
        self.location.clear()
        self.location.addItems(locations)
        self.location.setCurrentText(current)
        checked = {self.present.item(i).data(Qt.ItemDataRole.UserRole)
                   for i in range(self.present.count())
                   if self.present.item(i).checkState() == Qt.CheckState.Checked}
        self.present.clear()
        for cid, name in characters:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, cid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if cid in checked
                               else Qt.CheckState.Unchecked)
            self.present.addItem(item)
        if self.view is not None:
            self._fill_progress()

    def set_playthroughs(self, items: list[tuple[str, str, int]], current: str | None) -> None:
        self.plays.blockSignals(True)
        self.plays.clear()
        for uid, name, turns in items:
            self.plays.addItem(f"{name} ({turns} turns)", uid)
        if current:
            self.plays.setCurrentIndex(max(0, self.plays.findData(current)))
        self.plays.blockSignals(False)

    def state(self) -> dict[str, Any]:
        return {"location": self.location.currentText().strip(),
                "inventory": _split(self.inventory.text()),
                "characters": [self.present.item(i).data(Qt.ItemDataRole.UserRole)
                               for i in range(self.present.count())
                               if self.present.item(i).checkState() == Qt.CheckState.Checked],
                "flags": _flags(self.flags.text())}

    def set_state(self, state: dict[str, Any]) -> None:
        self.location.setCurrentText(state.get("location", ""))
        self.inventory.setText(", ".join(state.get("inventory", [])))
        present = set(state.get("characters", []))
        for i in range(self.present.count()):
            item = self.present.item(i)
            item.setCheckState(Qt.CheckState.Checked
                               if item.data(Qt.ItemDataRole.UserRole) in present
                               else Qt.CheckState.Unchecked)
        self.flags.setText(", ".join(f"{k} = {v}" for k, v in state.get("flags", {}).items()))
        self.turn_label.setText(f"Turn {state.get('turn', 0)}")

    def set_busy(self, busy: bool, message: str = "") -> None:
        for w in (self.play_button, self.new_button, self.replay_button,
                  self.manuscript_button):
            w.setEnabled(not busy and (w is self.new_button or self.view is not None
                                       or w is self.manuscript_button))
        if message:
            self.summary.setText(message)

    def set_playthrough(self, view: Any) -> None:
        self.view = view
        has = view is not None
        self.play_button.setEnabled(has)
        self.replay_button.setEnabled(has and bool(view.turns))
        if not has:
            self.progress.clear()
            self.log.clear()
            self._show_pending([])
            return
        self.set_state(view.state)
        self._fill_progress()
        self._fill_log()
        self._show_pending(view.pending)
        self.summary.setText(self._describe(view.last) if view.last else
                             f"{len(view.turns)} turns played.")

    # --- internals --------------------------------------------------------------------------

    def _title(self, cid: str) -> str:
        return self._titles.get(cid) or (self.view and {
            c["id"]: f"{c['number']}. {c['title']}"
            for c in self.view.graph.get("chapters", [])}.get(cid)) or cid

    def _describe(self, last: dict[str, Any]) -> str:
        parts = [f"Turn {last['turn']}:"]
        if last.get("activated"):
            parts.append("activated " + ", ".join(self._title(c) for c in last["activated"]))
        if last.get("completed"):
            parts.append("completed " + ", ".join(self._title(c) for c in last["completed"]))
        tiers = {c: t for c, t in last.get("tiers", {}).items() if t != "proceed"}
        if tiers:
            parts.append("; ".join(f"{self._title(c)} → {STRATEGY_LABELS.get(t, t)}"
                                   for c, t in tiers.items()))
        if len(parts) == 1:
            parts.append("nothing changed; available: "
                         + (", ".join(self._title(c) for c in last.get("available", []))
                            or "none"))
        return " ".join(parts)

    def _fill_progress(self) -> None:
        self.progress.clear()
        if self.view is None:
            return
        for cid, p in sorted(self.view.progress.items(),
                             key=lambda kv: (kv[1].get("activated_turn") or 0)):
            score = p.get("divergence_score")
            item = QTreeWidgetItem([
                self._title(cid), str(p.get("activated_turn") or "—"),
                str(p.get("completed_turn") or "—"), p.get("completion_method") or "active",
                "" if score is None else f"{score:.2f}", str(p.get("adaptation_count") or 0)])
            item.setData(0, Qt.ItemDataRole.UserRole, cid)
            self.progress.addTopLevelItem(item)
        for col in range(1, 6):
            self.progress.resizeColumnToContents(col)

    def _fill_log(self) -> None:
        self.log.clear()
        for entry in reversed(self.view.log):
            why = entry.get("reason", "")
            if entry.get("change"):
                why += " — " + entry["change"]
            item = QTreeWidgetItem([str(entry["turn"]), self._title(entry["chapter"]),
                                    f"{entry['score']:.2f}",
                                    STRATEGY_LABELS.get(entry["strategy"], entry["strategy"]),
                                    why])
            item.setToolTip(4, why)
            for line in entry.get("breakdown", []):
                child = QTreeWidgetItem(["", "", "", "", line])
                item.addChild(child)
            self.log.addTopLevelItem(item)
        for col in range(4):
            self.log.resizeColumnToContents(col)

    def _show_pending(self, pending: list[dict]) -> None:
        while self.pending_layout.count():
            w = self.pending_layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for proposal in pending:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            label = QLabel(f"<b>{self._title(proposal['chapter'])}</b>: "
                           f"{proposal['description']}")
            label.setWordWrap(True)
            h.addWidget(label, 1)
            apply = QPushButton("Apply")
            apply.setObjectName("applyRelaxation")
            apply.clicked.connect(lambda _=False, p=proposal, r=row: self._accept(p, r))
            skip = QPushButton("Skip")
            skip.clicked.connect(lambda _=False, r=row: self._drop(r))
            h.addWidget(apply)
            h.addWidget(skip)
            self.pending_layout.addWidget(row)
        self.pending_box.setVisible(bool(pending))

    def _accept(self, proposal: dict, row: QWidget) -> None:
        self._drop(row)
        self.relaxationAccepted.emit(proposal)

    def _drop(self, row: QWidget) -> None:
        row.hide()
        row.deleteLater()
        if not any(self.pending_layout.itemAt(i).widget().isVisibleTo(self.pending_box)
                   for i in range(self.pending_layout.count())
                   if self.pending_layout.itemAt(i).widget() is not row):
            self.pending_box.hide()

    def _play(self) -> None:
        if self.view is None or not self.play_button.isEnabled():
            return
        text = self.text.toPlainText().strip()
        self.playRequested.emit(text, self.state())
        self.text.clear()

    def _complete_item(self, item: QTreeWidgetItem, _column: int) -> None:
        cid = item.data(0, Qt.ItemDataRole.UserRole)
        if cid and self.view and not self.view.progress.get(cid, {}).get("completed_turn"):
            self.completeRequested.emit(cid)

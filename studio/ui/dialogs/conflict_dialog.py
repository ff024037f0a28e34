"""The conflict view of a pull: the source's text and mine side by side, differences marked,
one choice per conflict (source, mine, or keep both).  Nothing is applied until the author
confirms, and the caller snapshots a version before applying, so a pull can be undone."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable

from diff_match_patch import diff_match_patch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QListWidget,
    QListWidgetItem, QRadioButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget,
)

CHOICES = (("theirs", "Use the source’s text", "Alt+S"),
           ("mine", "Keep my text", "Alt+M"),
           ("both", "Keep both (mine as an alternate right after)", "Alt+B"))
DELETED = "background:#f6c9c9;text-decoration:line-through;"
INSERTED = "background:#c8ecc9;"
MINE = "background:#cfe0fb;"
PAGE = "<div style='font-size:13pt; line-height:150%;'>{}</div>"


@dataclass(frozen=True)
class ConflictLabels:
    """The words the view uses for the two sides.  The defaults are the fork pull's; a branch
    merge names its sides ("the branch", "this branch") without changing anything else."""

    theirs: str = "Source"
    theirs_note: str = "the new version"
    theirs_choice: str = "Use the source’s text"
    mine: str = "Mine"
    mine_note: str = "your text now"
    mine_choice: str = "Keep my text"
    both_choice: str = "Keep both (mine as an alternate right after)"
    apply: str = "Apply the pull"


@dataclass(frozen=True)
class ConflictItem:
    """One segment both sides changed in ways that do not merge."""

    segment_id: str
    where: str  # "Chapter 2 › The harbour" — where the author finds it
    base: str
    theirs: str
    mine: str


def diff_html(old: str, new: str, show: str, mark: str = INSERTED) -> str:
    """``new`` (show="new") or ``old`` (show="old") with what differs from the other marked."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    out = []
    for op, text in diffs:
        piece = html.escape(text).replace("\n", "<br>")
        if op == 0:
            out.append(piece)
        elif op == -1 and show == "old":
            out.append(f'<span style="{DELETED}">{piece}</span>')
        elif op == 1 and show == "new":
            out.append(f'<span style="{mark}">{piece}</span>')
    return "".join(out)


class ConflictDialog(QDialog):
    """Choose, for every conflict, which text the story keeps; ``resolutions()`` afterwards."""

    resolutionChanged = Signal()

    def __init__(self, conflicts: Iterable[ConflictItem], summary: str, parent: QWidget | None
                 = None, title: str = "Pull updates from the source",
                 labels: ConflictLabels | None = None):
        super().__init__(parent)
        self.labels = labels = labels or ConflictLabels()
        self.setObjectName("conflictDialog")
        self.setWindowTitle(title)
        self.resize(1040, 620)
        self.conflicts = list(conflicts)
        self._choices: dict[str, str] = {}
        lay = QVBoxLayout(self)
        intro = QLabel(summary)
        intro.setObjectName("pullSummary")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.list = QListWidget()
        self.list.setObjectName("conflictList")
        self.list.setMaximumWidth(280)
        for c in self.conflicts:
            item = QListWidgetItem(f"○  {c.where}")
            item.setData(Qt.ItemDataRole.UserRole, c.segment_id)
            item.setToolTip(c.segment_id)
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._show)
        split.addWidget(self.list)

        right = QWidget()
        grid = QGridLayout(right)
        grid.setContentsMargins(8, 0, 0, 0)
        theirs_head = QLabel(f"<b>{html.escape(labels.theirs)}</b> — "
                             f"{html.escape(labels.theirs_note)} "
                             "<span style='background:#c8ecc9'>&nbsp;what differs&nbsp;</span>")
        mine_head = QLabel(f"<b>{html.escape(labels.mine)}</b> — {html.escape(labels.mine_note)} "
                           "<span style='background:#cfe0fb'>&nbsp;what differs&nbsp;</span>")
        self.theirs_view, self.mine_view = QTextBrowser(), QTextBrowser()
        self.theirs_view.setObjectName("theirsText")
        self.mine_view.setObjectName("mineText")
        for view in (self.theirs_view, self.mine_view):
            view.setOpenLinks(False)
        grid.addWidget(theirs_head, 0, 0)
        grid.addWidget(mine_head, 0, 1)
        grid.addWidget(self.theirs_view, 1, 0)
        grid.addWidget(self.mine_view, 1, 1)
        self.base_note = QLabel()
        self.base_note.setObjectName("baseNote")
        self.base_note.setWordWrap(True)
        self.base_note.setStyleSheet("color: #5f6368; font-style: italic;")
        grid.addWidget(self.base_note, 2, 0, 1, 2)
        pick = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        texts = {"theirs": labels.theirs_choice, "mine": labels.mine_choice,
                 "both": labels.both_choice}
        for key, _text, shortcut in CHOICES:
            button = QRadioButton(f"{texts[key]}  ({shortcut})")
            button.setObjectName(f"choose_{key}")
            self.group.addButton(button)
            self.buttons[key] = button
            button.toggled.connect(lambda on, k=key: on and self._choose(k))
            QShortcut(QKeySequence(shortcut), self, activated=button.click)
            pick.addWidget(button)
        pick.addStretch(1)
        grid.addLayout(pick, 3, 0, 1, 2)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        self.box = QDialogButtonBox()
        self.apply_button = self.box.addButton(labels.apply,
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setObjectName("applyPull")
        self.box.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        self.status = QLabel()
        self.status.setObjectName("conflictStatus")
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        foot.addWidget(self.box)
        lay.addLayout(foot)
        if self.conflicts:
            self.list.setCurrentRow(0)
        self._update()

    # --- the author's choices ---------------------------------------------------------------

    def resolutions(self) -> dict[str, str]:
        return dict(self._choices)

    def choose(self, segment_id: str, choice: str) -> None:
        """Set a choice programmatically (and in the view when it is the shown conflict)."""
        self._choices[segment_id] = choice
        current = self._current()
        if current is not None and current.segment_id == segment_id:
            self.buttons[choice].setChecked(True)
        self._update()

    def _current(self) -> ConflictItem | None:
        row = self.list.currentRow()
        return self.conflicts[row] if 0 <= row < len(self.conflicts) else None

    def _choose(self, key: str) -> None:
        current = self._current()
        if current is None:
            return
        self._choices[current.segment_id] = key
        self._update()
        self.resolutionChanged.emit()

    def _show(self, row: int) -> None:
        c = self._current()
        if c is None:
            return
        self.theirs_view.setHtml(PAGE.format(diff_html(c.mine, c.theirs, "new")))
        self.mine_view.setHtml(PAGE.format(diff_html(c.theirs, c.mine, "new", MINE)))
        self.base_note.setText(f"Before either change: “{c.base}”" if c.base else
                               "Neither side had this text before.")
        chosen = self._choices.get(c.segment_id)
        self.group.setExclusive(False)
        for key, button in self.buttons.items():
            button.setChecked(key == chosen)
        self.group.setExclusive(True)

    def _update(self) -> None:
        for i, c in enumerate(self.conflicts):
            item = self.list.item(i)
            choice = self._choices.get(c.segment_id)
            mark = {"theirs": self.labels.theirs, "mine": self.labels.mine,
                    "both": "Both"}.get(choice)
            item.setText(f"{'●' if mark else '○'}  {c.where}" + (f"  — {mark}" if mark else ""))
        left = sum(1 for c in self.conflicts if c.segment_id not in self._choices)
        self.apply_button.setEnabled(left == 0)
        self.status.setText("Every conflict has a choice: nothing changes until you apply."
                            if left == 0 else
                            f"{left} of {len(self.conflicts)} conflicts still need a choice.")

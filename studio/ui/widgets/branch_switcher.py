"""The toolbar's "Branch:" switcher: Main and the family's what-if branches in one combo.

It only shows and asks: choosing an entry emits ``switchRequested`` and the window opens that
story through its usual open path (which saves unsaved text first).  The family comes from
``studio.services.branches.family`` and is handed in by ``BranchActions``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QWidget,
)

if TYPE_CHECKING:
    from studio.services.branches import BranchInfo, FamilyMember

BRANCH_MARK = "⎇"
MAIN_MARK = "●"


def _when(moment) -> str:
    try:
        return moment.astimezone().strftime("%d %b %Y, %H:%M")
    except (AttributeError, ValueError, OSError):
        return str(moment)


def branch_point(info: "BranchInfo", names: dict[int, str] | None = None) -> str:
    """Where a branch starts, in words: "Main, version 4, from chapter “The Storm”"."""
    parent = (names or {}).get(info.parent_id, "its parent")
    text = f"{parent}, version {info.base_version}"
    if info.branch_chapter:
        text += f", from chapter “{info.branch_chapter_title or info.branch_chapter}”"
    return text


def member_tooltip(member: "FamilyMember", names: dict[int, str] | None = None,
                   storage: str = "") -> str:
    """Rich text for one combo entry: description, branch point, dates, storage."""
    if member.is_main or member.info is None:
        return ("<b>Main</b><br>The story itself. Its branches are what-if copies that share "
                "everything before their branch point.")
    info = member.info
    lines = [f"<b>{BRANCH_MARK} {html.escape(member.name)}</b>"]
    if info.description:
        lines.append(html.escape(info.description).replace("\n", "<br>"))
    lines.append(f"<span style='color:#5f6368'>Branched from "
                 f"{html.escape(branch_point(info, names))}<br>on {_when(info.created_at)}"
                 "</span>")
    if info.merged_at is not None:
        lines.append(f"<span style='color:#2e7d32'>Last merged on {_when(info.merged_at)}</span>")
    if storage:
        lines.append(f"<span style='color:#5f6368'>{html.escape(storage)}</span>")
    return "<br>".join(lines)


class BranchSwitcher(QWidget):
    """"Branch: [⎇ Storm ending ▾] [⋯]" — what is open, and the way to the others."""

    switchRequested = Signal(int)  # the story id of the member to open
    newRequested = Signal()
    compareRequested = Signal()
    editRequested = Signal()
    deleteRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("branchSwitcher")
        self.members: list[FamilyMember] = []
        self.current_id: int | None = None
        self._storage: dict[int, str] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(6)
        self.label = QLabel("Branch:")
        self.label.setObjectName("branchLabel")
        self.combo = QComboBox()
        self.combo.setObjectName("branchCombo")
        self.combo.setMinimumWidth(200)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.combo.setToolTip("Switch between the story and its what-if branches")
        self.combo.activated.connect(self._activated)
        self.label.setBuddy(self.combo)
        self.more = QToolButton()
        self.more.setObjectName("branchMenuButton")
        self.more.setText("⋯")
        self.more.setToolTip("Branch actions")
        self.more.setAutoRaise(True)
        self.more.setIconSize(QSize(16, 16))
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.more)
        self.act_new = self._menu_action("New Branch…", self.newRequested)
        self.act_compare = self._menu_action("Compare Branches…", self.compareRequested)
        self.menu.addSeparator()
        self.act_edit = self._menu_action("Rename or Describe This Branch…", self.editRequested)
        self.act_delete = self._menu_action("Delete This Branch…", self.deleteRequested)
        self.more.setMenu(self.menu)
        row.addWidget(self.label)
        row.addWidget(self.combo)
        row.addWidget(self.more)
        self.set_family([], None)

    def _menu_action(self, text: str, signal) -> QAction:
        action = self.menu.addAction(text)
        action.triggered.connect(lambda _=False: signal.emit())
        return action

    # --- what is shown ----------------------------------------------------------------------

    def names(self) -> dict[int, str]:
        return {m.story_id: m.name for m in self.members}

    def set_family(self, members: Sequence["FamilyMember"], current_id: int | None) -> None:
        """Fill the combo; the open story is selected.  No signal is emitted."""
        self.members = list(members)
        self.current_id = current_id
        self._storage = {k: v for k, v in self._storage.items()
                         if any(m.story_id == k for m in self.members)}
        self.combo.blockSignals(True)
        self.combo.clear()
        names = self.names()
        for m in self.members:
            text = f"{MAIN_MARK}  Main" if m.is_main else f"{BRANCH_MARK}  {m.name}"
            if not m.is_main and m.info is not None and m.info.merged_at is not None:
                text += "  ✓"
            self.combo.addItem(text, m.story_id)
            self.combo.setItemData(self.combo.count() - 1,
                                   member_tooltip(m, names, self._storage.get(m.story_id, "")),
                                   Qt.ItemDataRole.ToolTipRole)
        if not self.members:
            self.combo.addItem("—", None)
        index = self.combo.findData(current_id)
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        has_story = bool(self.members)
        self.combo.setEnabled(has_story)
        self.act_new.setEnabled(has_story)
        self.act_compare.setEnabled(len(self.members) > 1)
        current = self.current_member()
        on_branch = current is not None and not current.is_main
        self.act_edit.setEnabled(on_branch)
        self.act_delete.setEnabled(on_branch)
        self._update_tooltip()

    def set_storage(self, story_id: int, text: str) -> None:
        """"Stores 12 KB of its own" for a branch, shown in its tooltip."""
        self._storage[story_id] = text
        index = self.combo.findData(story_id)
        member = next((m for m in self.members if m.story_id == story_id), None)
        if index >= 0 and member is not None:
            self.combo.setItemData(index, member_tooltip(member, self.names(), text),
                                   Qt.ItemDataRole.ToolTipRole)
        self._update_tooltip()

    def current_member(self) -> "FamilyMember | None":
        return next((m for m in self.members if m.story_id == self.current_id), None)

    def _update_tooltip(self) -> None:
        current = self.current_member()
        if current is None:
            self.combo.setToolTip("Open a story to see its branches")
            return
        self.combo.setToolTip(member_tooltip(current, self.names(),
                                             self._storage.get(current.story_id, ""))
                              + "<br><i>Choose another entry to switch to it.</i>")

    def select(self, story_id: int) -> None:
        """Choose an entry as the author would (tests and the keyboard use this)."""
        index = self.combo.findData(story_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)
            self._activated(index)

    def _activated(self, index: int) -> None:
        story_id = self.combo.itemData(index)
        if story_id is None or story_id == self.current_id:
            return
        # The combo shows the choice at once; ``set_family`` confirms it when the story is open
        # (or puts the open one back if opening failed).
        self.switchRequested.emit(int(story_id))

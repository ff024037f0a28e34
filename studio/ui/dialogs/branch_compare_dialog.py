"""Compare two members of a story's family (Main and its what-if branches) chapter by chapter,
and merge the checked chapters of one into the other.

The merge is three-way (``studio.services.branches.plan_merge``); conflicts go through the same
``ConflictDialog`` the fork pull uses, with the two sides named.  Nothing is written before the
author confirms, and ``apply_merge`` saves a version of the receiving story first, so "Restore"
in Versions undoes a merge.  "Keep Both" closes: both stay as they are.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import Qt, Signal
from shiboken6 import isValid
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
    QMessageBox, QPushButton, QSplitter, QTextBrowser, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from studio.ui.dialogs.conflict_dialog import (
    ConflictDialog, ConflictItem, ConflictLabels, INSERTED, diff_html,
)

if TYPE_CHECKING:
    from studio.services.branches import BranchMergePlan, ChapterDiff, FamilyMember
    from studio.store.database import Database
    from studio.ui.runner import ServiceRunner

UID_ROLE = Qt.ItemDataRole.UserRole
#: state → (badge text, badge colour, what it means)
BADGES = {
    "same": ("same", "#e8eaed", "The same in both."),
    "changed": ("changed", "#fde7b0", "In both, with different text."),
    "only_a": ("only in A", "#cfe0fb", "Only A has this chapter (B removed it, or A added it)."),
    "only_b": ("only in B", "#c8ecc9", "Only B has this chapter (B added it, or A removed it)."),
}
LEGEND_A = "background:#f6c9c9;"  # diff_html's deletion colour, without the strike-through
PAGE = ("<div style='font-size:12pt; line-height:145%;'>{}</div>")
NOT_THERE = "<p style='color:#80868b; font-style:italic;'>{}</p>"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def no_mnemonic(text: str) -> str:
    """A name on a button or radio: its "&" is a letter, not a shortcut marker."""
    return text.replace("&", "&&")


def member_name(member: "FamilyMember") -> str:
    return "Main" if member.is_main else f"“{member.name}”"


def chapter_title(diff: "ChapterDiff") -> str:
    a, b = diff.title_a, diff.title_b
    if a and b and a != b:
        return f"{a} → {b}"
    return a or b or "Untitled chapter"


def _cell(text: str) -> str:
    return html.escape(text).replace("\n", "<br>") if text else ""


def chapter_html(diff: "ChapterDiff", a_name: str, b_name: str) -> str:
    """The chapter's scenes, A beside B, what differs marked (red: only in A; green: only in
    B), one table row a scene so the two sides stay level however long the scenes are."""
    rows = [f"<tr><th width='50%' align='left' style='padding:6px;'>A · {html.escape(a_name)}"
            f"</th><th width='50%' align='left' style='padding:6px;'>B · {html.escape(b_name)}"
            "</th></tr>"]
    for scene in diff.scenes:
        badge, colour, _ = BADGES.get(scene.state, (scene.state, "#e8eaed", ""))
        rows.append(
            f"<tr><td colspan='2' style='background:#f1f3f4; padding:6px;'>"
            f"<b>{html.escape(scene.title or 'Untitled scene')}</b>&nbsp;&nbsp;"
            f"<span style='background:{colour};'>&nbsp;{badge}&nbsp;</span></td></tr>")
        if scene.state == "changed":
            left = diff_html(scene.text_a, scene.text_b, "old")
            right = diff_html(scene.text_a, scene.text_b, "new")
        elif scene.state == "only_a":
            left, right = _cell(scene.text_a), NOT_THERE.format(f"Not in {html.escape(b_name)}")
        elif scene.state == "only_b":
            left, right = NOT_THERE.format(f"Not in {html.escape(a_name)}"), _cell(scene.text_b)
        else:
            left, right = _cell(scene.text_a), _cell(scene.text_b)
        empty = NOT_THERE.format("(no text yet)")
        rows.append(f"<tr><td valign='top' style='padding:6px;'>{left or empty}</td>"
                    f"<td valign='top' style='padding:6px;'>{right or empty}</td></tr>")
    if not diff.scenes:
        rows.append(f"<tr><td colspan='2'>{NOT_THERE.format('This chapter has no scenes.')}"
                    "</td></tr>")
    return PAGE.format("<table width='100%' cellspacing='0' cellpadding='0' "
                       "style='border-collapse:collapse;'>" + "".join(rows) + "</table>")


class BranchCompareDialog(QDialog):
    """Two combos (A, B), the chapters with their state, the chosen chapter side by side."""

    merged = Signal(int, int)  # the story merged into, the number of the version saved first

    def __init__(self, runner: "ServiceRunner", db: "Database",
                 members: Sequence["FamilyMember"], a_id: int, b_id: int, *,
                 before: Callable[[], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.runner, self.db = runner, db
        self.members = list(members)
        self.before = before or (lambda: None)
        self.on_error = on_error
        self.diffs: list[ChapterDiff] = []
        self.plan: BranchMergePlan | None = None
        self.conflict_dialog: ConflictDialog | None = None
        self.last_box: QMessageBox | None = None
        self._loading = 0
        self._merging = False  # planned or applying: the dialog stays until the end is known
        self.setObjectName("branchCompareDialog")
        self.setWindowTitle("Compare Branches")
        self.resize(1180, 720)
        lay = QVBoxLayout(self)

        top = QHBoxLayout()
        self.a_combo, self.b_combo = QComboBox(), QComboBox()
        self.a_combo.setObjectName("compareA")
        self.b_combo.setObjectName("compareB")
        for combo in (self.a_combo, self.b_combo):
            combo.setMinimumWidth(220)
            for m in self.members:
                combo.addItem("● Main" if m.is_main else f"⎇ {m.name}", m.story_id)
        self.a_combo.setCurrentIndex(max(self.a_combo.findData(a_id), 0))
        self.b_combo.setCurrentIndex(max(self.b_combo.findData(b_id), 0))
        self.swap = QPushButton("⇄")
        self.swap.setObjectName("swapAB")
        self.swap.setToolTip("Swap A and B")
        self.swap.setFixedWidth(36)
        self.swap.clicked.connect(self.swap_sides)
        self.only_changed = QCheckBox("Changed chapters only")
        self.only_changed.setObjectName("changedOnly")
        top.addWidget(QLabel("<b>A</b>"))
        top.addWidget(self.a_combo)
        top.addWidget(self.swap)
        top.addWidget(QLabel("<b>B</b>"))
        top.addWidget(self.b_combo)
        top.addStretch(1)
        top.addWidget(self.only_changed)
        lay.addLayout(top)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.chapters = QTreeWidget()
        self.chapters.setObjectName("branchChapters")
        self.chapters.setHeaderLabels(["Chapter", "State", "A words", "B words"])
        self.chapters.setRootIsDecorated(False)
        self.chapters.setStyleSheet("QTreeWidget::item { padding: 4px 2px; }")
        self.chapters.setUniformRowHeights(True)
        head = self.chapters.header()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(False)
        self.chapters.currentItemChanged.connect(self._show_current)
        self.chapters.itemChanged.connect(self._checks_changed)
        left_lay.addWidget(self.chapters, 1)
        checks = QHBoxLayout()
        self.check_all = QPushButton("Check all changed")
        self.check_all.setObjectName("checkAllChanged")
        self.check_none = QPushButton("Uncheck all")
        self.check_none.setObjectName("checkNone")
        self.check_all.clicked.connect(lambda: self.set_all_checked(True))
        self.check_none.clicked.connect(lambda: self.set_all_checked(False))
        checks.addWidget(self.check_all)
        checks.addWidget(self.check_none)
        checks.addStretch(1)
        left_lay.addLayout(checks)
        split.addWidget(left)

        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(6, 0, 0, 0)
        self.legend = QLabel(
            "<span style='color:#5f6368'>Marked:</span>&nbsp; "
            f"<span style='{LEGEND_A}'>&nbsp;only in A&nbsp;</span>&nbsp;&nbsp;"
            f"<span style='{INSERTED}'>&nbsp;only in B&nbsp;</span>")
        self.legend.setObjectName("compareLegend")
        self.lineage = QLabel()
        self.lineage.setObjectName("compareLineage")
        self.lineage.setTextFormat(Qt.TextFormat.PlainText)
        self.lineage.setStyleSheet("color: #5f6368;")
        self.lineage.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        legend_row = QHBoxLayout()
        legend_row.addWidget(self.legend)
        legend_row.addWidget(self.lineage, 1)
        self.view = QTextBrowser()
        self.view.setObjectName("branchDiffView")
        self.view.setOpenLinks(False)
        right_lay.addLayout(legend_row)
        right_lay.addWidget(self.view, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 820])
        lay.addWidget(split, 1)

        foot = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("compareSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # names are the author's text
        self.summary.setWordWrap(True)
        foot.addWidget(self.summary, 1)
        self.buttons = QDialogButtonBox()
        self.merge_button = self.buttons.addButton("Merge…",
                                                   QDialogButtonBox.ButtonRole.ActionRole)
        self.merge_button.setObjectName("mergeChecked")
        self.merge_button.clicked.connect(self.merge_checked)
        self.keep_button = self.buttons.addButton("Keep Both",
                                                  QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.setObjectName("keepBoth")
        self.keep_button.setToolTip("Close without merging: both stay as they are")
        self.buttons.rejected.connect(self.reject)
        foot.addWidget(self.buttons)
        lay.addLayout(foot)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.merge_button.click)

        self.a_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.b_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.only_changed.toggled.connect(lambda _on: self._fill())
        self.reload()

    # --- who is compared ---------------------------------------------------------------------

    def a_id(self) -> int:
        return self.a_combo.currentData()

    def b_id(self) -> int:
        return self.b_combo.currentData()

    def _member(self, story_id: int) -> "FamilyMember | None":
        return next((m for m in self.members if m.story_id == story_id), None)

    def a_name(self) -> str:
        member = self._member(self.a_id())
        return member_name(member) if member else "A"

    def b_name(self) -> str:
        member = self._member(self.b_id())
        return member_name(member) if member else "B"

    def _lineage(self) -> str:
        """Where B (or else A) branched from, for orientation: "“Storm” branched from Main,
        version 4"."""
        from studio.ui.widgets.branch_switcher import branch_point

        names = {m.story_id: ("Main" if m.is_main else f"“{m.name}”") for m in self.members}
        for story_id in (self.b_id(), self.a_id()):
            member = self._member(story_id)
            if member is not None and member.info is not None:
                merged = " · merged before" if member.info.merged_at is not None else ""
                return (f"{member_name(member)} branched from "
                        f"{branch_point(member.info, names)}{merged}")
        return ""

    def can_merge(self) -> bool:
        """Any two members of the family merge (the service finds their last common version):
        a branch back into Main, or Main into a branch to bring it up to date."""
        return self._member(self.b_id()) is not None and self.a_id() != self.b_id()

    def _b_is_main(self) -> bool:
        member = self._member(self.b_id())
        return member is not None and member.is_main

    def swap_sides(self) -> None:
        a, b = self.a_id(), self.b_id()
        for combo in (self.a_combo, self.b_combo):
            combo.blockSignals(True)
        self.a_combo.setCurrentIndex(self.a_combo.findData(b))
        self.b_combo.setCurrentIndex(self.b_combo.findData(a))
        for combo in (self.a_combo, self.b_combo):
            combo.blockSignals(False)
        self.reload()

    # --- comparing -----------------------------------------------------------------------------

    def is_loading(self) -> bool:
        return self._loading > 0

    def reload(self) -> None:
        from studio.services import branches

        self.diffs = []
        self.chapters.clear()
        self.view.clear()
        self.lineage.setText(self._lineage())
        if self.a_id() == self.b_id():
            self.summary.setText("Choose two different members of the family to compare.")
            self._update_merge_button()
            return
        self.before()  # unsaved text of the open story is saved before it is read
        self._loading += 1
        self.summary.setText("Comparing…")
        self._update_merge_button()
        a, b = self.a_id(), self.b_id()

        def show(diffs: list) -> None:
            if not isValid(self):
                return  # closed while comparing
            self._loading -= 1
            if (a, b) != (self.a_id(), self.b_id()):
                return  # the author chose others meanwhile; their comparison follows
            self.diffs = list(diffs)
            self._fill()

        def failed(exc: BaseException) -> None:
            if not isValid(self):
                return
            self._loading -= 1
            self.summary.setText(f"Could not compare: {exc}")
            self._update_merge_button()

        self.runner.run(branches.compare, self.db, a, b, on_done=show, on_error=failed)

    def _fill(self) -> None:
        checked = set(self.checked_chapters())
        current = self.current_chapter()
        only = self.only_changed.isChecked()
        self.chapters.blockSignals(True)
        self.chapters.clear()
        select = None
        for diff in self.diffs:
            if only and diff.state == "same":
                continue
            badge, colour, meaning = BADGES.get(diff.state, (diff.state, "#e8eaed", ""))
            item = QTreeWidgetItem([chapter_title(diff), f" {badge} ",
                                    f"{diff.words_a:,}" if diff.state != "only_b" else "—",
                                    f"{diff.words_b:,}" if diff.state != "only_a" else "—"])
            item.setData(0, UID_ROLE, diff.chapter_uid)
            item.setBackground(1, QBrush(QColor(colour)))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)
            for column in (2, 3):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            item.setToolTip(0, chapter_title(diff))
            item.setToolTip(1, meaning)
            delta = diff.words_b - diff.words_a
            if diff.state == "changed" and delta:
                item.setToolTip(3, f"{delta:+,} words compared with A")
            if diff.state == "same":
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                item.setForeground(0, QBrush(QColor("#80868b")))
            else:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if diff.chapter_uid in checked
                                   else Qt.CheckState.Unchecked)
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            self.chapters.addTopLevelItem(item)
            if diff.chapter_uid == current or (select is None and current is None
                                               and diff.state != "same"):
                select = item
        self.chapters.blockSignals(False)
        if select is None and self.chapters.topLevelItemCount():
            select = self.chapters.topLevelItem(0)
        if select is not None:
            self.chapters.setCurrentItem(select)
        else:
            self.view.setHtml(NOT_THERE.format(
                "The two are the same." if self.diffs else "Neither has chapters yet."))
        differ = sum(1 for d in self.diffs if d.state != "same")
        self.summary.setText(
            f"{self.a_name()} and {self.b_name()} are the same, chapter for chapter."
            if not differ else
            f"{differ} of {len(self.diffs)} chapters differ. Check the chapters of "
            f"{self.b_name()} you want, then merge them into {self.a_name()}"
            + (" (brings the branch up to date)." if self._b_is_main() else "."))
        self._update_merge_button()

    def current_chapter(self) -> str | None:
        item = self.chapters.currentItem()
        return item.data(0, UID_ROLE) if item is not None else None

    def diff_for(self, chapter_uid: str) -> "ChapterDiff | None":
        return next((d for d in self.diffs if d.chapter_uid == chapter_uid), None)

    def _show_current(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        diff = self.diff_for(item.data(0, UID_ROLE))
        if diff is not None:
            self.view.setHtml(chapter_html(diff, self.a_name(), self.b_name()))

    def select_chapter(self, chapter_uid: str) -> None:
        for i in range(self.chapters.topLevelItemCount()):
            item = self.chapters.topLevelItem(i)
            if item.data(0, UID_ROLE) == chapter_uid:
                self.chapters.setCurrentItem(item)
                return

    # --- checking chapters -------------------------------------------------------------------

    def _items(self) -> list[QTreeWidgetItem]:
        return [self.chapters.topLevelItem(i) for i in range(self.chapters.topLevelItemCount())]

    def checked_chapters(self) -> list[str]:
        return [item.data(0, UID_ROLE) for item in self._items()
                if item.flags() & Qt.ItemFlag.ItemIsUserCheckable
                and item.checkState(0) == Qt.CheckState.Checked]

    def set_checked(self, chapter_uid: str, on: bool = True) -> None:
        for item in self._items():
            if item.data(0, UID_ROLE) == chapter_uid and \
                    item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def set_all_checked(self, on: bool) -> None:
        self.chapters.blockSignals(True)
        for item in self._items():
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.chapters.blockSignals(False)
        self._update_merge_button()

    def _checks_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            self._update_merge_button()

    def _update_merge_button(self) -> None:
        n = len(self.checked_chapters())
        noun = "chapter" if n == 1 else "chapters"
        self.merge_button.setText(no_mnemonic(
            f"Merge {n} checked {noun} of {self.b_name()} into {self.a_name()}…" if n else
            f"Merge checked chapters of {self.b_name()} into {self.a_name()}…"))
        self.merge_button.setEnabled(n > 0 and not self.is_loading()
                                     and self.can_merge())
        self.merge_button.setToolTip(
            "Choose two different members of the family" if not self.can_merge()
            else "Check chapters in the list first" if not n
            else f"Three-way merge; a version of {self.a_name()} is saved first (Ctrl+Return)")

    # --- merging -------------------------------------------------------------------------------

    def merge_checked(self) -> None:
        from studio.services import branches

        chapters = self.checked_chapters()
        if not chapters or self.is_loading():
            return
        self.before()  # the receiving story's unsaved text is saved before the plan reads it
        self._loading += 1
        self._merging = True
        self._update_merge_button()
        self.summary.setText("Planning the merge…")
        self.runner.run(branches.plan_merge, self.db, self.b_id(), self.a_id(), chapters,
                        on_done=self._planned, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        from studio.domain.errors import StudioError

        self._loading = max(0, self._loading - 1)
        self._merging = False
        self._update_merge_button()
        self.summary.setText(f"Nothing was merged: {exc}")
        if not isinstance(exc, StudioError) and self.on_error is not None:
            self.on_error(exc)

    def _planned(self, plan: "BranchMergePlan") -> None:
        self._loading -= 1
        self.plan = plan
        self._update_merge_button()
        what = f"{plural(len(plan.chapters or ()), 'chapter')} of {self.b_name()}"
        kept = (f" {plural(len(plan.kept_mine), 'paragraph')} only {self.a_name()} changed "
                "will be kept." if plan.kept_mine else "")
        parts = (f" {plural(len(plan.part_conflicts), 'note')} outside the manuscript (bible, "
                 f"modules, chapter graph) changed on both sides: {self.a_name()} keeps its own."
                 if plan.part_conflicts else "")
        if not plan.applied and not plan.conflicts:
            self._merging = False
            self.summary.setText(f"Nothing to merge: {self.a_name()} has nothing to take from "
                                 f"{what}.{kept}")
            return
        if plan.conflicts:
            self._ask_conflicts(plan, what, kept + parts)
        else:
            self._confirm(plan, what, kept + parts)

    def _confirm(self, plan: "BranchMergePlan", what: str, notes: str) -> None:
        box = QMessageBox(self)
        box.setObjectName("confirmMergeBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Merge branch")
        box.setText(f"Merge {what} into {self.a_name()}?")
        box.setInformativeText(
            f"{plural(len(plan.applied), 'paragraph')} of {self.a_name()} will change.{notes} "
            f"A version of {self.a_name()} is saved first, so “Restore” in Versions undoes "
            "the merge.")
        merge = box.addButton("Merge", QMessageBox.ButtonRole.AcceptRole)
        merge.setObjectName("confirmMerge")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(merge)
        self.last_box = box

        def answered(_code: int) -> None:
            if box.clickedButton() is merge:
                self._apply(plan, {})
            else:
                self._merging = False
                self.summary.setText("Merge cancelled; nothing changed.")

        box.finished.connect(answered)
        box.open()

    def _ask_conflicts(self, plan: "BranchMergePlan", what: str, notes: str) -> None:
        a, b = self.a_name(), self.b_name()
        conflicts = [ConflictItem(c.segment_id, c.where, c.base or "", c.theirs or "",
                                  c.mine or "") for c in plan.conflicts]
        summary = (f"Merging {what} into {a}: {plural(len(plan.applied), 'paragraph')} can "
                   f"merge without a question.{notes} {plural(len(conflicts), 'paragraph')} "
                   f"changed on both sides: choose what {a} keeps. A version of {a} is saved "
                   "before anything is applied.")
        labels = ConflictLabels(
            theirs=b, theirs_note="the branch being merged",
            theirs_choice=no_mnemonic(f"Use {b}"),
            mine=a, mine_note="the text it is merged into",
            mine_choice=no_mnemonic(f"Keep {a}"),
            both_choice=no_mnemonic(f"Keep both ({a} as an alternate right after)"),
            apply="Apply the merge")
        dialog = ConflictDialog(conflicts, summary, self, title=f"Merge {b} into {a}",
                                labels=labels)
        dialog.setObjectName("branchConflictDialog")
        self.conflict_dialog = dialog

        def answered(code: int) -> None:
            if code == QDialog.DialogCode.Accepted:
                self._apply(plan, dialog.resolutions())
            else:
                self._merging = False
                self.summary.setText("Merge cancelled; nothing changed.")

        dialog.finished.connect(answered)
        dialog.open()

    def _apply(self, plan: "BranchMergePlan", resolutions: dict[str, str]) -> None:
        from studio.services import branches

        self._loading += 1
        self._update_merge_button()
        self.summary.setText("Merging…")
        self.before()
        into = plan.into_id

        def done(number: Any) -> None:
            self._loading -= 1
            self._merging = False
            self.merged.emit(into, int(number))
            self._merged_message(plan, int(number))
            self.reload()

        self.runner.run(branches.apply_merge, self.db, plan, resolutions, on_done=done,
                        on_error=self._failed)

    def reject(self) -> None:
        """"Keep Both", Esc and the close box: not while a merge is being planned or applied
        (the window must hear how it ended, to show the merged text)."""
        if self._merging:
            self.summary.setText("A merge is under way; close this when it is done.")
            return
        super().reject()

    def _merged_message(self, plan: "BranchMergePlan", number: int) -> None:
        box = QMessageBox(self)
        box.setObjectName("mergedBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Merged")
        box.setText(f"Merged {plural(len(plan.chapters or ()), 'chapter')} of {self.b_name()} "
                    f"into {self.a_name()}.")
        box.setInformativeText(
            f"Version {number} of {self.a_name()} was saved first: restore it in Versions to "
            f"undo the merge. {self.b_name()} is kept as it is.")
        self.last_box = box
        box.open()

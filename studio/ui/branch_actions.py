"""What-if branches in the main window: the toolbar's Branch switcher, Story ▸ New Branch… and
Compare Branches…, "Branch From Here…" on a chapter and on a version, and "⎇ name" in the
window title.

Kept out of ``main_window.py``: the window makes one ``BranchActions`` and tells it when the open
story changes.  Switching goes through ``MainWindow.open_story`` — the one path that flushes the
open story's unsaved text before anything else is queued on the service thread, so a switch
never loses a keystroke.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from studio.ui.widgets.branch_switcher import BRANCH_MARK, BranchSwitcher

if TYPE_CHECKING:
    from studio.services.branches import BranchInfo, FamilyMember
    from studio.ui.document import StoryDocument
    from studio.ui.main_window import MainWindow

NEW_BRANCH_KEYS = "Ctrl+Alt+B"
COMPARE_KEYS = "Ctrl+Alt+M"
SETTINGS_LAST_STORY = "library/lastStory"  # the window's key: the family's Main goes there
SETTINGS_LAST_BRANCH = "branches/lastOpen"  # "<trunk id>:<branch id>", reopened at start-up


def size_text(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}".replace(".0 ", " ")
    return f"{n:,} bytes"


class BranchActions(QObject):
    """The branch features of one main window."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.members: list[FamilyMember] = []
        self.current_id: int | None = None
        self.dialog = None  # the last New/Rename dialog (tests drive it)
        self.compare_dialog = None
        self.delete_box = None
        self._restore_pending = window.settings.value(SETTINGS_LAST_BRANCH)

        self.switcher = BranchSwitcher()
        self.switcher.switchRequested.connect(self.switch_to)
        self.switcher.newRequested.connect(lambda: self.new_branch())
        self.switcher.compareRequested.connect(lambda: self.compare())
        self.switcher.editRequested.connect(self.edit_branch)
        self.switcher.deleteRequested.connect(self.delete_branch)
        self.toolbar = QToolBar("Branches", window)
        self.toolbar.setObjectName("branchToolBar")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.addWidget(self.switcher)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

        self.act_new = self._action("New &Branch…", lambda: self.new_branch(), NEW_BRANCH_KEYS,
                                    "actNewBranch")
        self.act_compare = self._action("Compare &Branches…", lambda: self.compare(),
                                        COMPARE_KEYS, "actCompareBranches")
        story = self._story_menu()
        if story is not None:
            before = window.act_delete
            story.insertAction(before, self.act_new)
            story.insertAction(before, self.act_compare)
            story.insertSeparator(before)
        for panel in window.panels:
            wants = getattr(panel, "branchFromHereRequested", None)
            if wants is not None:
                wants.connect(lambda uid, title: self.new_branch(chapter=(uid, title)))
        window.versions.branchFromVersionRequested.connect(
            lambda number: self.new_branch(version=number))
        self.set_document(None)

    def _action(self, text: str, slot, keys: str, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        return action

    def _story_menu(self) -> QMenu | None:
        for action in self.window.menuBar().actions():
            menu = action.menu()
            if menu is not None and self.window.act_delete in menu.actions():
                return menu
        return None

    # --- the open story ------------------------------------------------------------------------

    def set_document(self, doc: "StoryDocument | None") -> None:
        """The window opened (or closed) a story: show its family."""
        for action in (self.act_new, self.act_compare):
            action.setEnabled(doc is not None)
        if doc is None:
            self.members, self.current_id = [], None
            self.switcher.set_family([], None)
            return
        self.current_id = doc.story_id
        self.refresh()

    def refresh(self, then=None) -> None:
        from studio.services import branches

        doc = self.window.document
        if doc is None:
            return
        story_id = doc.story_id

        def show(members: list) -> None:
            if self.window.document is None or self.window.document.story_id != story_id:
                return  # another story opened meanwhile; its own refresh follows
            self.members = list(members)
            self.current_id = story_id
            self.switcher.set_family(self.members, story_id)
            self._opened(story_id)
            if then is not None:
                then()

        self.window.runner.run(branches.family, self.window.db, story_id, on_done=show,
                               on_error=self.window.show_error)

    def current(self) -> "FamilyMember | None":
        return next((m for m in self.members if m.story_id == self.current_id), None)

    def trunk_id(self) -> int | None:
        main = next((m for m in self.members if m.is_main), None)
        return main.story_id if main else None

    def title_part(self) -> str:
        """" ⎇ Storm ending" for the window title when a branch is open."""
        current = self.current()
        if current is None or current.is_main:
            return ""
        return f" {BRANCH_MARK} {current.name}"

    def _opened(self, story_id: int) -> None:
        from studio.services import branches

        window = self.window
        window._update_title()
        trunk = self.trunk_id()
        current = self.current()
        if trunk is not None:
            window.library.mark_current(trunk)  # the library lists the family by its Main
            window.settings.setValue(SETTINGS_LAST_STORY, trunk)
        # Only the first story opened (at start-up) may bring back the branch open last time.
        pending, self._restore_pending = self._restore_pending, None
        if current is not None and not current.is_main:
            window.settings.setValue(SETTINGS_LAST_BRANCH, f"{trunk}:{story_id}")
            window.runner.run(branches.branch_storage, window.db, story_id,
                              on_done=lambda info: self._show_storage(story_id, info),
                              on_error=lambda _exc: None)  # a size is a nicety, not a need
        elif trunk == story_id and pending:
            self._reopen_last_branch(trunk, str(pending))

    def _reopen_last_branch(self, trunk: int, pending: str) -> None:
        """The window reopens the family's Main at start-up (the library lists only Mains);
        the branch that was open when the app closed follows."""
        try:
            was_trunk, branch = (int(x) for x in pending.split(":"))
        except ValueError:
            return
        if was_trunk == trunk and any(m.story_id == branch for m in self.members):
            self.switch_to(branch)

    def _show_storage(self, story_id: int, info) -> None:
        total = info.get("total") if isinstance(info, dict) else None
        if total is None and isinstance(info, dict):
            total = sum(v for v in info.values() if isinstance(v, int))
        if total is not None:
            self.switcher.set_storage(story_id, f"This branch stores {size_text(total)} of "
                                                "its own.")

    def switch_to(self, story_id: int) -> None:
        """Open another member of the family through the window's open path (unsaved text of
        the open story is saved first)."""
        self._restore_pending = None
        if self.window.document is not None and self.window.document.story_id == story_id:
            return
        member = next((m for m in self.members if m.story_id == story_id), None)
        if member is not None:
            self.window.statusBar().showMessage(
                "Switched to Main" if member.is_main else
                f"Switched to the branch “{member.name}”", 5000)
        if member is not None and member.is_main:
            self.window.settings.remove(SETTINGS_LAST_BRANCH)
        self.window.open_story(story_id)

    # --- new, rename, delete ---------------------------------------------------------------------

    def new_branch(self, *, chapter: tuple[str, str] | None = None,
                   version: int | None = None):
        """The New Branch dialog for the open story (from a chapter or a version if given)."""
        from studio.ui.dialogs.branch_dialog import NewBranchDialog

        window, doc = self.window, self.window.document
        if doc is None:
            window.statusBar().showMessage("Open a story first; then you can branch it.", 5000)
            return None
        doc.flush()  # "the text as it is now" includes what was just typed
        current = self.current()
        name = (f"the branch “{current.name}”" if current is not None and not current.is_main
                else f"“{doc.detail.fields.title}”")
        versions = window.versions.versions if window.versions.document is doc else []
        dialog = NewBranchDialog(window.runner, window.db, doc.story_id, name,
                                 [m.name for m in self.members] or ["Main"], versions,
                                 chapter=chapter, version=version,
                                 on_error=window.show_error, parent=window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done_with.connect(self._created)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _created(self, info: "BranchInfo") -> None:
        self.window.statusBar().showMessage(
            f"Branch “{info.name}” created from version {info.base_version} — you are on it "
            "now; the Branch box in the toolbar switches back.", 10000)
        self.window.versions.refresh()  # "Branch point: …" was saved as a version
        self.switch_to(info.story_id)

    def edit_branch(self):
        from studio.ui.dialogs.branch_dialog import EditBranchDialog

        current = self.current()
        if current is None or current.is_main or current.info is None:
            return None
        dialog = EditBranchDialog(self.window.runner, self.window.db, current.info,
                                  [m.name for m in self.members],
                                  on_error=self.window.show_error, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done_with.connect(lambda info: self.refresh(then=lambda: (
            self.window.statusBar().showMessage(f"Branch renamed to “{info.name}”", 5000))))
        self.dialog = dialog
        dialog.open()
        return dialog

    def delete_branch(self):
        from studio.services import branches
        from studio.ui.dialogs.branch_dialog import delete_box

        current = self.current()
        if current is None or current.is_main or current.info is None:
            return None
        info = current.info
        box = delete_box(self.window, current.name)
        self.delete_box = box

        def answered(_code: int) -> None:
            if box.clickedButton() is None or \
                    box.clickedButton().objectName() != "confirmDeleteBranch":
                return
            # Open the parent first (saving what is typed), then delete: the runner keeps order.
            self.switch_to(info.parent_id)
            self.window.runner.run(
                branches.delete_branch, self.window.db, info.story_id,
                on_done=lambda _r: self.window.statusBar().showMessage(
                    f"Branch “{info.name}” moved to the trash", 8000),
                on_error=self.window.show_error)

        box.finished.connect(answered)
        box.open()
        return box

    # --- compare and merge ---------------------------------------------------------------------

    def compare(self, a_id: int | None = None, b_id: int | None = None):
        """Compare Branches: by default the open branch (B) with the story it came from (A)."""
        from studio.ui.dialogs.branch_compare_dialog import BranchCompareDialog

        window = self.window
        if window.document is None:
            window.statusBar().showMessage("Open a story first.", 5000)
            return None
        if len(self.members) < 2:
            keys = QKeySequence(NEW_BRANCH_KEYS).toString(
                QKeySequence.SequenceFormat.NativeText)
            window.statusBar().showMessage(
                f"This story has no branches yet: New Branch… ({keys}) makes one.", 8000)
            return None
        current = self.current()
        if b_id is None:
            b_id = current.story_id if current is not None and not current.is_main \
                else self.members[-1].story_id
        if a_id is None:
            b_member = next((m for m in self.members if m.story_id == b_id), None)
            a_id = b_member.info.parent_id if b_member is not None and b_member.info \
                else self.trunk_id()
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dialog = BranchCompareDialog(
            window.runner, window.db, self.members, a_id, b_id,
            before=lambda: window.document.flush() if window.document else None,
            on_error=window.show_error, parent=window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.merged.connect(self._merged)
        dialog.finished.connect(lambda _code: self.compare_dialog is dialog
                                and setattr(self, "compare_dialog", None))
        self.compare_dialog = dialog
        dialog.show()
        return dialog

    def _merged(self, into_id: int, number: int) -> None:
        window = self.window
        if window.document is not None and window.document.story_id == into_id:
            window.reload_story()  # the panels show the merged text
        self.refresh()  # the branch's "merged" mark
        window.statusBar().showMessage(
            f"Merged; version {number} was saved first, so Restore in Versions undoes it.",
            10000)

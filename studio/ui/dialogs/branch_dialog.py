"""New Branch, Rename Branch and Delete Branch.

The dialogs check what they can before anything is written (a name is required, and it must not
be taken in the family), and they stay open on a refusal from the service so the author can fix
the name instead of typing everything again.  The service call runs on the service thread; the
dialog closes only when the branch really exists.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
    QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QRadioButton, QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.domain.story import VersionInfo
from studio.ui.timefmt import relative_time

if TYPE_CHECKING:
    from studio.services.branches import BranchInfo
    from studio.store.database import Database
    from studio.ui.runner import ServiceRunner

NAME_LIMIT = 200
MAIN_NAME = "Main"  # what the family calls its main story (services.branches.family)
ERROR_STYLE = "color: #c0392b;"
HINT_STYLE = "color: #5f6368;"


def _key(name: str) -> str:
    """Names are compared as the service compares them: spaces collapsed, case ignored."""
    return " ".join(name.split()).casefold()


class _BranchForm(QDialog):
    """Name and description, checked as they are typed; the subclass says what "OK" does."""

    done_with = Signal(object)  # what the service returned (a BranchInfo)

    def __init__(self, runner: "ServiceRunner", db: "Database", taken: Iterable[str],
                 on_error: Callable[[BaseException], None] | None, parent: QWidget | None):
        super().__init__(parent)
        self.runner, self.db = runner, db
        self.taken = {_key(t): t for t in taken}
        self.on_error = on_error
        self.working = False
        self.lay = QVBoxLayout(self)
        self.lay.setSpacing(10)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setObjectName("branchIntro")
        self.lay.addWidget(self.intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name = QLineEdit()
        self.name.setObjectName("branchName")
        self.name.setMaxLength(NAME_LIMIT)
        self.name.setPlaceholderText("e.g. “The storm ending”")
        self.name.textChanged.connect(self._validate)
        self.description = QPlainTextEdit()
        self.description.setObjectName("branchDescription")
        self.description.setPlaceholderText("What are you trying in this branch? (optional)")
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(72)
        form.addRow("&Name:", self.name)
        form.addRow("&Description:", self.description)
        self.lay.addLayout(form)
        self.extra = QVBoxLayout()
        self.lay.addLayout(self.extra)
        self.message = QLabel()
        self.message.setObjectName("branchMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 2)
        self.lay.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton("OK", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("branchOk")
        self.ok.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.lay.addWidget(self.buttons)

    # --- checking --------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why the name cannot be used, in words; None when it can."""
        name = self.name.text().strip()
        if not name:
            return "Give the branch a name."
        if _key(name) == _key(MAIN_NAME):
            return f"“{MAIN_NAME}” is the main story's name — choose another name for the branch."
        if _key(name) in self.taken:
            return (f"A branch named “{self.taken[_key(name)]}” exists already in this "
                    "story — choose another name.")
        return None

    def _validate(self, *_args) -> None:
        problem = self.problem()
        self.ok.setEnabled(problem is None and not self.working)
        if problem is None:
            self._say(self.hint(), HINT_STYLE)
        else:
            # An empty name at the start is not an error yet: only a hint.
            style = HINT_STYLE if not self.name.text().strip() else ERROR_STYLE
            self._say(problem, style)

    def hint(self) -> str:
        return ""

    def _say(self, text: str, style: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style)

    # --- doing -----------------------------------------------------------------------------

    def call(self) -> tuple[Callable[..., Any], tuple, dict]:
        raise NotImplementedError

    def busy_text(self) -> str:
        return "Working…"

    def submit(self) -> None:
        problem = self.problem()
        if problem is not None:
            self._say(problem, ERROR_STYLE)
            self.name.setFocus()
            return
        if self.working:
            return
        fn, args, kwargs = self.call()
        self.working = True
        self.ok.setEnabled(False)
        self._say(self.busy_text(), HINT_STYLE)
        self.runner.run(fn, *args, on_done=self._done, on_error=self._failed, **kwargs)

    def _done(self, result: Any) -> None:
        self.working = False
        self.done_with.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.working = False
        self._validate()
        if isinstance(exc, StudioError):  # a refusal in words: the author fixes and retries
            self._say(str(exc), ERROR_STYLE)
            self.name.setFocus()
            self.name.selectAll()
        elif self.on_error is not None:
            self._say("The branch could not be saved; nothing was changed.", ERROR_STYLE)
            self.on_error(exc)
        else:
            self._say(f"Something went wrong: {exc}", ERROR_STYLE)


class NewBranchDialog(_BranchForm):
    """Name, description and the branch point: the text now, a saved version, or a chapter."""

    def __init__(self, runner: "ServiceRunner", db: "Database", story_id: int, story_name: str,
                 taken: Iterable[str], versions: Sequence[VersionInfo], *,
                 chapter: tuple[str, str] | None = None, version: int | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 parent: QWidget | None = None):
        super().__init__(runner, db, taken, on_error, parent)
        self.story_id = story_id
        self.chapter = chapter
        self.setObjectName("newBranchDialog")
        self.setWindowTitle("New Branch")
        self.setMinimumWidth(520)
        self.intro.setText(
            f"<b>Try a different turn without losing the one you have.</b><br>"
            f"A branch is a copy of {html.escape(story_name)} that shares everything before "
            "its branch point and stores only what you change. Switch between them from the "
            "<b>Branch</b> box in the toolbar; merge back the chapters you like, or keep both.")
        self.ok.setText("Create Branch")
        self.ok.setObjectName("createBranch")

        group = QGroupBox("Branch from")
        box = QVBoxLayout(group)
        self.source = QButtonGroup(self)
        self.from_now = QRadioButton("The text as it is &now (a version is saved first)")
        self.from_now.setObjectName("fromNow")
        self.from_version = QRadioButton("A saved &version:")
        self.from_version.setObjectName("fromVersion")
        self.version_combo = QComboBox()
        self.version_combo.setObjectName("branchVersion")
        for v in versions:
            label = f"Version {v.number}" + (f" — {v.label}" if v.label else "")
            self.version_combo.addItem(f"{label}   ({relative_time(v.created_at)})", v.number)
        if not versions:
            self.from_version.setText("A saved version (none saved yet)")
            self.from_version.setEnabled(False)
            self.version_combo.hide()
        self.version_combo.currentIndexChanged.connect(
            lambda _i: self.from_version.setChecked(True))
        self.from_chapter = QRadioButton()
        self.from_chapter.setObjectName("fromChapter")
        self.source.addButton(self.from_now)
        self.source.addButton(self.from_version)
        box.addWidget(self.from_now)
        if chapter is not None:
            title = chapter[1].replace("&", "&&")  # a title's "&" is not a shortcut key
            self.from_chapter.setText(f"From &chapter “{title}” (the text as it is now)")
            self.source.addButton(self.from_chapter)
            box.addWidget(self.from_chapter)
        else:
            self.from_chapter.hide()
        box.addWidget(self.from_version)
        indent = QHBoxLayout()
        indent.setContentsMargins(24, 0, 0, 0)
        indent.addWidget(self.version_combo, 1)
        box.addLayout(indent)
        self.extra.addWidget(group)
        self.source.buttonToggled.connect(lambda *_: self._validate())

        if version is not None and self.version_combo.findData(version) >= 0:
            self.version_combo.setCurrentIndex(self.version_combo.findData(version))
            self.from_version.setChecked(True)
        elif chapter is not None:
            self.from_chapter.setChecked(True)
        else:
            self.from_now.setChecked(True)
        self.name.setFocus()
        self._validate()

    def branch_point(self) -> tuple[int | None, str | None]:
        """(version, chapter uid) as ``create_branch`` takes them."""
        if self.from_version.isChecked():
            return self.version_combo.currentData(), None
        if self.from_chapter.isChecked() and self.chapter is not None:
            return None, self.chapter[0]
        return None, None

    def hint(self) -> str:
        version, chapter = self.branch_point()
        if version is not None:
            return f"The branch starts from version {version}; the story now stays as it is."
        if chapter is not None:
            return (f"A version is saved first; the branch is marked as branching at "
                    f"“{self.chapter[1]}”.")
        return "A version of the story is saved first, so the branch point is kept."

    def busy_text(self) -> str:
        return "Creating the branch…"

    def call(self):
        from studio.services import branches

        version, chapter = self.branch_point()
        return (branches.create_branch,
                (self.db, self.story_id, self.name.text().strip(),
                 self.description.toPlainText().strip()),
                {"version": version, "chapter_uid": chapter})


class EditBranchDialog(_BranchForm):
    """Rename a branch or change what it says about itself."""

    def __init__(self, runner: "ServiceRunner", db: "Database", info: "BranchInfo",
                 taken: Iterable[str], *,
                 on_error: Callable[[BaseException], None] | None = None,
                 parent: QWidget | None = None):
        others = [t for t in taken if _key(t) != _key(info.name)]
        super().__init__(runner, db, others, on_error, parent)
        self.info = info
        self.setObjectName("editBranchDialog")
        self.setWindowTitle("Rename Branch")
        self.setMinimumWidth(460)
        self.intro.setText("The name shows in the toolbar's <b>Branch</b> box; the description "
                           "shows when you point at it.")
        self.name.setText(info.name)
        self.name.selectAll()
        self.description.setPlainText(info.description)
        self.ok.setText("Save")
        self.ok.setObjectName("saveBranch")
        self._validate()

    def busy_text(self) -> str:
        return "Saving…"

    def call(self):
        from studio.services import branches

        return (branches.rename_branch,
                (self.db, self.info.story_id, self.name.text().strip(),
                 self.description.toPlainText().strip()), {})


def delete_box(parent: QWidget, name: str, storage: str = "") -> QMessageBox:
    """The question before a branch goes to the trash (the caller opens it)."""
    box = QMessageBox(parent)
    box.setObjectName("deleteBranchBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Delete branch?")
    box.setText(f"Move the branch “{name}” to the trash?")
    box.setInformativeText(
        "Main and the other branches are not touched. Chapters you merged from it stay "
        "merged. " + (f"{storage} " if storage else "")
        + "It can be brought back until the trash is emptied.")
    box.setStandardButtons(QMessageBox.StandardButton.Cancel)
    delete = box.addButton("Delete Branch", QMessageBox.ButtonRole.DestructiveRole)
    delete.setObjectName("confirmDeleteBranch")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box

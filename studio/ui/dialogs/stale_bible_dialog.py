"""Shown when a bible save was refused because someone else saved first.

Both versions are shown side by side with a summary of how they differ; the author chooses to
keep the latest (their own change stays visible here to copy from) or to put their change on
top of it.  Nothing is overwritten without that choice.
"""

from __future__ import annotations

import json

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QGridLayout, QLabel, QPlainTextEdit, QWidget,
)

from studio.domain.bible import summarise_change


class StaleBibleDialog(QDialog):
    KEEP_THEIRS, APPLY_MINE = 0, 1

    def __init__(self, parent: QWidget | None, message: str, theirs: dict, yours: dict,
                 latest: int):
        super().__init__(parent)
        self.setObjectName("staleBibleDialog")
        self.setWindowTitle("The scene bible changed meanwhile")
        self.choice = self.KEEP_THEIRS
        grid = QGridLayout(self)
        intro = QLabel(message + "<br><br><b>Your change compared with the latest:</b> "
                       + summarise_change(theirs, yours))
        intro.setWordWrap(True)
        grid.addWidget(intro, 0, 0, 1, 2)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for col, (title, data) in enumerate(((f"Latest (version {latest})", theirs),
                                             ("Yours (not saved)", yours))):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 1, col)
            view = QPlainTextEdit(json.dumps(data, ensure_ascii=False, indent=2))
            view.setReadOnly(True)
            view.setFont(mono)
            view.setObjectName("theirs" if col == 0 else "yours")
            grid.addWidget(view, 2, col)
        buttons = QDialogButtonBox()
        keep = buttons.addButton("Keep the latest", QDialogButtonBox.ButtonRole.RejectRole)
        mine = buttons.addButton("Save mine on top", QDialogButtonBox.ButtonRole.AcceptRole)
        keep.setObjectName("keepTheirs")
        mine.setObjectName("applyMine")
        buttons.accepted.connect(self._mine)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 3, 0, 1, 2)
        self.resize(900, 560)

    def _mine(self) -> None:
        self.choice = self.APPLY_MINE
        self.accept()

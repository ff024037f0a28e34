"""Compare two versions of a story (or a version with the story now), module by module."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget,
    QListWidgetItem, QSplitter, QTextBrowser, QVBoxLayout,
)

from studio.domain.story import VersionInfo
from studio.domain.versions import SectionDiff
from studio.services import versions
from studio.ui.document import StoryDocument

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

NOW = -1


class DiffDialog(QDialog):
    def __init__(self, window: "MainWindow", doc: StoryDocument, version_list: list[VersionInfo],
                 old: int, new: int | None):
        super().__init__(window)
        self.window_ = window
        self.doc = doc
        self.setWindowTitle("Compare versions")
        self.setObjectName("diffDialog")
        self.resize(980, 640)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.old_combo, self.new_combo = QComboBox(), QComboBox()
        self.old_combo.setObjectName("diffOld")
        self.new_combo.setObjectName("diffNew")
        for combo in (self.old_combo, self.new_combo):
            combo.addItem("The story now", NOW)
            for v in version_list:
                combo.addItem(f"Version {v.number}" + (f" — {v.label}" if v.label else ""),
                              v.number)
        self.old_combo.setCurrentIndex(self.old_combo.findData(old))
        self.new_combo.setCurrentIndex(self.new_combo.findData(NOW if new is None else new))
        top.addWidget(QLabel("From"))
        top.addWidget(self.old_combo, 1)
        top.addWidget(QLabel("to"))
        top.addWidget(self.new_combo, 1)
        self.only_changed = QCheckBox("Changed sections only")
        self.only_changed.setChecked(True)
        top.addWidget(self.only_changed)
        lay.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.sections = QListWidget()
        self.sections.setObjectName("diffSections")
        self.sections.setMaximumWidth(260)
        self.sections.currentRowChanged.connect(self._show_section)
        split.addWidget(self.sections)
        self.view = QTextBrowser()
        self.view.setObjectName("diffView")
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.summary = QLabel()
        lay.addWidget(self.summary)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.diffs: list[SectionDiff] = []
        self._shown: list[SectionDiff] = []
        self.old_combo.currentIndexChanged.connect(self.reload)
        self.new_combo.currentIndexChanged.connect(self.reload)
        self.only_changed.toggled.connect(self._fill)
        self.reload()

    def _number(self, combo: QComboBox) -> int | None:
        value = combo.currentData()
        return None if value == NOW else value

    def reload(self) -> None:
        self.summary.setText("Comparing…")
        old, new = self._number(self.old_combo), self._number(self.new_combo)

        def show(diffs: list[SectionDiff]) -> None:
            self.diffs = diffs
            self._fill()

        self.window_.runner.run(versions.diff_versions, self.doc.db, self.doc.story_id, old, new,
                                on_done=show, on_error=self.window_.show_error)

    def _fill(self) -> None:
        only = self.only_changed.isChecked()
        self._shown = [d for d in self.diffs if d.changed or not only]
        self.sections.clear()
        for d in self._shown:
            text = d.title + (f"   +{d.added} −{d.removed}" if d.changed else "   (same)")
            item = QListWidgetItem(text)
            if d.changed:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.sections.addItem(item)
        changed = sum(1 for d in self.diffs if d.changed)
        self.summary.setText(
            "No differences." if not changed else
            f"{changed} of {len(self.diffs)} sections differ. "
            "Green lines are new, red lines were removed.")
        if self._shown:
            self.sections.setCurrentRow(0)
        else:
            self.view.setHtml("<p><i>The two are the same.</i></p>")

    def _show_section(self, row: int) -> None:
        if not 0 <= row < len(self._shown):
            return
        d = self._shown[row]
        rows = []
        styles = {
            "same": "",
            "added": "background:#d9f5dd; color:#0f3d17;",
            "removed": "background:#fbdada; color:#5a1010; text-decoration:line-through;",
        }
        marks = {"same": "&nbsp;", "added": "+", "removed": "−"}
        for line in d.lines:
            rows.append(
                f"<tr><td style='color:#888; padding-right:6px'>{marks[line.kind]}</td>"
                f"<td style='{styles[line.kind]} white-space:pre-wrap'>"
                f"{html.escape(line.text) or '&nbsp;'}</td></tr>")
        self.view.setHtml(f"<h3>{html.escape(d.title)}</h3>"
                          f"<table cellspacing=0 cellpadding=2 width='100%'>{''.join(rows)}"
                          "</table>")

"""The story library: every story on this workstation, newest first, with a filter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QMenu, QPushButton, QVBoxLayout,
    QWidget,
)

from studio.domain.story import StorySummary
from studio.ui.timefmt import relative_time


class LibraryView(QWidget):
    storyActivated = Signal(int)
    newStoryRequested = Signal()
    exportRequested = Signal(int)
    formatExportRequested = Signal(int)  # File ▸ Export… for this story
    deleteRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("libraryView")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit()
        self.filter.setObjectName("libraryFilter")
        self.filter.setPlaceholderText("Filter stories…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        lay.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setObjectName("libraryList")
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        new = QPushButton("New story")
        new.setObjectName("newStory")
        new.setToolTip("Start a new story (Ctrl+N)")
        new.clicked.connect(self.newStoryRequested)
        row.addWidget(new)
        lay.addLayout(row)
        self.summaries: list[StorySummary] = []
        self.current_id: int | None = None

    def set_stories(self, summaries: list[StorySummary]) -> None:
        self.summaries = summaries
        self.list.blockSignals(True)
        self.list.clear()
        for s in summaries:
            details = f"{s.filled_modules}/5 modules"
            if s.version_count:
                details += f" · {s.version_count} version{'s' if s.version_count != 1 else ''}"
            if s.complete:
                details += " · complete"
            item = QListWidgetItem(f"{s.title}\n{details} · {relative_time(s.updated_at)}")
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            item.setToolTip(s.logline or s.title)
            font = item.font()
            font.setBold(s.id == self.current_id)
            item.setFont(font)
            self.list.addItem(item)
            if s.id == self.current_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._apply_filter(self.filter.text())

    def mark_current(self, story_id: int | None) -> None:
        self.current_id = story_id
        for i in range(self.list.count()):
            item = self.list.item(i)
            font = item.font()
            font.setBold(item.data(Qt.ItemDataRole.UserRole) == story_id)
            item.setFont(font)
            if item.data(Qt.ItemDataRole.UserRole) == story_id:
                self.list.setCurrentItem(item)

    def retitle(self, story_id: int, title: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == story_id:
                rest = item.text().split("\n", 1)[1] if "\n" in item.text() else ""
                item.setText(f"{title}\n{rest}")

    def _apply_filter(self, text: str) -> None:
        needle = text.casefold().strip()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _activated(self, item: QListWidgetItem) -> None:
        story_id = item.data(Qt.ItemDataRole.UserRole)
        if story_id != self.current_id:
            self.storyActivated.emit(story_id)

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        story_id = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.storyActivated.emit(story_id))
        menu.addAction("Export…", lambda: self.formatExportRequested.emit(story_id))
        menu.addAction("Export as JSON…", lambda: self.exportRequested.emit(story_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.deleteRequested.emit(story_id))
        menu.exec(self.list.mapToGlobal(pos))

"""The export dialog's options: one widget for each ``ExportOptions`` field an exporter
declares, built from ``Exporter.options`` so a new exporter needs no UI work.

Every widget exists once and is shown or hidden by the chosen format, so what the author set
(chapters ticked, author name, cover) survives switching between DOCX, EPUB and PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from studio.domain.outline import Outline
from studio.formats.registry import ExportOptions, Exporter

SCENE_BREAKS = ("#", "* * *", "***", "~ ~ ~", "- - -")
LANGUAGES = (("en", "English"), ("de", "German"), ("fr", "French"), ("es", "Spanish"),
             ("it", "Italian"), ("nl", "Dutch"), ("pt", "Portuguese"), ("sv", "Swedish"),
             ("pl", "Polish"), ("ja", "Japanese"))
# The order the options appear in, whatever order an exporter lists them.
ORDER = ("character_id", "card_spec", "chapters", "synopses", "scene_break", "front_matter",
         "standard_manuscript", "author", "language", "cover")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif)"


class ExportOptionsForm(QWidget):
    """The option widgets; ``options()`` turns what is shown into ``ExportOptions``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.rows: dict[str, tuple[str, QWidget]] = {}
        self.offered: tuple[str, ...] = ()

        self.character = QComboBox()
        self.character.setObjectName("exportCharacter")
        self.character.currentIndexChanged.connect(self.changed)
        self.card_spec = QComboBox()
        self.card_spec.setObjectName("exportCardSpec")
        self.card_spec.addItem("Version 3 (current)", "v3")
        self.card_spec.addItem("Version 2 (older apps)", "v2")
        self.card_spec.currentIndexChanged.connect(self.changed)

        self.chapters = QListWidget()
        self.chapters.setObjectName("exportChapters")
        self.chapters.setMinimumHeight(110)
        self.chapters.setAlternatingRowColors(True)
        self.chapters.itemChanged.connect(lambda _item: self._chapters_changed())
        chapters_box = QWidget()
        chapters_box.setMinimumHeight(150)
        box = QVBoxLayout(chapters_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(self.chapters, 1)
        row = QHBoxLayout()
        self.all_chapters = QPushButton("All")
        self.all_chapters.clicked.connect(lambda: self.check_all(True))
        self.no_chapters = QPushButton("None")
        self.no_chapters.clicked.connect(lambda: self.check_all(False))
        self.chapter_count = QLabel()
        self.chapter_count.setObjectName("exportChapterCount")
        row.addWidget(self.all_chapters)
        row.addWidget(self.no_chapters)
        row.addStretch(1)
        row.addWidget(self.chapter_count)
        box.addLayout(row)

        self.synopses = QCheckBox("Include chapter and scene synopses")
        self.synopses.setObjectName("exportSynopses")
        self.synopses.toggled.connect(self.changed)
        self.scene_break = QComboBox()
        self.scene_break.setObjectName("exportSceneBreak")
        self.scene_break.setEditable(True)
        self.scene_break.addItems(SCENE_BREAKS)
        self.scene_break.currentTextChanged.connect(self.changed)
        self.front_matter = QCheckBox("Title page and front matter")
        self.front_matter.setObjectName("exportFrontMatter")
        self.front_matter.setChecked(True)
        self.front_matter.toggled.connect(self.changed)
        self.standard = QCheckBox("Standard manuscript format (12 pt, double-spaced, # breaks)")
        self.standard.setObjectName("exportStandard")
        self.standard.toggled.connect(self.changed)
        self.author = QLineEdit()
        self.author.setObjectName("exportAuthor")
        self.author.setPlaceholderText("Your name as it should appear")
        self.author.textChanged.connect(self.changed)
        self.language = QComboBox()
        self.language.setObjectName("exportLanguage")
        self.language.setEditable(True)
        for code, name in LANGUAGES:
            self.language.addItem(f"{name} ({code})", code)
        self.language.currentTextChanged.connect(self.changed)
        cover_box = QWidget()
        cover_row = QHBoxLayout(cover_box)
        cover_row.setContentsMargins(0, 0, 0, 0)
        self.cover = QLineEdit()
        self.cover.setObjectName("exportCover")
        self.cover.setPlaceholderText("No cover image")
        self.cover.setClearButtonEnabled(True)
        self.cover.textChanged.connect(self.changed)
        choose_cover = QPushButton("Choose…")
        choose_cover.clicked.connect(self._choose_cover)
        cover_row.addWidget(self.cover, 1)
        cover_row.addWidget(choose_cover)

        for key, label, widget in (
                ("character_id", "Character", self.character),
                ("card_spec", "Card version", self.card_spec),
                ("chapters", "Chapters", chapters_box),
                ("synopses", "", self.synopses),
                ("scene_break", "Scene break", self.scene_break),
                ("front_matter", "", self.front_matter),
                ("standard_manuscript", "", self.standard),
                ("author", "Author", self.author),
                ("language", "Language", self.language),
                ("cover", "Cover image", cover_box)):
            self.rows[key] = (label, widget)
            self.form.addRow(label, widget)

    # --- filling -----------------------------------------------------------------------------

    def set_outline(self, outline: Outline) -> None:
        self.chapters.blockSignals(True)
        self.chapters.clear()
        for number, chapter in enumerate(outline.chapters, 1):
            words = f"{chapter.words:,} words"
            item = QListWidgetItem(f"{number}. {chapter.title or 'Untitled chapter'}  ({words})")
            item.setData(Qt.ItemDataRole.UserRole, chapter.uid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.chapters.addItem(item)
        self.chapters.blockSignals(False)
        self.set_language(outline.language)
        self._chapters_changed()

    def set_language(self, code: str) -> None:
        index = self.language.findData(code)
        if index >= 0:
            self.language.setCurrentIndex(index)
        elif code:
            self.language.setEditText(code)

    def set_characters(self, characters: list[dict[str, Any]]) -> None:
        current = self.character.currentData()
        self.character.blockSignals(True)
        self.character.clear()
        for char in characters:
            if char.get("id") and char.get("name"):
                self.character.addItem(str(char["name"]), char["id"])
        if not self.character.count():
            self.character.addItem("No characters in the scene bible", None)
        index = self.character.findData(current)
        self.character.setCurrentIndex(max(index, 0))
        self.character.blockSignals(False)

    def choose_character(self, char_id: str) -> None:
        index = self.character.findData(char_id)
        if index >= 0:
            self.character.setCurrentIndex(index)

    def show_for(self, exporter: Exporter) -> None:
        """Show the rows ``exporter`` declares, hide the rest."""
        self.offered = exporter.options
        for key, (_label, widget) in self.rows.items():
            self.form.setRowVisible(widget, key in exporter.options)
        if "standard_manuscript" in exporter.options and "standard" in exporter.id:
            self.standard.setChecked(True)

    # --- chapters ----------------------------------------------------------------------------

    def check_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.chapters.blockSignals(True)
        for i in range(self.chapters.count()):
            self.chapters.item(i).setCheckState(state)
        self.chapters.blockSignals(False)
        self._chapters_changed()

    def set_chapter_checked(self, uid: str, checked: bool) -> None:
        for i in range(self.chapters.count()):
            item = self.chapters.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == uid:
                item.setCheckState(Qt.CheckState.Checked if checked
                                   else Qt.CheckState.Unchecked)

    def checked_chapters(self) -> list[str]:
        return [self.chapters.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.chapters.count())
                if self.chapters.item(i).checkState() == Qt.CheckState.Checked]

    def _chapters_changed(self) -> None:
        total = self.chapters.count()
        self.chapter_count.setText(f"{len(self.checked_chapters())} of {total} chapters")
        self.changed.emit()

    # --- reading -----------------------------------------------------------------------------

    def language_code(self) -> str:
        text = self.language.currentText().strip()
        index = self.language.findText(text)
        if index >= 0:
            return str(self.language.itemData(index))
        return text or "en"

    def problem(self) -> str | None:
        """Why Export cannot go ahead with these options (None when it can)."""
        offered = self.offered
        if "chapters" in offered and self.chapters.count() and not self.checked_chapters():
            return "Tick at least one chapter."
        if "character_id" in offered and self.character.currentData() is None:
            return "Add a character to the scene bible first; a card is made from one."
        cover = self.cover.text().strip()
        if "cover" in offered and cover and not Path(cover).is_file():
            return f"The cover image {cover} does not exist."
        return None

    def options(self) -> ExportOptions:
        offered = self.offered
        checked = self.checked_chapters()
        all_ticked = len(checked) == self.chapters.count()
        cover = self.cover.text().strip()
        return ExportOptions(
            chapters=(tuple(checked) if "chapters" in offered and not all_ticked else None),
            synopses="synopses" in offered and self.synopses.isChecked(),
            scene_break=(self.scene_break.currentText().strip() or "#")
            if "scene_break" in offered else "#",
            front_matter=self.front_matter.isChecked() if "front_matter" in offered else True,
            standard_manuscript="standard_manuscript" in offered and self.standard.isChecked(),
            author=self.author.text().strip() if "author" in offered else "",
            language=self.language_code(),
            cover=Path(cover) if "cover" in offered and cover else None,
            character_id=self.character.currentData() if "character_id" in offered else None,
            card_spec=str(self.card_spec.currentData() or "v3"),
        )

    def _choose_cover(self) -> None:
        start = self.cover.text().strip() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a cover image", start, IMAGE_FILTER)
        if path:
            self.cover.setText(path)

"""Publish the open story (or a fork, as a remix crediting its source) to the marketplace:
metadata, a changelog, and which parts to include."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
    QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget,
)

PARTS = (("modules", "Story modules"), ("manuscript", "Manuscript"),
         ("scene_bible", "Scene bible"), ("chapter_graph", "Chapter graph"))
LICENCES = (("CC-BY", "CC BY — others may share and adapt, crediting you"),
            ("CC-BY-NC", "CC BY-NC — the same, non-commercial only"),
            ("all-rights-reserved", "All rights reserved — others may read and fork privately"))
# the server's story visibilities (services.publishing.VISIBILITIES)
VISIBILITIES = (("public", "Public — listed in browse and search"),
                ("unlisted", "Unlisted — only people with the link"),
                ("private", "Private — only you and your collaborators"))


class PublishDialog(QDialog):
    def __init__(self, title: str, genre: str = "", first_time: bool = True,
                 remix_of: str | None = None, next_version: int = 1,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("publishDialog")
        self.setWindowTitle("Publish to the marketplace")
        self.resize(520, 520)
        lay = QVBoxLayout(self)
        if remix_of:
            note = QLabel(f"This story is a fork of <b>{remix_of}</b>: it is published as a "
                          "remix that credits its source.")
            note.setWordWrap(True)
            lay.addWidget(note)
        form = QFormLayout()
        self.title = QLineEdit(title)
        self.title.setObjectName("publishTitle")
        self.description = QPlainTextEdit()
        self.description.setObjectName("publishDescription")
        self.description.setPlaceholderText("What readers and forkers should know")
        self.description.setMaximumHeight(90)
        self.genre = QLineEdit(genre)
        self.tags = QLineEdit()
        self.tags.setObjectName("publishTags")
        self.tags.setPlaceholderText("mystery, coastal, slow-burn")
        self.licence = QComboBox()
        for key, text in LICENCES:
            self.licence.addItem(text, key)
        self.visibility = QComboBox()
        self.visibility.setObjectName("publishVisibility")
        for key, text in VISIBILITIES:
            self.visibility.addItem(text, key)
        self.changelog = QPlainTextEdit("First version" if first_time else "")
        self.changelog.setObjectName("publishChangelog")
        self.changelog.setPlaceholderText("What changed in this version")
        self.changelog.setMaximumHeight(70)
        if first_time:
            form.addRow("Title", self.title)
            form.addRow("Description", self.description)
            form.addRow("Genre", self.genre)
            form.addRow("Tags", self.tags)
            form.addRow("Licence", self.licence)
            form.addRow("Visibility", self.visibility)
        form.addRow(f"Changelog (version {next_version})", self.changelog)
        lay.addLayout(form)
        parts = QGroupBox("Include")
        row = QHBoxLayout(parts)
        self.parts: dict[str, QCheckBox] = {}
        for key, text in PARTS:
            box = QCheckBox(text)
            box.setObjectName(f"include_{key}")
            box.setChecked(True)
            self.parts[key] = box
            row.addWidget(box)
        lay.addWidget(parts)
        hint = QLabel("Publishing works offline too: it waits in the outbox and lands once the "
                      "marketplace is reachable.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        lay.addWidget(hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Publish")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def meta(self) -> dict:
        tags = [t.strip().lower() for t in self.tags.text().split(",") if t.strip()]
        return {"title": self.title.text().strip() or "Untitled",
                "description": self.description.toPlainText().strip(),
                "genre": self.genre.text().strip(), "tags": tags,
                "licence": self.licence.currentData(), "visibility": self.visibility.currentData()}

    def include(self) -> set[str]:
        return {k for k, box in self.parts.items() if box.isChecked()}

    def changelog_text(self) -> str:
        return self.changelog.toPlainText().strip()

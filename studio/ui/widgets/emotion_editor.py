"""A form for one character's emotional state in one scene, with its prompt words.

The host picks the character and the scene; the form shows the state stored for that pair (or
an empty one) and emits ``saveRequested(dict)`` / ``removeRequested()``.  The prompt modifiers
later features will use are shown live as the author edits, so the numbers mean something.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSlider, QVBoxLayout, QWidget,
)

from studio.domain.emotions import EMOTIONS, TRANSITIONS, parse_state, prompt_modifiers
from studio.domain.errors import ValidationError


def parse_secondary(text: str) -> dict[str, float]:
    """"sadness 0.3, anger 0.2" → {"sadness": 0.3, "anger": 0.2}; a bare name weighs 0.3."""
    result: dict[str, float] = {}
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        try:
            weight = float(words[-1])
            name = " ".join(words[:-1])
        except ValueError:
            weight, name = 0.3, " ".join(words)
        if not name:
            raise ValidationError("Emotion", ["secondary"], f"“{part.strip()}” names no emotion")
        result[name] = weight
    return result


def format_secondary(secondary: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in secondary.items())


class EmotionEditor(QWidget):
    saveRequested = Signal(dict)
    removeRequested = Signal()
    characterChanged = Signal(str)
    sceneChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("emotionEditor")
        self._stored: dict[str, Any] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        pick = QHBoxLayout()
        self.character = QComboBox()
        self.character.setObjectName("emotionCharacter")
        self.scene = QComboBox()
        self.scene.setObjectName("emotionScene")
        pick.addWidget(QLabel("Character"))
        pick.addWidget(self.character, 1)
        pick.addWidget(QLabel("in scene"))
        pick.addWidget(self.scene, 1)
        lay.addLayout(pick)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.primary = QComboBox()
        self.primary.setEditable(True)
        self.primary.addItems(EMOTIONS)
        self.primary.setObjectName("emotionPrimary")
        form.addRow("Primary emotion", self.primary)
        row = QHBoxLayout()
        self.intensity_slider = QSlider(Qt.Orientation.Horizontal)
        self.intensity_slider.setRange(0, 100)
        self.intensity = QDoubleSpinBox()
        self.intensity.setRange(0.0, 1.0)
        self.intensity.setSingleStep(0.05)
        self.intensity.setDecimals(2)
        self.intensity.setObjectName("emotionIntensity")
        self.intensity_slider.valueChanged.connect(lambda v: self.intensity.setValue(v / 100))
        self.intensity.valueChanged.connect(
            lambda v: self.intensity_slider.setValue(round(v * 100)))
        row.addWidget(self.intensity_slider, 1)
        row.addWidget(self.intensity)
        form.addRow("Intensity", row)
        self.secondary = QLineEdit()
        self.secondary.setPlaceholderText("e.g. sadness 0.3, anger 0.2")
        form.addRow("Secondary", self.secondary)
        self.triggers = QLineEdit()
        self.triggers.setPlaceholderText("what set it off, comma-separated")
        form.addRow("Triggers", self.triggers)
        self.facial = QLineEdit()
        form.addRow("Facial expression", self.facial)
        self.body = QLineEdit()
        form.addRow("Body language", self.body)
        trow = QHBoxLayout()
        self.transition = QComboBox()
        self.transition.addItem("(first scene / not said)", "")
        for t in TRANSITIONS:
            self.transition.addItem(t, t)
        self.cause = QLineEdit()
        self.cause.setPlaceholderText("cause of the change")
        trow.addWidget(self.transition)
        trow.addWidget(self.cause, 1)
        form.addRow("Transition", trow)
        lay.addLayout(form)
        self.modifiers = QLabel()
        self.modifiers.setObjectName("promptModifiers")
        self.modifiers.setWordWrap(True)
        self.modifiers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.modifiers)
        self.note = QLabel()
        self.note.setObjectName("emotionNote")
        self.note.setWordWrap(True)
        self.note.hide()
        lay.addWidget(self.note)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.removeRequested)
        self.save_button = QPushButton("Record emotion")
        self.save_button.setObjectName("saveEmotion")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.save_button)
        lay.addLayout(buttons)
        for w in (self.secondary, self.triggers, self.facial, self.body, self.cause):
            w.textChanged.connect(self._preview)
            w.returnPressed.connect(self._save)
        self.primary.currentTextChanged.connect(self._preview)
        self.intensity.valueChanged.connect(self._preview)
        self.transition.currentIndexChanged.connect(self._preview)
        self.character.currentIndexChanged.connect(
            lambda _: self.characterChanged.emit(self.character.currentData() or ""))
        self.scene.currentIndexChanged.connect(
            lambda _: self.sceneChanged.emit(self.scene.currentData() or ""))
        self.load(None)

    def set_choices(self, characters: list[tuple[str, str]], scenes: list[tuple[str, str]]) -> None:
        """(id, name) and (uid, label) lists; the current picks are kept where they survive."""
        for combo, items in ((self.character, characters), (self.scene, scenes)):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for key, label in items:
                combo.addItem(label, key)
            i = combo.findData(keep)
            combo.setCurrentIndex(i if i >= 0 else (0 if items else -1))
            combo.blockSignals(False)
        enabled = bool(characters and scenes)
        self.save_button.setEnabled(enabled)

    def pick(self, character_id: str | None = None, scene_uid: str | None = None) -> None:
        for combo, key in ((self.character, character_id), (self.scene, scene_uid)):
            if key:
                i = combo.findData(key)
                if i >= 0:
                    combo.setCurrentIndex(i)

    def current_pair(self) -> tuple[str, str]:
        return self.character.currentData() or "", self.scene.currentData() or ""

    def load(self, state: dict[str, Any] | None) -> None:
        self._stored = state
        state = state or {}
        self.primary.setCurrentText(state.get("primary", "calm"))
        self.intensity.setValue(float(state.get("intensity", 0.5)))
        self.secondary.setText(format_secondary(state.get("secondary", {})))
        self.triggers.setText(", ".join(state.get("triggers", [])))
        self.facial.setText(state.get("facial_expression", ""))
        self.body.setText(state.get("body_language", ""))
        self.transition.setCurrentIndex(max(0, self.transition.findData(
            state.get("transition", ""))))
        self.cause.setText(state.get("transition_cause", ""))
        self.remove_button.setEnabled(self._stored is not None)
        self.save_button.setText("Update emotion" if self._stored else "Record emotion")
        self.error.hide()
        self._preview()

    def value(self) -> dict[str, Any]:
        character_id, scene_uid = self.current_pair()
        return {"character_id": character_id, "scene_uid": scene_uid,
                "primary": self.primary.currentText(), "intensity": self.intensity.value(),
                "secondary": parse_secondary(self.secondary.text()),
                "triggers": [t.strip() for t in self.triggers.text().split(",") if t.strip()],
                "facial_expression": self.facial.text(), "body_language": self.body.text(),
                "transition": self.transition.currentData() or "",
                "transition_cause": self.cause.text()}

    def _preview(self, *_: Any) -> None:
        try:
            data = self.value()
            data["character_id"] = data["character_id"] or "char_x"
            data["scene_uid"] = data["scene_uid"] or "scene_x"
            words = prompt_modifiers(parse_state(data))
        except ValidationError as exc:
            self.modifiers.setText(f"<i>{exc.reason}</i>")
            return
        self.modifiers.setText("<b>Prompt modifiers</b> (for narration and illustration): "
                               + ", ".join(words))

    def _save(self) -> None:
        try:
            data = self.value()
            parse_state(data)
        except ValidationError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.saveRequested.emit(data)

    def set_note(self, text: str) -> None:
        """How this state follows the character's previous one (set by the host)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

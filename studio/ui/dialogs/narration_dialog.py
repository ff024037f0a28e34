"""New narration (and Narrator voice…): its name, the narrator's voice and the voice type.

A voice is one of three things, the same three the services take (``voice_renders``):
a voice of the speech provider, named by its voice id (what ElevenLabs shows in its voice
library); one of the author's own emotion voices; or this computer's system voice, free and
offline, good for a draft.  ``VoicePicker`` is shared with the Roleplay tab.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QLabel,
    QLineEdit, QRadioButton, QVBoxLayout, QWidget,
)

from studio.ui.widgets.voice_common import ERROR_STYLE, hint

VOICE_TYPE_WORDS = {
    "provider": "As chosen (the narrator's and the characters' voices)",
    "emotion_voices": "My emotion voices for emotional paragraphs",
    "system": "The system voice throughout (a free, offline draft)",
}


def voice_words(ref: dict[str, Any] | None, voices: list | None = None) -> str:
    """A voice reference as an author reads it."""
    if not ref:
        return "No voice chosen"
    kind = ref.get("kind")
    if kind == "system":
        return "System voice"
    if kind == "emotion_voice":
        v = next((v for v in voices or [] if v.uid == ref.get("uid")), None)
        return f"My voice “{v.name}”" if v is not None else \
            str(ref.get("name") or "One of my emotion voices (removed)")
    if kind == "provider":
        name = ref.get("name")
        return f"{name} (provider voice)" if name else \
            f"Provider voice {ref.get('voice_id', '')}"
    return "Unknown voice"


class VoicePicker(QWidget):
    """Provider voice id / one of my emotion voices / the system voice."""

    changed = Signal()

    def __init__(self, voices: list, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.provider = QRadioButton("A provider voice:")
        self.provider.setObjectName("voiceKindProvider")
        self.voice_id = QLineEdit()
        self.voice_id.setObjectName("providerVoiceId")
        self.voice_id.setPlaceholderText("voice id, e.g. 21m00Tcm4TlvDq8ikWAM")
        self.voice_id.setToolTip("The voice's id in your speech provider's voice library "
                                 "(ElevenLabs: Voices, then the voice's ID)")
        self.voice_name = QLineEdit()
        self.voice_name.setObjectName("providerVoiceName")
        self.voice_name.setPlaceholderText("its name in lists (optional), e.g. Rachel")
        self.mine = QRadioButton("One of my emotion voices:")
        self.mine.setObjectName("voiceKindMine")
        self.my_voice = QComboBox()
        self.my_voice.setObjectName("myVoice")
        for v in voices:
            status = "" if v.status == "ready" else f" ({v.status})"
            self.my_voice.addItem(f"{v.name}{status}", v.uid)
        self.system = QRadioButton("The system voice (offline)")
        self.system.setObjectName("voiceKindSystem")
        for i, b in enumerate((self.provider, self.mine, self.system)):
            self.group.addButton(b, i)
        grid.addWidget(self.provider, 0, 0)
        grid.addWidget(self.voice_id, 0, 1)
        grid.addWidget(self.voice_name, 1, 1)
        grid.addWidget(self.mine, 2, 0)
        grid.addWidget(self.my_voice, 2, 1)
        grid.addWidget(self.system, 3, 0, 1, 2)
        if not voices:
            self.mine.setEnabled(False)
            self.my_voice.setEnabled(False)
            self.my_voice.addItem("(none trained yet)", None)
        self.provider.setChecked(True)
        self.group.idToggled.connect(lambda _i, _on: self._enable())
        self.voice_id.textChanged.connect(lambda _t: self.changed.emit())
        self.my_voice.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self._enable()

    def _enable(self) -> None:
        self.voice_id.setEnabled(self.provider.isChecked())
        self.voice_name.setEnabled(self.provider.isChecked())
        self.my_voice.setEnabled(self.mine.isChecked() and self.my_voice.currentData() is not None)
        self.changed.emit()

    def set_voice(self, ref: dict[str, Any] | None) -> None:
        kind = (ref or {}).get("kind")
        if kind == "system":
            self.system.setChecked(True)
        elif kind == "emotion_voice" and self.mine.isEnabled():
            self.mine.setChecked(True)
            self.my_voice.setCurrentIndex(max(0, self.my_voice.findData(ref.get("uid"))))
        else:
            self.provider.setChecked(True)
            self.voice_id.setText(str((ref or {}).get("voice_id") or ""))
            self.voice_name.setText(str((ref or {}).get("name") or ""))

    def voice(self) -> dict[str, Any] | None:
        """The chosen voice, or None when it is incomplete (no voice id typed)."""
        if self.system.isChecked():
            return {"kind": "system"}
        if self.mine.isChecked():
            uid = self.my_voice.currentData()
            return {"kind": "emotion_voice", "uid": uid} if uid else None
        voice_id = self.voice_id.text().strip()
        if not voice_id:
            return None
        ref: dict[str, Any] = {"kind": "provider", "voice_id": voice_id, "provider_id": None}
        name = " ".join(self.voice_name.text().split())
        if name:
            ref["name"] = name
        return ref


class NarrationDialog(QDialog):
    """``info`` given: change that narration's narrator and voice type (name read-only)."""

    def __init__(self, voices: list, title: str, parent: QWidget | None = None,
                 info: Any = None):
        super().__init__(parent)
        self.setObjectName("narrationDialog")
        self.setWindowTitle("Narrator voice" if info is not None else "New narration")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        lay.addWidget(hint(f"A narration of “{title}”. It only refers to the story: editing "
                           "the text later is heard in the narration, and deleting the "
                           "narration leaves the story as it is."))
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("narrationName")
        self.name.setText(info.name if info is not None else f"{title} – narration")
        self.name.setEnabled(info is None)
        form.addRow("&Name:", self.name)
        self.picker = VoicePicker(voices)
        form.addRow("Narrator:", self.picker)
        self.voice_type = QComboBox()
        self.voice_type.setObjectName("narrationVoiceType")
        for key, words in VOICE_TYPE_WORDS.items():
            self.voice_type.addItem(words, key)
        form.addRow("&Voice type:", self.voice_type)
        lay.addLayout(form)
        self.problem = QLabel()
        self.problem.setObjectName("narrationProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Create" if info is None else "Change")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        if info is not None:
            self.picker.set_voice(info.narrator)
            self.voice_type.setCurrentIndex(max(0, self.voice_type.findData(info.voice_type)))

    def values(self) -> dict[str, Any]:
        return {"name": " ".join(self.name.text().split()), "narrator": self.picker.voice(),
                "voice_type": self.voice_type.currentData()}

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def _accept(self) -> None:
        v = self.values()
        if not v["name"]:
            self.show_problem("Give the narration a name.")
        elif v["narrator"] is None:
            self.show_problem("Type the provider's voice id, or choose another voice.")
        else:
            self.accept()


class VoiceDialog(QDialog):
    """Choose one voice (a roleplay's character, or one line).  ``inherit`` names what
    "no voice of its own" falls back to; None: a voice must be chosen."""

    def __init__(self, voices: list, title: str, current: dict[str, Any] | None,
                 parent: QWidget | None = None, inherit: str | None = None):
        super().__init__(parent)
        self.setObjectName("voiceDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.inherit: QRadioButton | None = None
        self.picker = VoicePicker(voices)
        if inherit is not None:
            self.inherit = QRadioButton(inherit)
            self.inherit.setObjectName("voiceInherit")
            self.picker.group.addButton(self.inherit, 3)
            lay.addWidget(self.inherit)
        lay.addWidget(self.picker)
        if current:
            self.picker.set_voice(current)
        elif self.inherit is not None:
            self.inherit.setChecked(True)
        self.problem = QLabel()
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.hide()
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def voice(self) -> dict[str, Any] | None:
        if self.inherit is not None and self.inherit.isChecked():
            return None
        return self.picker.voice()

    def _accept(self) -> None:
        if self.voice() is None and not (self.inherit is not None and self.inherit.isChecked()):
            self.problem.setText("Type the provider's voice id, or choose another voice.")
            self.problem.show()
            return
        self.accept()

"""Train an emotion voice: its name, the emotion it voices (or a template), and the samples
to clone it from.

The samples for the chosen emotion are ticked to start with, since those are what the author
recorded for it; the total length is shown because voice providers want about a minute of
clear speech and refuse very short samples.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.emotions import EMOTIONS
from studio.ui.widgets.analysis_models import emotion_icon
from studio.ui.widgets.voice_common import ERROR_STYLE, fmt_duration, hint

GOOD_SECONDS = 30.0


class TrainVoiceDialog(QDialog):
    def __init__(self, templates: list, samples: list, parent: QWidget | None = None,
                 emotion: str = ""):
        super().__init__(parent)
        self.setObjectName("trainVoiceDialog")
        self.setWindowTitle("Train an emotion voice")
        self.setMinimumWidth(520)
        self.samples = list(samples)
        lay = QVBoxLayout(self)
        lay.addWidget(hint("Your samples are sent to the voice provider (ElevenLabs by "
                           "default), which makes a voice from them. About a minute of clear "
                           "speech in the emotion gives the best voice."))
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("voiceName")
        self.name.setPlaceholderText("e.g. My joyful voice")
        form.addRow("&Name:", self.name)
        self.template = QComboBox()
        self.template.setObjectName("voiceTemplate")
        self.template.addItem("(none)", None)
        self._emotion_of = {t.uid: t.emotion for t in templates}
        for t in templates:
            if not t.hidden and not t.superseded_by and t.emotion:
                self.template.addItem(f"{t.name} ({t.emotion})", t.uid)
        form.addRow("&Template:", self.template)
        self.emotion = QComboBox()
        self.emotion.setObjectName("voiceEmotion")
        self.emotion.setEditable(True)
        emotions = list(dict.fromkeys([*EMOTIONS, *(t.emotion for t in templates
                                                      if t.emotion)]))
        for e in emotions:
            self.emotion.addItem(e, e)
        self.emotion.setCurrentText(emotion or "")
        form.addRow("&Emotion:", self.emotion)
        lay.addLayout(form)
        lay.addWidget(QLabel("Samples to train it from:"))
        self.list = QListWidget()
        self.list.setObjectName("voiceSamples")
        for s in self.samples:
            item = QListWidgetItem(f"{s.label}  ·  {fmt_duration(s.duration)}"
                                   + (f"  ·  {s.emotion}" if s.emotion else ""))
            item.setData(Qt.ItemDataRole.UserRole, s.uid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            icon = emotion_icon(s.emotion)
            if icon is not None:
                item.setIcon(icon)
            self.list.addItem(item)
        lay.addWidget(self.list, 1)
        self.total = QLabel()
        self.total.setObjectName("voiceSamplesTotal")
        lay.addWidget(self.total)
        self.problem = QLabel()
        self.problem.setObjectName("trainProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Train")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

        self.template.currentIndexChanged.connect(self._template_picked)
        self.emotion.currentTextChanged.connect(self._tick_emotion)
        self.list.itemChanged.connect(lambda _i: self._show_total())
        self._tick_emotion(self.emotion.currentText())

    def _template_picked(self, _index: int) -> None:
        emotion = self._emotion_of.get(self.template.currentData() or "")
        if emotion:
            self.emotion.setCurrentText(emotion)

    def _tick_emotion(self, emotion: str) -> None:
        """Tick the samples recorded for this emotion (the author can change it)."""
        emotion = emotion.strip().lower()
        self.list.blockSignals(True)
        for i, s in enumerate(self.samples):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if emotion and s.emotion == emotion
                               else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        if not self.name.isModified() and emotion:
            self.name.setText(f"My {emotion} voice")
        self._show_total()

    def chosen(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _show_total(self) -> None:
        uids = set(self.chosen())
        seconds = sum(float(s.duration or 0) for s in self.samples if s.uid in uids)
        words = f"{len(uids)} sample{'s' if len(uids) != 1 else ''}, {fmt_duration(seconds)}"
        if uids and seconds < GOOD_SECONDS:
            words += " (more speech makes a better voice)"
        self.total.setText(words)

    def values(self) -> dict[str, Any]:
        return {"name": " ".join(self.name.text().split()),
                "emotion": self.emotion.currentText().strip().lower(),
                "template_uid": self.template.currentData(),
                "sample_uids": self.chosen()}

    def _accept(self) -> None:
        v = self.values()
        if not v["name"]:
            self.problem.setText("Give the voice a name.")
        elif not v["emotion"] and not v["template_uid"]:
            self.problem.setText("Choose the emotion it voices.")
        elif not v["sample_uids"]:
            self.problem.setText("Tick at least one sample to train it from.")
        else:
            self.accept()
            return
        self.problem.show()

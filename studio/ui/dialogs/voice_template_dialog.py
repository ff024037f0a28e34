"""New voice template / Supersede a template: name, kind, emotion, the sample line and the
parameters, each a slider with a spin box beside it.

Why both: a slider is how one *feels* a setting ("a bit slower"), the spin box is how one sets
the exact value a studio asked for.  The ranges come from ``studio.domain.voices.LIMITS``, so
the dialog can never offer a value the service would refuse.  The dialog only collects values;
the tab calls the service (and shows its refusal, if any, without losing what was typed).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
    QLabel, QLineEdit, QPlainTextEdit, QSlider, QVBoxLayout, QWidget,
)

from studio.domain.emotions import EMOTIONS
from studio.domain.voices import EMPHASIS, KINDS, LIMITS, MAX_LINE, MAX_NAME, VoiceParams
from studio.ui.widgets.voice_common import ERROR_STYLE, hint

# Per parameter: label, decimals, step, suffix, and what it does in words.
PARAMS: dict[str, tuple[str, int, float, str, str]] = {
    "pitch": ("Pitch", 1, 0.5, " st", "Higher or lower, in semitones (0: the voice's own)"),
    "rate": ("Rate", 2, 0.01, " x", "Speaking speed (1: normal)"),
    "volume": ("Volume", 2, 0.05, " x", "Loudness (1: normal; a whisper is about 0.4)"),
    "stability": ("Stability", 2, 0.05, "",
                  "Low: more expressive and varied; high: steadier (ElevenLabs)"),
    "style": ("Style", 2, 0.05, "", "How strongly the emotion is acted (ElevenLabs)"),
    "similarity": ("Similarity", 2, 0.05, "",
                   "How closely a cloned voice keeps to its samples (ElevenLabs)"),
}
STEPS = 1000  # slider resolution


class SliderSpin(QWidget):
    """A slider and a spin box showing one value; either moves the other."""

    valueChanged = Signal(float)

    def __init__(self, low: float, high: float, decimals: int, step: float, suffix: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.low, self.high = low, high
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setMinimumWidth(220)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(low, high)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(step)
        self.spin.setSuffix(suffix)
        self.spin.setFixedWidth(96)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.slider.valueChanged.connect(self._slid)
        self.spin.valueChanged.connect(self._spun)

    def value(self) -> float:
        return round(self.spin.value(), 3)

    def set_value(self, value: float) -> None:
        self.spin.setValue(float(value))

    def _slid(self, position: int) -> None:
        value = self.low + (self.high - self.low) * position / STEPS
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.valueChanged.emit(self.value())

    def _spun(self, value: float) -> None:
        span = self.high - self.low
        self.slider.blockSignals(True)
        self.slider.setValue(round((value - self.low) / span * STEPS) if span else 0)
        self.slider.blockSignals(False)
        self.valueChanged.emit(self.value())


class VoiceTemplateDialog(QDialog):
    """Collects a template's values.  ``old`` given: the dialog supersedes it (starts from
    its values and says what superseding means)."""

    def __init__(self, parent: QWidget | None = None, old: Any = None,
                 emotion: str = ""):
        super().__init__(parent)
        self.old = old
        self.setObjectName("voiceTemplateDialog")
        self.setWindowTitle(f"Supersede “{old.name}”" if old is not None
                            else "New voice template")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        if old is not None:
            lay.addWidget(hint(
                f"Templates are permanent: “{old.name}” stays as it is for the narrations that "
                "use it. The new template takes its place in the lists; narrations move to it "
                "when you choose it for them."))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name = QLineEdit()
        self.name.setObjectName("templateName")
        self.name.setMaxLength(MAX_NAME)
        self.name.setPlaceholderText("e.g. quiet dread")
        form.addRow("&Name:", self.name)
        self.kind = QComboBox()
        self.kind.setObjectName("templateKind")
        for kind in KINDS:
            self.kind.addItem(kind.capitalize(), kind)
        self.kind.setToolTip("An emotion (joy, fear…), a sound (laugh, sigh) or a way of "
                             "speaking (whisper, shout)")
        form.addRow("&Kind:", self.kind)
        self.emotion = QComboBox()
        self.emotion.setObjectName("templateEmotion")
        self.emotion.setEditable(True)
        self.emotion.addItem("", "")
        for e in EMOTIONS:
            self.emotion.addItem(e, e)
        self.emotion.setToolTip("The emotion this template voices; narrations suggest it for "
                                "paragraphs with that emotion (leave empty for a pure sound "
                                "or modulation)")
        form.addRow("&Emotion:", self.emotion)
        self.sample_line = QPlainTextEdit()
        self.sample_line.setObjectName("templateLine")
        self.sample_line.setPlaceholderText("A line that shows the template off, for previews")
        self.sample_line.setFixedHeight(60)
        form.addRow("&Sample line:", self.sample_line)
        lay.addLayout(form)

        box = QGroupBox("How it sounds")
        grid = QFormLayout(box)
        self.params: dict[str, SliderSpin] = {}
        for key, (label, decimals, step, suffix, tip) in PARAMS.items():
            low, high = LIMITS[key]
            editor = SliderSpin(low, high, decimals, step, suffix)
            editor.setObjectName(f"param_{key}")
            editor.setToolTip(tip)
            self.params[key] = editor
            grid.addRow(f"{label}:", editor)
        self.emphasis = QComboBox()
        self.emphasis.setObjectName("param_emphasis")
        for level in EMPHASIS:
            self.emphasis.addItem(level.capitalize(), level)
        self.emphasis.setToolTip("SSML emphasis: how much the words are stressed")
        grid.addRow("Emphasis:", self.emphasis)
        lay.addWidget(box)

        self.problem = QLabel()
        self.problem.setObjectName("templateProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Supersede" if old is not None else "Create")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

        self._load(old, emotion)
        self.name.textChanged.connect(lambda _t: self.problem.hide())

    def _load(self, old: Any, emotion: str) -> None:
        params = old.params if old is not None else VoiceParams()
        for key, editor in self.params.items():
            editor.set_value(getattr(params, key))
        self.emphasis.setCurrentIndex(max(0, self.emphasis.findData(params.emphasis)))
        if old is not None:
            self.name.setText(old.name)
            self.kind.setCurrentIndex(max(0, self.kind.findData(old.kind)))
            self.sample_line.setPlainText(old.sample_line)
            emotion = old.emotion
        self.emotion.setCurrentText(emotion)
        if old is not None:
            self.kind.setEnabled(False)  # superseding keeps the kind; a new kind is new
            self.kind.setToolTip("A successor keeps the kind of the template it replaces")

    # --- values ---

    def values(self) -> dict[str, Any]:
        params: dict[str, Any] = {key: editor.value() for key, editor in self.params.items()}
        params["emphasis"] = self.emphasis.currentData()
        return {"name": " ".join(self.name.text().split()),
                "kind": self.kind.currentData(),
                "emotion": self.emotion.currentText().strip().lower(),
                "params": params,
                "sample_line": self.sample_line.toPlainText().strip()}

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def _accept(self) -> None:
        v = self.values()
        if not v["name"]:
            self.show_problem("Give the template a name.")
            self.name.setFocus()
            return
        if len(v["sample_line"]) > MAX_LINE:
            self.show_problem(f"The sample line is longer than {MAX_LINE} characters.")
            return
        self.accept()

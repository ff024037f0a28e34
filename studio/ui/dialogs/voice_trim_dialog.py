"""Trim a voice sample: choose the part to keep on its waveform (drag) or with the two spin
boxes, then make a trimmed copy.

Why a copy: the sample may have trained a voice or be the only take of a line, and a trim is
easy to get wrong by a few tenths of a second.  The service writes a new sample and keeps the
original, so trimming never loses a recording; the author deletes the original when sure.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget,
)

from studio.ui.widgets.voice_common import fmt_duration, hint
from studio.ui.widgets.waveform import MIN_SELECTION_S, WaveformView


class TrimDialog(QDialog):
    def __init__(self, sample: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.sample = sample
        self.setObjectName("trimDialog")
        self.setWindowTitle(f"Trim “{sample.label}”")
        self.setMinimumWidth(640)
        duration = float(sample.duration or 0.0)
        lay = QVBoxLayout(self)
        lay.addWidget(hint("Drag across the waveform to choose the part to keep. Trimming "
                           "makes a new sample; the original is kept as it is."))
        self.wave = WaveformView(selectable=True)
        self.wave.setObjectName("trimWaveform")
        self.wave.setMinimumHeight(120)
        self.wave.set_audio(sample.peaks, duration)
        lay.addWidget(self.wave, 1)
        row = QHBoxLayout()
        self.start = self._spin(duration)
        self.start.setObjectName("trimStart")
        self.end = self._spin(duration)
        self.end.setObjectName("trimEnd")
        self.end.setValue(duration)
        row.addWidget(QLabel("Keep from"))
        row.addWidget(self.start)
        row.addWidget(QLabel("to"))
        row.addWidget(self.end)
        self.length = QLabel()
        self.length.setObjectName("trimLength")
        row.addSpacing(12)
        row.addWidget(self.length)
        row.addStretch(1)
        lay.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Make trimmed copy")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

        self.wave.selectionChanged.connect(self._from_wave)
        self.start.valueChanged.connect(self._from_spins)
        self.end.valueChanged.connect(self._from_spins)
        self.wave.set_selection(0.0, duration, emit=False)
        self._show_length()

    @staticmethod
    def _spin(duration: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, duration)
        spin.setDecimals(2)
        spin.setSingleStep(0.1)
        spin.setSuffix(" s")
        return spin

    def _from_wave(self, start: float, end: float) -> None:
        for spin, value in ((self.start, start), (self.end, end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._show_length()

    def _from_spins(self, _value: float) -> None:
        self.wave.set_selection(self.start.value(), self.end.value(), emit=False)
        self._show_length()

    def _show_length(self) -> None:
        start, end = self.span()
        keep = end - start
        self.length.setText(f"keeps {fmt_duration(keep)} of {fmt_duration(self.sample.duration)}")
        whole = float(self.sample.duration or 0.0)
        # Something must be cut, and something kept.
        self.ok_button.setEnabled(keep >= MIN_SELECTION_S
                                  and (start > 1e-3 or end < whole - 1e-3))

    def span(self) -> tuple[float, float]:
        start, end = sorted((self.start.value(), self.end.value()))
        return round(start, 3), round(end, 3)

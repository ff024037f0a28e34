"""Image presets: how pictures are made — which image provider, model, size, steps, CFG scale,
sampler, seed, the style words added to every prompt, the negative prompt and the LoRAs
(name, trigger words, strength) a Stable Diffusion WebUI should apply.

Opened from the illustrate dialog ("Presets…").  Reads and saves go through the service
runner; the service validates (sizes, steps, LoRA strengths) and its refusals are shown in
the dialog with the form kept as typed.  Renaming a preset saves it under the new name and
removes the old one.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QMessageBox, QPlainTextEdit,
    QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError, ValidationError
from studio.providers.base import ImagePreset, Lora
from studio.services import illustrations
from studio.store.database import Database
from studio.ui.dialogs.illustrate_support import ERROR_STYLE, HINT_STYLE, image_providers
from studio.ui.runner import ServiceRunner

#: Common samplers of the Stable Diffusion WebUI (any other name can be typed).
SAMPLERS = ("", "Euler a", "Euler", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ SDE Karras",
            "DPM++ 2M SDE", "DDIM", "UniPC", "LMS")
DEFAULT_PROVIDER = "The default image provider"
SEED_MAX = 2**31 - 1


class PresetError(ValueError):
    """A value typed in the form that cannot become a preset (said in the author's words)."""


def preset_error(exc: BaseException) -> str:
    """The service's refusal as a sentence about the form."""
    if isinstance(exc, ValidationError) and exc.where == "Image preset":
        if exc.path == ["name"]:
            text = f"The name {exc.reason}"
        elif exc.path and exc.path[-1] == "LoRA":
            text = f"Each LoRA {exc.reason}"
        else:
            text = exc.reason[:1].upper() + exc.reason[1:]
        return text.rstrip(".") + "."
    if isinstance(exc, (StudioError, PresetError)):
        return str(exc)
    return f"Something went wrong: {exc}"


def load_presets(db: Database) -> tuple[list[ImagePreset], dict[int, str], bool]:
    """The presets, the image providers and whether any preset is saved (service thread)."""
    presets = illustrations.list_presets(db)
    saved = presets != [illustrations.DEFAULT_PRESET]
    return presets, image_providers(db), saved


def save_renamed(db: Database, preset: ImagePreset, old_name: str | None) -> None:
    """Save ``preset``; when it was renamed, drop the preset of the old name."""
    illustrations.save_preset(db, preset)
    if old_name and old_name != " ".join(preset.name.split()):
        try:
            illustrations.delete_preset(db, old_name)
        except StudioError:
            pass  # the old one was the built-in preset (never saved) or is gone already


class ImagePresetsDialog(QDialog):
    """``presetsChanged(name)``: presets were saved or deleted; ``name`` is the one to select
    (empty after a delete)."""

    presetsChanged = Signal(str)

    def __init__(self, db: Database, runner: ServiceRunner, select: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imagePresetsDialog")
        self.setWindowTitle("Image presets")
        self.resize(900, 640)
        self.db, self.runner = db, runner
        self.presets: list[ImagePreset] = []
        self.providers: dict[int, str] = {}
        self.saved = False  # False: only the built-in preset, not stored yet
        self.editing: str | None = None  # the stored name of the preset in the form
        self._closed = False

        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        lay.addWidget(split, 1)

        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName("presetList")
        self.list.setStyleSheet("QListWidget::item { padding: 5px 4px; }")
        self.list.currentTextChanged.connect(self._chosen)
        left_lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.new_button = QPushButton("New preset")
        self.new_button.clicked.connect(self.new_preset)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("deletePreset")
        self.delete_button.clicked.connect(lambda: self.delete_preset())
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        left_lay.addLayout(row)
        split.addWidget(left)

        right = QWidget()
        form = QFormLayout(right)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name = QLineEdit()
        self.name.setObjectName("presetName")
        form.addRow("Name", self.name)
        self.provider = QComboBox()
        self.provider.setObjectName("presetProvider")
        form.addRow("Provider", self.provider)
        self.model = QLineEdit()
        self.model.setPlaceholderText("Empty: the provider's own model or checkpoint")
        form.addRow("Model", self.model)
        size = QHBoxLayout()
        self.width_box = QSpinBox(minimum=64, maximum=4096, singleStep=64, suffix=" px")
        self.height_box = QSpinBox(minimum=64, maximum=4096, singleStep=64, suffix=" px")
        size.addWidget(self.width_box)
        size.addWidget(QLabel("by"))
        size.addWidget(self.height_box)
        size.addStretch(1)
        form.addRow("Size", size)
        self.steps = QSpinBox(minimum=1, maximum=200)
        form.addRow("Steps", self.steps)
        self.steps.setToolTip("More steps: more detail and a longer wait (20 to 30 is usual)")
        self.cfg = QDoubleSpinBox(minimum=0.0, maximum=30.0, singleStep=0.5, decimals=1)
        self.cfg.setToolTip("How closely the picture follows the prompt (7 is usual)")
        form.addRow("CFG scale", self.cfg)
        self.sampler = QComboBox()
        self.sampler.setEditable(True)
        self.sampler.addItems(list(SAMPLERS))
        self.sampler.lineEdit().setPlaceholderText("Empty: the provider's default")
        form.addRow("Sampler", self.sampler)
        self.seed = QSpinBox(minimum=-1, maximum=SEED_MAX)
        self.seed.setSpecialValueText("Random")
        self.seed.setToolTip("The same seed, prompt and settings give the same picture")
        form.addRow("Seed", self.seed)
        for box in (self.steps, self.cfg, self.seed, self.width_box, self.height_box):
            box.setMinimumWidth(120)
            box.setMaximumWidth(160)
        self.sampler.setMaximumWidth(260)
        self.style = QPlainTextEdit()
        self.style.setObjectName("presetStyle")
        self.style.setPlaceholderText("Added to every prompt, e.g. watercolour, soft light")
        self.style.setFixedHeight(58)
        self.style.setTabChangesFocus(True)
        form.addRow("Style modifiers", self.style)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("What the picture should not have, e.g. text, "
                                         "watermark")
        self.negative.setFixedHeight(58)
        self.negative.setTabChangesFocus(True)
        form.addRow("Negative prompt", self.negative)
        self.loras = QTableWidget(0, 3)
        self.loras.setObjectName("loraTable")
        self.loras.setHorizontalHeaderLabels(["LoRA name", "Trigger words", "Strength"])
        header = self.loras.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.loras.verticalHeader().setVisible(False)
        self.loras.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.loras.setMinimumHeight(110)
        lora_box = QVBoxLayout()
        lora_box.addWidget(self.loras)
        lora_row = QHBoxLayout()
        self.add_lora_button = QPushButton("Add LoRA")
        self.add_lora_button.clicked.connect(lambda: self.add_lora())
        self.remove_lora_button = QPushButton("Remove")
        self.remove_lora_button.clicked.connect(self.remove_lora)
        lora_row.addWidget(self.add_lora_button)
        lora_row.addWidget(self.remove_lora_button)
        lora_row.addStretch(1)
        lora_box.addLayout(lora_row)
        hint = QLabel("LoRAs are applied by a Stable Diffusion WebUI (Automatic1111 or "
                      "Forge); their trigger words are added to the prompt.")
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        lora_box.addWidget(hint)
        form.addRow("LoRAs", lora_box)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 680])

        self.status = QLabel()
        self.status.setObjectName("presetStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.addButton("Save preset",
                                             QDialogButtonBox.ButtonRole.ApplyRole)
        self.save_button.setObjectName("savePreset")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.loaded = False
        self.reload(select)

    # --- service calls ---------------------------------------------------------------------

    def _run(self, fn: Callable, *args: Any, then: Callable[[Any], None]) -> None:
        def done(result: Any) -> None:
            if not self._closed:
                then(result)

        def failed(exc: BaseException) -> None:
            if not self._closed:
                self.show_message(preset_error(exc), error=True)

        self.runner.run(fn, *args, on_done=done, on_error=failed)

    def reload(self, select: str | None = None) -> None:
        def show(got: tuple) -> None:
            self.presets, self.providers, self.saved = got
            self.provider.clear()
            self.provider.addItem(DEFAULT_PROVIDER, 0)
            for pid, name in self.providers.items():
                self.provider.addItem(name, pid)
            self.list.blockSignals(True)
            self.list.clear()
            for preset in self.presets:
                self.list.addItem(preset.name)
            self.list.blockSignals(False)
            names = [p.name for p in self.presets]
            row = names.index(select) if select in names else 0
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)
            self._chosen(self.list.currentItem().text() if self.list.currentItem() else "",
                         keep_message=True)
            self.delete_button.setEnabled(self.saved)
            self.loaded = True

        self._run(load_presets, self.db, then=show)

    # --- the form ----------------------------------------------------------------------------

    def _chosen(self, name: str, keep_message: bool = False) -> None:
        preset = next((p for p in self.presets if p.name == name), None)
        if preset is None:
            return
        self.editing = name if self.saved else None
        self.show_preset(preset)
        if not self.saved:
            self.show_message("This is the built-in preset: save it (or a new one) to keep "
                              "settings of your own.")
        elif not keep_message:
            self.show_message("")

    def show_preset(self, preset: ImagePreset) -> None:
        self.name.setText(preset.name)
        index = self.provider.findData(preset.provider_id or 0)
        if index < 0:  # a provider that is gone (or cannot draw any more)
            index = 0
        self.provider.setCurrentIndex(index)
        self.model.setText(preset.model)
        self.width_box.setValue(preset.width)
        self.height_box.setValue(preset.height)
        self.steps.setValue(preset.steps)
        self.cfg.setValue(preset.cfg_scale)
        self.sampler.setCurrentText(preset.sampler)
        self.seed.setValue(-1 if preset.seed is None else preset.seed)
        self.style.setPlainText(preset.style)
        self.negative.setPlainText(preset.negative)
        self.loras.setRowCount(0)
        for lora in preset.loras:
            self.add_lora(lora)

    def add_lora(self, lora: Lora | None = None) -> None:
        row = self.loras.rowCount()
        self.loras.insertRow(row)
        lora = lora or Lora("", "", 1.0)
        for col, text in enumerate((lora.name, lora.trigger_words, f"{lora.strength:g}")):
            item = QTableWidgetItem(text)
            if col == 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            self.loras.setItem(row, col, item)
        if not lora.name:
            self.loras.setCurrentCell(row, 0)
            self.loras.editItem(self.loras.item(row, 0))

    def remove_lora(self) -> None:
        rows = sorted({i.row() for i in self.loras.selectedIndexes()}, reverse=True)
        if not rows and self.loras.currentRow() >= 0:
            rows = [self.loras.currentRow()]
        for row in rows:
            self.loras.removeRow(row)

    def _cell(self, row: int, col: int) -> str:
        item = self.loras.item(row, col)
        return item.text().strip() if item is not None else ""

    def form_preset(self) -> ImagePreset:
        """The preset as typed (``PresetError`` for a strength that is not a number; the
        service checks everything else)."""
        loras = []
        for row in range(self.loras.rowCount()):
            name, words, strength = (self._cell(row, c) for c in range(3))
            if not (name or words or strength):
                continue  # an empty row left behind
            try:
                value = float(strength.replace(",", ".")) if strength else 1.0
            except ValueError:
                raise PresetError(f"The strength of LoRA “{name or row + 1}” must be a number "
                                  "(e.g. 0.8).") from None
            loras.append(Lora(name, words, value))
        seed = self.seed.value()
        return ImagePreset(
            name=self.name.text(), provider_id=self.provider.currentData() or None,
            model=self.model.text().strip(), width=self.width_box.value(),
            height=self.height_box.value(), steps=self.steps.value(),
            cfg_scale=round(self.cfg.value(), 2), sampler=self.sampler.currentText().strip(),
            seed=None if seed < 0 else seed, style=self.style.toPlainText().strip(),
            negative=self.negative.toPlainText().strip(), loras=tuple(loras))

    def new_preset(self) -> None:
        names = {p.name for p in self.presets}
        name, n = "New preset", 2
        while name in names:
            name, n = f"New preset {n}", n + 1
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.editing = None
        self.show_preset(ImagePreset(name=name, style=illustrations.DEFAULT_PRESET.style,
                                     negative=illustrations.DEFAULT_PRESET.negative))
        self.show_message("A new preset: fill it in and save it.")
        self.name.setFocus()
        self.name.selectAll()

    # --- saving and deleting -------------------------------------------------------------------

    def save(self) -> None:
        try:
            preset = self.form_preset()
        except PresetError as exc:
            self.show_message(preset_error(exc), error=True)
            return
        name = " ".join(preset.name.split())
        taken = {p.name for p in self.presets} if self.saved else set()
        if name != self.editing and name in taken:
            self.show_message(f"There is already a preset called “{name}”: choose another "
                              "name, or select that preset to change it.", error=True)
            return

        def saved(_result: Any) -> None:
            self.show_message(f"Saved “{name}”.")
            self.presetsChanged.emit(name)
            self.reload(select=name)

        self._run(save_renamed, self.db, preset, self.editing, then=saved)

    def delete_preset(self, confirm: bool = True) -> None:
        name = self.editing
        if name is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Delete preset", f"Delete the preset “{name}”? Pictures made with it "
                "stay.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return

        def deleted(_result: Any) -> None:
            self.show_message(f"Deleted “{name}”.")
            self.presetsChanged.emit("")
            self.reload()

        self._run(illustrations.delete_preset, self.db, name, then=deleted)

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else HINT_STYLE)

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)

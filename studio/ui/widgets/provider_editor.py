"""The right-hand side of the AI providers dialog: one provider's type, name, settings and key.

The settings form is built from the kind's ``Setting`` specs, so a new provider kind (or a
plug-in) needs no UI code.  The widget only collects what the author types and shows what it is
told; the dialog does the saving and testing (off the UI thread).  The key field never shows a
stored key: empty means "keep the one in the keyring", which the placeholder says.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
    QScrollArea, QVBoxLayout, QWidget,
)

from studio.providers.base import Capability, ProviderKind, Setting

KEY_STORED = "stored in your system keyring"
COLOURS = {"ok": "#1e7a3c", "error": "#b3261e", "info": ""}


def capability_labels(values: tuple[str, ...] | list[str]) -> str:
    """"Text generation, Embeddings" — in the order of the ``Capability`` enum."""
    order = [c.value for c in Capability]
    return ", ".join(Capability(v).label for v in sorted(values, key=order.index))


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("fieldHelp")
    label.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
    return label


class SettingField(QWidget):
    """One setting: a line edit (text, url, number, int) or a combo (choice), with its help
    under it — authors should not have to hover to learn what a base URL is."""

    def __init__(self, spec: Setting):
        super().__init__()
        self.spec = spec
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        if spec.kind == "choice":
            self.input: QWidget = QComboBox()
            self.input.addItems(list(spec.choices))
        else:
            self.input = QLineEdit()
            if spec.kind in ("number", "int"):
                self.input.setMaximumWidth(140)
            if spec.default not in ("", None):
                self.input.setPlaceholderText(str(spec.default))
        self.input.setObjectName(f"setting_{spec.key}")
        self.input.setToolTip(spec.help)
        lay.addWidget(self.input)
        if spec.help:
            lay.addWidget(_caption(spec.help))

    def value(self) -> Any:
        if isinstance(self.input, QComboBox):
            return self.input.currentText()
        return self.input.text().strip()

    def set_value(self, value: Any) -> None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # "60", not "60.0"
        text = "" if value is None else str(value)
        if isinstance(self.input, QComboBox):
            index = self.input.findText(text)
            self.input.setCurrentIndex(max(0, index))
        else:
            self.input.setText(text)


class ProviderEditor(QWidget):
    """Add or change one provider; the built-in offline provider is shown, not edited."""

    saveRequested = Signal()
    deleteRequested = Signal()
    testRequested = Signal()
    removeKeyRequested = Signal()

    def __init__(self, kinds: list[ProviderKind], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("providerEditor")
        self.kinds = {k.id: k for k in kinds}
        self.kind: ProviderKind | None = None
        self.provider_id: int | None = None
        self.has_key = False
        self.fields: dict[str, SettingField] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 8, 8, 8)
        self.heading = QLabel()
        self.heading.setObjectName("providerHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)  # a name, never markup
        self.heading.setStyleSheet("font-size: 14pt; font-weight: 600;")
        lay.addWidget(self.heading)
        self.description = QLabel()
        self.description.setObjectName("providerDescription")
        self.description.setTextFormat(Qt.TextFormat.RichText)
        self.description.setWordWrap(True)
        lay.addWidget(self.description)

        self.form_box = QWidget()
        self.form = QFormLayout(self.form_box)
        self.form.setContentsMargins(0, 4, 12, 4)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("providerKind")
        for k in kinds:
            self.kind_combo.addItem(k.label, k.id)
        self.kind_combo.activated.connect(
            lambda i: self._use_kind(self.kinds[self.kind_combo.itemData(i)]))
        self.form.addRow("Type", self.kind_combo)
        self.name = QLineEdit()
        self.name.setObjectName("providerName")
        self.form.addRow("Name", self.name)
        self.key_row = QWidget()
        key_box = QVBoxLayout(self.key_row)
        key_box.setContentsMargins(0, 0, 0, 0)
        key_box.setSpacing(1)
        key_lay = QHBoxLayout()
        key_box.addLayout(key_lay)
        self.key = QLineEdit()
        self.key.setObjectName("providerKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setClearButtonEnabled(True)
        key_lay.addWidget(self.key, 1)
        self.remove_key = QPushButton("Remove key")
        self.remove_key.setObjectName("removeKey")
        self.remove_key.setToolTip("Delete this provider's key from the system keyring")
        self.remove_key.clicked.connect(self.removeKeyRequested)
        key_lay.addWidget(self.remove_key)
        self.key_help = _caption("Kept in your system keyring, never in Story Studio's files. "
                                 "Leave the field empty to keep the stored key.")
        key_box.addWidget(self.key_help)
        self.key_label = QLabel("API key")
        self.form.addRow(self.key_label, self.key_row)
        # The form scrolls; the heading, the buttons and the messages stay in view.
        self.scroll = QScrollArea()
        self.scroll.setObjectName("providerForm")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.form_box)
        self.scroll.viewport().setAutoFillBackground(False)  # the tab's own background
        self.form_box.setAutoFillBackground(False)
        lay.addWidget(self.scroll, 1)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 10, 0, 0)
        self.test = QPushButton("Test connection")
        self.test.setObjectName("testConnection")
        self.test.clicked.connect(self.testRequested)
        buttons.addWidget(self.test)
        buttons.addStretch(1)
        self.delete = QPushButton("Delete")
        self.delete.setObjectName("deleteProvider")
        self.delete.clicked.connect(self.deleteRequested)
        buttons.addWidget(self.delete)
        self.save = QPushButton("Save")
        self.save.setObjectName("saveProvider")
        self.save.setDefault(True)
        self.save.clicked.connect(self.saveRequested)
        buttons.addWidget(self.save)
        lay.addLayout(buttons)

        status = QHBoxLayout()
        self.busy = QProgressBar()
        self.busy.setObjectName("providerBusy")
        self.busy.setRange(0, 0)  # indeterminate: a call has no measurable progress
        self.busy.setMaximumWidth(90)
        self.busy.setMaximumHeight(12)
        self.busy.setTextVisible(False)
        self.busy.hide()
        status.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignTop)
        self.status = QLabel()
        self.status.setObjectName("providerStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status.addWidget(self.status, 1)
        lay.addLayout(status)
        self.filler = QWidget()  # takes the room of the form when there is none (offline)
        lay.addWidget(self.filler, 1)
        self.filler.hide()

    # --- showing ------------------------------------------------------------------------------

    def _use_kind(self, kind: ProviderKind, values: dict[str, Any] | None = None) -> None:
        """Rebuild the settings form for ``kind`` (values: saved ones, else the defaults)."""
        old = {k: f.value() for k, f in self.fields.items()} if values is None else {}
        self.kind = kind
        for field in self.fields.values():
            self.form.removeRow(field)
        self.fields = {}
        for row, spec in enumerate(kind.settings, start=3):  # after type, name and key
            field = SettingField(spec)
            source = values if values is not None else old
            field.set_value(source.get(spec.key, spec.default) if source else spec.default)
            self.fields[spec.key] = field
            self.form.insertRow(row, spec.label + (" *" if spec.required else ""), field)
        can_do = capability_labels([c.value for c in kind.capabilities])
        self.description.setText(f"{html.escape(kind.description)}<br><i>Can do: {can_do}</i>")
        if self.provider_id is None and not self.name.isModified():
            self.name.setPlaceholderText(kind.label)
        self._show_key_state()

    def _show_form(self, shown: bool) -> None:
        self.scroll.setVisible(shown)
        self.filler.setVisible(not shown)

    def _show_key_state(self) -> None:
        kind = self.kind
        wants_key = kind is not None and kind.needs_key
        for widget in (self.key_label, self.key_row):
            widget.setVisible(wants_key)
        if not wants_key:
            return
        if self.has_key:
            self.key.setPlaceholderText(KEY_STORED)
        elif kind.key_optional:
            self.key.setPlaceholderText("optional: local servers usually need none")
        else:
            self.key.setPlaceholderText("paste your API key")
        self.remove_key.setEnabled(self.has_key)

    def start_new(self, kind_id: str | None = None) -> None:
        """An empty form for a new provider (the type can be chosen only now)."""
        self.provider_id, self.has_key = None, False
        self.heading.setText("New provider")
        self._show_form(True)
        self.kind_combo.setEnabled(True)
        index = max(0, self.kind_combo.findData(kind_id)) if kind_id else 0
        self.kind_combo.setCurrentIndex(index)
        self.name.clear()
        self.name.setModified(False)
        self.key.clear()
        self._use_kind(self.kinds[self.kind_combo.itemData(index)], values={})
        self.delete.hide()
        self.save.show()
        self.save.setText("Add provider")
        self.test.show()
        self.show_message("")
        self.name.setFocus()

    def show_provider(self, info) -> None:
        """Edit a configured provider (``services.providers.ProviderInfo``)."""
        config = info.config
        self.provider_id, self.has_key = config.id, info.has_key
        self.heading.setText(config.name)
        self._show_form(True)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(config.kind)))
        self.kind_combo.setEnabled(False)  # a provider keeps its type: make a new one instead
        self.name.setText(config.name)
        self.key.clear()
        kind = self.kinds.get(config.kind)
        if kind is not None:
            self._use_kind(kind, values=dict(config.settings))
        self.delete.show()
        self.save.show()
        self.save.setText("Save")
        self.test.show()
        self.show_message("")

    def show_builtin(self, info, description: str) -> None:
        """The offline provider: nothing to set, nothing to remove."""
        self.provider_id, self.has_key, self.kind = 0, False, None
        self.heading.setText(f"{info.config.name} (built in)")
        self.description.setText(
            f"{html.escape(description)}<br><i>Can do: {capability_labels(info.capabilities)}"
            "</i><br><br>Always available, needs no key and no network, and cannot be "
            "removed. Add a provider for text generation, speech or images.")
        self._show_form(False)
        self.delete.hide()
        self.save.hide()
        self.test.hide()
        self.show_message("")

    def key_stored(self, stored: bool) -> None:
        self.has_key = stored
        self.key.clear()
        self._show_key_state()

    # --- reading --------------------------------------------------------------------------

    def values(self) -> tuple[str, str, dict[str, Any], str | None]:
        """kind, name, settings, key (None: keep the stored key)."""
        kind = self.kind.id if self.kind is not None else ""
        name = self.name.text().strip() or (self.kind.label if self.kind else "")
        settings = {k: f.value() for k, f in self.fields.items()}
        key = self.key.text().strip() if self.kind is not None and self.kind.needs_key else ""
        return kind, name, settings, key or None

    # --- feedback -------------------------------------------------------------------------

    def set_busy(self, busy: bool, text: str = "", testing: bool = False) -> None:
        """While a call runs: a spinner, no second save; during a test the Test button
        cancels it (closing the dialog does too)."""
        self.busy.setVisible(busy)
        for button in (self.save, self.delete, self.remove_key):
            button.setEnabled(not busy)
        if not busy:
            self.remove_key.setEnabled(self.has_key)
        self.test.setEnabled(testing or not busy)
        self.test.setText("Cancel test" if busy and testing else "Test connection")
        if text:
            self.show_message(text)

    def show_message(self, text: str, tone: str = "info") -> None:
        colour = COLOURS.get(tone, "")
        body = html.escape(text).replace("\n", "<br>")
        self.status.setText(f"<span style='color:{colour}'>{body}</span>" if colour and text
                            else body)
        self.status.setProperty("tone", tone)

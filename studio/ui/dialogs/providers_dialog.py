"""Settings → AI providers: the services the studio may call, which one does what, and what
they were used for.

Three tabs.  **Providers**: the list (the built-in offline provider first, never removable) and
an editor whose settings form comes from the provider kind's own ``Setting`` specs; keys go to
the system keyring only.  **Defaults**: one provider per capability.  **Usage**: calls, tokens,
characters, images and estimated cost per month, provider and capability.

Every database or keyring call goes through the window's service runner (``runner.future``,
awaited on the qasync loop) and every network call (Test connection) is a task on the Qt loop,
so the dialog never freezes; closing it cancels what is still running.  Errors are shown in
the dialog and the form keeps what the author typed.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any, Coroutine

import qasync
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QSplitter, QTabWidget, QVBoxLayout,
    QWidget,
)

from studio.domain.errors import StudioError, ValidationError
from studio.providers import errors as provider_errors
from studio.providers import registry
from studio.providers.base import Capability, ProviderConfig
from studio.providers.keys import CredentialsUnavailable
from studio.services import ai_calls
from studio.services import providers as provider_service
from studio.store.database import Database
from studio.ui.runner import ServiceRunner
from studio.ui.widgets.provider_editor import ProviderEditor, capability_labels
from studio.ui.widgets.usage_view import UsageView

#: The capabilities an author chooses a provider for, and what the studio uses each for.
DEFAULT_CAPABILITIES = (
    (Capability.TEXT, "Module suggestions and chapter rewrites"),
    (Capability.EMBEDDINGS, "How close a reader's intent is to a chapter (playtests)"),
    (Capability.SPEECH, "Reading scenes aloud"),
    (Capability.VOICE_CLONE, "Making a voice from your own samples"),
    (Capability.IMAGE, "Pictures of scenes and characters"),
)
NOTHING = "None set up yet: add a provider that can do this"


def describe_error(exc: BaseException, *secrets: str | None) -> str:
    """A message an author can act on; never a key, never a traceback."""
    if isinstance(exc, ValidationError):
        where = "/".join(str(p) for p in exc.path)
        text = f"{where} {exc.reason}" if where else exc.reason
        text = text[:1].upper() + text[1:] + "."
    elif isinstance(exc, StudioError):
        text = str(exc)
    else:
        text = f"Something went wrong: {exc}"
    return provider_errors.redact(text, *secrets)


def effective_default(infos: list, capability: Capability):
    """The provider a call for ``capability`` would use (``services.providers.provider_for``'s
    rule): the chosen one, else offline where it can, else the first configured that can."""
    cap = capability.value
    able = [i for i in infos if cap in i.capabilities]
    chosen = next((i for i in able if i.config.id and cap in i.defaults), None)
    if chosen is not None:
        return chosen
    offline = next((i for i in able if not i.config.id), None)
    return offline or next(iter(able), None)


class ProvidersDialog(QDialog):
    changed = Signal()  # a provider, a key or a default changed

    def __init__(self, db: Database, runner: ServiceRunner, story_id: int | None = None,
                 story_title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("providersDialog")
        self.setWindowTitle("AI providers")
        self.resize(960, 700)
        self.db = db
        self.run_db = runner.future
        self.story_id = story_id
        self.infos: list[provider_service.ProviderInfo] = []
        self.tasks: set[asyncio.Task] = set()
        self.test_task: asyncio.Task | None = None
        self._test_secret: str | None = None
        kinds = [k for k in registry.kinds() if k.id != registry.OFFLINE_CONFIG.kind]
        self.kind_descriptions = {k.id: k.description for k in registry.kinds()}

        lay = QVBoxLayout(self)
        self.error = QLabel()
        self.error.setObjectName("providersError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        lay.addWidget(self.error)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("providerTabs")
        lay.addWidget(self.tabs, 1)

        # Providers: the list and the editor.
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 4, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName("providerList")
        self.list.setSpacing(2)
        self.list.setStyleSheet("QListWidget::item { padding: 6px 4px; }")
        self.list.currentItemChanged.connect(self._selected)
        left_lay.addWidget(self.list, 1)
        self.add_button = QPushButton("Add provider…")
        self.add_button.setObjectName("addProvider")
        self.add_button.clicked.connect(self.start_new)
        left_lay.addWidget(self.add_button)
        split.addWidget(left)
        self.editor = ProviderEditor(kinds)
        self.editor.saveRequested.connect(self.save)
        self.editor.deleteRequested.connect(self.delete_current)
        self.editor.testRequested.connect(self.test_connection)
        self.editor.removeKeyRequested.connect(self.remove_key)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([260, 660])
        self.tabs.addTab(split, "Providers")

        # Defaults: one provider per capability.
        defaults = QWidget()
        d_lay = QVBoxLayout(defaults)
        intro = QLabel("Which provider does what. Only providers that can do a job are "
                       "offered for it; the built-in offline provider is used where it can.")
        intro.setWordWrap(True)
        d_lay.addWidget(intro)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.default_combos: dict[Capability, QComboBox] = {}
        for cap, purpose in DEFAULT_CAPABILITIES:
            box = QWidget()
            box_lay = QVBoxLayout(box)
            box_lay.setContentsMargins(0, 0, 0, 6)
            box_lay.setSpacing(1)
            combo = QComboBox()
            combo.setObjectName(f"default_{cap.value}")
            combo.setMinimumWidth(320)
            combo.activated.connect(lambda _i, c=cap: self.choose_default(c))
            box_lay.addWidget(combo)
            hint = QLabel(purpose)
            hint.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
            box_lay.addWidget(hint)
            form.addRow(cap.label, box)
            self.default_combos[cap] = combo
        d_lay.addLayout(form)
        self.defaults_note = QLabel()
        self.defaults_note.setObjectName("defaultsNote")
        self.defaults_note.setTextFormat(Qt.TextFormat.RichText)
        self.defaults_note.setWordWrap(True)
        d_lay.addWidget(self.defaults_note)
        d_lay.addStretch(1)
        self.tabs.addTab(defaults, "Defaults")

        # Usage.
        self.usage = UsageView(story_title if story_id is not None else "")
        self.usage.filterChanged.connect(lambda: self.spawn(self.load_usage()))
        self.tabs.addTab(self.usage, "Usage")
        self.tabs.currentChanged.connect(self._tab_changed)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.loaded = self.spawn(self.refresh())

    # --- tasks --------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], report: bool = True) -> asyncio.Task:
        """Run ``coro`` on the Qt loop; it is cancelled if the dialog closes first.
        ``report``: show an error it ends with (off when the caller awaits and shows it)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, report))
        return task

    def _task_done(self, task: asyncio.Task, report: bool) -> None:
        self.tasks.discard(task)
        if report and not task.cancelled() and task.exception() is not None:
            self.show_error(task.exception())

    def done(self, result: int) -> None:
        """Closing stops a connection test (and any load) still under way."""
        for task in list(self.tasks):
            task.cancel()
        super().done(result)

    def show_error(self, exc: BaseException) -> None:
        self.error.setText(describe_error(exc, self._test_secret))
        self.error.show()

    # --- the list -----------------------------------------------------------------------------

    async def refresh(self, select_id: int | None = None, keep_editor: bool = False) -> None:
        """Read the providers afresh and show them; select ``select_id`` (else keep the
        selection).  ``keep_editor``: leave the form as typed (after a partial failure)."""
        try:
            self.infos = await self.run_db(provider_service.list_providers, self.db)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.show_error(exc)
            return
        self.error.hide()
        current = self.list.currentItem()
        if select_id is None and current is not None:
            select_id = current.data(Qt.ItemDataRole.UserRole)
        adding = self.editor.provider_id is None and not keep_editor
        self.list.blockSignals(True)
        self.list.clear()
        for info in self.infos:
            self.list.addItem(self._item(info))
        row = next((i for i, info in enumerate(self.infos) if info.config.id == select_id),
                   None)
        if row is not None:
            self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        if keep_editor:
            pass
        elif row is not None:
            self._show(self.infos[row])
        elif adding and self.editor.kind is not None:
            pass  # the author is filling in a new provider: leave it alone
        else:
            self.list.setCurrentRow(0)
        self._fill_defaults()

    def _item(self, info) -> QListWidgetItem:
        config = info.config
        name = f"{config.name} (built in)" if not config.id else config.name
        caps = capability_labels(info.capabilities)
        kind = info.kind_label if config.id else "No network, no key"
        key = ""
        if config.id and info.needs_key:
            key = ("  ·  key in keyring" if info.has_key else
                   "" if info.key_optional else "  ·  no key yet")
        item = QListWidgetItem(f"{name}\n{kind}{key}\n{caps}")
        item.setData(Qt.ItemDataRole.UserRole, config.id)
        item.setToolTip(self.kind_descriptions.get(config.kind, ""))
        return item

    def _selected(self, item: QListWidgetItem | None, _old=None) -> None:
        if item is None:
            return
        pid = item.data(Qt.ItemDataRole.UserRole)
        info = next((i for i in self.infos if i.config.id == pid), None)
        if info is not None:
            self._show(info)

    def _show(self, info) -> None:
        if (self.test_task is not None and not self.test_task.done()
                and info.config.id != self.editor.provider_id):
            self.test_task.cancel()  # its answer would be about another provider
        if info.config.id:
            self.editor.show_provider(info)
        else:
            self.editor.show_builtin(info, self.kind_descriptions.get(info.config.kind, ""))

    def start_new(self) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.tabs.setCurrentIndex(0)
        self.editor.start_new()

    # --- save, delete, keys -------------------------------------------------------------------

    @qasync.asyncSlot()
    async def save(self) -> None:
        kind, name, settings, key = self.editor.values()
        provider_id = self.editor.provider_id
        self.editor.set_busy(True, "Saving…")
        try:
            config = await self.run_db(provider_service.save_provider, self.db, kind, name,
                                       settings, provider_id, key)
        except CredentialsUnavailable as exc:
            await self._settings_saved_key_not(name, exc)
            return
        except Exception as exc:  # noqa: BLE001 - the form keeps what was typed
            self.editor.set_busy(False)
            self.editor.show_message(describe_error(exc, key), "error")
            return
        self.editor.set_busy(False)
        self.editor.key.clear()
        await self.refresh(select_id=config.id)
        self.editor.show_message(f"Saved “{config.name}”." + (
            " The key is in your system keyring." if key else ""), "ok")
        self.changed.emit()

    async def _settings_saved_key_not(self, name: str, exc: BaseException) -> None:
        """The row was saved but the keyring refused the key: edit the saved row from now on,
        with the typed key still in the field so nothing is lost."""
        self.editor.set_busy(False)
        await self.refresh(keep_editor=True)
        saved = next((i for i in self.infos if i.config.name.casefold() == name.casefold()),
                     None)
        if saved is not None:
            self.editor.provider_id = saved.config.id
            self.editor.heading.setText(saved.config.name)
            self.editor.kind_combo.setEnabled(False)
            self.editor.delete.show()
            self.editor.save.setText("Save")
            self.list.blockSignals(True)
            self.list.setCurrentRow(self.infos.index(saved))
            self.list.blockSignals(False)
        cause = exc.__cause__
        reason = (str(cause).strip() or type(cause).__name__) if cause else str(exc)
        self.editor.show_message(
            "The settings were saved, but the key was not: the system keyring is not "
            f"available ({provider_errors.redact(reason, self.editor.key.text())}). Story "
            "Studio keeps keys only there, never in its own files. Unlock or install a keyring "
            "(Windows Credential Manager, macOS Keychain, or a Secret Service such as GNOME "
            "Keyring or KWallet on Linux), then save again: the key is still in the field.",
            "error")
        self.changed.emit()

    def delete_current(self) -> None:
        """Ask first (outside any task: a modal box must not run inside a coroutine step on
        the qasync loop), then delete off the UI thread."""
        info = next((i for i in self.infos if i.config.id == self.editor.provider_id), None)
        if info is None or not info.config.id:
            return
        answer = QMessageBox.question(
            self, "Delete provider?",
            f"Delete “{info.config.name}” and its key? Its usage records stay. Whatever it was "
            "the default for goes back to the offline provider or another provider that can.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.spawn(self._delete(info))

    async def _delete(self, info) -> None:
        try:
            await self.run_db(provider_service.delete_provider, self.db, info.config.id)
        except Exception as exc:  # noqa: BLE001
            self.editor.show_message(describe_error(exc), "error")
            return
        self.list.setCurrentRow(-1)
        await self.refresh(select_id=0)
        self.editor.show_message(f"Deleted “{info.config.name}”.", "ok")
        self.changed.emit()

    def remove_key(self) -> None:
        """Delete the stored key (the saved settings stay as they are, not the form's)."""
        info = next((i for i in self.infos if i.config.id == self.editor.provider_id), None)
        if info is None or not info.config.id:
            return
        answer = QMessageBox.question(
            self, "Remove the key?",
            f"Remove the key of “{info.config.name}” from the system keyring? The provider "
            "stays; calls to it will fail until you add a key again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.spawn(self._remove_key(info.config))

    async def _remove_key(self, config: ProviderConfig) -> None:
        try:
            await self.run_db(provider_service.save_provider, self.db, config.kind, config.name,
                              dict(config.settings), config.id, "")
        except Exception as exc:  # noqa: BLE001
            self.editor.show_message(describe_error(exc), "error")
            return
        self.editor.key_stored(False)
        self.editor.show_message("The key was removed from the system keyring.", "ok")
        await self.refresh(keep_editor=True)
        self.changed.emit()

    # --- test connection ------------------------------------------------------------------

    @qasync.asyncSlot()
    async def test_connection(self) -> None:
        if self.test_task is not None and not self.test_task.done():
            self.test_task.cancel()  # the button reads "Cancel test" meanwhile
            return
        kind, name, settings, key = self.editor.values()
        if not kind:
            return
        config = ProviderConfig(kind, name, settings, self.editor.provider_id or None)
        self._test_secret = key
        self.editor.set_busy(True, f"Connecting to {name}…", testing=True)
        self.test_task = self.spawn(
            ai_calls.test_settings(self.run_db, self.db, config, key), report=False)
        try:
            message = await self.test_task
        except asyncio.CancelledError:
            if self.isVisible():
                self.editor.set_busy(False)
                self.editor.show_message("Test cancelled.")
            return
        except Exception as exc:  # noqa: BLE001 - the service's message, without the key
            self.editor.set_busy(False)
            self.editor.show_message(describe_error(exc, key), "error")
            return
        self.editor.set_busy(False)
        self.editor.show_message(provider_errors.redact(message, key), "ok")

    # --- defaults -------------------------------------------------------------------------

    def _fill_defaults(self) -> None:
        for cap, combo in self.default_combos.items():
            able = [i for i in self.infos if cap.value in i.capabilities]
            current = effective_default(self.infos, cap)
            combo.blockSignals(True)
            combo.clear()
            if not able:
                combo.addItem(NOTHING, None)
            for info in able:
                label = ("Offline (built in)" if not info.config.id
                         else f"{info.config.name}  ({info.kind_label})")
                combo.addItem(label, info.config.id)
            if current is not None:
                combo.setCurrentIndex(combo.findData(current.config.id))
            combo.setEnabled(bool(able))
            combo.blockSignals(False)

    @qasync.asyncSlot()
    async def choose_default(self, cap: Capability) -> None:
        provider_id = self.default_combos[cap].currentData()
        if provider_id is None and not any(cap.value in i.capabilities for i in self.infos):
            return
        try:
            await self.run_db(provider_service.set_default, self.db, cap.value, provider_id)
        except Exception as exc:  # noqa: BLE001
            self.defaults_note.setText(
                f"<span style='color:#b3261e'>{html.escape(describe_error(exc))}</span>")
            await self.refresh(keep_editor=True)  # the form may hold unsaved edits
            return
        name = self.default_combos[cap].currentText()
        self.defaults_note.setText(f"{cap.label}: {html.escape(name)}.")
        await self.refresh(keep_editor=True)  # the form may hold unsaved edits
        self.changed.emit()

    # --- usage ----------------------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.usage:
            self.spawn(self.load_usage())

    async def load_usage(self) -> None:
        story = self.story_id if self.usage.this_story() else None
        try:
            lines = await self.run_db(provider_service.usage_summary, self.db, story)
        except Exception as exc:  # noqa: BLE001
            self.usage.show_error(describe_error(exc))
            return
        self.usage.show_lines(lines)

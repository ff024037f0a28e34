"""Illustrate scene…: a picture of one scene from a prompt the scene proposes (its synopsis,
the characters' emotions, the bible's style guide), made by an image provider with a preset,
stored with the story; the scene's earlier pictures beside it.

Generating is a task on the Qt loop (qasync), so the window stays responsive while a slow GPU
works for a minute; Cancel cancels the task and with it the HTTP request (nothing is stored:
the service stores a picture only once it has arrived).  Every database read goes through the
service runner; pictures are decoded and shrunk to thumbnails on the service thread (a
``QImage`` may live in any thread), and only turned into pixmaps here.
"""

from __future__ import annotations

import asyncio
import html
import time
from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListView, QListWidgetItem,
    QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from studio.providers.base import ImagePreset
from studio.services import illustrations
from studio.services.illustrations import ImageInfo
from studio.store.database import Database
from studio.ui.dialogs.illustrate_support import (
    ERROR_STYLE, FIXED_IN_PROVIDERS, GALLERY_SIDE, HINT_STYLE, Gallery, PicturePreview,
    SceneSetup, describe_error, image_providers, load_gallery, load_picture, load_setup,
    preset_summary, when,
)
from studio.ui.runner import ServiceRunner


class IllustrateDialog(QDialog):
    """``imagesChanged(scene_uid)``: a picture of the scene was stored or deleted."""

    imagesChanged = Signal(str)

    def __init__(self, db: Database, runner: ServiceRunner, story_id: int, scene_uid: str,
                 scene_title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("illustrateDialog")
        self.setWindowTitle(f"Illustrate “{scene_title or 'scene'}”")
        self.resize(980, 700)
        self.db, self.runner = db, runner
        self.story_id, self.scene_uid = story_id, scene_uid
        self.task: asyncio.Task | None = None
        self.scene_prompt = ""
        self.presets: list[ImagePreset] = []
        self.providers: dict[int, str] = {}
        self.last_info: ImageInfo | None = None
        self.loaded = False
        self._started = 0.0
        self._providers_hooked: set[int] = set()

        root = QVBoxLayout(self)
        top = QHBoxLayout()
        root.addLayout(top, 1)

        left = QVBoxLayout()
        top.addLayout(left, 2)
        heading = QLabel(f"<h3 style='margin:0'>{html.escape(scene_title or 'Scene')}</h3>")
        left.addWidget(heading)
        left.addWidget(QLabel("<b>What the picture shows</b>"))
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("illustratePrompt")
        self.prompt.setPlaceholderText("Reading the scene…")
        self.prompt.setTabChangesFocus(True)
        left.addWidget(self.prompt, 1)
        hint = QLabel("Proposed from the scene's synopsis, the characters' emotions and the "
                      "bible's style guide. Edit it as you like.")
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        left.addWidget(hint)
        self.reset_button = QPushButton("Use the scene's description again")
        self.reset_button.setObjectName("resetPrompt")
        self.reset_button.clicked.connect(lambda: self.prompt.setPlainText(self.scene_prompt))
        self.reset_button.setEnabled(False)
        reset_row = QHBoxLayout()
        reset_row.addWidget(self.reset_button)
        reset_row.addStretch(1)
        left.addLayout(reset_row)

        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("<b>Preset</b>"))
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setSizePolicy(QSizePolicy.Policy.Expanding,
                                        QSizePolicy.Policy.Fixed)
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        preset_row.addWidget(self.preset_combo, 1)
        self.presets_button = QPushButton("Presets…")
        self.presets_button.setObjectName("presetsButton")
        self.presets_button.setToolTip("Edit the presets: provider, size, steps, style, LoRAs")
        self.presets_button.clicked.connect(self.edit_presets)
        preset_row.addWidget(self.presets_button)
        left.addLayout(preset_row)
        self.preset_summary = QLabel()
        self.preset_summary.setObjectName("presetSummary")
        self.preset_summary.setWordWrap(True)
        self.preset_summary.setStyleSheet(HINT_STYLE)
        left.addWidget(self.preset_summary)

        go_row = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setMinimumWidth(140)
        self.generate_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.generate_button.setEnabled(False)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelGenerate")
        self.cancel_button.setToolTip("Stop waiting for the picture (nothing is stored)")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(10)
        self.busy.hide()
        go_row.addWidget(self.generate_button)
        go_row.addWidget(self.cancel_button)
        go_row.addWidget(self.busy, 1)
        go_row.addStretch(0)
        left.addLayout(go_row)
        self.status = QLabel()
        self.status.setObjectName("illustrateStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left.addWidget(self.status)
        self._open_providers = self._providers_opener()
        self.providers_button = QPushButton("Open AI providers…")
        self.providers_button.setObjectName("openProviders")
        self.providers_button.clicked.connect(self.open_providers)
        self.providers_button.hide()
        prov_row = QHBoxLayout()
        prov_row.addWidget(self.providers_button)
        prov_row.addStretch(1)
        left.addLayout(prov_row)

        right = QVBoxLayout()
        top.addLayout(right, 3)
        self.preview = PicturePreview()
        right.addWidget(self.preview, 1)
        self.caption = QLabel()
        self.caption.setObjectName("illustrationCaption")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(HINT_STYLE)
        right.addWidget(self.caption)

        root.addWidget(QLabel("<b>Pictures of this scene</b> (newest first; the newest is "
                              "shown on the outline card)"))
        self.gallery = Gallery()
        self.gallery.setObjectName("illustrationGallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setFlow(QListView.Flow.LeftToRight)
        self.gallery.setWrapping(False)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setIconSize(QSize(GALLERY_SIDE, GALLERY_SIDE))
        self.gallery.setGridSize(QSize(GALLERY_SIDE + 40, GALLERY_SIDE + 40))
        self.gallery.setFixedHeight(GALLERY_SIDE + 62)
        self.gallery.currentItemChanged.connect(self._gallery_chosen)
        root.addWidget(self.gallery)
        bottom = QHBoxLayout()
        self.delete_button = QPushButton("Delete picture…")
        self.delete_button.setObjectName("deletePicture")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        bottom.addWidget(self.delete_button)
        bottom.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        root.addLayout(bottom)

        self._ticker = QTimer(self, interval=1000)
        self._ticker.timeout.connect(self._tick)
        self._run(load_setup, self.db, self.story_id, self.scene_uid, then=self._set_up)

    # --- loading -----------------------------------------------------------------------------

    def _run(self, fn: Callable, *args: Any, then: Callable[[Any], None]) -> None:
        """A service call on the service thread; its result comes back unless the dialog has
        been closed meanwhile."""
        def done(result: Any) -> None:
            if self._alive():
                then(result)

        def failed(exc: BaseException) -> None:
            if self._alive():
                self.show_error(exc)

        self.runner.run(fn, *args, on_done=done, on_error=failed)

    _closed = False

    def _alive(self) -> bool:
        """False once the dialog was closed (it may be deleted by now)."""
        return not self._closed

    def _set_up(self, setup: SceneSetup) -> None:
        self.scene_prompt = setup.prompt
        if not self.prompt.toPlainText().strip():
            self.prompt.setPlainText(setup.prompt)
        self.prompt.setPlaceholderText("Describe the picture")
        self.reset_button.setEnabled(True)
        self._fill_presets(setup.presets, setup.providers)
        self._fill_gallery(setup.gallery)
        if setup.gallery:
            self._show_picture(setup.gallery[0][0], setup.newest)
        self.generate_button.setEnabled(True)
        self.loaded = True

    def _fill_presets(self, presets: list[ImagePreset], providers: dict[int, str],
                      select: str | None = None) -> None:
        current = select or self.preset_combo.currentData()
        self.presets, self.providers = presets, providers
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        for preset in presets:
            self.preset_combo.addItem(preset.name, preset.name)
        index = self.preset_combo.findData(current)
        self.preset_combo.setCurrentIndex(max(0, index))
        self.preset_combo.blockSignals(False)
        self._preset_chosen()

    def _preset_chosen(self, *_args) -> None:
        preset = self.current_preset()
        self.preset_summary.setText(preset_summary(preset, self.providers) if preset else "")

    def current_preset(self) -> ImagePreset | None:
        name = self.preset_combo.currentData()
        return next((p for p in self.presets if p.name == name), None)

    def _fill_gallery(self, gallery: list[tuple[ImageInfo, QImage]],
                      select: int | None = None) -> None:
        self.gallery.blockSignals(True)
        self.gallery.clear()
        for info, thumb in gallery:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(thumb)) if not thumb.isNull()
                                   else QIcon(), when(info, short=True))
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, info)
            item.setToolTip(f"{when(info)}, {info.preset_name}, {info.provider_name}\n\n"
                            f"{info.prompt}")
            self.gallery.addItem(item)
            if info.id == select:
                self.gallery.setCurrentItem(item)
        self.gallery.blockSignals(False)
        self.delete_button.setEnabled(self.gallery.currentItem() is not None)

    def reload_gallery(self, select: int | None = None,
                       then: Callable[[list], None] | None = None) -> None:
        def show(gallery: list) -> None:
            self._fill_gallery(gallery, select)
            if then is not None:
                then(gallery)

        self._run(load_gallery, self.db, self.story_id, self.scene_uid, then=show)

    def image_ids(self) -> list[int]:
        return [self.gallery.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.gallery.count())]

    def _gallery_chosen(self, item: QListWidgetItem | None, _old=None) -> None:
        self.delete_button.setEnabled(item is not None)
        if item is None:
            return
        info = item.data(Qt.ItemDataRole.UserRole + 1)
        self._run(load_picture, self.db, self.story_id, info.id,
                  then=lambda image: self._show_picture(info, image))

    def _show_picture(self, info: ImageInfo, image: QImage) -> None:
        self.last_info = info
        self.preview.show_image(image)
        self.caption.setText(f"{when(info)}, preset “{info.preset_name}”, made by "
                             f"{info.provider_name}. Prompt: {info.prompt}")

    # --- generating --------------------------------------------------------------------------

    def generating(self) -> bool:
        """True from Generate until the dialog has shown how it ended."""
        return self.task is not None

    def generate(self) -> None:
        if self.generating() or not self.loaded:
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or not loop.is_running():
            self.show_message("The network loop is not running; restart Story Studio.",
                              error=True)
            return
        prompt = self.prompt.toPlainText().strip()
        preset = self.current_preset()
        self._set_busy(True)
        self.show_message(f"Making the picture with “{preset.name if preset else 'preset'}”…")
        self.task = asyncio.ensure_future(self._generate(prompt or None,
                                                         preset.name if preset else None))
        self.task.add_done_callback(self._generated)

    async def _generate(self, prompt: str | None, preset: str | None) -> tuple[ImageInfo,
                                                                                QImage]:
        run_db = self.runner.future
        info = await illustrations.illustrate(run_db, self.db, self.story_id, self.scene_uid,
                                              preset, prompt)
        return info, await run_db(load_picture, self.db, self.story_id, info.id)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.show_message("Cancelling…")
            self.task.cancel()

    def _generated(self, task: asyncio.Task) -> None:
        if self.task is task:
            self.task = None
        self._set_busy(False)
        if task.cancelled():
            before = len(self.image_ids())
            self.show_message("Cancelled: no picture was stored.")
            self.reload_gallery(then=lambda gallery: self._after_cancel(before, gallery))
            return
        exc = task.exception()
        if exc is not None:
            self.show_error(exc)
            return
        info, image = task.result()
        self._show_picture(info, image)
        self.show_message(f"Done: made by {info.provider_name} in "
                          f"{time.monotonic() - self._started:.0f} s and stored with the "
                          "story. It now shows on the scene's outline card.")
        self.reload_gallery(select=info.id)
        self.imagesChanged.emit(self.scene_uid)

    def _after_cancel(self, before: int, gallery: list) -> None:
        """The picture may have arrived just before Cancel: say so if it was stored."""
        if len(gallery) > before:
            self.show_message("Cancelled, but the picture had already arrived and was stored "
                              "(it is first below; delete it if you do not want it).")
            self.imagesChanged.emit(self.scene_uid)

    def _set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.busy.setVisible(busy)
        self.preset_combo.setEnabled(not busy)
        self.presets_button.setEnabled(not busy)
        self.delete_button.setEnabled(not busy and self.gallery.currentItem() is not None)
        if busy:
            self._started = time.monotonic()
            self.providers_button.hide()
            self._ticker.start()
        else:
            self._ticker.stop()

    def _tick(self) -> None:
        if self.generating():
            preset = self.current_preset()
            self.show_message(f"Making the picture with “{preset.name if preset else ''}”… "
                              f"{time.monotonic() - self._started:.0f} s")

    # --- messages ----------------------------------------------------------------------------

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        if not error:
            self.providers_button.hide()

    def show_error(self, exc: BaseException) -> None:
        self.show_message(describe_error(exc), error=True)
        if isinstance(exc, FIXED_IN_PROVIDERS) and self._open_providers is not None:
            self.providers_button.show()

    def _providers_opener(self) -> Callable[[], Any] | None:
        """How to open Settings → AI providers: the main window's way if it has one, else the
        providers dialog itself, else nothing (the message then says where to go)."""
        host = self.parentWidget().window() if self.parentWidget() is not None else None
        show = getattr(host, "show_providers", None)
        if callable(show):
            def via_window() -> Any:
                show()
                return getattr(host, "providers_dialog", None)
            return via_window
        try:
            from studio.ui.dialogs.providers_dialog import ProvidersDialog
        except ImportError:  # pragma: no cover - the dialog ships with the app
            return None

        def own() -> Any:
            dialog = ProvidersDialog(self.db, self.runner, self.story_id, "", self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()
            return dialog
        return own

    def open_providers(self) -> None:
        if self._open_providers is None:
            return
        dialog = self._open_providers()
        changed = getattr(dialog, "changed", None)
        if changed is not None and id(dialog) not in self._providers_hooked:
            self._providers_hooked.add(id(dialog))
            changed.connect(self._providers_changed)

    def _providers_changed(self) -> None:
        if not self._alive():
            return
        self.show_message("The providers changed: press Generate to try again.")
        self.reload_presets()

    # --- presets -------------------------------------------------------------------------------

    def reload_presets(self, select: str | None = None) -> None:
        def fetch(db: Database) -> tuple[list[ImagePreset], dict[int, str]]:
            return illustrations.list_presets(db), image_providers(db)

        self._run(fetch, self.db, then=lambda got: self._fill_presets(*got, select=select))

    def edit_presets(self) -> None:
        from studio.ui.dialogs.image_presets_dialog import ImagePresetsDialog

        dialog = ImagePresetsDialog(self.db, self.runner, self.preset_combo.currentData(),
                                    self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.presetsChanged.connect(lambda name: self.reload_presets(select=name))
        self.presets_dialog = dialog
        dialog.open()

    # --- deleting ------------------------------------------------------------------------------

    def delete_selected(self, confirm: bool = True) -> None:
        item = self.gallery.currentItem()
        if item is None or self.generating():
            return
        info: ImageInfo = item.data(Qt.ItemDataRole.UserRole + 1)
        if confirm:
            answer = QMessageBox.question(
                self, "Delete picture",
                f"Delete the picture made on {when(info)}? It is removed from the story "
                "and cannot be brought back.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return

        def shown_again(gallery: list) -> None:
            if self.gallery.count():
                self.gallery.setCurrentRow(0)  # the newest left shows

        def deleted(_result: Any) -> None:
            self.show_message("The picture was deleted.")
            if self.last_info is not None and self.last_info.id == info.id:
                self.last_info = None
                self.preview.show_image(QImage())
                self.caption.setText("")
            self.reload_gallery(then=shown_again)
            self.imagesChanged.emit(self.scene_uid)

        self._run(illustrations.delete_image, self.db, self.story_id, info.id, then=deleted)

    # --- closing -------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Closing cancels a picture still being made (it is not stored)."""
        self._closed = True
        self._ticker.stop()
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.remove_done_callback(self._generated)
            task.cancel()
        super().done(result)

"""What the illustrate dialog shows, apart from the dialog itself: the reads it makes on the
service thread (pictures decoded and shrunk there — a ``QImage`` may live in any thread, only
pixmaps are made on the UI thread), the sentences it says, and its two picture widgets.
Shared with the image presets dialog."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timezone

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QSizePolicy, QWidget

from studio.domain.errors import StudioError, ValidationError
from studio.providers import errors as provider_errors
from studio.providers.base import Capability, ImagePreset
from studio.services import ai_calls, illustrations
from studio.services import providers as provider_service
from studio.services.illustrations import ImageInfo
from studio.store.database import Database
from studio.ui.widgets.outline_images import cover, decode

log = logging.getLogger(__name__)

GALLERY_SIDE = 88  # the gallery's thumbnails
ERROR_STYLE = "color: #b3261e;"
HINT_STYLE = "color: palette(placeholder-text);"
NO_IMAGE_PROVIDER = "No provider for images"
IMAGE_HOW_TO = (f"{NO_IMAGE_PROVIDER} is set up. Add one in Settings → AI providers "
                "(Ctrl+Alt+P): a Stable Diffusion WebUI (Automatic1111 or Forge) running on "
                "this computer with --api, or an OpenAI-compatible images API such as "
                "gpt-image-1. Then press Generate again.")
#: Errors the providers dialog can fix (no provider, a missing or refused key).
FIXED_IN_PROVIDERS = (ai_calls.NoProvider, provider_errors.KeyMissing,
                      provider_errors.AuthFailed)


@dataclass(frozen=True)
class SceneSetup:
    """What the dialog needs when it opens, read in one trip to the service thread."""

    prompt: str
    presets: list[ImagePreset]
    providers: dict[int, str]  # image-capable configured providers, id → name
    gallery: list[tuple[ImageInfo, QImage]]
    newest: QImage


def image_providers(db: Database) -> dict[int, str]:
    return {i.config.id: i.config.name for i in provider_service.list_providers(db)
            if i.config.id and Capability.IMAGE.value in i.capabilities}


def load_gallery(db: Database, story_id: int, scene_uid: str) -> list[tuple[ImageInfo, QImage]]:
    """The scene's pictures, newest first, each with a small thumbnail (service thread)."""
    out = []
    for info in reversed(illustrations.scene_images(db, story_id, scene_uid)):
        image = decode(illustrations.image_data(db, story_id, info.id))
        out.append((info, cover(image, 2 * GALLERY_SIDE) if not image.isNull() else image))
    return out


def load_setup(db: Database, story_id: int, scene_uid: str) -> SceneSetup:
    gallery = load_gallery(db, story_id, scene_uid)
    newest = decode(illustrations.image_data(db, story_id, gallery[0][0].id)) if gallery \
        else QImage()
    return SceneSetup(illustrations.scene_prompt(db, story_id, scene_uid),
                      illustrations.list_presets(db), image_providers(db), gallery, newest)


def load_picture(db: Database, story_id: int, image_id: int) -> QImage:
    return decode(illustrations.image_data(db, story_id, image_id))


def describe_error(exc: BaseException) -> str:
    """A sentence an author can act on (never a traceback)."""
    if isinstance(exc, ai_calls.NoProvider) and str(exc).startswith(NO_IMAGE_PROVIDER):
        return IMAGE_HOW_TO  # what to add for pictures, not the list of every kind
    if isinstance(exc, ValidationError):
        where = " ".join(str(p) for p in exc.path)
        text = f"{where}: {exc.reason}" if where else exc.reason
        return text[:1].upper() + text[1:].rstrip(".") + "."
    if isinstance(exc, StudioError):
        return str(exc)
    log.error("Illustrating failed", exc_info=exc)
    return f"Something went wrong: {exc}"


def when(info: ImageInfo, short: bool = False) -> str:
    """When a picture was made, in local time."""
    at = info.created_at
    if at.tzinfo is None:  # stored as UTC
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone().strftime("%d %b %H:%M" if short else "%d %b %Y, %H:%M")


def preset_summary(preset: ImagePreset, providers: dict[int, str]) -> str:
    """One line saying what a preset does, for the author choosing one."""
    parts = [f"{preset.width} × {preset.height}", f"{preset.steps} steps",
             f"CFG {preset.cfg_scale:g}"]
    if preset.model:
        parts.append(preset.model)
    parts.append(providers.get(preset.provider_id or 0, "the default image provider"))
    text = ", ".join(parts) + "."
    if preset.style.strip():
        text += f" Adds: {preset.style.strip()}."
    if preset.loras:
        text += " LoRA: " + ", ".join(f"{lo.name} ({lo.strength:g})" for lo in preset.loras) + "."
    return text


class PicturePreview(QLabel):
    """A picture scaled (smoothly) to fit the label as it is resized."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("illustrationPreview")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(440, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setWordWrap(True)
        self.image = QImage()
        self.show_image(QImage())

    def show_image(self, image: QImage, empty_text: str = "") -> None:
        self.image = image
        if image.isNull():
            self.setPixmap(QPixmap())
            self.setText(empty_text or "The picture will appear here.\n\nCheck the prompt, "
                         "choose a preset and press Generate.")
            self.setStyleSheet(HINT_STYLE)
        else:
            self.setText("")
            self.setStyleSheet("")
            self._rescale()

    def has_picture(self) -> bool:
        return not self.image.isNull()

    def _rescale(self) -> None:
        if self.image.isNull():
            return
        dpr = self.devicePixelRatioF()
        room = self.contentsRect().size() - QSize(8, 8)
        scaled = self.image.scaled(room * dpr, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(dpr)
        self.setPixmap(pixmap)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()


class Gallery(QListWidget):
    """The scene's pictures as thumbnails; says so when there are none yet."""

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter,
                             "No pictures of this scene yet.")

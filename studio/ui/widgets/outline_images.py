"""Scene pictures on the outline cards: the newest illustration of a scene, as a small square
thumbnail in the card's top-right corner, the title and synopsis flowing around it.

The outline may show hundreds of cards, so nothing is decoded while the outline is set:
``SceneThumbnails`` keeps the images as given (encoded bytes or a ``QImage``) and makes a
``QPixmap`` for a scene the first time its card is painted — and only visible cards are
painted.  ``shrink_images`` makes small thumbnails off the UI thread (``QImage`` works in
any thread, ``QPixmap`` only in the UI one), so the outline never holds full-size pictures.
"""

from __future__ import annotations

import math
from typing import Mapping, Union

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap

THUMB = 64  # the thumbnail's side on a card, in device-independent pixels
THUMB_GAP = 8  # between the thumbnail and the text beside it
SOURCE_SIDE = 2 * THUMB  # what ``shrink_images`` keeps: sharp on a 2x screen

SceneImage = Union[bytes, QImage]


def decode(image: SceneImage) -> QImage:
    """``image`` as a QImage (a null QImage when the bytes are no picture Qt can read)."""
    if isinstance(image, QImage):
        return image
    return QImage.fromData(QByteArray(bytes(image)))


def cover(image: QImage, side: int) -> QImage:
    """The middle of ``image`` scaled (smoothly) to fill a ``side`` × ``side`` square."""
    scaled = image.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x, y = (scaled.width() - side) // 2, (scaled.height() - side) // 2
    return scaled.copy(x, y, side, side)


def shrink_images(images: Mapping[str, bytes], side: int = SOURCE_SIDE) -> dict[str, bytes]:
    """Each picture cut to a small square PNG; pictures that do not decode are left out.
    Meant for the service thread: full-size illustrations (often a megabyte each) never
    reach the UI thread or stay in memory for the outline."""
    out: dict[str, bytes] = {}
    for uid, data in images.items():
        image = decode(data)
        if image.isNull():
            continue
        small = QByteArray()
        buffer = QBuffer(small)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        cover(image, side).save(buffer, "PNG")
        buffer.close()
        out[uid] = bytes(small.data())
    return out


class SceneThumbnails:
    """The scene pictures the outline knows, and their pixmaps, made on first paint."""

    def __init__(self) -> None:
        self._images: dict[str, SceneImage] = {}
        self._pixmaps: dict[str, QPixmap] = {}
        self._failed: set[str] = set()

    def set_images(self, images: Mapping[str, SceneImage]) -> set[str]:
        """Replace the pictures; returns the scenes whose picture appeared, changed or went."""
        new = dict(images)
        changed = {uid for uid in set(new) | set(self._images)
                   if uid not in new or uid not in self._images
                   or not _same(new[uid], self._images[uid])}
        self._images = new
        for uid in changed:
            self._pixmaps.pop(uid, None)
            self._failed.discard(uid)
        return changed

    def has(self, uid: str) -> bool:
        return uid in self._images and uid not in self._failed

    def uids(self) -> list[str]:
        return [uid for uid in self._images if uid not in self._failed]

    def pixmap(self, uid: str, dpr: float = 1.0) -> QPixmap | None:
        """The card's thumbnail of ``uid`` (None when it has none, or it does not decode)."""
        if not self.has(uid):
            return None
        cached = self._pixmaps.get(uid)
        if cached is not None and math.isclose(cached.devicePixelRatio(), dpr):
            return cached
        image = decode(self._images[uid])
        if image.isNull():
            self._failed.add(uid)
            return None
        pixmap = QPixmap.fromImage(cover(image, max(1, round(THUMB * dpr))))
        pixmap.setDevicePixelRatio(dpr)
        self._pixmaps[uid] = pixmap
        return pixmap


def _same(a: SceneImage, b: SceneImage) -> bool:
    if a is b:
        return True
    if isinstance(a, QImage) and isinstance(b, QImage):
        return a.cacheKey() == b.cacheKey() or a == b
    return isinstance(a, bytes) and isinstance(b, bytes) and a == b


def thumbnail_rect(card: QRect, pad: int) -> QRect:
    """Where a card's thumbnail goes: its top-right corner, inside the padding."""
    return QRect(card.right() - pad - THUMB + 1, card.top() + pad, THUMB, THUMB)


def lines_beside(text_top: int, line_spacing: int, pad: int, max_lines: int) -> int:
    """How many synopsis lines run beside the thumbnail (they are the narrow ones), given
    the first line's top relative to the card's top."""
    bottom = pad + THUMB + THUMB_GAP // 2
    if text_top >= bottom or line_spacing <= 0:
        return 0
    return min(max_lines, math.ceil((bottom - text_top) / line_spacing))


def paint_thumbnail(painter: QPainter, rect: QRect, pixmap: QPixmap, edge: QColor) -> None:
    """The thumbnail with rounded corners and a hairline edge (pale pictures on a pale card
    would otherwise have no outline)."""
    painter.save()
    path = QPainterPath()
    path.addRoundedRect(QRectF(rect), 4, 4)
    painter.setClipPath(path)
    painter.drawPixmap(rect, pixmap)
    painter.setClipping(False)
    painter.setPen(QPen(edge, 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
    painter.restore()

"""Scene illustrations in the manuscript panel (a mixin of ``ManuscriptPanel``): the
"Illustrate scene…" action (toolbar, the tree's and the outline cards' context menus,
Ctrl+Alt+I) and the pictures on the outline cards.

The outline's thumbnails are read when the outline is shown and the story's pictures are not
loaded yet, or changed (a picture made or deleted, another story opened).  They are read and
shrunk on the service thread, so opening the outline of a richly illustrated story never
decodes megabytes of images on the UI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QToolButton

from studio.services import illustrations
from studio.store.database import Database
from studio.ui.widgets.outline_images import shrink_images

ILLUSTRATE_KEYS = "Ctrl+Alt+I"


def scene_thumbnails(db: Database, story_id: int) -> dict[str, bytes]:
    """The newest picture of every illustrated scene, as small thumbnails (service thread)."""
    return shrink_images(illustrations.latest_images(db, story_id))


class SceneIllustrations:
    """Needs from the panel: ``document``, ``outline``, ``outline_view``, ``tabs``,
    ``tool_row``, ``current_scene_uid``, ``open_scene``, ``_outline_scene_activated``."""

    illustrate_dialog = None
    _images_doc = None  # the document whose pictures the outline shows (None: stale)

    def _setup_illustrations(self) -> None:
        self.illustrate_button = QToolButton(text="Illustrate…")
        self.illustrate_button.setObjectName("illustrateButton")
        self.illustrate_button.setAutoRaise(True)
        keys = QKeySequence(ILLUSTRATE_KEYS).toString(QKeySequence.SequenceFormat.NativeText)
        self.illustrate_button.setToolTip(f"Make a picture of the current scene ({keys})")
        self.illustrate_button.clicked.connect(lambda: self.illustrate_scene())
        row = self.tool_row
        row.insertWidget(max(0, row.count() - 1), self.illustrate_button)  # before the stretch
        QShortcut(QKeySequence(ILLUSTRATE_KEYS), self, lambda: self.illustrate_scene())
        if self.outline_view is not None:
            canvas = self.outline_view.canvas
            canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            canvas.customContextMenuRequested.connect(self._card_menu)

    # --- the action ----------------------------------------------------------------------------

    def _scene_to_illustrate(self) -> str | None:
        """The card focused in the outline when it is shown, else the scene being written."""
        view = self.outline_view
        if view is not None and self.tabs.currentWidget() is view:
            uid = view.focused_uid()
            if uid is not None and self.outline is not None and self.outline.scene(uid):
                return uid
        return self.current_scene_uid

    def illustrate_scene(self, uid: str | None = None) -> None:
        """Open the illustrate dialog for ``uid`` (or the scene in hand)."""
        doc = self.document
        uid = uid or self._scene_to_illustrate()
        scene = self.outline.scene(uid) if (doc is not None and self.outline and uid) else None
        if scene is None:
            self.window().statusBar().showMessage("Choose a scene to illustrate first.", 6000)
            return
        from studio.ui.dialogs.illustrate_dialog import IllustrateDialog

        doc.flush()  # the prompt is made from the synopsis and text as they are now
        if self.illustrate_dialog is not None:
            self.illustrate_dialog.close()
        dialog = IllustrateDialog(doc.db, doc.runner, doc.story_id, uid, scene.title, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imagesChanged.connect(lambda _uid: self._scene_images_changed())
        dialog.destroyed.connect(lambda *_: self._forget_dialog(dialog))
        self.illustrate_dialog = dialog
        dialog.show()

    def _forget_dialog(self, dialog) -> None:
        if self.illustrate_dialog is dialog:
            self.illustrate_dialog = None

    def _card_menu(self, pos: QPoint) -> None:
        view = self.outline_view
        index = view.canvas.item_at(pos)
        if index < 0 or view.canvas.items[index].kind != "scene":
            return
        uid = view.canvas.items[index].uid
        menu = QMenu(self)
        menu.addAction("Open scene", lambda: self._outline_scene_activated(uid))
        menu.addAction("Illustrate scene…", lambda: self.illustrate_scene(uid))
        menu.exec(view.canvas.mapToGlobal(pos))

    # --- the outline's pictures ------------------------------------------------------------

    def _forget_scene_images(self) -> None:
        """Another story (or the same one read afresh): its pictures are read when shown."""
        self._images_doc = None
        if self.outline_view is not None:
            self.outline_view.set_images({})

    def _scene_images_changed(self) -> None:
        self._images_doc = None
        if self.outline_view is not None and self.tabs.currentWidget() is self.outline_view:
            self._load_scene_images()

    def _load_scene_images(self) -> None:
        """Read the outline's thumbnails unless they are current (called when it is shown)."""
        doc = self.document
        if doc is None or self.outline_view is None or self._images_doc is doc:
            return
        self._images_doc = doc

        def show(images: dict[str, bytes]) -> None:
            if self.document is doc and self._images_doc is doc:
                self.outline_view.set_images(images)

        def failed(exc: BaseException) -> None:
            self._images_doc = None
            self.window().statusBar().showMessage(f"The scene pictures could not be read: "
                                                  f"{exc}", 8000)

        doc.runner.run(scene_thumbnails, doc.db, doc.story_id, on_done=show, on_error=failed)

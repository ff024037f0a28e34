"""The panel framework: each panel is one module under ``studio/ui/panels`` and shows one
aspect of the open story.  Later features add a panel by subclassing ``Panel`` and listing it in
``studio.ui.panels.PANELS``; the main window does the rest."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.document import StoryDocument


class Panel(QWidget):
    #: The tab title.
    title: str = ""
    #: Shortcut that brings the panel forward (Ctrl+1, Ctrl+2…), set by the main window.
    object_name: str = ""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document: StoryDocument | None = None
        if self.object_name:
            self.setObjectName(self.object_name)

    def set_document(self, document: StoryDocument | None) -> None:
        """Show ``document`` (or nothing).  Panels connect to its signals here."""
        if self.document is not None:
            try:
                self.document.valueChanged.disconnect(self.on_value_changed)
                self.document.reloaded.disconnect(self.on_reloaded)
            except (RuntimeError, TypeError):
                pass
        self.document = document
        if document is not None:
            document.valueChanged.connect(self.on_value_changed)
            document.reloaded.connect(self.on_reloaded)
        self.on_reloaded()

    def on_value_changed(self, target: tuple) -> None:
        """One value changed (an edit, an undo or a redo)."""

    def on_reloaded(self) -> None:
        """The whole story changed (opened, restored): show it afresh."""

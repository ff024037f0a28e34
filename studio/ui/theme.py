"""Light and dark, following the system; a little styling so the app reads like a studio."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

STYLE_SHEET = """
#storyHeader { border-bottom: 1px solid palette(mid); }
#storyTitle { background: transparent; }
#guidingQuestions {
    background: palette(alternate-base); border-left: 3px solid palette(highlight);
    padding: 8px 10px; margin: 4px 0 8px 0;
}
#moduleNavigator { border: none; background: palette(alternate-base); padding-top: 6px; }
#moduleNavigator::item { padding: 6px 4px; border-radius: 4px; }
#moduleNavigator::item:selected { background: palette(highlight); color: palette(highlighted-text); }
#libraryList::item { padding: 5px 4px; }
QStatusBar QLabel#saveState { padding: 0 8px; }
"""


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#dfe1e5")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#26282b"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#7f838a"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6fb4"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#45484d"))
    p.setColor(QPalette.ColorRole.Link, QColor("#7aa7e6"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e73"))
    return p


def _light_palette(app: QApplication) -> QPalette:
    p = app.style().standardPalette()
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#f3f1ec"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f6db5"))
    return p


def is_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    if "Fusion" in QStyleFactory.keys():
        app.setStyle("Fusion")
    app.setPalette(_dark_palette() if is_dark(app) else _light_palette(app))
    app.setStyleSheet(STYLE_SHEET)


def follow_system_theme(app: QApplication) -> None:
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))

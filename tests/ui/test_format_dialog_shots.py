"""Offscreen pictures of the import preview and the export dialog, to look at:
/tmp/shots/format_*.png (a Markdown story preview, a card going into the bible with a
warning, a file being read, and the export dialog on EPUB, Markdown with its text preview,
and a character card where that exporter exists)."""

from __future__ import annotations

from pathlib import Path

from studio.formats import registry
from studio.ui.dialogs.import_dialog import ImportDialog
from tests.ui.conftest import settle
from tests.ui.test_format_dialogs import (
    MARKDOWN, SERAPHINA, _bible_preview, _seraphina_dialog, open_export, wait_preview,
)

SHOTS = Path("/tmp/shots")


def shot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"format_{name}.png"
    assert widget.grab().save(str(path))
    return path


def test_import_previews(make_window, qtbot, tmp_path):
    window = make_window()
    settle(qtbot, window)
    path = tmp_path / "salt-road.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    dialog = window.formats.import_path(path)
    wait_preview(qtbot, dialog)
    qtbot.wait(50)
    shot(dialog, "import_preview_story")
    dialog.reject()

    dialog = _seraphina_dialog(window, qtbot)
    qtbot.wait(50)
    shot(dialog, "import_preview_card")
    dialog.reject()

    dialog = ImportDialog.for_preview(window, _bible_preview())
    qtbot.wait(50)
    shot(dialog, "import_preview_warnings")
    dialog.reject()

    reading = ImportDialog(window, SERAPHINA)
    reading.heading.setText(f"Reading {SERAPHINA.name}")
    reading.reading.setText(f"Reading the file {SERAPHINA}…")
    reading.progress.setRange(0, 100)
    reading.progress.setValue(40)
    reading._show_page(0)  # as start() does, without reading anything
    reading.show()
    qtbot.wait(50)
    shot(reading, "import_reading")
    reading.close()


def test_export_dialog(make_window, qtbot, tmp_path):
    window = make_window()
    settle(qtbot, window)
    ids = {e.id for e in registry.exporters()}
    if "epub" in ids:
        dialog = open_export(window, qtbot, "epub", tmp_path / "story.epub")
        dialog.form.author.setText("Ada Marlow")
        qtbot.wait(50)
        shot(dialog, "export_epub")
        dialog.reject()
    if "markdown" in ids:
        dialog = open_export(window, qtbot, "markdown", tmp_path / "story.md")
        dialog.form.synopses.setChecked(True)
        qtbot.waitUntil(lambda: "No. 997" in dialog.preview.toPlainText(), timeout=10_000)
        shot(dialog, "export_markdown")
        dialog.export()
        qtbot.waitUntil(lambda: window.formats.open_folder.isVisible(), timeout=10_000)
        shot(window.statusBar(), "exported_status")
    if "lorebook" in ids:
        dialog = open_export(window, qtbot, "lorebook", tmp_path / "lore.json")
        qtbot.waitUntil(lambda: bool(dialog.preview.toPlainText()), timeout=10_000)
        shot(dialog, "export_lorebook")
        dialog.reject()
    cards = [e for e in registry.exporters() if "character_id" in e.options]
    if cards:
        dialog = open_export(window, qtbot, cards[0].id, tmp_path / "card.png")
        qtbot.waitUntil(lambda: bool(dialog.preview.toPlainText()), timeout=10_000)
        shot(dialog, "export_card")
        dialog.reject()

"""File ▸ Import… and File ▸ Export… in a real window, offscreen, driven without native file
dialogs (``FormatActions.import_path``, ``ImportDialog.for_preview``, ``ExportDialog``).

Formats arrive one module at a time; a test that needs one which is not registered yet is
skipped (the dialogs themselves list whatever the registry has).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.formats import registry
from studio.formats.registry import (
    BIBLE, ExportDoc, Exporter, ExportOptions, Importer, ImportPreview,
)
from studio.services import bible as bible_service
from studio.services import manuscript, stories
from studio.ui.dialogs.import_dialog import ImportDialog
from tests.ui.conftest import settle

SERAPHINA = Path("/work/shared/testdata/cards/default_Seraphina.png")
TWINE = Path("/work/shared/testdata/twine/Twine2HTMLParser_Example1.html")
SAMPLE_CHAPTERS = ("No. 997", "The Board’s Letter")

MARKDOWN = """---
title: The Salt Road
---

# The Harbour

## Morning

Mara counted the boats before the fog came in.

***

By noon the pier was empty.

# Inland

## The Mill

The road left the sea behind at the mill.
"""


def needs_exporter(format_id: str) -> None:
    assert format_id in {e.id for e in registry.exporters()}, f"no {format_id} exporter"


def markdown_importer() -> str:
    for imp in registry.importers():
        if ".md" in imp.extensions:
            return imp.id
    raise AssertionError("no Markdown importer is registered")


def story_count(window) -> int:
    return len(stories.list_stories(window.db))


def bible_names(window) -> list[str]:
    state = bible_service.load(window.db, window.document.story_id)
    return [c.get("name") for c in state.story_data.get("characters") or []]


def wait_preview(qtbot, dialog: ImportDialog) -> None:
    qtbot.waitUntil(lambda: dialog.preview is not None or dialog.error_box is not None,
                    timeout=10_000)


# --- import ---------------------------------------------------------------------------------

def test_import_markdown_file_makes_a_new_story(make_window, qtbot, tmp_path):
    markdown_importer()
    window = make_window()
    before = story_count(window)
    path = tmp_path / "salt-road.md"
    path.write_text(MARKDOWN, encoding="utf-8")

    dialog = window.formats.import_path(path)
    wait_preview(qtbot, dialog)
    assert dialog.error_box is None
    assert dialog.preview.kind == "story"
    summary = dialog.summary.text()
    assert "chapter" in summary and "scene" in summary
    assert "A new story" in dialog.creates.text()
    assert dialog.import_button.isEnabled()

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.document.detail.fields.title == "The Salt Road",
                    timeout=10_000)
    settle(qtbot, window)
    assert story_count(window) == before + 1
    outline = manuscript.outline(window.db, window.document.story_id)
    assert [c.title for c in outline.chapters] == ["The Harbour", "Inland"]
    assert "new story" in window.statusBar().currentMessage()
    assert not dialog.isVisible()


def test_import_a_novelwriter_folder(make_window, qtbot):
    assert any(i.folders and i.id == "novelwriter" for i in registry.importers())
    window = make_window()
    before = story_count(window)
    dialog = window.formats.import_path(Path("/work/shared/testdata/novelwriter/sample"))
    wait_preview(qtbot, dialog)
    assert dialog.error_box is None, dialog.error_box.informativeText()
    assert dialog.format_value.text() == "novelWriter project"
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: story_count(window) == before + 1 and not dialog.isVisible(),
                    timeout=20_000)
    qtbot.waitUntil(lambda: window.document.detail.fields.title == dialog.preview.title,
                    timeout=10_000)
    assert manuscript.outline(window.db, window.document.story_id).chapters


@pytest.fixture
def slow_importer():
    """An importer that reads slowly and reports progress (so Cancel has a moment)."""
    def read(path: Path, progress=None, **_options) -> ImportPreview:
        for i in range(400):
            if progress:
                progress(i, 400)
            time.sleep(0.01)
        return ImportPreview("slow_import", "story", "Slow", ("1 chapter",), {})

    registry.register_importer(Importer("slow_import", "Slow test import", (".slowimp",),
                                        read))
    yield "slow_import"
    registry._importers.pop("slow_import", None)


def test_cancel_while_reading_closes_and_creates_nothing(make_window, qtbot, tmp_path,
                                                         slow_importer):
    window = make_window()
    before = story_count(window)
    path = tmp_path / "big.slowimp"
    path.write_text("x", encoding="utf-8")
    dialog = window.formats.import_path(path)
    qtbot.waitUntil(lambda: dialog.progress.value() > 5, timeout=10_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.preview is None and dialog.error_box is None
    assert story_count(window) == before


def test_cancel_while_storing_a_long_story_leaves_nothing(make_window, qtbot):
    window = make_window()
    before = story_count(window)
    chapters = [{"title": f"Chapter {c}", "scenes": [
        {"title": f"Scene {c}.{n}", "segments": [{"text": "The tide came in. " * 40}] * 5}
        for n in range(10)]} for c in range(120)]
    preview = ImportPreview("markdown", "story", "A Long Book", ("120 chapters",),
                            {"title": "A Long Book", "manuscript": {"chapters": chapters}},
                            source="/tmp/long.md")
    dialog = ImportDialog.for_preview(window, preview)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.apply_progress.isVisible() and dialog.cancel_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20_000)
    settle(qtbot, window)
    assert dialog.error_box is None
    assert window.statusBar().currentMessage() == "Import cancelled; nothing was created."
    assert story_count(window) == before


def test_a_broken_file_is_refused_and_nothing_is_created(make_window, qtbot, tmp_path):
    window = make_window()
    before = story_count(window)
    path = tmp_path / "not-a-story.html"  # an HTML page, not a Twine story
    path.write_text("<html><body><p>Just a page.</p></body></html>", encoding="utf-8")

    dialog = window.formats.import_path(path)
    wait_preview(qtbot, dialog)
    assert dialog.preview is None
    box = dialog.error_box
    assert box is not None and box.isVisible()
    assert "not-a-story.html" in box.text()
    assert "Nothing was imported" in box.informativeText()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert story_count(window) == before
    box.close()


def test_unknown_kind_of_file_is_refused(make_window, qtbot, tmp_path):
    window = make_window()
    path = tmp_path / "notes.xyz"
    path.write_text("hello", encoding="utf-8")
    dialog = window.formats.import_path(path)
    wait_preview(qtbot, dialog)
    assert dialog.error_box is not None
    assert "cannot import" in dialog.error_box.informativeText()
    dialog.error_box.close()


def _bible_preview() -> ImportPreview:
    """Seraphina as the cards importer would give her (a hand-made BIBLE preview)."""
    return ImportPreview(
        format="test", kind=BIBLE, title="Seraphina",
        summary=("1 character: Seraphina", "1 location: Eldoria Forest"),
        data={"characters": [{"name": "Seraphina", "aliases": ["Sera"],
                              "description": "A guardian of the forest glade.",
                              "traits": ["kind", "protective"]}]},
        warnings=("The card's example dialogue is kept as a note.",),
        source="/tmp/default_Seraphina.png")


def _seraphina_dialog(window, qtbot) -> ImportDialog:
    try:
        registry.importer_for(SERAPHINA)
        has_cards = any(".png" in i.extensions for i in registry.importers())
    except Exception:  # noqa: BLE001 - no card importer yet
        has_cards = False
    if has_cards:
        dialog = window.formats.import_path(SERAPHINA)
        wait_preview(qtbot, dialog)
        assert dialog.error_box is None, dialog.error_box.informativeText()
        return dialog
    return ImportDialog.for_preview(window, _bible_preview())


def test_card_goes_into_the_open_bible_as_one_undo_step(make_window, qtbot):
    window = make_window()
    settle(qtbot, window)
    story_id = window.document.story_id
    before = story_count(window)
    assert "Seraphina" not in bible_names(window)

    dialog = _seraphina_dialog(window, qtbot)
    assert dialog.preview.kind == BIBLE
    assert "Added to the scene bible of “The Lighthouse Keeper’s Daughter”" in \
        dialog.creates.text()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settle(qtbot, window)
    assert "Seraphina" in bible_names(window)
    assert story_count(window) == before and window.document.story_id == story_id
    stack = window.document.undo_stack
    assert stack.undoText() == "Import Seraphina"
    assert window.act_undo.text() == "&Undo Import Seraphina"

    window.act_undo.trigger()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: "Seraphina" not in bible_names(window), timeout=10_000)
    assert "undone" in window.statusBar().currentMessage()

    window.act_redo.trigger()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: "Seraphina" in bible_names(window), timeout=10_000)


def test_twine_story_extends_the_chapter_graph_as_one_undo_step(make_window, qtbot):
    assert "twine_html" in {i.id for i in registry.importers()}
    from studio.services import chapter_graph

    window = make_window()
    settle(qtbot, window)
    story_id = window.document.story_id

    def count() -> int:
        return len(chapter_graph.load(window.db, story_id).graph["chapters"])

    before = count()
    dialog = window.formats.import_path(TWINE)
    wait_preview(qtbot, dialog)
    assert dialog.preview.kind == "graph"
    assert "chapter graph of “The Lighthouse Keeper’s Daughter”" in dialog.creates.text()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settle(qtbot, window)
    assert count() == before + 3
    window.act_undo.trigger()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: count() == before, timeout=10_000)
    window.act_redo.trigger()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: count() == before + 3, timeout=10_000)


def test_bible_import_needs_an_open_story(make_window, qtbot):
    window = make_window()
    window._close_story()
    dialog = ImportDialog.for_preview(window, _bible_preview())
    assert not dialog.import_button.isEnabled()
    assert "Open a story first" in dialog.creates.text()
    assert dialog.warnings.isVisibleTo(dialog)  # the preview's warning is shown
    dialog.reject()


def test_dropping_a_file_on_the_window_opens_the_import(make_window, qtbot, tmp_path):
    window = make_window()
    path = tmp_path / "story.html"
    path.write_text("<html></html>", encoding="utf-8")
    assert ".html" in {e for i in registry.importers() for e in i.extensions}
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()  # the window takes the drag: the cursor says "drop here"
    # Qt delivers the drop itself only inside a real drag; the window's filter gets it so.
    drop = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    assert window.formats.eventFilter(window, drop)
    assert drop.isAccepted()
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(tmp_path / "picture.xyz"))])
    refused = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, other,
                              Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    assert not window.formats.eventFilter(window, refused)
    qtbot.waitUntil(lambda: window.formats.import_dialog is not None, timeout=5_000)
    dialog = window.formats.import_dialog
    assert dialog.path == path
    wait_preview(qtbot, dialog)
    if dialog.error_box is not None:
        dialog.error_box.close()


# --- export ---------------------------------------------------------------------------------

def open_export(window, qtbot, format_id: str, target: Path):
    dialog = window.formats.export()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    dialog.choose_format(format_id)
    dialog.set_target(target)
    return dialog


@pytest.mark.parametrize("format_id, name", [("markdown", "story.md"),
                                             ("html", "story.html")])
def test_export_writes_the_chapters(make_window, qtbot, tmp_path, format_id, name):
    needs_exporter(format_id)
    window = make_window()
    settle(qtbot, window)
    target = tmp_path / name
    dialog = open_export(window, qtbot, format_id, target)
    assert dialog.form.chapters.count() == len(SAMPLE_CHAPTERS)
    qtbot.waitUntil(lambda: "No. 997" in dialog.preview.toPlainText(), timeout=10_000)

    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=20_000)
    assert dialog.written == target and target.is_file()
    text = target.read_text(encoding="utf-8")
    assert "No. 997" in text and "Board" in text
    assert window.formats.exported_label.text() == f"Exported to {target}"
    assert window.formats.open_folder.isVisible()
    window.statusBar().showMessage("Something else", 1000)  # a later message replaces it
    assert not window.formats.exported_note.isVisible()
    window.statusBar().clearMessage()
    assert not window.formats.exported_note.isVisible()
    assert not dialog.isVisible()


def test_export_only_the_ticked_chapters(make_window, qtbot, tmp_path):
    needs_exporter("markdown")
    window = make_window()
    settle(qtbot, window)
    target = tmp_path / "one.md"
    dialog = open_export(window, qtbot, "markdown", target)
    outline = manuscript.outline(window.db, window.document.story_id)
    dialog.form.set_chapter_checked(outline.chapters[0].uid, False)
    assert dialog.form.options().chapters == (outline.chapters[1].uid,)
    assert "1 of 2 chapters" in dialog.form.chapter_count.text()
    dialog.export()
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=20_000)
    text = target.read_text(encoding="utf-8")
    assert "No. 997" not in text and "Board" in text


def test_no_chapter_ticked_is_refused_in_words(make_window, qtbot, tmp_path):
    needs_exporter("docx")
    window = make_window()
    dialog = open_export(window, qtbot, "docx", tmp_path / "none.docx")
    dialog.form.check_all(False)
    dialog.export()
    assert dialog.job is None
    assert dialog.status.text() == "Tick at least one chapter."
    assert not (tmp_path / "none.docx").exists()
    dialog.reject()


def test_export_into_a_folder_that_cannot_be_written(make_window, qtbot, tmp_path):
    needs_exporter("docx")
    window = make_window()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    dialog = open_export(window, qtbot, "docx", blocker / "story.docx")
    dialog.export()
    qtbot.waitUntil(lambda: dialog.error_box is not None, timeout=10_000)
    assert dialog.error_box.text() == "Could not export the story"
    assert "a-file" in dialog.error_box.informativeText()
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    dialog.error_box.close()
    dialog.reject()


@pytest.fixture
def slow_exporter():
    """An exporter that takes its time and reports progress (so Cancel has a moment)."""
    def write(doc: ExportDoc, out: Path, options: ExportOptions, progress=None) -> Path:
        for i in range(400):
            if progress:
                progress(i, 400)
            time.sleep(0.01)
        Path(out).write_text(doc.title, encoding="utf-8")
        return Path(out)

    registry.register_exporter(Exporter("slow_test", "Slow test format", ".slow", write,
                                        options=("chapters",)))
    yield "slow_test"
    registry._exporters.pop("slow_test", None)


def test_cancel_stops_the_export_and_writes_nothing(make_window, qtbot, tmp_path,
                                                    slow_exporter):
    window = make_window()
    target = tmp_path / "slow.slow"
    dialog = open_export(window, qtbot, slow_exporter, target)
    dialog.export()
    qtbot.waitUntil(lambda: dialog.progress.isVisible() and dialog.progress.value() > 5,
                    timeout=10_000)
    assert not dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.status.text() == "Export cancelled; nothing was written."
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
    dialog.reject()
    assert not dialog.isVisible()


def test_export_dialog_lists_what_the_registry_has(make_window, qtbot, slow_exporter):
    window = make_window()
    dialog = window.formats.export()
    labels = [dialog.formats.item(i).text() for i in range(dialog.formats.count())]
    assert labels == [e.label for e in registry.exporters()]
    assert "Slow test format" in labels
    dialog.choose_format(slow_exporter)
    assert dialog.target.text().endswith(".slow")
    assert dialog.form.chapters.isVisibleTo(dialog)
    assert not dialog.form.author.isVisibleTo(dialog)
    dialog.reject()


def test_card_export_offers_the_bible_characters(make_window, qtbot, tmp_path):
    cards = [e for e in registry.exporters()
             if "character_id" in e.options and e.extension == ".json"]
    assert cards, "no character-card exporter is registered"
    window = make_window()
    dialog = window.formats.export()
    qtbot.waitUntil(lambda: dialog.loaded and bool(dialog.characters), timeout=10_000)
    dialog.choose_format(cards[0].id)
    names = [dialog.form.character.itemText(i) for i in range(dialog.form.character.count())]
    assert names == [c["name"] for c in dialog.characters]
    dialog.form.choose_character(dialog.characters[1]["id"])
    second = names[1]
    assert Path(dialog.target.text()).name == f"{second}.json"  # named after the character
    qtbot.waitUntil(lambda: dialog.preview.toPlainText().startswith(second), timeout=10_000)
    assert "Personality:" in dialog.preview.toPlainText()
    dialog.set_target(tmp_path / "card.json")
    dialog.export()
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=10_000)
    card = json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))
    assert card["data"]["name"] == second


def test_closing_the_window_stops_a_running_export(make_window, qtbot, tmp_path,
                                                   slow_exporter):
    window = make_window()
    target = tmp_path / "slow.slow"
    dialog = open_export(window, qtbot, slow_exporter, target)
    dialog.export()
    qtbot.waitUntil(lambda: dialog.job is not None and dialog.job.running
                    and dialog.progress.value() > 2, timeout=10_000)
    job = dialog.job
    window.close()
    assert not job._thread.is_alive()  # cancelled and waited for
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_library_menu_exports_a_story_that_is_not_open(make_window, qtbot):
    window = make_window()
    other = stories.create_story(window.db, "The Other Book")
    window.refresh_library()
    qtbot.waitUntil(lambda: any(s.id == other.id for s in window.library.summaries))
    window.library.formatExportRequested.emit(other.id)
    dialog = window.formats.export_dialog
    assert dialog.story_id == other.id
    assert dialog.windowTitle() == "Export “The Other Book”"
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    assert dialog.form.chapters.count() == 0
    assert Path(dialog.target.text()).stem.startswith("The Other Book")
    dialog.reject()

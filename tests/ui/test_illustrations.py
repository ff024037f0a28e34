"""Scene illustrations in a real window, offscreen, against a real (fake) Automatic1111 server
over HTTP: Illustrate scene… makes and stores a picture and the outline card shows it; a preset
with a LoRA made in the presets editor reaches the server in WebUI syntax; a failing, silent or
cancelled service stores nothing and says why; without an image provider the dialog says how
to add one.  Plus the outline's thumbnails on their own (hundreds of cards, broken bytes)."""

from __future__ import annotations

import time

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QMessageBox, QTableWidgetItem

from studio.domain.outline import ChapterInfo, Outline, SceneInfo
from studio.providers.base import Capability, ImagePreset, Lora
from studio.services import illustrations
from studio.services import providers as provider_service
from studio.ui.dialogs.image_presets_dialog import ImagePresetsDialog
from studio.ui.panels.manuscript_panel import ManuscriptPanel
from studio.ui.widgets.outline_images import THUMB, shrink_images, thumbnail_rect
from studio.ui.widgets.outline_view import OutlineView
from tests.providers.fakes import _a1111_fake_server, a1111_fake  # noqa: F401  (fixtures)
from tests.ui.conftest import settle

# The fake WebUI answers a flat picture whose colour comes from the seed (random: 1234567).
FAKE_COLOUR = QColor((1234567 * 37) % 256, (1234567 * 91) % 256, (1234567 * 53) % 256)




def use_a1111(db, fake, name: str = "Local WebUI", **settings) -> int:
    config = provider_service.save_provider(db, "a1111", name,
                                            dict(fake.config(**settings).settings))
    provider_service.set_default(db, Capability.IMAGE.value, config.id)
    return config.id


def manuscript(window, qtbot) -> ManuscriptPanel:
    panel = next(p for p in window.panels if isinstance(p, ManuscriptPanel))
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.outline is not None and panel.current_scene_uid is not None,
                    timeout=10_000)
    return panel


def open_dialog(qtbot, panel, uid: str):
    panel.illustrate_scene(uid)
    dialog = panel.illustrate_dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    return dialog


def generate(qtbot, dialog, timeout: int = 15_000) -> None:
    qtbot.mouseClick(dialog.generate_button, Qt.MouseButton.LeftButton)
    assert dialog.generating() and dialog.busy.isVisible() and dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not dialog.generating(), timeout=timeout)
    assert not dialog.busy.isVisible() and not dialog.cancel_button.isVisible()


def png(colour: QColor, width: int = 96, height: int = 64) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(colour)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def test_illustrate_a_scene_and_see_it_on_its_outline_card(make_window, qtbot, qt_loop,
                                                           a1111_fake):
    window = make_window()
    panel = manuscript(window, qtbot)
    db, story_id = window.db, window.document.story_id
    use_a1111(db, a1111_fake)
    uid = panel.current_scene_uid
    scene = panel.outline.scene(uid)
    view = panel.outline_view
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: uid in view.scene_uids())
    settle(qtbot, window)
    card = view.card_rect(uid)
    before = view.canvas.grab(card).toImage()
    assert not view.has_image(uid)

    # Ctrl+Alt+I on the outline illustrates the focused card.
    view.canvas.setFocus()
    view.set_current_scene(uid)
    qtbot.keyClick(view.canvas, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.illustrate_dialog is not None, timeout=5_000)
    dialog = panel.illustrate_dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    assert dialog.scene_uid == uid
    assert dialog.prompt.toPlainText().startswith(f"{scene.title}: {scene.synopsis[:20]}")
    assert dialog.preset_combo.currentText() == illustrations.DEFAULT_PRESET.name
    assert "768 × 512" in dialog.preset_summary.text()
    assert not dialog.preview.has_picture() and dialog.image_ids() == []

    # The author sharpens the prompt, then generates.
    dialog.prompt.setPlainText(dialog.prompt.toPlainText() + ", seen from the gallery")
    generate(qtbot, dialog)
    assert "Done" in dialog.status.text(), dialog.status.text()
    assert dialog.preview.has_picture()
    sent = a1111_fake.requests[-1]
    assert sent.path == "/sdapi/v1/txt2img"
    assert sent.json["prompt"].startswith(f"{scene.title}: ")
    assert "seen from the gallery" in sent.json["prompt"]
    assert illustrations.DEFAULT_PRESET.style in sent.json["prompt"]

    stored = illustrations.scene_images(db, story_id, uid)
    assert len(stored) == 1 and stored[0].provider_name == "Local WebUI"
    qtbot.waitUntil(lambda: dialog.image_ids() == [stored[0].id])
    usage = provider_service.usage_summary(db, story_id)
    assert [(u.provider, u.images) for u in usage] == [("Local WebUI", 1)]

    # The card shows the picture: the view knows it, and the card's pixels changed there.
    qtbot.waitUntil(lambda: view.has_image(uid), timeout=5_000)
    assert view.image_uids() == [uid]
    qtbot.waitUntil(lambda: view.canvas.grab(card).toImage() != before)
    after = view.canvas.grab(card).toImage()
    thumb = thumbnail_rect(card, 10).translated(-card.topLeft())
    centre = after.pixelColor(thumb.center())
    assert max(abs(centre.red() - FAKE_COLOUR.red()), abs(centre.green() - FAKE_COLOUR.green()),
               abs(centre.blue() - FAKE_COLOUR.blue())) <= 3
    assert before.pixelColor(thumb.center()) != centre
    others = [u for u in view.scene_uids() if u != uid]
    assert others and not any(view.has_image(u) for u in others)

    # Another story has no pictures; coming back shows this one's again.
    dialog.close()
    qtbot.waitUntil(lambda: panel.illustrate_dialog is None)
    window.new_story()
    qtbot.waitUntil(lambda: window.document is not None and window.document.story_id
                    != story_id)
    qtbot.waitUntil(lambda: view.image_uids() == [])


def test_a_preset_with_a_lora_made_in_the_editor_reaches_the_webui(make_window, qtbot,
                                                                     qt_loop, a1111_fake):
    window = make_window()
    panel = manuscript(window, qtbot)
    use_a1111(window.db, a1111_fake, name="Studio GPU")
    dialog = open_dialog(qtbot, panel, panel.current_scene_uid)
    qtbot.mouseClick(dialog.presets_button, Qt.MouseButton.LeftButton)
    editor = dialog.presets_dialog
    qtbot.waitUntil(lambda: editor.isVisible() and editor.loaded)
    assert editor.list.count() == 1 and not editor.saved  # only the built-in preset
    assert [editor.provider.itemText(i) for i in range(editor.provider.count())] == [
        "The default image provider", "Studio GPU"]

    editor.new_preset()
    editor.name.setText("Ink wash")
    editor.provider.setCurrentIndex(editor.provider.findText("Studio GPU"))
    editor.width_box.setValue(640)
    editor.steps.setValue(18)
    editor.seed.setValue(77)
    editor.style.setPlainText("ink wash, grey paper")
    editor.add_lora()
    for col, text in enumerate(("inkwash_v2", "inkwash style", "abc")):
        editor.loras.setItem(0, col, QTableWidgetItem(text))
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "must be a number" in editor.status.text()  # said before any service call
    editor.loras.item(0, 2).setText("9")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "strength from -5 to 5" in editor.status.text())
    assert "Each LoRA" in editor.status.text()
    assert illustrations.list_presets(window.db) == [illustrations.DEFAULT_PRESET]
    editor.loras.item(0, 2).setText("0.8")
    editor.name.setText("  ")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status.text() == "The name is required.")
    editor.name.setText("Ink wash")
    with qtbot.waitSignal(editor.presetsChanged, timeout=5_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.saved and editor.list.count() == 1)
    assert editor.status.text() == "Saved “Ink wash”."
    editor.close()

    qtbot.waitUntil(lambda: dialog.preset_combo.currentText() == "Ink wash")
    assert "Studio GPU" in dialog.preset_summary.text()
    assert "inkwash_v2 (0.8)" in dialog.preset_summary.text()
    generate(qtbot, dialog)
    assert "Done" in dialog.status.text(), dialog.status.text()
    body = a1111_fake.requests[-1].json
    assert body["prompt"].endswith("ink wash, grey paper, inkwash style, <lora:inkwash_v2:0.8>")
    assert (body["width"], body["steps"], body["seed"]) == (640, 18, 77)
    infos = illustrations.scene_images(window.db, window.document.story_id)
    assert [(i.preset_name, i.provider_name) for i in infos] == [("Ink wash", "Studio GPU")]


def test_presets_are_renamed_and_deleted(make_window, qtbot, monkeypatch):
    window = make_window()
    db = window.db
    illustrations.save_preset(db, ImagePreset(name="Ink wash", steps=18,
                                              loras=(Lora("inkwash_v2", "", 0.8),)))
    illustrations.save_preset(db, ImagePreset(name="Watercolour"))
    editor = ImagePresetsDialog(db, window.runner, "Ink wash", window)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitUntil(lambda: editor.loaded)
    assert editor.name.text() == "Ink wash" and editor.steps.value() == 18
    assert editor.loras.rowCount() == 1 and editor.loras.item(0, 0).text() == "inkwash_v2"
    # A name that is taken is refused before anything is written.
    editor.name.setText("Watercolour")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "already a preset called “Watercolour”" in editor.status.text()
    # Renaming keeps one preset, under the new name; a removed LoRA row is gone.
    editor.name.setText("Ink and wash")
    editor.loras.selectRow(0)
    qtbot.mouseClick(editor.remove_lora_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.presetsChanged) as changed:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert changed.args == ["Ink and wash"]
    qtbot.waitUntil(lambda: editor.list.currentItem().text() == "Ink and wash")
    assert [editor.list.item(i).text() for i in range(2)] == ["Ink and wash", "Watercolour"]
    assert [p.name for p in illustrations.list_presets(db)] == ["Ink and wash", "Watercolour"]
    assert illustrations.get_preset(db, "Ink and wash").loras == ()
    # Deleting asks first.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    editor.delete_preset()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.list.count() == 1)
    assert [p.name for p in illustrations.list_presets(db)] == ["Watercolour"]
    assert editor.status.text() == "Deleted “Ink and wash”."
    editor.close()


def test_failures_store_nothing_and_say_why(make_window, qtbot, qt_loop, a1111_fake):
    window = make_window()
    panel = manuscript(window, qtbot)
    db, story_id = window.db, window.document.story_id
    use_a1111(db, a1111_fake, timeout=1)
    uid = panel.current_scene_uid
    dialog = open_dialog(qtbot, panel, uid)

    a1111_fake.fail_next(500, {"error": "OutOfMemoryError", "errors": "CUDA out of memory"})
    generate(qtbot, dialog)
    text = dialog.status.text()
    assert "failed on its side (500)" in text and "OutOfMemoryError" in text
    assert "#b3261e" in dialog.status.styleSheet()  # shown as an error
    assert not dialog.providers_button.isVisible()  # nothing to fix in the providers

    a1111_fake.hang_next(10)
    generate(qtbot, dialog, timeout=10_000)
    assert "did not answer within 1 s" in dialog.status.text()

    # Cancel while the service thinks: the request is dropped and nothing is stored.
    a1111_fake.hang_next(30)
    qtbot.mouseClick(dialog.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.path == "/sdapi/v1/txt2img" for r in a1111_fake.requests[2:]))
    started = time.monotonic()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.generating(), timeout=5_000)
    assert time.monotonic() - started < 2
    assert dialog.status.text() == "Cancelled: no picture was stored."
    assert dialog.generate_button.isEnabled() and not dialog.busy.isVisible()
    settle(qtbot, window)

    assert illustrations.scene_images(db, story_id) == []
    assert provider_service.usage_summary(db, story_id) == []
    assert not dialog.preview.has_picture() and dialog.image_ids() == []
    panel.tabs.setCurrentWidget(panel.outline_view)
    settle(qtbot, window)
    assert panel.outline_view.image_uids() == []


def test_without_an_image_provider_the_dialog_says_how_to_add_one(make_window, qtbot, qt_loop):
    window = make_window()
    panel = manuscript(window, qtbot)
    dialog = open_dialog(qtbot, panel, panel.current_scene_uid)
    generate(qtbot, dialog)
    text = dialog.status.text()
    assert "No provider for images is set up" in text and "AI providers" in text
    assert "Automatic1111" in text  # what to add for pictures, not every kind of service
    assert dialog.providers_button.isVisible()
    qtbot.mouseClick(dialog.providers_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "providers_dialog", None) is not None
                    and window.providers_dialog.isVisible())
    window.providers_dialog.close()
    assert illustrations.scene_images(window.db, window.document.story_id) == []


def test_earlier_pictures_and_deleting_one(make_window, qtbot, qt_loop, monkeypatch):
    window = make_window()
    panel = manuscript(window, qtbot)
    db, story_id = window.db, window.document.story_id
    uid = panel.current_scene_uid
    older = illustrations.store_image(db, story_id, uid, "older", "P", "X",
                                      png(QColor("#2a6f97")), "image/png")
    newer = illustrations.store_image(db, story_id, uid, "newer", "P", "X",
                                      png(QColor("#e07a5f")), "image/png")
    view = panel.outline_view
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.has_image(uid))
    dialog = open_dialog(qtbot, panel, uid)
    assert dialog.image_ids() == [newer.id, older.id]  # newest first
    assert dialog.preview.has_picture() and dialog.last_info.id == newer.id
    assert "newer" in dialog.caption.text()

    dialog.gallery.setCurrentRow(1)
    qtbot.waitUntil(lambda: dialog.last_info.id == older.id)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert dialog.image_ids() == [newer.id, older.id]  # said no: nothing deleted
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.image_ids() == [newer.id])
    assert [i.id for i in illustrations.scene_images(db, story_id)] == [newer.id]
    qtbot.waitUntil(lambda: dialog.last_info is not None and dialog.last_info.id == newer.id)

    dialog.gallery.setCurrentRow(0)
    dialog.delete_selected(confirm=False)
    qtbot.waitUntil(lambda: dialog.image_ids() == [])
    assert not dialog.preview.has_picture()
    qtbot.waitUntil(lambda: not view.has_image(uid))  # the card has no picture any more


# --- the outline's thumbnails on their own ---

def big_outline(chapters: int = 30, scenes: int = 12) -> Outline:
    synopsis = ("Rain on the lamp-room glass, and the keeper's daughter counting the ships "
                "that did not come back.")
    return Outline(1, [
        ChapterInfo(f"c{c}", f"Chapter {c}", "", "draft", None, c, scenes=[
            SceneInfo(f"s{c}-{k}", f"c{c}", f"Scene {k}", synopsis, "draft", 1200, k)
            for k in range(scenes)])
        for c in range(chapters)], None, "en", 0)


def test_hundreds_of_illustrated_cards_paint_quickly(qtbot):
    view = OutlineView()
    qtbot.addWidget(view)
    view.resize(1100, 800)
    view.show()
    qtbot.waitExposed(view)
    outline = big_outline()
    view.set_outline(outline)
    uids = view.scene_uids()
    colours = ["#2a6f97", "#e07a5f", "#81b29a", "#f2cc8f"]
    # Full-size pictures are shrunk off the UI thread; the view gets small squares.
    big = {uid: png(QColor(colours[i % 4]), 768, 512) for i, uid in enumerate(uids)}
    small = shrink_images(big)
    assert all(QImage.fromData(b).size().width() == 2 * THUMB for b in small.values())
    small[uids[1]] = b"not a picture"  # broken bytes: no thumbnail, no crash
    started = time.perf_counter()
    view.set_images(small)
    assert time.perf_counter() - started < 0.5  # nothing is decoded yet (decoding all takes seconds)
    started = time.perf_counter()
    view.canvas.grab(view.viewport().rect())
    first = time.perf_counter() - started
    started = time.perf_counter()
    view.canvas.grab(view.viewport().rect())
    again = time.perf_counter() - started
    assert first < 0.5 and again < 0.25, (first, again)
    assert view.has_image(uids[0]) and not view.has_image(uids[1])
    assert len(view.image_uids()) == len(uids) - 1
    # A picture that changes repaints; an unchanged set keeps the cached pixmaps.
    cached = view.canvas.thumbs._pixmaps[uids[0]]
    view.set_images(dict(small))
    assert view.canvas.thumbs._pixmaps[uids[0]] is cached
    view.set_images({})
    assert view.image_uids() == []

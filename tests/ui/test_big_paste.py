"""A 10 MB paste into a scene: it is split, saved and indexed, and a progress indicator shows
while the save runs."""

from __future__ import annotations

import time

from PySide6.QtCore import QMimeData

from studio.services import manuscript as ms
from tests.ui.conftest import settle


def test_pasting_ten_megabytes(make_window, qtbot):
    window = make_window()
    db, story_id = window.db, window.document.story_id
    chapter = ms.add_chapter(db, story_id, "Huge")
    scene = ms.add_scene(db, story_id, chapter.uid, "Paste")
    panel = window.panels[1]
    window.show_panel(panel)
    panel.refresh_outline(then=lambda _o: panel.open_scene(scene.uid))
    qtbot.waitUntil(lambda: panel.current_scene_uid == scene.uid)
    paragraph = ("The tide came in over the causeway and the lamp burned on, as it had "
                 "every night for a hundred years. ") * 4
    paragraphs = [f"{paragraph}token{i}" for i in range(10_000_000 // len(paragraph))]
    big = "\n".join(paragraphs)
    assert len(big) >= 10_000_000
    mime = QMimeData()
    mime.setText(big)
    panel.editor.edit.setFocus()
    started = time.perf_counter()
    panel.editor.edit.insertFromMimeData(mime)  # what Ctrl+V does
    returned_s = time.perf_counter() - started
    assert returned_s < 2.0  # the paste continues in pieces; the window stays responsive
    assert panel.busy.isVisible()
    qtbot.waitUntil(lambda: not panel.editor.edit.isReadOnly(), timeout=60_000)
    inserted_s = time.perf_counter() - started
    assert panel.editor.edit.document().characterCount() >= len(big)
    settle(qtbot, window, timeout=120_000)
    assert not panel.busy.isVisible()
    last = len(paragraphs) - 1
    assert ms.search(db, story_id, f"token{last}").total == 1
    assert ms.search(db, story_id, "token0").total == 1
    stored = ms.load_scene(db, story_id, scene.uid)
    assert len(stored.segments) == len(paragraphs)
    print(f"paste returned in {returned_s:.3f} s, inserted in {inserted_s:.2f} s, "
          f"{len(paragraphs)} paragraphs")
    # One undo step takes the whole paste back out.
    panel.editor.edit.undo()
    assert panel.editor.edit.toPlainText() == ""

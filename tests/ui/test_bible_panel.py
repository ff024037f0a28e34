"""The Scene Bible panel in a real window on a real data folder: editing a character saves a
bible version, the JSON view shows errors with their path, the time slider shows the past,
findings jump to their paragraph, stale saves are refused with both versions shown, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QListWidget, QPlainTextEdit

from studio.services import bible, stories
from studio.services import manuscript as ms
from studio.store.database import Database
from studio.ui.dialogs.stale_bible_dialog import StaleBibleDialog
from studio.ui.panels.bible_panel import BiblePanel
from tests.ui.conftest import settle


def bible_panel(window, qtbot) -> BiblePanel:
    panel = next(p for p in window.panels if isinstance(p, BiblePanel))
    window.show_panel(panel)
    qtbot.waitUntil(lambda: panel.state is not None and window.runner.is_idle(),
                    timeout=10_000)
    return panel


def story_with_unknown_speaker(window, qtbot):
    """A new story whose prose has a speaker the bible does not know."""
    db = window.db
    story = stories.create_story(db, "Harbour Lights")
    ch = ms.add_chapter(db, story.id, "One")
    ms.add_scene(db, story.id, ch.uid, "Quay", text="Ada watched the boats come in.")
    scene = ms.add_scene(db, story.id, ch.uid, "Storm", text=(
        "The wind rose.\n\n“Get the nets in,” said Marlow.\n\n"
        "“Now, before it breaks,” Marlow shouted.\n\nAda ran."))
    bible.save(db, story.id, "story", 0, {"characters": [
        {"id": "char_ada", "name": "Ada Quill", "aliases": ["Ada"]}]})
    window.open_story(story.id)
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.story_id == story.id, timeout=10_000)
    return story, scene


def test_editing_a_character_saves_a_new_bible_version(make_window, qtbot):
    window = make_window()
    panel = bible_panel(window, qtbot)
    story_id = window.document.story_id
    before = bible.load(window.db, story_id)
    chars = panel.editor.findChild(QListWidget, "characterList")
    chars.setCurrentRow(0)
    name = panel.editor.findChild(QLineEdit, "characterName")
    assert name.text() == "Wren Calloway"
    name.selectAll()
    qtbot.keyClicks(name, "Wren Calloway-Penrose")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bible.load(window.db, story_id).story_version
                    == before.story_version + 1, timeout=10_000)
    after = bible.load(window.db, story_id)
    wren = next(c for c in after.story_data["characters"] if c["id"] == "char_wren")
    assert wren["name"] == "Wren Calloway-Penrose"
    history = bible.versions(window.db, story_id)
    assert history[-1].summary == "edited character Wren Calloway-Penrose"
    # Undo saves the earlier record again, as one more version.
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: bible.load(window.db, story_id).story_version
                    == before.story_version + 2, timeout=10_000)
    assert bible.load(window.db, story_id).story_data == before.story_data
    qtbot.waitUntil(lambda: name.text() == "Wren Calloway")


def test_the_json_view_shows_path_and_reason_and_refuses_to_apply(make_window, qtbot):
    window = make_window()
    panel = bible_panel(window, qtbot)
    panel.editor.show_section("json")
    text = panel.editor.findChild(QPlainTextEdit, "bibleJson")
    errors = panel.editor.findChild(QListWidget, "jsonErrors")
    story_id = window.document.story_id
    version = bible.load(window.db, story_id).story_version
    broken = text.toPlainText().replace('"target": "char_tobias"', '"target": "char_nobody"', 1)
    assert broken != text.toPlainText()
    text.setPlainText(broken)
    qtbot.waitUntil(lambda: errors.count() > 0, timeout=3000)
    shown = [errors.item(i).text() for i in range(errors.count())]
    assert any("characters/0/relationships/0/target" in s and "char_nobody" in s
               for s in shown), shown
    text.setPlainText("{ not json")
    qtbot.waitUntil(lambda: any("line 1" in errors.item(i).text()
                                for i in range(errors.count())), timeout=3000)
    settle(qtbot, window)
    assert bible.load(window.db, story_id).story_version == version


def test_the_slider_shows_the_bible_as_of_a_scene(make_window, qtbot):
    window = make_window()
    panel = bible_panel(window, qtbot)
    qtbot.waitUntil(lambda: panel.slider.maximum() == 3)
    chars = panel.editor.findChild(QListWidget, "characterList")
    assert chars.count() == 6
    panel.slider.setValue(0)  # end of 1.1 The glove: only version 1 existed by then
    qtbot.waitUntil(lambda: panel.editor.read_only and chars.count() == 2, timeout=10_000)
    assert "As of the end of 1.1 The glove" in panel.editor.banner.text()
    assert "book version 1" in panel.editor.banner.text()
    panel.slider.setValue(panel.slider.maximum())
    qtbot.waitUntil(lambda: not panel.editor.read_only and chars.count() == 6)
    assert panel.as_of_label.text() == "Now (latest)"


def finished_check(panel, qtbot) -> None:
    """Run a check and wait until it (and any check the panel started itself) is done."""
    panel.run_check()
    qtbot.waitUntil(lambda: panel.findings.run_button.isEnabled(), timeout=10_000)


def select_finding(panel, rule: str):
    finding = next((f for f in panel.findings.findings() if f.rule == rule), None)
    assert finding is not None, f"no {rule} finding in {panel.findings.findings()}"
    assert panel.findings.select_finding(finding.key)
    return finding


def test_a_finding_jumps_to_its_paragraph_and_can_be_added_to_the_bible(make_window, qtbot):
    window = make_window()
    story, scene = story_with_unknown_speaker(window, qtbot)
    panel = bible_panel(window, qtbot)
    finished_check(panel, qtbot)
    finding = select_finding(panel, "unknown_character")
    assert finding.subject == "Marlow" and finding.scene_uid == scene.uid
    qtbot.keyClick(panel.findings.tree, Qt.Key.Key_Return)  # Enter opens the paragraph
    manuscript = window.panels[1]
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is manuscript
                    and manuscript.current_scene_uid == scene.uid, timeout=10_000)
    cursor = manuscript.editor.edit.textCursor()
    assert "said Marlow" in cursor.block().text()
    # Add to bible: the new character remembers where it came from.
    window.show_panel(panel)
    select_finding(panel, "unknown_character")
    panel.findings.add_button.click()
    qtbot.waitUntil(lambda: len(bible.load(window.db, story.id).story_data["characters"]) == 2,
                    timeout=10_000)
    marlow = bible.load(window.db, story.id).story_data["characters"][1]
    assert marlow["name"] == "Marlow" and marlow["introduced_in"] == finding.segment_id
    assert bible.versions(window.db, story.id)[-1].cause_segment == finding.segment_id
    finished_check(panel, qtbot)
    assert not any(f.subject == "Marlow" for f in panel.findings.findings())


def test_dismissed_findings_stay_dismissed(make_window, qtbot):
    window = make_window()
    story, _ = story_with_unknown_speaker(window, qtbot)
    panel = bible_panel(window, qtbot)
    finished_check(panel, qtbot)
    count = len(panel.findings.findings())
    assert count >= 1
    select_finding(panel, "unknown_character")
    panel.findings.dismiss_button.click()
    assert len(panel.findings.findings()) == count - 1
    settle(qtbot, window)
    finished_check(panel, qtbot)
    assert len(panel.findings.findings()) == count - 1
    assert "1 dismissed" in panel.findings.status.text()


def test_a_stale_save_is_refused_and_both_versions_are_shown(make_window, qtbot,
                                                             data_dir, monkeypatch):
    window = make_window()
    panel = bible_panel(window, qtbot)
    story_id = window.document.story_id
    seen = []

    def fake_exec(dialog):
        seen.append((dialog.findChild(QPlainTextEdit, "theirs").toPlainText(),
                     dialog.findChild(QPlainTextEdit, "yours").toPlainText()))
        dialog.choice = StaleBibleDialog.KEEP_THEIRS
        return 0

    monkeypatch.setattr(StaleBibleDialog, "exec", fake_exec)
    other = Database.open(data_dir)  # a second window on the same library
    try:
        state = bible.load(other, story_id)
        data = dict(state.story_data, style_guide={"tone": "changed elsewhere"})
        bible.save(other, story_id, "story", state.story_version, data)
    finally:
        other.close()
    panel.editor.show_section("style")
    tone = panel.editor.findChild(QLineEdit, "style_tone") or panel.editor.findChild(
        QPlainTextEdit, "style_tone")
    tone.setFocus()
    if isinstance(tone, QLineEdit):
        tone.selectAll()
        qtbot.keyClicks(tone, "mine")
        qtbot.keyClick(tone, Qt.Key.Key_Return)
    else:
        tone.selectAll()
        qtbot.keyClicks(tone, "mine")
        panel.editor.flush()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    theirs, yours = seen[0]
    assert "changed elsewhere" in theirs and "mine" in yours
    # Nothing was overwritten; the panel shows the latest again.
    latest = bible.load(window.db, story_id)
    assert latest.story_data["style_guide"] == {"tone": "changed elsewhere"}
    qtbot.waitUntil(lambda: panel.state.story_version == latest.story_version, timeout=10_000)


def test_recording_an_emotion_updates_the_arc(make_window, qtbot):
    window = make_window()
    panel = bible_panel(window, qtbot)
    story_id = window.document.story_id
    ed = panel.emotion_editor
    qtbot.waitUntil(lambda: ed.scene.count() == 3 and ed.character.count() == 6)
    ed.pick(character_id="char_finn", scene_uid=ed.scene.itemData(2))
    ed.primary.setCurrentText("fear")
    ed.intensity.setValue(0.9)
    ed.secondary.setText("sadness 0.3")
    assert "intense fear" in ed.modifiers.text() or "overwhelming fear" in ed.modifiers.text()
    assert "hints of sadness" in ed.modifiers.text()
    ed.save_button.click()
    from studio.services import emotions
    qtbot.waitUntil(lambda: any(s.character_id == "char_finn"
                                for s in emotions.list_states(window.db, story_id)),
                    timeout=10_000)
    # The chart draws Finn's new point in the third scene.
    qtbot.waitUntil(lambda: panel.chart._points.get("Finn Ashby") == [(2, 0.9, "fear")],
                    timeout=10_000)


def test_editing_the_series_scope_saves_the_series_bible(make_window, qtbot):
    window = make_window()
    story, _scene = story_with_unknown_speaker(window, qtbot)
    bible.create_series(window.db, story.id, "Harbour Trilogy")
    panel = bible_panel(window, qtbot)
    panel.refresh()  # the series was made behind the panel's back (as by another window)
    qtbot.waitUntil(lambda: panel.scope_box.count() == 2, timeout=10_000)
    assert panel.scope_box.itemText(1) == "Series: Harbour Trilogy"
    panel.scope_box.setCurrentIndex(1)
    assert "series bible of “Harbour Trilogy”" in panel.editor.banner.text()
    panel.editor.show_section("style")
    tone = panel.editor.style_page.fields["tone"]
    tone.setFocus()
    qtbot.keyClicks(tone, "salt and iron")
    panel.editor.flush()
    qtbot.waitUntil(lambda: bible.load(window.db, story.id).series_version == 1, timeout=10_000)
    state = bible.load(window.db, story.id)
    assert state.series_data == {"style_guide": {"tone": "salt and iron"}}
    assert "style_guide" not in state.story_data
    assert panel._series_cache and panel._series_cache[0].name == "Harbour Trilogy"

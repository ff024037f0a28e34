"""The Voices panel in a real window on a real data folder, offscreen: templates (the built-in
set, new, supersede, hide; no delete), samples (a generated sine WAV imported with its waveform,
a corrupt file refused with its reason, trim keeps the original, recording disabled with the
reason when there is no audio device), narrations (a paragraph's voice and emotion chosen and
undone; a chapter rendered through a fake ElevenLabs server with progress; a render stopped by
the quota at paragraph 7 and resumed by a second Render), emotion voices (the how-to without a
provider; training against the fake) and roleplay lines."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from studio.domain.voices import BUILTIN_TEMPLATES
from studio.providers.base import Capability
from studio.services import bible, marketplace_outbox, stories, voice_samples
from studio.services import manuscript as ms
from studio.services import providers as provider_service
from studio.ui.panels.voice_panel import VoicePanel
from tests.providers.fakes import _elevenlabs_fake_server, elevenlabs_fake  # noqa: F401
from tests.ui.conftest import settle

RACHEL = "21m00Tcm4TlvDq8ikWAM"  # a premade voice of the fake
ADA = {"id": "char_ada", "name": "Ada Quill", "aliases": ["Ada"]}
TOM = {"id": "char_tom", "name": "Tom Harrow", "aliases": ["Tom"]}
QUAY = ["The ferry came in under a bruised sky.",
        "“I waited all night,” said Ada.",
        "Tom tied the rope to the bollard and did not look up.",
        "“You should have gone home,” Tom said."]
LAMP = ["The lamp room smelled of oil and salt.",
        "“Light it,” said Ada. “Light it now.”",
        "Gulls argued on the gallery rail."]
STORM = ["Rain hammered the glass all evening.",
         "“It will hold,” Ada whispered.",
         "Morning came grey and quiet."]


def sine_wav(path: Path, seconds: float = 1.5, freq: float = 440.0, rate: int = 22050) -> Path:
    """A mono 16-bit WAV of a sine tone that swells and fades (a waveform worth looking at)."""
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(14000 * math.sin(math.pi * i / n)
                                            * math.sin(2 * math.pi * freq * i / rate)))
                      for i in range(n))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    path.write_bytes(buf.getvalue())
    return path


def open_story(window, qtbot, title: str = "The Lamp") -> int:
    """Two chapters (seven and three paragraphs), Ada and Tom in the bible."""
    db = window.db
    story = stories.create_story(db, title)
    arrival = ms.add_chapter(db, story.id, "Arrival")
    night = ms.add_chapter(db, story.id, "Night")
    ms.add_scene(db, story.id, arrival.uid, "The quay", text="\n\n".join(QUAY))
    ms.add_scene(db, story.id, arrival.uid, "The lamp", text="\n\n".join(LAMP))
    ms.add_scene(db, story.id, night.uid, "The storm", text="\n\n".join(STORM))
    bible.save(db, story.id, "story", 0, {"characters": [ADA, TOM]})
    window.open_story(story.id)
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.story_id == story.id, timeout=10_000)
    return story.id


def voice_panel(window, qtbot, tab: str = "Templates") -> VoicePanel:
    panel = next(p for p in window.panels if isinstance(p, VoicePanel))
    window.show_panel(panel)
    show_tab(panel, tab)
    qtbot.waitUntil(lambda: panel.audio.probed, timeout=15_000)
    qtbot.waitUntil(window.runner.is_idle, timeout=10_000)
    return panel


def show_tab(panel: VoicePanel, name: str) -> None:
    for i in range(panel.tabs.count()):
        if panel.tabs.tabText(i) == name:
            panel.tabs.setCurrentIndex(i)
            return
    raise AssertionError(f"no tab {name}")


def use_elevenlabs(db, fake) -> int:
    config = provider_service.save_provider(db, "elevenlabs", "ElevenLabs (fake)",
                                            dict(fake.config().settings), key=fake.key)
    provider_service.set_default(db, Capability.SPEECH.value, config.id)
    provider_service.set_default(db, Capability.VOICE_CLONE.value, config.id)
    return config.id


def names(model) -> list[str]:
    return [t.name for t in model.rows]


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def answer_yes(box: QMessageBox) -> None:
    box.button(QMessageBox.StandardButton.Yes).click()


# --- templates ------------------------------------------------------------------------------

def test_templates_are_listed_created_superseded_and_hidden_never_deleted(make_window, qtbot):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot)
    tab = panel.templates
    qtbot.waitUntil(lambda: len(tab.model.rows) >= len(BUILTIN_TEMPLATES), timeout=10_000)
    assert {t.name for t in BUILTIN_TEMPLATES} <= set(names(tab.model))
    # Permanent: no Delete anywhere in the tab, and the note says why.
    assert not [b for b in tab.findChildren(QPushButton) if "delete" in b.text().lower()]
    assert "permanent" in tab.permanent_note.text().lower()
    assert tab.proposals.intro.text().startswith("Analyse the story first")

    click(qtbot, tab.new_button)
    dialog = tab.dialog
    dialog.name.setText("Quiet dread")
    dialog.emotion.setCurrentText("anticipation")
    dialog.params["pitch"].set_value(-1.5)
    dialog.params["rate"].slider.setValue(400)  # the slider moves the spin box
    assert dialog.params["rate"].value() == pytest.approx(0.5 + 1.5 * 0.4)
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: "Quiet dread" in names(tab.model), timeout=10_000)
    made = next(t for t in tab.model.rows if t.name == "Quiet dread")
    assert made.params.pitch == -1.5 and made.source == "author"
    assert tab.selected().uid == made.uid

    assert tab.share_button.isVisible() and tab.take_button.isVisible()
    click(qtbot, tab.share_button)
    share = tab.market_dialog
    share.licence.setCurrentIndex(share.licence.findData("CC-BY"))
    share.tags.setText("audio drama, suspense")
    share.accept()
    qtbot.waitUntil(lambda: "queued for the marketplace" in tab.note.text(), timeout=10_000)
    queued = [i for i in marketplace_outbox.items(window.db)
              if i.kind == "publish_voice_template"]
    assert len(queued) == 1

    click(qtbot, tab.supersede_button)
    dialog = tab.dialog
    assert dialog.name.text() == "Quiet dread" and not dialog.kind.isEnabled()
    dialog.params["volume"].set_value(0.6)
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: tab.selected() is not None and tab.selected().uid != made.uid
                    and tab.selected().name == "Quiet dread", timeout=10_000)
    successor = tab.selected()
    assert successor.params.volume == 0.6 and successor.params.pitch == -1.5
    assert made.uid not in [t.uid for t in tab.model.rows]  # superseded: out of the list
    tab.show_all.setChecked(True)
    old = next(t for t in tab.model.rows if t.uid == made.uid)
    row = tab.model.rows.index(old)
    assert tab.model.cell(old, 4) == "Superseded by Quiet dread"
    tab.view.selectRow(row)
    assert not tab.supersede_button.isEnabled()

    tab.show_all.setChecked(False)
    tab.select(successor.uid)
    click(qtbot, tab.hide_button)
    qtbot.waitUntil(lambda: successor.uid not in [t.uid for t in tab.model.rows],
                    timeout=10_000)
    tab.select(successor.uid)  # turns "show hidden" on to find it
    assert tab.show_all.isChecked() and tab.hide_button.text() == "Show"
    click(qtbot, tab.hide_button)
    qtbot.waitUntil(lambda: not tab.selected().hidden, timeout=10_000)


def test_a_refused_template_keeps_the_dialog_with_the_reason(make_window, qtbot):
    window = make_window()
    open_story(window, qtbot)
    tab = voice_panel(window, qtbot).templates
    click(qtbot, tab.new_button)
    dialog = tab.dialog
    dialog.name.setText("Nameless feeling")
    dialog.emotion.setCurrentText("")  # an emotion template needs its emotion
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=10_000)
    assert "emotion" in dialog.problem.text().lower()
    assert "Nameless feeling" not in names(tab.model)


# --- samples ----------------------------------------------------------------------------------

def test_import_a_sine_wav_and_see_its_waveform_row_trim_and_delete(make_window, qtbot,
                                                                    tmp_path):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot, "My samples")
    tab = panel.samples
    qtbot.waitUntil(lambda: tab.groups.count() > 5, timeout=10_000)
    tab.select_template("vt_builtin_joy")
    tab.import_path(sine_wav(tmp_path / "joyful take.wav"))
    qtbot.waitUntil(lambda: len(tab.model.rows) == 1, timeout=10_000)
    sample = tab.model.rows[0]
    assert sample.label == "joyful take" and sample.format == "wav"
    assert sample.template_uid == "vt_builtin_joy" and sample.emotion == "joy"
    assert tab.model.data(tab.model.index(0, 2)) == "1.5 s"
    assert tab.model.data(tab.model.index(0, 3)) == "WAV · 22 kHz · mono"
    peaks = tab.model.data(tab.model.index(0, 1), Qt.ItemDataRole.UserRole + 11)
    assert len(peaks) > 50 and max(peaks) > 0.3 and min(peaks) < 0.1  # swells and fades
    assert tab.wave.peaks and tab.wave.duration == pytest.approx(1.5, abs=0.01)
    assert "Imported" in tab.note.text()

    click(qtbot, tab.trim_button)
    dialog = tab.trim_dialog
    dialog.start.setValue(0.25)
    dialog.end.setValue(1.0)
    assert dialog.wave.selection == (0.25, 1.0)
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(tab.model.rows) == 2, timeout=10_000)
    trimmed = tab.selected()
    assert trimmed.uid != sample.uid and trimmed.duration == pytest.approx(0.75, abs=0.01)
    assert "original" in tab.note.text()

    tab.view.selectRow(tab.model.row_of(trimmed.uid))
    click(qtbot, tab.delete_button)
    qtbot.waitUntil(lambda: tab.last_question is not None, timeout=10_000)
    assert "Delete the sample" in tab.last_question.text()
    answer_yes(tab.last_question)
    qtbot.waitUntil(lambda: len(tab.model.rows) == 1, timeout=10_000)
    assert tab.model.rows[0].uid == sample.uid


def test_a_corrupt_file_is_refused_with_its_reason(make_window, qtbot, tmp_path):
    window = make_window()
    open_story(window, qtbot)
    tab = voice_panel(window, qtbot, "My samples").samples
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 12)
    tab.import_path(bad)
    qtbot.waitUntil(lambda: tab.note.isVisible() and "broken.wav" in tab.note.text()
                    and "Importing" not in tab.note.text(), timeout=10_000)
    assert "b3261e" in tab.note.styleSheet()  # shown as an error
    assert tab.model.rows == [] and voice_samples.list_samples(window.db) == []


def test_recording_is_disabled_with_the_reason_when_there_is_no_audio_device(make_window,
                                                                             qtbot):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot, "My samples")
    tab = panel.samples
    assert panel.audio.capture_problem  # this machine has no audio device
    assert not tab.record_button.isEnabled()
    assert tab.device_note.isVisible()
    assert "recording" in tab.device_note.text() and "import" in tab.device_note.text()
    assert tab.record_button.toolTip() == panel.audio.capture_problem


def test_deleting_a_sample_a_voice_was_trained_from_names_the_voice(
        make_window, qtbot, qt_loop, tmp_path, elevenlabs_fake):
    window = make_window()
    open_story(window, qtbot)
    use_elevenlabs(window.db, elevenlabs_fake)
    panel = voice_panel(window, qtbot, "My samples")
    tab = panel.samples
    tab.import_path(sine_wav(tmp_path / "calm reading.wav", seconds=2.0))
    qtbot.waitUntil(lambda: len(tab.model.rows) == 1, timeout=10_000)

    show_tab(panel, "My emotion voices")
    voices = panel.voices
    qtbot.waitUntil(lambda: voices.has_provider is True, timeout=10_000)
    assert not voices.how_to.isVisible()
    click(qtbot, voices.train_button)
    qtbot.waitUntil(lambda: voices.dialog is not None, timeout=10_000)
    dialog = voices.dialog
    dialog.emotion.setCurrentText("calm")
    dialog.list.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.values()["name"] == "My calm voice"
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: bool(voices.model.rows) and voices.model.rows[0].status == "ready",
                    timeout=15_000)
    ready = voices.model.rows[0]
    assert ready.provider_voice_id.startswith("cloned")
    assert voices.model.data(voices.model.index(0, 2)) == "Ready"
    assert ready.provider_voice_id in voices.detail.text()

    show_tab(panel, "My samples")
    tab.view.selectRow(0)
    click(qtbot, tab.delete_button)
    qtbot.waitUntil(lambda: tab.last_question is not None, timeout=10_000)
    assert "“My calm voice”" in tab.last_question.text()
    tab.last_question.button(QMessageBox.StandardButton.Cancel).click()
    assert len(voice_samples.list_samples(window.db)) == 1


def test_emotion_voices_without_a_provider_explain_and_open_the_providers_dialog(
        make_window, qtbot, qt_loop):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot, "My emotion voices")
    voices = panel.voices
    qtbot.waitUntil(lambda: voices.has_provider is False, timeout=10_000)
    assert voices.how_to.isVisible() and voices.empty.isVisible()
    click(qtbot, voices.providers_button)
    qtbot.waitUntil(lambda: getattr(window, "providers_dialog", None) is not None
                    and window.providers_dialog.isVisible(), timeout=10_000)
    window.providers_dialog.close()


# --- narrations -------------------------------------------------------------------------------

def start_narration(panel, qtbot, narrator_id: str = RACHEL) -> None:
    tab = panel.narrations
    qtbot.waitUntil(lambda: tab.new_button.isEnabled() and tab.empty.isVisible(),
                    timeout=10_000)
    click(qtbot, tab.new_button)
    dialog = tab.dialog
    dialog.picker.voice_id.setText(narrator_id)
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(tab.model.rows) == 10, timeout=15_000)


def test_choose_a_paragraphs_voice_and_emotion_and_undo_it(make_window, qtbot):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot, "Narrations")
    tab = panel.narrations
    start_narration(panel, qtbot)
    row = tab.model.rows[2]  # "Tom tied the rope…": the narrator's, suggested
    assert row.voice_name == "Narrator" and row.auto
    assert tab.model.rows[1].voice_name == "Ada Quill"  # “…,” said Ada
    assert tab.model.data(tab.model.index(2, 5)) == "Auto"

    # Through the combo box in the cell, as the author does it.
    index = tab.model.index(2, 2)
    tab.view.setCurrentIndex(index)
    tab.view.edit(index)
    combo = tab.view.findChild(type(tab.target), "choice_voice")
    assert combo is not None and combo.findData("char_tom") >= 0
    combo.setCurrentIndex(combo.findData("char_tom"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: tab.model.rows[2].voice == "char_tom", timeout=10_000)
    assert not tab.model.rows[2].auto and tab.model.data(tab.model.index(2, 5)) == "Author"

    tab.model.setData(tab.model.index(2, 4), "fear")
    qtbot.waitUntil(lambda: tab.model.rows[2].emotion == "fear", timeout=10_000)
    stack = window.document.undo_stack
    assert stack.undoText() == "Set a paragraph's emotion to fear"
    stack.undo()
    qtbot.waitUntil(lambda: tab.model.rows[2].emotion != "fear", timeout=10_000)
    assert tab.model.rows[2].voice == "char_tom"
    stack.undo()
    qtbot.waitUntil(lambda: tab.model.rows[2].auto, timeout=10_000)
    assert tab.model.rows[2].voice_name == "Narrator"
    stack.redo()
    qtbot.waitUntil(lambda: tab.model.rows[2].voice == "char_tom", timeout=10_000)

    tab.view.selectRow(2)
    click(qtbot, tab.clear_button)
    qtbot.waitUntil(lambda: tab.model.rows[2].auto, timeout=10_000)
    stack.undo()
    qtbot.waitUntil(lambda: not tab.model.rows[2].auto, timeout=10_000)
    settle(qtbot, window)


def test_render_a_chapter_with_progress_then_exports(make_window, qtbot, qt_loop, tmp_path,
                                                     elevenlabs_fake):
    window = make_window()
    open_story(window, qtbot)
    use_elevenlabs(window.db, elevenlabs_fake)
    panel = voice_panel(window, qtbot, "Narrations")
    tab = panel.narrations
    start_narration(panel, qtbot)
    tab.chapter.setCurrentIndex(tab.chapter.findText("Arrival"))
    assert len(tab.model.rows) == 7
    assert tab.render_state.text() == "0 of 7 already rendered."
    seen: list[int] = []
    tab.progress.valueChanged.connect(seen.append)
    click(qtbot, tab.render_button)
    assert tab.rendering and tab.progress.isVisible() and tab.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not tab.rendering, timeout=30_000)
    qtbot.waitUntil(lambda: all(r.rendered for r in tab.model.rows), timeout=10_000)
    assert seen[-1] == 7 and len(set(seen)) >= 7
    assert tab.note.text().startswith("Arrival: All 7 paragraphs are rendered (7 new")
    assert tab.render_state.text() == "All 7 paragraphs are rendered."
    # Ada has no voice of her own yet: the narrator's voice speaks all seven.
    assert len([r for r in elevenlabs_fake.requests
                if r.path == f"/v1/text-to-speech/{RACHEL}"]) == 7

    tab.export_playlist_to(tmp_path / "out")
    qtbot.waitUntil(lambda: "Playlist written" in tab.note.text(), timeout=10_000)
    assert len(list((tmp_path / "out").glob("0*.mp3"))) == 7
    tab.export_text_to("ssml", tmp_path / "n.ssml")
    qtbot.waitUntil(lambda: (tmp_path / "n.ssml").exists(), timeout=10_000)
    assert "<speak" in (tmp_path / "n.ssml").read_text()
    tab.export_text_to("script", tmp_path / "n.txt")
    qtbot.waitUntil(lambda: (tmp_path / "n.txt").exists(), timeout=10_000)
    assert "NARRATOR" in (tmp_path / "n.txt").read_text()

    # The whole story: the other chapter's three are missing, an export says so.
    tab.chapter.setCurrentIndex(0)
    assert tab.render_state.text() == "7 of 10 already rendered."
    tab.export_playlist_to(tmp_path / "all")
    qtbot.waitUntil(lambda: "not rendered yet" in tab.note.text(), timeout=10_000)


def test_a_render_stopped_by_the_quota_at_paragraph_7_resumes(make_window, qtbot, qt_loop,
                                                               elevenlabs_fake):
    window = make_window()
    open_story(window, qtbot)
    use_elevenlabs(window.db, elevenlabs_fake)
    texts = QUAY + LAMP + STORM
    used = elevenlabs_fake.state()["character_count"]
    elevenlabs_fake.configure(character_limit=used + sum(len(t) for t in texts[:6]))
    panel = voice_panel(window, qtbot, "Narrations")
    tab = panel.narrations
    start_narration(panel, qtbot)
    click(qtbot, tab.render_button)
    qtbot.waitUntil(lambda: not tab.rendering, timeout=30_000)
    qtbot.waitUntil(lambda: sum(r.rendered for r in tab.model.rows) == 6, timeout=10_000)
    words = tab.note.text()
    assert "Stopped at paragraph 7 of 10" in words and "quota" in words
    assert "b3261e" in tab.note.styleSheet()
    assert tab.render_state.text() == "6 of 10 already rendered."

    elevenlabs_fake.configure(character_limit=10_000_000)
    before = len(elevenlabs_fake.requests)
    click(qtbot, tab.render_button)
    assert tab.render_state.text() == "6 of 10 already rendered; rendering the other 4…"
    qtbot.waitUntil(lambda: not tab.rendering, timeout=30_000)
    qtbot.waitUntil(lambda: all(r.rendered for r in tab.model.rows), timeout=10_000)
    assert "(4 new, 6 already rendered)" in tab.note.text()
    assert len([r for r in elevenlabs_fake.requests[before:]
                if r.path.startswith("/v1/text-to-speech/")]) == 4


def test_cancel_stops_a_render_and_keeps_what_was_rendered(make_window, qtbot, qt_loop,
                                                           elevenlabs_fake):
    window = make_window()
    open_story(window, qtbot)
    use_elevenlabs(window.db, elevenlabs_fake)
    panel = voice_panel(window, qtbot, "Narrations")
    tab = panel.narrations
    start_narration(panel, qtbot)
    tab.chapter.setCurrentIndex(tab.chapter.findText("Night"))
    tab.view.selectRow(0)
    click(qtbot, tab.preview_button)  # renders the first paragraph (no speakers to play it)
    qtbot.waitUntil(lambda: tab.model.rows[0].rendered, timeout=15_000)
    assert "cannot be played here" in tab.note.text()
    elevenlabs_fake.hang_next(20, path="/v1/text-to-speech/")
    click(qtbot, tab.render_button)
    assert tab.render_state.text() == "1 of 3 already rendered; rendering the other 2…"
    qtbot.wait(300)  # the second paragraph's request is out, and hangs
    click(qtbot, tab.cancel_button)
    qtbot.waitUntil(lambda: not tab.rendering, timeout=15_000)
    assert tab.note.text().startswith("Night: Cancelled at paragraph 2 of 3")
    assert "b3261e" not in tab.note.styleSheet()  # a cancel is not an error
    done = 1
    assert tab.render_state.text() == f"{done} of 3 already rendered."


def test_rendering_without_a_speech_provider_says_how_to_add_one(make_window, qtbot, qt_loop):
    window = make_window()
    open_story(window, qtbot)
    panel = voice_panel(window, qtbot, "Narrations")
    tab = panel.narrations
    start_narration(panel, qtbot)
    assert tab.model.rows[0].problem
    assert "Cannot render now: No provider for speech" in tab.render_state.text()
    click(qtbot, tab.render_button)
    assert not tab.rendering  # nothing is tried: it says why at once
    assert tab.note.text().startswith("No provider for speech is set up")
    assert tab.providers_button.isVisible()
    assert not any(r.rendered for r in tab.model.rows)


# --- roleplay -----------------------------------------------------------------------------------

def test_roleplay_lists_a_characters_lines_and_renders_one(make_window, qtbot, qt_loop,
                                                           elevenlabs_fake):
    window = make_window()
    open_story(window, qtbot)
    use_elevenlabs(window.db, elevenlabs_fake)
    panel = voice_panel(window, qtbot, "Roleplay")
    tab = panel.roleplay
    qtbot.waitUntil(lambda: tab.character.count() == 2, timeout=10_000)
    tab.character.setCurrentIndex(tab.character.findData("char_ada"))
    tab.player.setText("Sam")
    click(qtbot, tab.start_button)
    qtbot.waitUntil(lambda: len(tab.model.rows) == 4, timeout=10_000)
    assert [r.text for r in tab.model.rows] == ["I waited all night,", "Light it,",
                                                "Light it now.", "It will hold,"]
    assert not tab.record_button.isEnabled()  # no microphone here, and it says why
    assert tab.device_note.isVisible()

    tab._set_character_voice({"kind": "provider", "voice_id": RACHEL, "provider_id": None})
    qtbot.waitUntil(lambda: tab.info.voice is not None, timeout=10_000)
    tab.view.selectRow(0)
    click(qtbot, tab.render_button)
    qtbot.waitUntil(lambda: bool(tab.model.rows) and tab.model.rows[0].rendered, timeout=15_000)
    assert "rendered" in tab.note.text()
    window.document.undo_stack.undo()  # the character's voice, back to none
    qtbot.waitUntil(lambda: tab.info.voice is None, timeout=10_000)

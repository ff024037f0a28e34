"""Offscreen pictures of every tab of the Voices panel with an author's data, to look at:
/tmp/shots/voice_*.png (templates with one of the author's and a superseded one, samples with
speech-like waveforms, a ready and a failed emotion voice, a half-rendered narration with a
character voice, a roleplay with a rendered line, and two dialogs)."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

from studio.services import voice_samples
from tests.providers.fakes import _elevenlabs_fake_server, elevenlabs_fake  # noqa: F401
from tests.ui.test_voice_panel import (
    RACHEL, click, open_story, show_tab, start_narration, use_elevenlabs, voice_panel,
)


def speech_wav(path: Path, seconds: float, seed: int, rate: int = 16000) -> Path:
    """Something that looks like speech on a waveform: syllables of a voiced tone with
    harmonics, louder and softer, with short pauses between words (for the screenshots)."""
    import random

    rng = random.Random(seed)
    out = bytearray()
    t = 0
    total = int(seconds * rate)
    while t < total:
        if rng.random() < 0.25:  # a pause between words
            gap = int(rng.uniform(0.08, 0.25) * rate)
            out += b"\x00\x00" * gap
            t += gap
            continue
        n = int(rng.uniform(0.12, 0.3) * rate)
        loud, pitch = rng.uniform(0.25, 0.95), rng.uniform(110, 220)
        for i in range(n):
            env = math.sin(math.pi * i / n) ** 0.6
            x = (t + i) / rate
            v = (math.sin(2 * math.pi * pitch * x) + 0.5 * math.sin(4 * math.pi * pitch * x)
                 + 0.25 * math.sin(6 * math.pi * pitch * x)) / 1.75
            out += struct.pack("<h", int(30000 * loud * env * v))
        t += n
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(out[:total * 2]))
    path.write_bytes(buf.getvalue())
    return path



def test_screenshots_of_every_tab_with_realistic_data(make_window, qtbot, qt_loop, tmp_path,
                                                      elevenlabs_fake):
    """Pictures to look at (/tmp/shots/voice_*.png): every tab with an author's data."""
    from studio.services import analysis
    from tests.ui.ai_helpers import shot

    window = make_window()
    window.resize(1280, 800)
    window.versions_dock.hide()  # the panel's own width, as an author working on voices
    story_id = open_story(window, qtbot)
    db = window.db
    analysis.analyse(db, story_id, in_process=False)
    use_elevenlabs(db, elevenlabs_fake)
    voice_samples.import_file(db, speech_wav(tmp_path / "We did it (joy).wav", 3.2, 1),
                              template_uid="vt_builtin_joy")
    voice_samples.import_file(db, speech_wav(tmp_path / "We did it, second take.wav", 2.6, 2),
                              template_uid="vt_builtin_joy")
    voice_samples.import_file(db, speech_wav(tmp_path / "I kept the light burning.wav", 4.1,
                                             3), template_uid="vt_builtin_sorrow")
    from studio.services import voice_templates

    voice_templates.create(db, "quiet dread", "emotion", "fear",
                           {"pitch": -1.0, "rate": 0.9, "volume": 0.6, "emphasis": "reduced",
                            "stability": 0.7}, "Don't move. It hasn't seen us yet.")
    voice_templates.supersede(db, "vt_builtin_sigh", name="sigh (softer)",
                              params={"volume": 0.5})
    panel = voice_panel(window, qtbot, "Templates")
    tab = panel.templates
    qtbot.waitUntil(lambda: len(tab.model.rows) >= 11, timeout=10_000)
    tab.show_all.setChecked(True)
    tab.view.selectRow(1)
    shot(window, "voice_templates.png")

    show_tab(panel, "My samples")
    samples = panel.samples
    qtbot.waitUntil(lambda: len(samples.model.rows) == 3, timeout=10_000)
    samples.view.selectRow(0)
    shot(window, "voice_samples.png")

    show_tab(panel, "My emotion voices")
    voices = panel.voices
    qtbot.waitUntil(lambda: voices.has_provider is True, timeout=10_000)
    click(qtbot, voices.train_button)
    qtbot.waitUntil(lambda: voices.dialog is not None, timeout=10_000)
    voices.dialog.emotion.setCurrentText("joy")
    shot(voices.dialog, "voice_train_dialog.png")
    click(qtbot, voices.dialog.ok_button)
    qtbot.waitUntil(lambda: bool(voices.model.rows) and voices.model.rows[0].status == "ready",
                    timeout=15_000)
    elevenlabs_fake.fail_next(400, {"detail": {"status": "voice_too_short", "message":
                              "The sample is too short: at least 1 second of clear speech "
                              "is needed."}}, path="/v1/voices/add")
    voices._train({"name": "My sorrowful voice", "emotion": "sadness",
                   "sample_uids": [samples.model.rows[-1].uid], "template_uid": None})
    qtbot.waitUntil(lambda: len(voices.model.rows) == 2 and not voices.tasks, timeout=15_000)
    voices.view.selectRow(1)
    shot(window, "voice_emotion_voices.png")

    show_tab(panel, "Narrations")
    narr = panel.narrations
    start_narration(panel, qtbot)
    narr.set_character_voice("char_ada", {"kind": "provider", "voice_id": "AZnzlk1XvdvUeBnXmlld",
                                          "provider_id": None, "name": "Domi"})
    qtbot.waitUntil(lambda: "char_ada" in narr.info.voices, timeout=10_000)
    narr.model.setData(narr.model.index(2, 2), "char_tom")
    qtbot.waitUntil(lambda: narr.model.rows[2].voice == "char_tom", timeout=10_000)
    narr.chapter.setCurrentIndex(narr.chapter.findText("Arrival"))
    click(qtbot, narr.render_button)
    qtbot.waitUntil(lambda: not narr.rendering, timeout=30_000)
    narr.chapter.setCurrentIndex(0)
    narr.view.selectRow(5)
    qtbot.waitUntil(window.runner.is_idle, timeout=10_000)
    shot(window, "voice_narrations.png")

    show_tab(panel, "Roleplay")
    role = panel.roleplay
    qtbot.waitUntil(lambda: role.character.count() == 2, timeout=10_000)
    role.character.setCurrentIndex(role.character.findData("char_ada"))
    role.player.setText("Sam")
    click(qtbot, role.start_button)
    role.player.clear()
    qtbot.waitUntil(lambda: len(role.model.rows) == 4, timeout=10_000)
    role._set_character_voice({"kind": "provider", "voice_id": RACHEL, "provider_id": None})
    qtbot.waitUntil(lambda: role.info.voice is not None, timeout=10_000)
    role.view.selectRow(1)
    click(qtbot, role.render_button)
    qtbot.waitUntil(lambda: role.model.rows[1].rendered, timeout=15_000)
    qtbot.waitUntil(window.runner.is_idle, timeout=10_000)
    shot(window, "voice_roleplay.png")

    show_tab(panel, "Templates")
    click(qtbot, tab.supersede_button)
    shot(tab.dialog, "voice_template_dialog.png")
    tab.dialog.reject()

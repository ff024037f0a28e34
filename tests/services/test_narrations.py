"""Narrations as a use case, on a real SQLite file and the fake ElevenLabs server over real
HTTP: suggested voices and templates, the author's overrides, rendering that resumes after a
provider failure and after a cancel, the render cache shared across narrations, a narration of
a cached reference version, and the exports (playlist, SSML, script)."""

from __future__ import annotations

import asyncio
import hashlib
import time
import xml.etree.ElementTree as ET

import pytest

from studio.domain.errors import NotFoundError, ValidationError
from studio.services import ai_calls, narrations, publishing, reference_cache, voice_renders
from studio.services.narration_exports import NotRendered
from tests.providers.fakes import _elevenlabs_fake_server, elevenlabs_fake  # noqa: F401
from tests.services._voice_story import (
    ADA, ADA_VOICE, DOMI, NARRATOR, PARAGRAPHS, RACHEL, TOM, make_story, run, tts_requests,
    use_elevenlabs,
)

SORROW, FEAR, WHISPER = "vt_builtin_sorrow", "vt_builtin_fear", "vt_builtin_whisper"
SSML_NS = "{http://www.w3.org/2001/10/synthesis}"


@pytest.fixture
def story(db):
    return make_story(db)


@pytest.fixture
def narration(db, story):
    info = narrations.create(db, story_id=story[0].id, name="Full cast", narrator=NARRATOR)
    narrations.set_character_voice(db, info.uid, ADA["id"], ADA_VOICE)
    return info


def render(db, uid, **kw):
    return run(narrations.render(ai_calls.inline, db, uid, **kw))


# --- creating and validating ---------------------------------------------------------------

def test_create_list_and_refuse_bad_input(db, story):
    info = narrations.create(db, story_id=story[0].id, name="  Full   cast ", narrator=NARRATOR)
    assert (info.name, info.story_id, info.reference_version_id) == ("Full cast", story[0].id,
                                                                     None)
    assert info.narrator == NARRATOR and info.voice_type == "provider" and info.voices == {}
    assert [n.uid for n in narrations.list_for(db, story_id=story[0].id)] == [info.uid]
    bad = [dict(name="x", narrator=NARRATOR),                                # no target
           dict(story_id=story[0].id, reference_version_id=1, name="x", narrator=NARRATOR),
           dict(story_id=story[0].id, name=" ", narrator=NARRATOR),
           dict(story_id=story[0].id, name="x", narrator={"kind": "robot"}),
           dict(story_id=story[0].id, name="x", narrator={"kind": "provider"}),
           dict(story_id=story[0].id, name="x", narrator={**NARRATOR, "provider_id": 99}),
           dict(story_id=story[0].id, name="x", narrator={"kind": "emotion_voice",
                                                         "uid": "ev_nope"}),
           dict(story_id=story[0].id, name="x", narrator={"kind": "system", "pitch": 2}),
           dict(story_id=story[0].id, name="x", narrator=NARRATOR, voice_type="loud")]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            narrations.create(db, **kwargs)
    with pytest.raises(NotFoundError):
        narrations.create(db, story_id=999, name="x", narrator=NARRATOR)
    assert len(narrations.list_for(db, story_id=story[0].id)) == 1  # nothing half-made
    with pytest.raises(ValidationError, match="not a character"):
        narrations.set_character_voice(db, info.uid, "char_nobody", ADA_VOICE)
    old = narrations.set_narrator(db, info.uid, {"kind": "system"})
    assert old == NARRATOR and narrations.get(db, info.uid).narrator == {"kind": "system"}


# --- the plan ------------------------------------------------------------------------------

def test_plan_suggests_voices_from_the_bible_and_templates_from_emotions(db, story, narration,
                                                                       elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    _story, (arrival, night), (quay, lamp, storm) = story
    rows = narrations.plan(db, narration.uid)
    assert [r.text for r in rows] == PARAGRAPHS
    assert all(r.auto and not r.rendered and not r.problem for r in rows)
    assert [r.voice for r in rows] == ["narrator", ADA["id"], "narrator", TOM["id"],
                                       "narrator", ADA["id"], "narrator",
                                       "narrator", ADA["id"], "narrator"]
    # Ada speaks in her own voice; Tom has none, so the narrator's reads his line.
    assert rows[1].voice_ref == ADA_VOICE and rows[1].voice_name == "Ada Quill"
    assert rows[3].voice_ref == NARRATOR and rows[3].voice_name == "Tom Harrow"
    # The quay's emotion (sadness) → the sorrow template, for narrator and speakers alike.
    assert {(r.template_uid, r.emotion) for r in rows[:4]} == {(SORROW, "sadness")}
    assert rows[0].template_name == "sorrow"
    # Ada is afraid in the lamp room; the scene itself has no emotion.
    assert (rows[5].template_uid, rows[5].emotion) == (FEAR, "fear")
    assert (rows[4].template_uid, rows[4].emotion) == (None, "")
    assert (rows[0].chapter_uid, rows[0].scene_uid, rows[0].scene_title) == \
        (arrival.uid, quay.uid, "The quay")
    assert len({r.render_key for r in rows}) == 10
    only = narrations.plan(db, narration.uid, chapter_uid=night.uid)
    assert [r.text for r in only] == PARAGRAPHS[7:]
    with pytest.raises(NotFoundError):
        narrations.plan(db, narration.uid, chapter_uid="chap_nope")


def test_author_override_then_back_to_automatic(db, story, narration, elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    rows = narrations.plan(db, narration.uid)
    target = rows[4].segment_uid
    assert narrations.set_segment(db, narration.uid, target, voice=TOM["id"],
                                  template_uid=WHISPER, settings={"stability": 0.9}) is None
    row = narrations.plan(db, narration.uid)[4]
    assert (row.auto, row.voice, row.template_uid, row.template_name, row.emotion) == \
        (False, TOM["id"], WHISPER, "whisper", "")
    assert row.settings == {"stability": 0.9} and row.render_key != rows[4].render_key
    previous = narrations.set_segment(db, narration.uid, target, emotion="anger")
    assert (previous.voice, previous.template_uid, previous.emotion) == \
        (TOM["id"], WHISPER, "")
    assert narrations.plan(db, narration.uid)[4].template_uid == WHISPER  # kept
    # Bad input: a clear error, and the choice stays as it was.
    for kwargs in [dict(voice="char_nobody"), dict(template_uid="vt_nope"),
                   dict(emotion="glee"), dict(settings={"stability": 3}),
                   dict(settings={"volume": 1})]:
        with pytest.raises(ValidationError):
            narrations.set_segment(db, narration.uid, target, **kwargs)
    with pytest.raises(NotFoundError):
        narrations.set_segment(db, narration.uid, "seg_nope", voice="narrator")
    assert narrations.plan(db, narration.uid)[4].emotion == "anger"
    undo = narrations.clear_segment(db, narration.uid, target)
    assert undo.emotion == "anger"
    assert narrations.plan(db, narration.uid)[4] == rows[4]
    narrations.restore_segment(db, narration.uid, target, undo)  # undo of the clear
    assert narrations.plan(db, narration.uid)[4].emotion == "anger"


# --- rendering -----------------------------------------------------------------------------

def test_render_resumes_after_a_failure_at_paragraph_7_of_10(db, story, narration,
                                                             elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    rows = narrations.plan(db, narration.uid)
    seen = []

    def progress(done, total, segment_uid):
        seen.append((done, total, segment_uid))
        if done == 6:  # the 7th text-to-speech request fails
            elevenlabs_fake.fail_next(503, {"detail": {
                "status": "service_unavailable",
                "message": "The speech service is overloaded, try again shortly."}},
                path="text-to-speech")

    first = render(db, narration.uid, progress=progress)
    assert (first.rendered, first.reused, first.total) == (6, 0, 10)
    assert first.failed_at == rows[6].segment_uid and not first.cancelled
    assert "paragraph 7 of 10" in first.message
    assert "overloaded" in first.message and "render again" in first.message
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5, 6]
    assert [r.rendered for r in narrations.plan(db, narration.uid)] == [True] * 6 + [False] * 4
    sent_first = [r.json["text"] for r in tts_requests(elevenlabs_fake)]
    assert sent_first == PARAGRAPHS[:7]  # six spoken, the seventh refused

    second = render(db, narration.uid)
    assert (second.rendered, second.reused, second.failed_at) == (4, 6, None)
    assert "All 10 paragraphs" in second.message
    sent = [r.json["text"] for r in tts_requests(elevenlabs_fake)]
    assert sent[7:] == PARAGRAPHS[6:]  # only what was missing
    assert all(sent.count(text) == 1 for text in PARAGRAPHS[:6])  # no paragraph paid twice
    # Who spoke what: Ada's lines in her voice with the template's settings.
    by_text = {r.json["text"]: r for r in tts_requests(elevenlabs_fake)}
    assert by_text[PARAGRAPHS[1]].path.endswith(DOMI)
    assert by_text[PARAGRAPHS[0]].path.endswith(RACHEL)
    assert by_text[PARAGRAPHS[5]].json["voice_settings"]["stability"] == 0.3  # fear
    files = narrations.rendered_files(db, narration.uid)
    assert [f.segment_uid for f in files] == [r.segment_uid for r in rows]
    for f in files:
        data = f.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.bytes_size
        assert f.path.parent == db.data_dir / "voice" / "renders" and f.path.suffix == ".mp3"
    assert not list((db.data_dir / "voice" / "renders").glob(".*.tmp"))
    third = render(db, narration.uid)
    assert (third.rendered, third.reused) == (0, 10)
    assert len(tts_requests(elevenlabs_fake)) == 11


def test_quota_used_up_mid_render_stops_with_the_providers_message(db, story, narration,
                                                                   elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    state = elevenlabs_fake.state()
    allowed = sum(len(t) for t in PARAGRAPHS[:3])
    elevenlabs_fake.configure(character_limit=state["character_count"] + allowed)
    report = render(db, narration.uid)
    assert (report.rendered, report.reused) == (3, 0)
    assert "paragraph 4 of 10" in report.message and "quota" in report.message
    elevenlabs_fake.configure(character_limit=10 ** 6)
    again = render(db, narration.uid)
    assert (again.rendered, again.reused, again.failed_at) == (7, 3, None)


def test_cancel_between_paragraphs_and_during_a_request(db, story, narration, elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    rows = narrations.plan(db, narration.uid)
    cancel = asyncio.Event()

    def progress(done, total, segment_uid):
        if done == 3:
            cancel.set()

    report = render(db, narration.uid, progress=progress, cancel=cancel)
    assert report.cancelled and (report.rendered, report.reused) == (3, 0)
    assert report.failed_at == rows[3].segment_uid and "Cancelled at paragraph 4" in \
        report.message
    assert len(tts_requests(elevenlabs_fake)) == 3

    # A cancel while the service is still answering drops the request at once.
    elevenlabs_fake.hang_next(30, path="text-to-speech")

    async def cancel_soon():
        stop = asyncio.Event()
        task = asyncio.create_task(narrations.render(ai_calls.inline, db, narration.uid,
                                                     cancel=stop))
        await asyncio.sleep(0.6)
        stop.set()
        return await task

    started = time.monotonic()
    hung = run(cancel_soon())
    assert time.monotonic() - started < 4  # well before the provider's 5 s timeout
    assert hung.cancelled and (hung.rendered, hung.reused) == (0, 3)
    assert hung.failed_at == rows[3].segment_uid
    deadline = time.monotonic() + 3  # the fake notices the dropped connection
    while not tts_requests(elevenlabs_fake)[-1].disconnected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tts_requests(elevenlabs_fake)[-1].disconnected
    last = render(db, narration.uid)
    assert (last.rendered, last.reused, last.failed_at) == (7, 3, None)


def test_preview_and_the_cache_shared_across_narrations(db, story, narration, elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    rows = narrations.plan(db, narration.uid)
    audio = run(narrations.preview(ai_calls.inline, db, narration.uid, rows[1].segment_uid))
    assert not audio.cached and audio.mime == "audio/mpeg"
    assert audio.path.read_bytes()[:2] == b"\xff\xfb"
    again = run(narrations.preview(ai_calls.inline, db, narration.uid, rows[1].segment_uid))
    assert again.cached and again.path == audio.path
    assert len(tts_requests(elevenlabs_fake)) == 1
    assert narrations.plan(db, narration.uid)[1].rendered
    report = render(db, narration.uid)
    assert (report.rendered, report.reused) == (9, 1)

    # A second narration with the same voices pays for nothing.
    twin = narrations.create(db, story_id=story[0].id, name="Twin", narrator=NARRATOR)
    narrations.set_character_voice(db, twin.uid, ADA["id"], ADA_VOICE)
    assert all(r.rendered for r in narrations.plan(db, twin.uid))
    assert (render(db, twin.uid).reused, len(tts_requests(elevenlabs_fake))) == (10, 10)
    # Another narrator: only the paragraphs in the narrator's voice are new.
    other = narrations.create(db, story_id=story[0].id, name="Other", narrator=ADA_VOICE)
    narrations.set_character_voice(db, other.uid, ADA["id"], ADA_VOICE)
    mixed = render(db, other.uid)
    assert (mixed.rendered, mixed.reused) == (7, 3)
    # Deleting a narration keeps the shared audio.
    narrations.delete(db, twin.uid)
    assert all(r.rendered for r in narrations.plan(db, narration.uid))
    with pytest.raises(NotFoundError):
        narrations.get(db, twin.uid)
    # A missing file is rendered again, not trusted.
    narrations.rendered_files(db, narration.uid)[0].path.unlink()
    assert not narrations.plan(db, narration.uid)[0].rendered
    assert render(db, narration.uid).rendered == 1


def test_no_speech_provider_is_a_clear_problem_not_a_crash(db, story, narration):
    rows = narrations.plan(db, narration.uid)
    assert all("No provider for speech" in r.problem and r.render_key is None for r in rows)
    report = render(db, narration.uid)
    assert report.failed_at == rows[0].segment_uid and "AI providers" in report.message
    with pytest.raises(voice_renders.VoiceUnavailable):
        run(narrations.preview(ai_calls.inline, db, narration.uid, rows[0].segment_uid))


def test_a_narration_of_a_cached_reference_version_only_refers_to_it(db, story,
                                                                     elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    content = publishing.publish_content(db, story[0].id)
    version_id = reference_cache.cache_version(db, "https://market.example", "st_lamp", 1,
                                               "First", content)
    before = reference_cache.reference_content(db, version_id)
    info = narrations.create(db, reference_version_id=version_id, name="Reading",
                             narrator=NARRATOR)
    narrations.set_character_voice(db, info.uid, ADA["id"], ADA_VOICE)
    assert narrations.list_for(db, reference_version_id=version_id)[0].uid == info.uid
    assert narrations.list_for(db, story_id=story[0].id) == []
    rows = narrations.plan(db, info.uid)
    assert [r.text for r in rows] == PARAGRAPHS
    assert rows[1].voice == ADA["id"] and rows[0].template_uid == SORROW  # from scene meta
    assert render(db, info.uid, chapter_uid=rows[-1].chapter_uid).rendered == 3
    narrations.delete(db, info.uid)
    assert reference_cache.reference_content(db, version_id) == before
    assert [v.id for v in reference_cache.cached_versions(db, "https://market.example",
                                                          "st_lamp")] == [version_id]


# --- exports -------------------------------------------------------------------------------

def test_ssml_and_script(db, story, narration):
    text = narrations.export_ssml(db, narration.uid)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SSML_NS}speak"
    voices = root.findall(f"{SSML_NS}voice")
    assert [v.get("name") for v in voices][:4] == ["Narrator", "Ada Quill", "Narrator",
                                                   "Tom Harrow"]
    prosody = voices[1].find(f"{SSML_NS}p/{SSML_NS}prosody")
    assert prosody.get("pitch") == "-2.0st" and prosody.get("rate") == "85%"  # sorrow
    fear = voices[5].find(f"{SSML_NS}p/{SSML_NS}prosody")
    assert fear.get("pitch") == "+2.5st"
    assert voices[4].find(f"{SSML_NS}p/{SSML_NS}prosody") is None  # no template: plain
    assert "".join(voices[5].itertext()) == PARAGRAPHS[5]
    script = narrations.export_script(db, narration.uid)
    blocks = script.strip().split("\n\n")
    assert blocks[1] == f"ADA QUILL [sorrow]: {PARAGRAPHS[1]}"
    assert blocks[4] == f"NARRATOR: {PARAGRAPHS[4]}"
    assert blocks[5] == f"ADA QUILL [fear]: {PARAGRAPHS[5]}"
    assert len(blocks) == 10


def test_playlist_is_refused_until_rendered_then_in_reading_order(db, story, narration,
                                                                  elevenlabs_fake, tmp_path):
    use_elevenlabs(db, elevenlabs_fake)
    out = tmp_path / "export"
    with pytest.raises(NotRendered, match="10 of 10 paragraphs"):
        narrations.export_playlist(db, narration.uid, out)
    assert not out.exists()
    elevenlabs_fake.fail_next(500, {"detail": {"status": "error", "message": "boom"}},
                              path="text-to-speech", times=1)
    render(db, narration.uid, chapter_uid=narrations.plan(db, narration.uid)[0].chapter_uid)
    with pytest.raises(NotRendered, match="10 of 10"):
        narrations.export_playlist(db, narration.uid, out)
    render(db, narration.uid)
    playlist = narrations.export_playlist(db, narration.uid, out)
    assert playlist == out / "full-cast.m3u8"
    lines = playlist.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    names = [line for line in lines if not line.startswith("#")]
    assert names[:4] == ["0001-narrator.mp3", "0002-ada-quill.mp3", "0003-narrator.mp3",
                         "0004-tom-harrow.mp3"]
    titles = [line for line in lines if line.startswith("#EXTINF")]
    assert [t.split(" — ", 1)[1] for t in titles] == PARAGRAPHS
    files = narrations.rendered_files(db, narration.uid)
    for name, f in zip(names, files):
        assert (out / name).read_bytes() == f.path.read_bytes()


# --- the author's emotion voices and the system voice ---------------------------------------

def test_emotion_voices_speak_the_narrators_emotional_paragraphs(db, story, elevenlabs_fake):
    from studio.services import emotion_voices, voice_samples
    from tests.services._voice_story import sine_wav

    use_elevenlabs(db, elevenlabs_fake)
    sample = voice_samples.import_bytes(db, sine_wav(), "my sorrow.wav")
    voice = run(emotion_voices.train(ai_calls.inline, db, "My sorrow", "sadness",
                                     [sample.uid]))
    assert voice.status == "ready"
    info = narrations.create(db, story_id=story[0].id, name="Mine", narrator=NARRATOR,
                             voice_type="emotion_voices")
    narrations.set_character_voice(db, info.uid, ADA["id"], ADA_VOICE)
    rows = narrations.plan(db, info.uid)
    mine = {"kind": "emotion_voice", "uid": voice.uid}
    assert [r.voice_ref for r in rows[:5]] == [mine, ADA_VOICE, mine, mine, NARRATOR]
    report = render(db, info.uid, chapter_uid=rows[0].chapter_uid)
    assert report.complete and report.rendered == 7
    paths = {r.json["text"]: r.path for r in tts_requests(elevenlabs_fake)}
    assert paths[PARAGRAPHS[0]].endswith(voice.provider_voice_id)
    assert paths[PARAGRAPHS[1]].endswith(DOMI)
    # A character voiced by an emotion voice that is later removed falls back to the narrator.
    plain = narrations.create(db, story_id=story[0].id, name="Plain", narrator=NARRATOR)
    narrations.set_character_voice(db, plain.uid, TOM["id"], mine)
    assert narrations.plan(db, plain.uid)[3].voice_ref == mine
    emotion_voices.remove(db, voice.uid)
    row = narrations.plan(db, plain.uid)[3]
    assert row.voice_ref == NARRATOR and not row.problem


def test_the_system_voice_renders_offline_in_a_thread(db, story, elevenlabs_fake, monkeypatch):
    import threading

    from studio.providers import system_tts
    from tests.services._voice_story import sine_wav

    calls = []

    def fake_speak(text, *, rate=1.0, pitch=0.0, **_kw):
        calls.append((text, rate, pitch, threading.current_thread() is threading.main_thread()))
        return sine_wav(0.2)

    monkeypatch.setattr(system_tts, "available", lambda: None)
    monkeypatch.setattr(system_tts, "speak_to_wav", fake_speak)
    info = narrations.create(db, story_id=story[0].id, name="Draft", narrator=NARRATOR,
                             voice_type="system")
    rows = narrations.plan(db, info.uid)
    assert all(r.voice_ref == {"kind": "system"} and not r.problem for r in rows)
    report = render(db, info.uid, chapter_uid=rows[0].chapter_uid)
    assert (report.rendered, report.reused) == (7, 0)
    assert tts_requests(elevenlabs_fake) == []
    assert calls[0] == (PARAGRAPHS[0], 0.85, -2.0, False)  # sorrow, off the loop's thread
    assert calls[4][1:3] == (1.0, 0.0)
    assert narrations.rendered_files(db, info.uid)[0].path.suffix == ".wav"
    monkeypatch.setattr(system_tts, "available", lambda: system_tts.NO_ENGINE)
    stopped = render(db, info.uid)
    assert (stopped.reused, stopped.rendered) == (7, 0)
    assert "espeak-ng" in stopped.message and stopped.failed_at == rows[7].segment_uid

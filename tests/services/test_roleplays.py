"""Roleplay segments as a use case, on a real SQLite file and the fake ElevenLabs server: a
character's lines in reading order, separate roleplays of one story for two players, a
recorded line (a generated sine WAV), lines kept across edits, and rendering through the
render cache narrations share."""

from __future__ import annotations

import pytest

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.services import ai_calls, publishing, reference_cache, roleplays
from studio.services import manuscript as ms
from studio.services import voice_renders, voice_samples
from tests.providers.fakes import _elevenlabs_fake_server, elevenlabs_fake  # noqa: F401
from tests.services._voice_story import (
    ADA, ADA_VOICE, DOMI, LAMP, QUAY, RACHEL, TOM, make_story, run, sine_wav, tts_requests,
    use_elevenlabs,
)

ADA_LINES = ["I waited all night,", "Light it,", "Light it now.", "It will hold,"]


@pytest.fixture
def story(db):
    return make_story(db)


def test_the_lines_of_a_character_in_reading_order(db, story):
    _story, _chapters, (quay, lamp, storm) = story
    ada = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Mia")
    assert (ada.character_name, ada.player, ada.voice) == ("Ada Quill", "Mia", None)
    lines = roleplays.lines(db, ada.uid)
    assert [x.text for x in lines] == ADA_LINES
    assert [x.line_index for x in lines] == [0, 0, 1, 0]
    assert [x.scene_uid for x in lines] == [quay.uid, lamp.uid, lamp.uid, storm.uid]
    assert lines[1].segment_uid == lines[2].segment_uid
    assert not any(x.rendered or x.sample_uid or x.voice for x in lines)
    tom = roleplays.create(db, story_id=story[0].id, character_id=TOM["id"])
    assert [x.text for x in roleplays.lines(db, tom.uid)] == ["You should have gone home,"]
    assert roleplays.lines(db, ada.uid) == lines  # reading again changes nothing


def test_two_players_keep_separate_roleplays_of_one_story(db, story):
    mia = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Mia")
    jon = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player=" Jon ")
    assert jon.player == "Jon" and mia.uid != jon.uid
    assert [r.uid for r in roleplays.list_for(db, story_id=story[0].id)] == [mia.uid, jon.uid]
    first = roleplays.lines(db, mia.uid)[0]
    old = roleplays.set_line_voice(db, mia.uid, first.segment_uid, 0, ADA_VOICE,
                                   {"stability": 0.2})
    assert old == roleplays.LineChoice(None, {})
    assert roleplays.lines(db, mia.uid)[0].voice == ADA_VOICE
    assert roleplays.lines(db, mia.uid)[0].settings == {"stability": 0.2}
    assert roleplays.lines(db, jon.uid)[0].voice is None  # Jon's own roleplay is untouched
    with pytest.raises(ValidationError, match="Mia already has a roleplay of Ada Quill"):
        roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Mia")
    for kwargs in [dict(story_id=story[0].id, character_id="char_nobody"),
                   dict(character_id=ADA["id"]),
                   dict(story_id=story[0].id, character_id=ADA["id"], player=7),
                   dict(story_id=story[0].id, character_id=ADA["id"], player="Zoe",
                        voice={"kind": "provider", "voice_id": ""})]:
        with pytest.raises(ValidationError):
            roleplays.create(db, **kwargs)
    with pytest.raises(ValidationError):
        roleplays.set_line_voice(db, mia.uid, first.segment_uid, 0, ADA_VOICE, {"pitch": 3})
    with pytest.raises(NotFoundError):
        roleplays.set_line_voice(db, mia.uid, first.segment_uid, 5, ADA_VOICE)
    roleplays.delete(db, jon.uid)
    assert [r.uid for r in roleplays.list_for(db, story_id=story[0].id)] == [mia.uid]
    assert ms.outline(db, story[0].id).chapters  # the story is untouched


def test_recording_a_line_and_keeping_it_across_edits(db, story):
    _story, _chapters, (quay, lamp, storm) = story
    rp = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Mia")
    lines = roleplays.lines(db, rp.uid)
    target = lines[2]  # "Light it now."
    roleplays.set_line_voice(db, rp.uid, target.segment_uid, 1, ADA_VOICE)
    with pytest.raises(StudioError):  # not audio: refused, nothing recorded
        roleplays.record_line(db, rp.uid, target.segment_uid, 1, b"not a wav at all")
    assert roleplays.lines(db, rp.uid)[2].sample_uid is None
    wav = sine_wav()
    line = roleplays.record_line(db, rp.uid, target.segment_uid, 1, wav)
    assert line.sample_uid and line.text == "Light it now."
    sample = voice_samples.get(db, line.sample_uid)
    assert sample.format == "wav" and abs(sample.duration - 1.0) < 0.01
    assert voice_samples.sample_path(db, line.sample_uid).read_bytes() == wav
    # Another paragraph edited, and a line inserted before the recorded one: it keeps its
    # recording and voice.
    ms.save_scene_text(db, story[0].id, lamp.uid, "\n\n".join(
        [LAMP[0], "“Careful,” said Ada. “Light it,” she said. “Light it now.”", LAMP[2]]))
    ms.save_scene_text(db, story[0].id, quay.uid, "\n\n".join(
        [QUAY[0], "“I waited all night and all day,” said Ada.", *QUAY[2:]]))
    after = roleplays.lines(db, rp.uid)
    assert [x.text for x in after] == ["I waited all night and all day,", "Careful,",
                                       "Light it,", "Light it now.", "It will hold,"]
    kept = after[3]
    assert (kept.line_index, kept.sample_uid, kept.voice) == (2, line.sample_uid, ADA_VOICE)
    # The recorded line itself edited: its recording no longer fits, its voice does.
    ms.save_scene_text(db, story[0].id, lamp.uid, "\n\n".join(
        [LAMP[0], "“Careful,” said Ada. “Light it,” she said. “Light it, now!”", LAMP[2]]))
    edited = roleplays.lines(db, rp.uid)[3]
    assert (edited.text, edited.sample_uid, edited.voice) == ("Light it, now!", None,
                                                             ADA_VOICE)
    assert voice_samples.get(db, line.sample_uid)  # the recording itself is kept


def test_render_line_goes_through_the_shared_cache(db, story, elevenlabs_fake):
    use_elevenlabs(db, elevenlabs_fake)
    mia = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Mia",
                           voice=ADA_VOICE)
    jon = roleplays.create(db, story_id=story[0].id, character_id=ADA["id"], player="Jon",
                           voice=ADA_VOICE)
    line = roleplays.lines(db, mia.uid)[3]
    audio = run(roleplays.render_line(ai_calls.inline, db, mia.uid, line.segment_uid, 0))
    assert not audio.cached and audio.mime == "audio/mpeg" and audio.path.exists()
    sent = tts_requests(elevenlabs_fake)
    assert len(sent) == 1 and sent[0].json["text"] == "It will hold,"
    assert sent[0].path.endswith(DOMI)
    assert roleplays.lines(db, mia.uid)[3].rendered
    # Jon's roleplay of the same line in the same voice finds it in the cache.
    assert roleplays.lines(db, jon.uid)[3].rendered
    again = run(roleplays.render_line(ai_calls.inline, db, jon.uid, line.segment_uid, 0))
    assert again.cached and again.path == audio.path
    assert len(tts_requests(elevenlabs_fake)) == 1
    # Another voice for one line: rendered anew, the old audio stays for whoever uses it.
    roleplays.set_line_voice(db, jon.uid, line.segment_uid, 0,
                             {"kind": "provider", "voice_id": RACHEL, "provider_id": None})
    assert not roleplays.lines(db, jon.uid)[3].rendered
    other = run(roleplays.render_line(ai_calls.inline, db, jon.uid, line.segment_uid, 0))
    assert not other.cached and other.path != audio.path and audio.path.exists()
    # A line with no voice at all is a clear message.
    bare = roleplays.create(db, story_id=story[0].id, character_id=TOM["id"])
    tom_line = roleplays.lines(db, bare.uid)[0]
    with pytest.raises(voice_renders.VoiceUnavailable, match="Choose a voice"):
        run(roleplays.render_line(ai_calls.inline, db, bare.uid, tom_line.segment_uid, 0))
    with pytest.raises(NotFoundError):
        run(roleplays.render_line(ai_calls.inline, db, bare.uid, tom_line.segment_uid, 4))


def test_a_roleplay_of_a_cached_reference_version(db, story):
    content = publishing.publish_content(db, story[0].id)
    version_id = reference_cache.cache_version(db, "https://market.example", "st_lamp", 1,
                                               "First", content)
    before = reference_cache.reference_content(db, version_id)
    rp = roleplays.create(db, reference_version_id=version_id, character_id=ADA["id"],
                          player="Mia")
    assert [x.text for x in roleplays.lines(db, rp.uid)] == ADA_LINES
    assert roleplays.list_for(db, reference_version_id=version_id)[0].uid == rp.uid
    assert roleplays.set_voice(db, rp.uid, ADA_VOICE) is None
    roleplays.delete(db, rp.uid)
    assert reference_cache.reference_content(db, version_id) == before

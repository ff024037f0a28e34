"""Emotion voices against the fake ElevenLabs server over real HTTP (a subprocess): training
sends the samples' bytes as multipart files and ends ready with the voice id; a refused sample,
a wrong key or no provider end failed with a clear message and change nothing else; re-train;
remove (the provider keeps its copy)."""

from __future__ import annotations

import asyncio
import io
import json
import math
import struct
import wave

import pytest

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.providers.base import Capability
from studio.services import ai_calls, emotion_voices as ev
from studio.services import providers as provider_service
from studio.services import voice_samples, voice_templates
from studio.store.models import utcnow
from studio.store.models_voice import EmotionVoice
from tests.providers.fakes import (  # noqa: F401  (fixtures)
    ELEVENLABS_KEY, _elevenlabs_fake_server, elevenlabs_fake,
)

run_db = ai_calls.inline


def run(coro):
    return asyncio.run(coro)


def sine_wav(seconds: float, freq: float = 220.0, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of a sine tone."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
                      for i in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def add_sample(db, data: bytes, label: str, emotion: str = "joy") -> str:
    return voice_samples.import_bytes(db, data, f"{label}.wav", emotion=emotion,
                                      label=label).uid


def use_fake(db, fake) -> int:
    settings = dict(fake.config().settings)
    config = provider_service.save_provider(db, "elevenlabs", "Fake ElevenLabs", settings,
                                            key=ELEVENLABS_KEY)
    provider_service.set_default(db, Capability.VOICE_CLONE.value, config.id)
    return config.id


def clone_requests(fake):
    return [r for r in fake.requests if r.path == "/v1/voices/add"]


@pytest.fixture
def samples(db):
    one, two = sine_wav(0.5), sine_wav(0.4, 330)
    return {"one": (add_sample(db, one, "Laughing 1"), one),
            "two": (add_sample(db, two, "Laughing 2"), two),
            "short": (add_sample(db, sine_wav(0.01), "Cough"), None)}


def test_train_sends_the_samples_and_ends_ready(db, elevenlabs_fake, samples):
    provider = use_fake(db, elevenlabs_fake)
    uids = [samples["one"][0], samples["two"][0]]
    voice = run(ev.train(run_db, db, " Ada  laughing ", "Joy", uids, "vt_builtin_joy"))
    assert (voice.status, voice.error, voice.name, voice.emotion) == ("ready", "", "Ada laughing",
                                                                      "joy")
    assert voice.provider_voice_id == "cloned0002"
    assert (voice.provider_id, voice.provider_name) == (provider, "Fake ElevenLabs")
    assert voice.sample_uids == tuple(uids) and voice.template_uid == "vt_builtin_joy"
    assert voice.uid.startswith("ev_")
    [sent] = clone_requests(elevenlabs_fake)
    assert sent.headers["xi-api-key"] == ELEVENLABS_KEY
    assert sent.form["name"] == "Ada laughing" and "joy" in sent.form["description"]
    assert [(f["field"], f["filename"], f["content_type"], f["data"]) for f in sent.files] == [
        ("files", f"{uids[0]}.wav", "audio/wav", samples["one"][1]),
        ("files", f"{uids[1]}.wav", "audio/wav", samples["two"][1])]
    assert ev.list_voices(db) == [voice]
    assert ev.voice_for_emotion(db, "JOY") == voice
    assert ev.voice_for_emotion(db, "anger") is None
    usage = provider_service.usage_summary(db)
    assert [(u.capability, u.calls) for u in usage] == [("voice_clone", 1)]


def test_the_voice_shows_as_training_while_the_provider_works(db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    elevenlabs_fake.hang_next(1.0, path="voices/add")

    async def scenario():
        task = asyncio.ensure_future(ev.train(run_db, db, "Slow", "joy", [samples["one"][0]]))
        seen = []
        while not task.done():
            seen += [v.status for v in await run_db(ev.list_voices, db)]
            await asyncio.sleep(0.05)
        return seen, task.result()

    seen, voice = run(scenario())
    assert "training" in seen and voice.status == "ready"
    with pytest.raises(StudioError, match="being trained already"):
        ev._ACTIVE.add(voice.uid)
        try:
            run(ev.retrain(run_db, db, voice.uid))
        finally:
            ev._ACTIVE.discard(voice.uid)


def test_cancelling_the_training_leaves_a_failed_voice_to_retrain(db, elevenlabs_fake,
                                                                   samples):
    use_fake(db, elevenlabs_fake)
    elevenlabs_fake.hang_next(5.0, path="voices/add")

    async def scenario():
        task = asyncio.ensure_future(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
        while not clone_requests(elevenlabs_fake):
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
    [voice] = ev.list_voices(db)
    assert voice.status == "failed" and "cancelled" in voice.error
    assert run(ev.retrain(run_db, db, voice.uid)).status == "ready"


def test_a_refused_sample_fails_with_the_message_and_changes_nothing_else(
        db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    good = run(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
    templates = voice_templates.list_templates(db, include_hidden=True,
                                               include_superseded=True)
    sample_rows = sorted((i.uid, i.sha256) for i in voice_samples.list_samples(db))
    voice = run(ev.train(run_db, db, "Ada coughs", "sadness",
                         [samples["two"][0], samples["short"][0]]))
    assert voice.status == "failed" and voice.provider_voice_id is None
    assert "too short" in voice.error and "Cough.wav" not in voice.error
    assert ELEVENLABS_KEY not in voice.error
    assert ev.get(db, good.uid) == good
    assert ev.voice_for_emotion(db, "sadness") is None
    assert voice_templates.list_templates(db, include_hidden=True,
                                          include_superseded=True) == templates
    assert sorted((i.uid, i.sha256) for i in voice_samples.list_samples(db)) == sample_rows
    assert all(voice_samples.verify(db, uid) for uid, _ in sample_rows)
    assert [u.calls for u in provider_service.usage_summary(db)] == [1]  # only the good one
    # re-train with good samples: the same voice becomes ready
    again = run(ev.retrain(run_db, db, voice.uid, [samples["two"][0]]))
    assert again.uid == voice.uid and again.status == "ready" and again.error == ""
    assert again.sample_uids == (samples["two"][0],)
    assert again.provider_voice_id == "cloned0003"
    assert ev.voice_for_emotion(db, "sadness") == again


def test_wrong_key_and_quota_are_told_apart(db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    elevenlabs_fake.configure(key="xi-another-key-000")
    voice = run(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
    assert voice.status == "failed" and "key" in voice.error.lower()
    assert ELEVENLABS_KEY not in voice.error
    elevenlabs_fake.configure(key=ELEVENLABS_KEY)
    elevenlabs_fake.fail_next(401, {"detail": {"status": "quota_exceeded", "message":
                                               "This request exceeds your quota."}},
                              path="voices/add")
    quota = run(ev.retrain(run_db, db, voice.uid))
    assert quota.status == "failed" and "quota" in quota.error
    assert run(ev.retrain(run_db, db, voice.uid)).status == "ready"


def test_a_failed_retrain_keeps_the_voice_the_provider_has(db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    voice = run(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
    elevenlabs_fake.fail_next(500, {"detail": {"status": "error", "message": "boom"}},
                              path="voices/add")
    failed = run(ev.retrain(run_db, db, voice.uid))
    assert failed.status == "failed" and failed.provider_voice_id == voice.provider_voice_id
    assert ev.voice_for_emotion(db, "joy") is None  # only ready voices narrate


def test_no_provider_says_how_to_add_one(db, samples):
    voice = run(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
    assert voice.status == "failed"
    assert "No provider for voice cloning is set up" in voice.error
    assert ai_calls.HOW_TO_ADD in voice.error


def test_bad_input_stores_nothing(db, samples):
    one = samples["one"][0]
    for args, field in ((("", "joy", [one]), "name"),
                        (("x" * 201, "joy", [one]), "name"),
                        (("Ada", "", [one]), "emotion"),
                        (("Ada", "joy", []), "samples"),
                        (("Ada", "joy", one), "samples"),
                        (("Ada", "joy", [one, "vs_gone"]), "samples")):
        with pytest.raises(ValidationError, match=field):
            run(ev.train(run_db, db, *args))
    with pytest.raises(ValidationError, match="template_uid"):
        run(ev.train(run_db, db, "Ada", "joy", [one], "vt_missing"))
    assert ev.list_voices(db) == []


def test_a_sample_changed_on_disk_is_named_and_nothing_is_sent(db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    uid = samples["one"][0]
    (db.data_dir / "voice" / "samples" / f"{uid}.wav").write_bytes(b"RIFF" + b"\0" * 2000)
    voice = run(ev.train(run_db, db, "Ada", "joy", [uid]))
    assert voice.status == "failed" and "“Laughing 1” has changed" in voice.error
    (db.data_dir / "voice" / "samples" / f"{uid}.wav").unlink()
    again = run(ev.retrain(run_db, db, voice.uid))
    assert again.status == "failed" and "“Laughing 1” is missing" in again.error
    voice_samples.delete(db, uid, confirmed=True)
    gone = run(ev.retrain(run_db, db, voice.uid))
    assert gone.status == "failed" and "was deleted; re-train" in gone.error
    assert clone_requests(elevenlabs_fake) == []


def test_remove_is_local(db, elevenlabs_fake, samples):
    use_fake(db, elevenlabs_fake)
    voice = run(ev.train(run_db, db, "Ada", "joy", [samples["one"][0]]))
    ev.remove(db, voice.uid)
    assert ev.list_voices(db) == [] and ev.voice_for_emotion(db, "joy") is None
    with pytest.raises(NotFoundError):
        ev.remove(db, voice.uid)
    held = [v["voice_id"] for v in elevenlabs_fake.state()["voices"]]
    assert voice.provider_voice_id in held  # the provider's copy is not deleted


def test_a_voice_left_training_by_a_stopped_app_reads_as_interrupted(db, samples):
    with db.session() as s:
        s.add(EmotionVoice(uid="ev_stale", name="Old", emotion="joy", status="training",
                           error="", provider_name="", sample_uids_json=json.dumps(
                               [samples["one"][0]]), created_at=utcnow(), updated_at=utcnow()))
    [voice] = ev.list_voices(db)
    assert voice.status == "failed" and "interrupted" in voice.error

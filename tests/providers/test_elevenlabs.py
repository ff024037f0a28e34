"""The ElevenLabs provider against a fake ElevenLabs server over real HTTP."""

from __future__ import annotations

import pytest

from studio.providers import errors as E
from studio.providers import registry
from studio.providers.base import Capability, ProviderConfig
from studio.providers.elevenlabs import KIND
from tests.providers.fake_server import mp3_bytes
from tests.providers.fakes import ELEVENLABS_KEY
from tests.providers.helpers import call, everything_said

RACHEL = "21m00Tcm4TlvDq8ikWAM"
LINE = "The tide was going out, and so was she."
SAMPLE = b"\xff\xfb\x90\x64" + b"\x01" * 3000  # big enough for the fake


def speak(text=LINE, voice=RACHEL, settings=None):
    return lambda p: p.speak(text, voice, settings)


def test_speak_returns_the_audio_with_usage_and_cost(elevenlabs_fake):
    result = call(elevenlabs_fake.config(price_per_1k_characters=0.3), ELEVENLABS_KEY, speak())
    assert result.audio == mp3_bytes() and result.mime == "audio/mpeg"
    assert result.usage.characters == len(LINE) and result.usage.capability == "speech"
    assert result.usage.model == "eleven_multilingual_v2"
    assert result.usage.cost == pytest.approx(len(LINE) * 0.3 / 1000)
    sent = elevenlabs_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", f"/v1/text-to-speech/{RACHEL}")
    assert sent.query == {"output_format": "mp3_44100_128"}
    assert sent.json == {"text": LINE, "model_id": "eleven_multilingual_v2"}
    assert sent.headers["xi-api-key"] == ELEVENLABS_KEY
    assert "authorization" not in sent.headers
    assert elevenlabs_fake.state()["character_count"] == 500 + len(LINE)


def test_speak_sends_only_the_voice_settings_given(elevenlabs_fake):
    settings = {"stability": 0.4, "similarity_boost": 0.8, "speed": 1.1, "style": None,
                "unrelated": "x"}
    call(elevenlabs_fake.config(model_id="eleven_turbo_v2_5", output_format="mp3_22050_32"),
         ELEVENLABS_KEY, speak(settings=settings))
    sent = elevenlabs_fake.requests[-1]
    assert sent.json["voice_settings"] == {"stability": 0.4, "similarity_boost": 0.8,
                                           "speed": 1.1}
    assert sent.json["model_id"] == "eleven_turbo_v2_5"
    assert sent.query == {"output_format": "mp3_22050_32"}


def test_all_five_voice_settings(elevenlabs_fake):
    settings = {"stability": 0.5, "similarity_boost": 0.75, "style": 0.2,
                "use_speaker_boost": True, "speed": 0.9}
    call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak(settings=settings))
    assert elevenlabs_fake.requests[-1].json["voice_settings"] == settings


def test_an_octet_stream_gets_its_type_from_the_output_format(elevenlabs_fake):
    elevenlabs_fake.respond_next(data=mp3_bytes(2), content_type="application/octet-stream")
    result = call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak())
    assert result.mime == "audio/mpeg" and result.audio == mp3_bytes(2)


@pytest.mark.parametrize("answer, what", [
    (dict(body={"detail": {"status": "ok", "message": "queued"}}), "application/json"),
    (dict(data=b"", content_type="audio/mpeg"), "empty"),
    (dict(raw="<html>hello</html>", content_type="text/html"), "text/html"),
    (dict(raw='{"oops": 1}', content_type="audio/mpeg"), "not the audio/mpeg"),
])
def test_an_answer_that_is_not_audio_is_bad_response(elevenlabs_fake, answer, what):
    elevenlabs_fake.respond_next(**answer)
    with pytest.raises(E.BadResponse, match=what):
        call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak())


def test_a_wrong_key_is_auth_failed_with_the_service_message(elevenlabs_fake):
    wrong = "xi-wrong-key-0000000000"
    with pytest.raises(E.AuthFailed) as caught:
        call(elevenlabs_fake.config(retries=2), wrong, speak())
    said = everything_said(caught.value)
    assert "Invalid API key: •••" in said and wrong not in said
    assert len(elevenlabs_fake.requests) == 1


def test_the_key_is_required():
    config = ProviderConfig("elevenlabs", "Voices", {})
    with pytest.raises(E.KeyMissing, match="needs an API key"):
        registry.create(config, None)


def test_used_up_quota_is_not_a_wrong_key(elevenlabs_fake):
    elevenlabs_fake.configure(character_count=9990)
    with pytest.raises(E.Refused) as caught:
        call(elevenlabs_fake.config(retries=2), ELEVENLABS_KEY, speak())
    assert not isinstance(caught.value, E.AuthFailed)
    assert "quota is used up" in str(caught.value) and "exceeds your quota" in str(caught.value)
    assert caught.value.status == 401 and len(elevenlabs_fake.requests) == 1


def test_quota_exceeded_as_429_is_refused_too(elevenlabs_fake):
    elevenlabs_fake.fail_next(429, {"detail": {"status": "quota_exceeded",
                                               "message": "Quota exceeded."}})
    with pytest.raises(E.Refused, match="Quota exceeded"):
        call(elevenlabs_fake.config(retries=2), ELEVENLABS_KEY, speak())
    assert len(elevenlabs_fake.requests) == 1


def test_too_many_concurrent_requests_is_retried(elevenlabs_fake):
    elevenlabs_fake.fail_next(429, {"detail": {
        "status": "too_many_concurrent_requests",
        "message": "Too many concurrent requests. Your current subscription allows 2."}})
    result = call(elevenlabs_fake.config(retries=1), ELEVENLABS_KEY, speak())
    assert result.audio == mp3_bytes() and len(elevenlabs_fake.requests) == 2


def test_an_unknown_voice_is_refused(elevenlabs_fake):
    with pytest.raises(E.Refused, match="was not found"):
        call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak(voice="nobody"))


def test_the_key_never_leaks_from_an_echoing_error(elevenlabs_fake):
    elevenlabs_fake.fail_next(500, {"detail": {"status": "error",
                                               "message": "failed for {sent_key}"}})
    with pytest.raises(E.ServiceFault) as caught:
        call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak())
    assert ELEVENLABS_KEY not in everything_said(caught.value)
    assert "failed for •••" in str(caught.value)


def test_nothing_to_say_is_refused_before_any_call(elevenlabs_fake):
    with pytest.raises(E.Refused):
        call(elevenlabs_fake.config(), ELEVENLABS_KEY, speak(text="  "))
    assert elevenlabs_fake.requests == []


# --- voice cloning ---

def test_clone_voice_sends_the_samples_as_multipart(elevenlabs_fake):
    samples = [("take1.mp3", SAMPLE, "audio/mpeg"), ("take2.wav", SAMPLE + b"2", "audio/wav")]
    result = call(elevenlabs_fake.config(), ELEVENLABS_KEY,
                  lambda p: p.clone_voice("Captain Mara", samples, "Gravelly, warm"))
    assert result.voice_id.startswith("cloned")
    assert result.usage.capability == Capability.VOICE_CLONE.value
    sent = elevenlabs_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/voices/add")
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.form == {"name": "Captain Mara", "description": "Gravelly, warm"}
    assert [(f["field"], f["filename"], f["content_type"], f["data"]) for f in sent.files] == [
        ("files", "take1.mp3", "audio/mpeg", SAMPLE),
        ("files", "take2.wav", "audio/wav", SAMPLE + b"2")]
    voices = call(elevenlabs_fake.config(), ELEVENLABS_KEY, lambda p: p.test_connection())
    assert voices.startswith("Connected: 3 voices")


def test_a_too_short_sample_is_refused_with_the_reason(elevenlabs_fake):
    with pytest.raises(E.Refused, match="take1.mp3 is too short") as caught:
        call(elevenlabs_fake.config(), ELEVENLABS_KEY,
             lambda p: p.clone_voice("Me", [("take1.mp3", b"\xff\xfb" * 10, "audio/mpeg")]))
    assert caught.value.status == 400


def test_clone_voice_without_samples_is_refused_before_any_call(elevenlabs_fake):
    with pytest.raises(E.Refused, match="at least one"):
        call(elevenlabs_fake.config(), ELEVENLABS_KEY, lambda p: p.clone_voice("Me", []))
    assert elevenlabs_fake.requests == []


def test_clone_voice_answer_without_an_id_is_bad_response(elevenlabs_fake):
    elevenlabs_fake.respond_next({"requires_verification": False})
    with pytest.raises(E.BadResponse, match="voice_id"):
        call(elevenlabs_fake.config(), ELEVENLABS_KEY,
             lambda p: p.clone_voice("Me", [("a.mp3", SAMPLE, "audio/mpeg")]))


# --- connection test, kind ---

def test_connection_counts_voices_and_characters_left(elevenlabs_fake):
    message = call(elevenlabs_fake.config(), ELEVENLABS_KEY, lambda p: p.test_connection())
    assert message == "Connected: 2 voices, 9,500 of 10,000 characters left (creator plan)."


def test_connection_with_a_key_that_cannot_read_the_account(elevenlabs_fake):
    elevenlabs_fake.configure(user_forbidden=True)
    message = call(elevenlabs_fake.config(), ELEVENLABS_KEY, lambda p: p.test_connection())
    assert message == "Connected: 2 voices."


def test_connection_with_a_wrong_key(elevenlabs_fake):
    with pytest.raises(E.AuthFailed, match="Invalid API key"):
        call(elevenlabs_fake.config(), "xi-nope-123456", lambda p: p.test_connection())


def test_the_kind():
    assert registry.kind("elevenlabs") is KIND
    assert KIND.capabilities == {Capability.SPEECH, Capability.VOICE_CLONE}
    assert KIND.needs_key and not KIND.key_optional
    defaults = KIND.defaults()
    assert defaults["base_url"] == "https://api.elevenlabs.io"
    assert defaults["model_id"] == "eleven_multilingual_v2"
    assert defaults["output_format"] == "mp3_44100_128"
    assert defaults["price_per_1k_characters"] == 0.3
    assert {"timeout", "retries"} <= set(defaults)

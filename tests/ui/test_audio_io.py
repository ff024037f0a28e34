"""Playing and recording without Qt: on a machine with no audio device (CI, this one) every
call ends quickly with a sentence, never a crash or a hang; the play and record paths
themselves run on miniaudio's *null* backend, which consumes and produces silence in real
time without hardware."""

from __future__ import annotations

import threading
import time

import miniaudio
import pytest

from studio.formats import audio
from studio.formats.audio import AudioFormatError
from studio.services import voice_samples
from studio.ui import audio_io
from studio.ui.audio_io import AudioDeviceError
from tests.formats.audio_helpers import sine_wav

NULL = [miniaudio.Backend.NULL]


def test_this_machine_answers_in_a_sentence_and_quickly():
    started = time.monotonic()
    problem = audio_io.audio_problem()
    playback, capture = audio_io.audio_devices()
    assert time.monotonic() - started < 2 * audio_io.OPEN_TIMEOUT
    assert all(not n.startswith("Discard all samples") for n in playback + capture)
    if problem is None:  # a machine with sound: nothing more to prove here
        assert playback and capture
        return
    assert problem.endswith(".") and ("device" in problem or "microphone" in problem
                                      or "speakers" in problem or "sound system" in problem)
    if not playback:
        with pytest.raises(AudioDeviceError):
            audio_io.Player().play_bytes(sine_wav(0.1), "tone.wav")
    if not capture:
        with pytest.raises(AudioDeviceError):
            audio_io.Recorder().start()


def test_no_devices_at_all(monkeypatch):
    monkeypatch.setattr(audio_io, "audio_devices", lambda timeout=0: ([], []))
    message = audio_io.audio_problem()
    assert "No audio device was found" in message and "provider voices still work" in message
    assert audio_io.audio_problem("playback").startswith("No speakers or headphones")
    assert audio_io.audio_problem("capture").startswith("No microphone was found")


def test_only_a_microphone_is_missing(monkeypatch):
    monkeypatch.setattr(audio_io, "audio_devices", lambda timeout=0: (["Speakers"], []))
    assert audio_io.audio_problem("playback") is None
    assert audio_io.audio_problem().startswith("No microphone was found")


def test_a_build_without_sound_systems(monkeypatch):
    monkeypatch.setattr(audio_io, "real_backends", lambda: [])
    assert "no sound system" in audio_io.audio_problem()
    assert audio_io.audio_devices() == ([], [])
    with pytest.raises(AudioDeviceError, match="no sound system"):
        audio_io.Player(backends=[]).play_bytes(sine_wav(0.1))
    with pytest.raises(AudioDeviceError, match="no sound system"):
        audio_io.Recorder(backends=[]).start()


def test_a_failing_listing_is_no_devices(monkeypatch):
    def broken(backends=None):
        raise miniaudio.MiniaudioError("cannot init context", -203)

    monkeypatch.setattr(miniaudio, "Devices", broken)
    assert audio_io.audio_devices() == ([], [])
    assert "No audio device" in audio_io.audio_problem()


def test_an_audio_system_that_hangs_is_given_up_on(monkeypatch):
    release = threading.Event()
    closed = []

    def hang(backends=None):
        release.wait(5)
        return "late device"

    monkeypatch.setattr(miniaudio, "Devices", hang)
    started = time.monotonic()
    assert audio_io.audio_devices(timeout=0.2) == ([], [])
    assert time.monotonic() - started < 1.0
    with pytest.raises(AudioDeviceError, match="did not answer within 0.2 s"):
        audio_io._off_thread(lambda: (release.wait(5), "device")[1], 0.2, "opening it",
                             late=closed.append)
    release.set()
    for _ in range(100):
        if closed:
            break
        time.sleep(0.01)
    assert closed == ["device"]  # what came too late was handed over to be closed


def test_a_device_that_cannot_be_opened(monkeypatch):
    def refuse(*_a, **_kw):
        raise miniaudio.MiniaudioError("failed to init device", -401)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", refuse)
    monkeypatch.setattr(miniaudio, "CaptureDevice", refuse)
    with pytest.raises(AudioDeviceError, match="audio output could not be opened"):
        audio_io.Player(backends=NULL).play_bytes(sine_wav(0.1))
    recorder = audio_io.Recorder(backends=NULL)
    with pytest.raises(AudioDeviceError, match="microphone could not be opened"):
        recorder.start()
    assert not recorder.is_recording


def test_bad_audio_is_refused_before_a_device_is_touched(monkeypatch):
    monkeypatch.setattr(miniaudio, "PlaybackDevice", lambda *a, **k: pytest.fail("opened"))
    with pytest.raises(AudioFormatError, match="text file"):
        audio_io.Player(backends=NULL).play_bytes(b"hello, not audio\n" * 10, "x.wav")


def test_play_to_the_end_on_the_null_device():
    finished: list[str | None] = []
    player = audio_io.Player(on_finished=finished.append, backends=NULL)
    player.play_bytes(sine_wav(0.3, 22050, 2), "tone.wav")
    assert player.is_playing and player.duration == pytest.approx(0.3, abs=0.001)
    assert player.wait(5)
    assert not player.is_playing and player.error is None
    assert player.position == pytest.approx(0.3, abs=0.05)
    for _ in range(200):
        if finished:
            break
        time.sleep(0.01)
    assert finished == [None]


def test_stop_and_play_another(tmp_path):
    finished: list[str | None] = []
    player = audio_io.Player(on_finished=finished.append, backends=NULL)
    player.play_bytes(sine_wav(5.0, 8000), "long.wav")
    time.sleep(0.1)
    player.stop()
    assert not player.is_playing and player.position < 4.0
    for _ in range(200):
        if finished:
            break
        time.sleep(0.01)
    assert finished == [None]  # a stop is reported
    player.play_bytes(sine_wav(5.0, 8000), "long.wav")
    path = tmp_path / "short.wav"
    path.write_bytes(sine_wav(0.2, 8000))
    player.play_file(path)  # replaces the long one: only the short one reports its end
    assert player.duration == pytest.approx(0.2)
    assert player.wait(5)
    time.sleep(0.6)
    assert finished == [None, None]


def test_record_silence_from_the_null_device_and_import_it(db):
    recorder = audio_io.Recorder(16000, 1, max_seconds=0.3, backends=NULL)
    recorder.start()
    assert recorder.is_recording
    with pytest.raises(AudioDeviceError, match="Already recording"):
        recorder.start()
    deadline = time.monotonic() + 5
    while not recorder.is_full and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorder.is_full and recorder.elapsed == pytest.approx(0.3)
    wav = recorder.stop()
    assert not recorder.is_recording and recorder.level == 0.0
    info = audio.inspect(wav, "recording.wav")
    assert (info.sample_rate, info.channels) == (16000, 1)
    assert info.duration == pytest.approx(0.3) and set(info.peaks) == {0.0}
    sample = voice_samples.import_bytes(db, wav, "recording.wav")
    assert sample.duration == pytest.approx(0.3)


def test_stopping_before_any_audio_gives_an_empty_take_import_refuses(db):
    recorder = audio_io.Recorder(backends=NULL)
    wav = recorder.stop()  # never started
    with pytest.raises(AudioFormatError, match="no audio"):
        voice_samples.import_bytes(db, wav, "recording.wav")


def test_recorder_settings_are_checked():
    with pytest.raises(ValueError):
        audio_io.Recorder(sample_rate=1000)
    with pytest.raises(ValueError):
        audio_io.Recorder(channels=3)

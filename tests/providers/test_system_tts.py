"""Offline speech for previews: a real WAV from eSpeak NG where it is installed (CI installs
it), the "no engine" sentence where nothing is, and engines that fail, hang or write junk —
made with small stand-in programs on PATH, so these run everywhere."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from studio.domain.errors import ValidationError
from studio.formats import audio
from studio.providers import system_tts

SLEEP = shutil.which("sleep") or "/bin/sleep"   # stand-ins run with a bare PATH
CP = shutil.which("cp") or "/bin/cp"
needs_unix = pytest.mark.skipif(sys.platform == "win32", reason="stand-in engines are sh scripts")


@pytest.fixture
def bare_path(tmp_path, monkeypatch):
    """A PATH with nothing on it (the folder is returned, to put stand-ins in)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def stand_in(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_no_engine_says_so_and_provider_voices_still_work(bare_path):
    assert system_tts.engines() == []
    message = system_tts.available()
    assert message == system_tts.NO_ENGINE
    assert "espeak-ng" in message and "Provider voices still work" in message
    with pytest.raises(system_tts.TtsUnavailable) as err:
        system_tts.speak_to_wav("Hello.")
    assert str(err.value) == message


def test_qt_text_to_speech_is_skipped_when_the_addon_is_missing():
    try:
        import PySide6.QtTextToSpeech  # noqa: F401
    except ImportError:
        assert "qt" not in system_tts.engines()
    else:  # the add-ons wheel is installed here: the engine list just must not fail
        assert isinstance(system_tts.engines(), list)


@pytest.mark.parametrize("kwargs, field", [
    ({"text": "   "}, "text"),
    ({"text": "x" * (system_tts.MAX_TEXT + 1)}, "text"),
    ({"text": "Hi", "rate": 0.1}, "rate"),
    ({"text": "Hi", "rate": 3}, "rate"),
    ({"text": "Hi", "pitch": 13}, "pitch"),
    ({"text": "Hi", "pitch": True}, "pitch"),
    ({"text": "Hi", "voice": "--help"}, "voice"),
    ({"text": "Hi", "voice": "en; rm -rf /"}, "voice"),
])
def test_bad_requests_are_refused_before_any_engine_runs(bare_path, kwargs, field):
    with pytest.raises(ValidationError) as err:
        system_tts.speak_to_wav(**kwargs)
    assert err.value.path == [field]


@needs_unix
def test_an_engine_that_fails_gives_its_reason(bare_path):
    stand_in(bare_path, "espeak-ng", 'echo "Error: no voice data" >&2; exit 1')
    assert system_tts.available() is None and system_tts.engines() == ["espeak-ng"]
    with pytest.raises(system_tts.TtsError, match="espeak-ng failed .*no voice data"):
        system_tts.speak_to_wav("Hello.")


@needs_unix
def test_an_engine_that_hangs_is_stopped(bare_path):
    stand_in(bare_path, "espeak-ng", f"exec {SLEEP} 30")
    with pytest.raises(system_tts.TtsError, match="did not finish within 0.5 s"):
        system_tts.speak_to_wav("Hello.", timeout=0.5)


@needs_unix
def test_an_engine_that_writes_junk_is_caught(bare_path):
    # writes text where the WAV should be: "-w <file>" is the 4th/5th argument
    stand_in(bare_path, "espeak", 'echo "not audio" > "$4"')
    with pytest.raises(system_tts.TtsError, match="espeak produced unusable audio"):
        system_tts.speak_to_wav("Hello.")


@needs_unix
def test_an_engine_that_writes_nothing(bare_path):
    stand_in(bare_path, "espeak", "exit 0")
    with pytest.raises(system_tts.TtsError, match="wrote no audio"):
        system_tts.speak_to_wav("Hello.")


@needs_unix
def test_arguments_from_rate_pitch_and_voice(bare_path, tmp_path):
    log = tmp_path / "args.txt"
    wav = tmp_path / "speech.wav"
    wav.write_bytes(audio.wav_bytes([0, 1000, -1000, 0] * 100, 22050, 1))
    stand_in(bare_path, "espeak-ng", f'echo "$@" > "{log}"; {CP} "{wav}" "$4"')
    out = system_tts.speak_to_wav("-s 999 hello", rate=1.5, pitch=-6, voice="en-gb")
    assert out == wav.read_bytes()
    args = log.read_text().split()
    assert args[args.index("-s") + 1] == str(round(175 * 1.5))
    assert args[args.index("-p") + 1] == "25"
    assert args[args.index("-v") + 1] == "en-gb"
    assert "-f" in args and "999" not in args  # the text goes in a file, never as options


def test_espeak_ng_speaks_a_wav_the_audio_layer_reads():
    assert shutil.which("espeak-ng"), "espeak-ng is missing (.ci/run installs it)"
    slow = system_tts.speak_to_wav("The lamp was dark, and the ferry was late.", rate=0.8)
    fast = system_tts.speak_to_wav("The lamp was dark, and the ferry was late.", rate=1.6)
    info = audio.inspect(slow, "preview")
    assert info.format == "wav" and info.channels == 1 and info.sample_rate > 8000
    assert info.duration > 1.0 and max(info.peaks) > 0.1
    assert audio.inspect(fast).duration < info.duration * 0.75

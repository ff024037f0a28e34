"""Offline text-to-speech for previews: the operating system's own voices, as WAV bytes.

A preview must work without an account or a network, so this uses whatever the machine has,
in this order: Qt TextToSpeech (only when the optional PySide6 add-ons are installed — they are
not a dependency), an ``espeak-ng``/``espeak`` program (Linux), macOS ``say``, and Windows'
SAPI through PowerShell (``System.Speech``).  Each engine writes a WAV file in a temporary
folder, runs under a timeout, and its output is checked with :mod:`studio.formats.audio`
before it is returned.  When none exists, :func:`available` says so in a sentence (provider
voices still work), and :func:`speak_to_wav` raises :class:`TtsUnavailable` with it.

Parameters come from voice templates: ``rate`` a speed factor (0.5–2), ``pitch`` in semitones
(−12…12).  macOS ``say`` and SAPI take the rate only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from studio.domain.errors import StudioError, ValidationError
from studio.formats import audio

TIMEOUT = 30.0
MAX_TEXT = 5000
BASE_WPM = 175            # espeak's and say's usual speed
_VOICE_RE = re.compile(r"^[\w][\w .+()'-]{0,99}$", re.UNICODE)
NO_ENGINE = ("No offline text-to-speech engine is installed on this computer, so previews "
             "cannot be spoken offline (on Linux, install “espeak-ng”). Provider voices "
             "still work.")


class TtsUnavailable(StudioError):
    """No engine on this machine."""


class TtsError(StudioError):
    """An engine exists but failed (or took too long) for this text."""


# --- the engines ---

def _qt_engine() -> "object | None":
    """QTextToSpeech when the add-on is installed, an application object exists (it needs
    Qt's event loop) and the binding can synthesize to memory (Qt ≥ 6.6)."""
    try:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtTextToSpeech import QTextToSpeech
    except ImportError:
        return None
    try:
        if QCoreApplication.instance() is None or not hasattr(QTextToSpeech, "synthesize"):
            return None
        return QTextToSpeech if QTextToSpeech.availableEngines() else None
    except Exception:  # a broken plug-in must not break previews: the next engine is tried
        return None


def _espeak() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def _say() -> str | None:
    return shutil.which("say") if sys.platform == "darwin" else None


def _powershell() -> str | None:
    if sys.platform != "win32":
        return None
    return shutil.which("powershell") or shutil.which("pwsh")


def engines() -> list[str]:
    """Names of the engines found, in the order they are tried."""
    found = []
    if _qt_engine() is not None:
        found.append("qt")
    if _espeak():
        found.append(Path(_espeak() or "").stem)
    if _say():
        found.append("say")
    if _powershell():
        found.append("sapi")
    return found


def available() -> str | None:
    """None when an engine exists; else a sentence for the panel (previews off, providers on)."""
    return None if engines() else NO_ENGINE


# --- speaking ---

def _check(text: str, rate: float, pitch: float, voice: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Preview", ["text"], "is empty: there is nothing to say")
    if len(text) > MAX_TEXT:
        raise ValidationError("Preview", ["text"],
                              f"is {len(text)} characters; previews take up to {MAX_TEXT}")
    for name, value, low, high in (("rate", rate, 0.5, 2.0), ("pitch", pitch, -12.0, 12.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= float(value) <= high:
            raise ValidationError("Preview", [name], f"must be from {low:g} to {high:g}")
    if voice and not _VOICE_RE.match(voice):
        raise ValidationError("Preview", ["voice"], f"“{voice}” is not a voice name")
    return " ".join(text.split())


def _run(args: list[str], timeout: float, what: str, env: dict[str, str] | None = None) -> None:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=env, creationflags=flags)
    except subprocess.TimeoutExpired:
        raise TtsError(f"{what} did not finish within {timeout:g} s; try a shorter text.") \
            from None
    except OSError as exc:
        raise TtsError(f"{what} could not be started: {exc.strerror or exc}.") from exc
    if done.returncode != 0:
        detail = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise TtsError(f"{what} failed (exit code {done.returncode})"
                       + (f": {detail[-1][:300]}" if detail else "."))


def _espeak_wav(text: str, rate: float, pitch: float, voice: str, folder: Path,
                timeout: float) -> Path:
    program = _espeak()
    assert program is not None
    source, out = folder / "text.txt", folder / "speech.wav"
    source.write_text(text, encoding="utf-8")  # a file: no length limit, no "-" parsing
    wpm = max(80, min(450, round(BASE_WPM * rate)))
    level = max(0, min(99, round(50 + pitch * 50 / 12)))
    args = [program, "-b", "1", "-w", str(out), "-s", str(wpm), "-p", str(level)]
    if voice:
        args += ["-v", voice]
    _run(args + ["-f", str(source)], timeout, Path(program).stem)
    return out


def _say_wav(text: str, rate: float, pitch: float, voice: str, folder: Path,
             timeout: float) -> Path:
    program = _say()
    assert program is not None
    source, out = folder / "text.txt", folder / "speech.wav"
    source.write_text(text, encoding="utf-8")
    args = [program, "-o", str(out), "--file-format=WAVE", "--data-format=LEI16@22050",
            "-r", str(round(BASE_WPM * rate))]
    if voice:
        args += ["-v", voice]
    _run(args + ["-f", str(source)], timeout, "macOS speech (say)")
    return out


_SAPI_SCRIPT = r"""
$ErrorActionPreference = 'Stop'
Add-Type -AssemblyName System.Speech
$s = New-Object System.Speech.Synthesis.SpeechSynthesizer
try {
  $s.Rate = [int]$env:STUDIO_TTS_RATE
  if ($env:STUDIO_TTS_VOICE) { $s.SelectVoice($env:STUDIO_TTS_VOICE) }
  $s.SetOutputToWaveFile($env:STUDIO_TTS_OUT)
  $s.Speak([IO.File]::ReadAllText($env:STUDIO_TTS_IN, [Text.Encoding]::UTF8))
} finally { $s.Dispose() }
"""


def _sapi_wav(text: str, rate: float, pitch: float, voice: str, folder: Path,
              timeout: float) -> Path:
    program = _powershell()
    assert program is not None
    source, out = folder / "text.txt", folder / "speech.wav"
    source.write_text(text, encoding="utf-8")
    # SAPI's rate is −10…10 (each step ≈ ×1.1 speed); paths and text go through the
    # environment and a file, never into the script's source.
    steps = max(-10, min(10, round((rate - 1.0) * 10)))
    env = dict(os.environ, STUDIO_TTS_IN=str(source), STUDIO_TTS_OUT=str(out),
               STUDIO_TTS_RATE=str(steps), STUDIO_TTS_VOICE=voice)
    _run([program, "-NoProfile", "-NonInteractive", "-Command", _SAPI_SCRIPT], timeout,
         "Windows speech (SAPI)", env)
    return out


def _qt_wav(text: str, rate: float, pitch: float, voice: str, timeout: float) -> bytes:
    """Synthesize in memory with QTextToSpeech (untested on machines without the add-on)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtTextToSpeech import QTextToSpeech

    tts = QTextToSpeech()
    tts.setRate(max(-1.0, min(1.0, rate - 1.0)))
    tts.setPitch(max(-1.0, min(1.0, pitch / 12)))
    if voice:
        for v in tts.availableVoices():
            if v.name() == voice:
                tts.setVoice(v)
                break
    chunks: list[bytes] = []
    shape: dict[str, int] = {}

    def collect(fmt, data) -> None:
        shape.update(rate=fmt.sampleRate(), channels=fmt.channelCount(),
                     width=fmt.bytesPerSample())
        chunks.append(bytes(data))

    loop = QEventLoop()
    timer = QTimer(singleShot=True)
    timer.timeout.connect(loop.quit)
    tts.stateChanged.connect(
        lambda state: loop.quit() if state in (QTextToSpeech.State.Ready,
                                               QTextToSpeech.State.Error) else None)
    tts.synthesize(text, collect)
    timer.start(int(timeout * 1000))
    loop.exec()
    if not timer.isActive():
        raise TtsError(f"Qt text-to-speech did not finish within {timeout:g} s.")
    if not chunks or shape.get("width") != 2:
        raise TtsError("Qt text-to-speech gave no 16-bit audio.")
    return audio.wav_bytes(b"".join(chunks), shape["rate"], shape["channels"])


_FILE_ENGINES: dict[str, Callable[..., Path]] = {
    "espeak-ng": _espeak_wav, "espeak": _espeak_wav, "say": _say_wav, "sapi": _sapi_wav,
}


def speak_to_wav(text: str, *, rate: float = 1.0, pitch: float = 0.0, voice: str = "",
                 timeout: float = TIMEOUT) -> bytes:
    """``text`` spoken by the first engine that works, as WAV bytes.  No engine →
    TtsUnavailable; every engine failing → TtsError (the first engine's reason)."""
    text = _check(text, rate, pitch, voice)
    found = engines()
    if not found:
        raise TtsUnavailable(NO_ENGINE)
    first_error: TtsError | None = None
    for name in found:
        try:
            if name == "qt":
                data = _qt_wav(text, rate, pitch, voice, timeout)
            else:
                with tempfile.TemporaryDirectory(prefix="studio-tts-") as tmp:
                    out = _FILE_ENGINES[name](text, rate, pitch, voice, Path(tmp), timeout)
                    try:
                        data = out.read_bytes()
                    except OSError:
                        raise TtsError(f"{name} wrote no audio file.") from None
            audio.probe(data, f"{name} speech")
            return data
        except TtsError as exc:
            first_error = first_error or exc
        except audio.AudioFormatError as exc:
            first_error = first_error or TtsError(f"{name} produced unusable audio: {exc}")
        except Exception as exc:  # an engine's own bug (e.g. a Qt plug-in): try the next one
            first_error = first_error or TtsError(f"{name} failed: {exc}")
    assert first_error is not None
    raise first_error

"""Audio made in the test: sine tones written with the ``wave`` module, and the small committed
FLAC / Ogg Vorbis / MP3 files of ``tests/data/audio`` (see its README)."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

AUDIO_DATA = Path(__file__).resolve().parents[1] / "data" / "audio"


def sine_wav(seconds: float = 0.5, rate: int = 22050, channels: int = 1, freq: float = 440.0,
             amplitude: float = 0.5, silent_first: float = 0.0) -> bytes:
    """A sine tone (``amplitude`` of full scale) as 16-bit PCM WAV; ``silent_first`` of the
    duration (a fraction) is silence first, to check where the waveform's peaks fall."""
    frames = int(seconds * rate)
    quiet = int(frames * silent_first)
    out = bytearray()
    for i in range(frames):
        value = 0 if i < quiet else \
            int(round(32767 * amplitude * math.sin(2 * math.pi * freq * i / rate)))
        out += struct.pack("<h", value) * channels
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(out))
    return buf.getvalue()


def committed(name: str) -> bytes:
    return (AUDIO_DATA / name).read_bytes()


def pcm_frames(wav: bytes) -> tuple[int, int, bytes]:
    """(rate, channels, raw frames) of a WAV, read back with the standard library."""
    with wave.open(io.BytesIO(wav)) as w:
        return w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())

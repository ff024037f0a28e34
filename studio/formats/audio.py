"""Audio files as bytes: what format they are, whether they really decode, how long they are,
a waveform to draw, a trimmed copy, and WAV made from raw PCM.

The author's voice samples, recordings and rendered lines pass through here before anything is
stored, so every way a file can be wrong (empty, a text file renamed ``.wav``, cut off half way,
damaged, a format we cannot decode, far too big) becomes an :class:`AudioFormatError` that names
the file and says why — never a decoder's error code.

Decoding is `miniaudio` (WAV, FLAC, Ogg Vorbis, MP3; no system libraries, no numpy).  The whole
file is decoded once by :func:`inspect`, in chunks, because decoders accept damaged data
silently until they reach it: a file that decodes to fewer frames than its header promises is
refused as cut off or damaged.  Pure functions over bytes: no files, no Qt, no database.
"""

from __future__ import annotations

import array
import io
import math
import struct
import wave
from dataclasses import dataclass, field
from typing import Callable, Iterable

import miniaudio

from studio.domain.errors import ImportFormatError, ValidationError

FORMATS = ("wav", "flac", "ogg", "mp3")
EXTENSIONS = {"wav": "wav", "flac": "flac", "ogg": "ogg", "mp3": "mp3"}
NAMES = {"wav": "WAV", "flac": "FLAC", "ogg": "Ogg Vorbis", "mp3": "MP3"}
MIME = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "mp3": "audio/mpeg"}
MAX_BYTES = 50 * 1024 * 1024
PEAKS = 200
# Peaks look at no more than about this many samples (evenly strided): a waveform a few
# hundred pixels wide looks the same, and an hour of MP3 stays a matter of seconds.
PEAK_SAMPLE_BUDGET = 4_000_000
MAX_RATE = 384_000
MAX_CHANNELS = 8
# A decoder may legitimately stop a few frames short of a header's count (encoder padding,
# a partial last MP3 frame); more than this much missing means the file was cut off.
TRUNCATION_TOLERANCE_S = 0.05
CHUNK_FRAMES = 16384

_GET_INFO: dict[str, Callable[[bytes], miniaudio.SoundFileInfo]] = {
    "wav": miniaudio.wav_get_info, "flac": miniaudio.flac_get_info,
    "ogg": miniaudio.vorbis_get_info, "mp3": miniaudio.mp3_get_info,
}


class AudioFormatError(ImportFormatError):
    """An audio file that cannot be used: the message names the file and says why."""


@dataclass(frozen=True)
class AudioInfo:
    """What the app shows and stores about a decoded file.  ``peaks`` are the largest absolute
    sample values of ~``PEAKS`` equal stretches, from 0.0 (silence) to 1.0 (full scale)."""

    format: str
    duration: float
    sample_rate: int
    channels: int
    peaks: list[float] = field(default_factory=list)
    frames: int = 0


def _label(name: str) -> str:
    return f"“{name}”" if name else "The audio"


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _limit_text() -> str:
    mb, rest = divmod(MAX_BYTES, 1024 * 1024)
    return f"{mb} MB" if mb and not rest else _size_text(MAX_BYTES)


def check_size(size: int, name: str = "") -> None:
    """Refuse before reading: a service can call this with a file's size from ``stat``."""
    if size == 0:
        raise AudioFormatError(f"{_label(name)} is empty (0 bytes): there is no audio in it.")
    if size > MAX_BYTES:
        raise AudioFormatError(
            f"{_label(name)} is {_size_text(size)}; audio files of up to "
            f"{_limit_text()} can be used. Trim it or save it in a compressed "
            "format (FLAC, Ogg Vorbis or MP3) first.")


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    text = head.decode("utf-8", errors="replace")  # a cut-off last character is no reason
    printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def _unsupported_kind(data: bytes) -> str | None:
    """A name for formats people commonly have but the decoder lacks (for a better message)."""
    if data[4:8] == b"ftyp":
        return "an MP4/M4A (AAC or ALAC) file"
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "an AIFF file"
    if data[:4] == b"RIFF" and data[8:12] != b"WAVE":
        return f"a RIFF “{data[8:12].decode('latin-1')}” file, not WAVE audio"
    if data[:4] == b"\x30\x26\xb2\x75":
        return "a Windows Media (WMA) file"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "a WebM/Matroska file"
    if data[:2] == b"\xff\xf1" or data[:2] == b"\xff\xf9":
        return "raw AAC (ADTS) audio"
    if data[:4] == b"#!AM":
        return "an AMR voice memo"
    if data[:4] == b"caff":
        return "a Core Audio (CAF) file"
    return None


def _is_mpeg_frame(data: bytes) -> bool:
    if len(data) < 4 or data[0] != 0xFF or (data[1] & 0xE0) != 0xE0:
        return False
    version = (data[1] >> 3) & 0x03   # 01 is reserved
    layer = (data[1] >> 1) & 0x03     # 00 is AAC (ADTS), not MPEG audio
    bitrate = data[2] >> 4            # 1111 is invalid
    rate = (data[2] >> 2) & 0x03      # 11 is reserved
    return version != 1 and layer != 0 and bitrate != 0x0F and rate != 0x03


def detect_format(data: bytes, name: str = "") -> str:
    """"wav", "flac", "ogg" or "mp3" from the first bytes (a file's extension can lie)."""
    check_size(len(data), name)
    if data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        if b"OpusHead" in data[:64]:
            raise AudioFormatError(
                f"{_label(name)} is Ogg Opus audio, which Story Studio cannot read; use WAV, "
                "FLAC, Ogg Vorbis or MP3.")
        if b"\x7fFLAC" in data[:64]:
            raise AudioFormatError(
                f"{_label(name)} is FLAC inside an Ogg container, which Story Studio cannot "
                "read; save it as a plain .flac file, WAV, Ogg Vorbis or MP3.")
        return "ogg"
    if data[:3] == b"ID3" or _is_mpeg_frame(data):
        return "mp3"
    other = _unsupported_kind(data)
    if other:
        raise AudioFormatError(
            f"{_label(name)} is {other}, which Story Studio cannot read; use WAV, FLAC, "
            "Ogg Vorbis or MP3.")
    if _looks_like_text(data[:512]):
        raise AudioFormatError(
            f"{_label(name)} is a text file, not audio (whatever its name says). "
            "Choose a WAV, FLAC, Ogg Vorbis or MP3 file.")
    raise AudioFormatError(
        f"{_label(name)} is not an audio file Story Studio recognises (its first bytes are "
        "not those of WAV, FLAC, Ogg Vorbis or MP3). It may be damaged or another format.")


def _wav_data_shortfall(data: bytes) -> int:
    """Bytes the WAV's ``data`` chunk promises but the file lacks (0 if whole or unknown).

    The WAV decoder quietly clamps a cut-off ``data`` chunk to what is there, so a half-copied
    recording would look like a shorter, valid one; the RIFF header says how much there was."""
    if data[:4] != b"RIFF":
        return 0  # RF64 keeps sizes elsewhere; the decoder's checks are all we have
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"data":
            if size in (0, 0xFFFFFFFF):  # a streaming writer that never went back
                return 0
            return max(0, pos + 8 + size - len(data))
        pos += 8 + size + (size & 1)
    return 0


def _header_info(data: bytes, fmt: str, name: str) -> miniaudio.SoundFileInfo:
    try:
        info = _GET_INFO[fmt](data)
    except miniaudio.MiniaudioError:
        raise AudioFormatError(
            f"{_label(name)} looks like {NAMES[fmt]} but cannot be read: it is damaged, cut "
            "off, or not really audio.") from None
    if not 1 <= info.nchannels <= MAX_CHANNELS or not 1 <= info.sample_rate <= MAX_RATE:
        raise AudioFormatError(
            f"{_label(name)} claims {info.nchannels} channel(s) at {info.sample_rate} Hz, "
            "which is not real audio; the file is probably damaged.")
    return info


def _peak_of(samples: array.array) -> int:
    return max(max(samples), -min(samples)) if samples else 0


def probe(data: bytes, name: str = "") -> AudioInfo:
    """What the header says (format, length, rate, channels; no peaks), refusing files that
    are unsupported, empty or visibly cut off — fast, nothing is decoded.  Good enough before
    playing; :func:`inspect` is the full check before storing."""
    fmt = detect_format(data, name)
    shortfall = _wav_data_shortfall(data) if fmt == "wav" else 0
    info = _header_info(data, fmt, name)
    if shortfall:
        raise AudioFormatError(
            f"{_label(name)} is cut off: its header promises {shortfall} more bytes of audio "
            "than the file holds (an interrupted copy or download?).")
    frames = int(info.num_frames)
    if frames <= 0:
        raise AudioFormatError(f"{_label(name)} holds no audio (zero length).")
    rate = int(info.sample_rate)
    return AudioInfo(fmt, frames / rate, rate, int(info.nchannels), [], frames)


def inspect(data: bytes, name: str = "", *, points: int = PEAKS) -> AudioInfo:
    """Decode all of ``data`` (refusing anything unusable) and describe it, with a waveform.

    Every sample is decoded because damage shows only where it is; peaks are taken from an
    evenly strided subset (``PEAK_SAMPLE_BUDGET``) of the mono mix."""
    header = probe(data, name)
    fmt, declared = header.format, header.frames
    rate, channels = header.sample_rate, header.channels
    points = max(1, min(int(points), declared))
    stride = max(1, declared // PEAK_SAMPLE_BUDGET)
    peaks = [0] * points
    decoded = 0
    try:
        stream = miniaudio.stream_memory(data, output_format=miniaudio.SampleFormat.SIGNED16,
                                         nchannels=1, sample_rate=rate,
                                         frames_to_read=CHUNK_FRAMES)
        for chunk in stream:
            start = 0
            while start < len(chunk):
                # stretch k covers frames [k*declared/points, (k+1)*declared/points)
                index = min(points - 1, (decoded + start) * points // declared)
                end = min(len(chunk), -(-(index + 1) * declared // points) - decoded)
                if end <= start or index == points - 1:  # the last stretch takes the rest
                    end = len(chunk)
                peak = _peak_of(chunk[start:end:stride])
                if peak > peaks[index]:
                    peaks[index] = peak
                start = end
            decoded += len(chunk)
    except miniaudio.MiniaudioError:
        raise AudioFormatError(
            f"{_label(name)} is damaged: the {NAMES[fmt]} decoder stopped after "
            f"{decoded / rate:.2f} s of audio.") from None
    if decoded == 0:
        raise AudioFormatError(
            f"{_label(name)} holds no audio that can be decoded (zero length or damaged).")
    if declared - decoded > TRUNCATION_TOLERANCE_S * rate:
        raise AudioFormatError(
            f"{_label(name)} is cut off or damaged: its header says {declared / rate:.2f} s "
            f"but only {decoded / rate:.2f} s of audio could be decoded.")
    used = min(points, -(-decoded * points // declared))
    scaled = [round(min(1.0, p / 32767), 4) for p in peaks[:used]]
    return AudioInfo(fmt, decoded / rate, rate, channels, scaled, decoded)


def trim_to_wav(data: bytes, start_s: float, end_s: float, name: str = "") -> bytes:
    """The stretch ``start_s``–``end_s`` (seconds) of any supported file, as 16-bit PCM WAV at
    the file's own rate and channel count.  ``end_s`` past the end is clamped; a range that is
    empty, backwards, or too long to keep as WAV is refused (the caller keeps its original
    either way).  Decoded in chunks, keeping only the stretch: an hour of MP3 is never held
    in memory as PCM."""
    for label, value in (("start", start_s), ("end", end_s)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValidationError("Trim", [label], "must be a number of seconds")
    if start_s < 0:
        raise ValidationError("Trim", ["start"], f"cannot be before 0 s (was {start_s:g})")
    if end_s <= start_s:
        raise ValidationError("Trim", ["end"],
                              f"must be after the start ({start_s:g} s), not {end_s:g} s")
    info = probe(data, name)
    rate, channels = info.sample_rate, info.channels
    if start_s >= info.duration:
        raise ValidationError("Trim", ["start"], f"is past the end of the audio "
                              f"({start_s:g} s of {info.duration:.2f} s)")
    first = int(round(start_s * rate))
    last = min(info.frames, int(round(end_s * rate)))
    if last <= first:
        raise ValidationError("Trim", ["end"], "leaves no audio (the range is too short)")
    if (last - first) * channels * 2 + 44 > MAX_BYTES:
        raise ValidationError("Trim", ["end"], f"{(last - first) / rate:.0f} s would be more "
                              f"than {_limit_text()} as WAV; choose a shorter stretch")
    kept = bytearray()
    position = 0
    try:
        for chunk in miniaudio.stream_memory(data, output_format=miniaudio.SampleFormat.SIGNED16,
                                             nchannels=channels, sample_rate=rate,
                                             frames_to_read=CHUNK_FRAMES):
            frames = len(chunk) // channels
            lo, hi = max(first, position), min(last, position + frames)
            if lo < hi:
                kept += chunk[(lo - position) * channels:(hi - position) * channels].tobytes()
            position += frames
            if position >= last:
                break
    except miniaudio.MiniaudioError:
        raise AudioFormatError(f"{_label(name)} is damaged: the {NAMES[info.format]} decoder "
                               f"stopped after {position / rate:.2f} s of audio.") from None
    if not kept:
        raise AudioFormatError(f"{_label(name)} has no audio in that stretch (it is damaged "
                               "or shorter than its header says).")
    return wav_bytes(kept, rate, channels)


def wav_bytes(frames: bytes | bytearray | memoryview | array.array | Iterable[int],
              sample_rate: int, channels: int) -> bytes:
    """16-bit PCM samples (interleaved, in the machine's byte order — as miniaudio and
    ``array('h')`` give them; the ``wave`` module writes them little-endian) as a complete WAV
    file: what recordings, trims and offline speech are stored as."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) \
            or not 1 <= sample_rate <= MAX_RATE:
        raise ValidationError("WAV", ["sample_rate"], f"must be 1–{MAX_RATE} Hz, not {sample_rate}")
    if isinstance(channels, bool) or not isinstance(channels, int) \
            or not 1 <= channels <= MAX_CHANNELS:
        raise ValidationError("WAV", ["channels"], f"must be 1–{MAX_CHANNELS}, not {channels}")
    if isinstance(frames, array.array):
        if frames.itemsize != 2:
            raise ValidationError("WAV", ["frames"], "must be 16-bit samples")
        raw = frames.tobytes()
    elif isinstance(frames, (bytes, bytearray, memoryview)):
        raw = bytes(frames)
    else:
        raw = array.array("h", frames).tobytes()
    if len(raw) % (2 * channels):
        raise ValidationError("WAV", ["frames"],
                              f"{len(raw)} bytes is not a whole number of {channels}-channel "
                              "16-bit frames")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(raw)
    return out.getvalue()


def pcm16_level(raw: bytes | bytearray | memoryview) -> float:
    """Peak level 0.0–1.0 of a block of 16-bit PCM in machine order (a recording meter)."""
    usable = len(raw) - len(raw) % 2
    if usable <= 0:
        return 0.0
    samples = array.array("h")
    samples.frombytes(bytes(raw[:usable]))
    return min(1.0, _peak_of(samples) / 32767)

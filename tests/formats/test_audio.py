"""Audio files as bytes: formats told by their first bytes, every way a file can be unusable
refused with a message naming it, waveforms, trims and WAV writing — on generated sine tones
and the small committed FLAC / Ogg Vorbis / MP3 files."""

from __future__ import annotations

import array
import struct

import pytest

from studio.domain.errors import ImportFormatError, StudioError, ValidationError
from studio.formats import audio
from studio.formats.audio import AudioFormatError
from tests.formats.audio_helpers import committed, pcm_frames, sine_wav
from tests.providers.fake_server import mp3_bytes


def refused(data: bytes, name: str = "take.wav") -> str:
    with pytest.raises(AudioFormatError) as err:
        audio.inspect(data, name)
    message = str(err.value)
    assert f"“{name}”" in message  # the file is named
    return message


# --- formats ---

@pytest.mark.parametrize("data, fmt", [
    (sine_wav(0.05), "wav"),
    (committed("tone_22k_mono.flac"), "flac"),
    (committed("tone_44k_stereo.ogg"), "ogg"),
    (committed("tone_22k_mono.mp3"), "mp3"),         # MPEG-2 layer III frame sync
    (mp3_bytes(), "mp3"),                             # MPEG-1 layer III frame sync
    (b"ID3\x04\x00\x00\x00\x00\x00\x00" + mp3_bytes(), "mp3"),
])
def test_format_is_told_by_the_first_bytes_not_the_name(data, fmt):
    assert audio.detect_format(data, "whatever.txt") == fmt


def test_audio_format_error_is_an_import_error_fit_to_show():
    assert issubclass(AudioFormatError, ImportFormatError)
    assert issubclass(AudioFormatError, StudioError)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_wav_at_several_rates_and_channel_counts(rate, channels):
    info = audio.inspect(sine_wav(0.4, rate, channels), "tone.wav")
    assert info.format == "wav"
    assert info.sample_rate == rate and info.channels == channels
    assert info.duration == pytest.approx(0.4, abs=1 / rate)
    assert info.frames == int(0.4 * rate)
    assert len(info.peaks) == audio.PEAKS
    assert all(0.0 <= p <= 1.0 for p in info.peaks)
    assert max(info.peaks) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("name, rate, channels, seconds", [
    ("tone_22k_mono.flac", 22050, 1, 0.5),
    ("tone_44k_stereo.ogg", 44100, 2, 0.5),
    ("tone_22k_mono.mp3", 22050, 1, 0.5),
])
def test_compressed_formats_decode(name, rate, channels, seconds):
    info = audio.inspect(committed(name), name)
    assert info.format == name.rsplit(".", 1)[1]
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration == pytest.approx(seconds, abs=0.1)   # MP3 adds encoder padding
    assert len(info.peaks) == audio.PEAKS
    assert max(info.peaks) == pytest.approx(0.5, abs=0.05)


def test_the_fake_elevenlabs_mp3_frames_decode_as_silence():
    info = audio.inspect(mp3_bytes(6), "speech.mp3")
    assert info.format == "mp3" and info.sample_rate == 44100
    assert info.duration == pytest.approx(6 * 1152 / 44100, abs=0.01)
    assert set(info.peaks) == {0.0}


def test_probe_reads_the_header_only():
    info = audio.probe(committed("tone_44k_stereo.ogg"), "a.ogg")
    assert (info.format, info.sample_rate, info.channels) == ("ogg", 44100, 2)
    assert info.duration == pytest.approx(0.5, abs=0.01) and info.peaks == []


# --- peaks ---

def test_peaks_follow_the_sound():
    info = audio.inspect(sine_wav(1.0, 8000, amplitude=0.8, silent_first=0.5), "half.wav")
    first, second = info.peaks[:95], info.peaks[105:]
    assert max(first) == 0.0
    assert min(second) > 0.7 and max(second) <= 0.81


def test_silence_has_zero_peaks_and_full_scale_is_one():
    assert set(audio.inspect(sine_wav(0.2, amplitude=0.0)).peaks) == {0.0}
    loud = audio.inspect(audio.wav_bytes([32767, -32768] * 500, 8000, 1)).peaks
    assert max(loud) == 1.0 and min(loud) > 0.99


def test_fewer_frames_than_points_give_one_peak_a_frame():
    info = audio.inspect(audio.wav_bytes([1000, -2000, 30000], 8000, 1))
    assert info.peaks == pytest.approx([1000 / 32767, 2000 / 32767, 30000 / 32767], abs=1e-4)
    assert len(audio.inspect(sine_wav(0.2), points=50).peaks) == 50


# --- refusals ---

def test_empty_file():
    assert "empty" in refused(b"")


def test_text_file_named_wav():
    message = refused("Chapter one. It was a dark and stormy night.\n".encode() * 20)
    assert "text file" in message


def test_random_bytes():
    assert "not an audio file" in refused(bytes(range(256)) * 8)


@pytest.mark.parametrize("data, what", [
    (b"OggS\x00\x02" + b"\x00" * 22 + b"OpusHead" + b"\x00" * 40, "Opus"),
    (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 64, "MP4/M4A"),
    (b"FORM\x00\x00\x10\x00AIFF" + b"\x00" * 64, "AIFF"),
    (b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 64, "not WAVE"),
    (b"\xff\xf1\x50\x80" + b"\x00" * 64, "AAC"),
])
def test_known_unsupported_formats_are_named(data, what):
    message = refused(data)
    assert what in message and "WAV, FLAC, Ogg Vorbis or MP3" in message


def test_truncated_wav_is_refused_not_shortened():
    whole = sine_wav(1.0)
    message = refused(whole[: len(whole) // 2])
    assert "cut off" in message


def test_truncated_flac():
    whole = committed("tone_22k_mono.flac")
    assert "cut off" in refused(whole[: len(whole) // 2], "tone.flac")


def test_truncated_ogg():
    whole = committed("tone_44k_stereo.ogg")
    refused(whole[: len(whole) // 2], "tone.ogg")


def test_corrupt_flac_is_refused():
    data = bytearray(committed("tone_22k_mono.flac"))
    data[3000:6000] = b"\x55" * 3000
    message = refused(bytes(data), "tone.flac")
    assert "damaged" in message


def test_header_only_wav_has_no_audio():
    assert "no audio" in refused(audio.wav_bytes(b"", 22050, 1))


def test_a_header_claiming_impossible_channels():
    data = bytearray(sine_wav(0.1))
    struct.pack_into("<H", data, 22, 0)  # fmt chunk: 0 channels
    refused(bytes(data))


def test_oversized_file_is_refused_before_decoding():
    message = refused(bytes(audio.MAX_BYTES + 1), "huge.wav")
    assert "is 50.0 MB; audio files of up to 50 MB can be used" in message
    with pytest.raises(AudioFormatError, match="50.0 MB"):
        audio.check_size(audio.MAX_BYTES + 1, "huge.wav")
    audio.check_size(audio.MAX_BYTES, "just-fits.wav")


# --- trim ---

def test_trim_keeps_rate_channels_and_exact_samples():
    source = sine_wav(1.0, 16000, 2, amplitude=0.3)
    out = audio.trim_to_wav(source, 0.25, 0.5, "tone.wav")
    rate, channels, raw = pcm_frames(out)
    assert (rate, channels) == (16000, 2)
    _r, _c, original = pcm_frames(source)
    assert raw == original[4000 * 4:8000 * 4]


def test_trim_of_compressed_audio_gives_wav():
    out = audio.trim_to_wav(committed("tone_44k_stereo.ogg"), 0.1, 0.3, "tone.ogg")
    info = audio.inspect(out, "trimmed")
    assert (info.format, info.sample_rate, info.channels) == ("wav", 44100, 2)
    assert info.duration == pytest.approx(0.2, abs=0.001)


def test_trim_end_past_the_end_is_clamped():
    out = audio.trim_to_wav(sine_wav(0.5), 0.4, 9.0)
    assert audio.inspect(out).duration == pytest.approx(0.1, abs=0.001)


@pytest.mark.parametrize("start, end, field", [
    (-0.1, 0.2, "start"), (0.3, 0.3, "end"), (0.3, 0.1, "end"), (0.6, 0.9, "start"),
    (float("nan"), 0.2, "start"), ("0", 0.2, "start"), (0.0, True, "end"),
])
def test_trim_ranges_are_validated(start, end, field):
    with pytest.raises(ValidationError) as err:
        audio.trim_to_wav(sine_wav(0.5), start, end)
    assert err.value.path == [field]


def test_trim_too_long_to_keep_as_wav(monkeypatch):
    monkeypatch.setattr(audio, "MAX_BYTES", 5000)  # 0.5 s of 22 kHz mono is ~22 kB
    with pytest.raises(ValidationError, match="more than 5000 bytes as WAV"):
        audio.trim_to_wav(committed("tone_22k_mono.mp3"), 0.0, 0.5)
    assert audio.inspect(audio.trim_to_wav(committed("tone_22k_mono.mp3"), 0.0, 0.05))


def test_trim_past_where_a_cut_off_flac_ends():
    whole = committed("tone_22k_mono.flac")
    with pytest.raises(AudioFormatError, match="no audio in that stretch"):
        audio.trim_to_wav(whole[: len(whole) // 2], 0.4, 0.5, "tone.flac")


def test_trim_of_a_bad_file_is_a_format_error():
    with pytest.raises(AudioFormatError):
        audio.trim_to_wav(b"not audio at all, really", 0, 1, "x.wav")


# --- writing WAV ---

def test_wav_bytes_round_trip():
    samples = array.array("h", [0, 100, -100, 32767, -32768, 5, 6, 7])
    wav = audio.wav_bytes(samples, 11025, 2)
    rate, channels, raw = pcm_frames(wav)
    assert (rate, channels) == (11025, 2)
    assert array.array("h", raw) == samples
    assert audio.wav_bytes(samples.tobytes(), 11025, 2) == wav
    assert audio.wav_bytes(list(samples), 11025, 2) == wav


@pytest.mark.parametrize("frames, rate, channels, field", [
    (b"\x00\x00\x00", 8000, 1, "frames"),          # half a sample
    (b"\x00\x00", 8000, 2, "frames"),              # half a stereo frame
    (b"", 0, 1, "sample_rate"),
    (b"", 8000, 0, "channels"),
    (array.array("i", [1]), 8000, 1, "frames"),    # 32-bit samples
])
def test_wav_bytes_validates(frames, rate, channels, field):
    with pytest.raises(ValidationError) as err:
        audio.wav_bytes(frames, rate, channels)
    assert err.value.path == [field]


def test_pcm16_level():
    assert audio.pcm16_level(b"") == 0.0
    assert audio.pcm16_level(array.array("h", [0, -16384, 100]).tobytes()) == \
        pytest.approx(0.5, abs=0.001)
    assert audio.pcm16_level(b"\x00\x80\x01") == 1.0  # odd byte ignored; -32768 clamps to 1

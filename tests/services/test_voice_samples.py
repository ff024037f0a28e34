"""The author's voice samples on a real data folder: imports that store a file and its row (or
neither), checksums, trims that keep the original, deletes that warn when an emotion voice or a
roleplay line uses the sample."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.formats import audio
from studio.formats.audio import AudioFormatError
from studio.services import voice_samples as vs
from studio.store.models_voice import EmotionVoice, Roleplay, RoleplayLine, VoiceSample
from studio.store.repositories import voice_samples as repo
from tests.formats.audio_helpers import AUDIO_DATA, committed, sine_wav


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def stored_files(db) -> list[Path]:
    folder = vs.samples_dir(db)
    return sorted(folder.iterdir()) if folder.exists() else []


def row_count(db) -> int:
    with db.session() as s:
        return s.query(VoiceSample).count()


def add_voice(db, name: str, sample_uids: list[str], status: str = "ready") -> None:
    with db.session() as s:
        s.add(EmotionVoice(uid=f"ev_{name.lower().replace(' ', '_')}", name=name,
                           emotion="joy", status=status, provider_voice_id="v123",
                           sample_uids_json=json.dumps(sample_uids)))


# --- importing ---

def test_import_a_wav_file(db, tmp_path):
    data = sine_wav(0.75, 22050, 1)
    info = vs.import_file(db, write(tmp_path, "My take 1.wav", data))
    assert info.uid.startswith("vs_")
    assert info.label == "My take 1" and info.original_name == "My take 1.wav"
    assert (info.format, info.sample_rate, info.channels) == ("wav", 22050, 1)
    assert info.duration == pytest.approx(0.75, abs=0.001)
    assert info.bytes == len(data)
    assert len(info.peaks) == audio.PEAKS and max(info.peaks) == pytest.approx(0.5, abs=0.01)
    assert info.path == vs.samples_dir(db) / f"{info.uid}.wav"
    assert info.path.read_bytes() == data
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_files(db) == [info.path]  # no temporary file left beside it
    assert vs.list_samples(db) == [info]
    assert vs.get(db, info.uid) == info


@pytest.mark.parametrize("name", ["tone_22k_mono.flac", "tone_44k_stereo.ogg",
                                  "tone_22k_mono.mp3"])
def test_import_compressed_files_keeps_them_as_they_are(db, name):
    info = vs.import_file(db, AUDIO_DATA / name)
    assert info.format == name.rsplit(".", 1)[1]
    assert info.path.suffix == "." + info.format
    assert info.path.read_bytes() == committed(name)
    assert vs.verify(db, info.uid) == info.path


def test_the_extension_does_not_decide_the_format(db, tmp_path):
    info = vs.import_file(db, write(tmp_path, "really-flac.wav", committed("tone_22k_mono.flac")))
    assert info.format == "flac" and info.path.suffix == ".flac"


def test_import_bytes_for_recordings(db):
    info = vs.import_bytes(db, sine_wav(0.3, 44100, 1), "recording.wav", label="  Take\n two ",
                           emotion=" Joy ")
    assert info.label == "Take two" and info.emotion == "joy"


def test_template_gives_the_emotion_and_must_exist(db):
    info = vs.import_bytes(db, sine_wav(0.2), "a.wav", template_uid="vt_builtin_sorrow")
    assert info.template_uid == "vt_builtin_sorrow" and info.emotion == "sadness"
    with pytest.raises(ValidationError) as err:
        vs.import_bytes(db, sine_wav(0.2), "b.wav", template_uid="vt_nope")
    assert err.value.path == ["template_uid"]
    assert row_count(db) == 1 and len(stored_files(db)) == 1


def test_label_too_long_is_refused(db):
    with pytest.raises(ValidationError):
        vs.import_bytes(db, sine_wav(0.2), "a.wav", label="x" * 201)
    assert row_count(db) == 0 and stored_files(db) == []


def test_list_filters_by_template_and_emotion(db):
    a = vs.import_bytes(db, sine_wav(0.2), "a.wav", template_uid="vt_builtin_joy")
    b = vs.import_bytes(db, sine_wav(0.2), "b.wav", emotion="fear")
    c = vs.import_bytes(db, sine_wav(0.2), "c.wav", template_uid="vt_builtin_joy",
                        emotion="delight")
    assert [x.uid for x in vs.list_samples(db)] == [a.uid, b.uid, c.uid]
    assert [x.uid for x in vs.list_samples(db, template_uid="vt_builtin_joy")] == [a.uid, c.uid]
    assert [x.uid for x in vs.list_samples(db, emotion="fear")] == [b.uid]
    assert [x.uid for x in vs.list_samples(db, "vt_builtin_joy", "joy")] == [a.uid]


# --- bad files: a clear error, no row, no file ---

def _truncated() -> bytes:
    whole = sine_wav(1.0)
    return whole[: len(whole) // 2]


def _corrupt() -> bytes:
    data = bytearray(committed("tone_22k_mono.flac"))
    data[3000:6000] = b"\x55" * 3000
    return bytes(data)


@pytest.mark.parametrize("name, make, words", [
    ("empty.wav", lambda: b"", "empty"),
    ("notes.wav", lambda: b"These are my notes, not a recording.\n" * 10, "text file"),
    ("cut.wav", _truncated, "cut off"),
    ("broken.flac", _corrupt, "damaged"),
    ("noise.mp3", lambda: os.urandom(4096).replace(b"\xff", b"\x00"), "not an audio file"),
    ("silent.wav", lambda: audio.wav_bytes(b"", 8000, 1), "no audio"),
])
def test_bad_files_leave_nothing_behind(db, tmp_path, name, make, words):
    with pytest.raises(AudioFormatError) as err:
        vs.import_file(db, write(tmp_path, name, make()))
    assert f"“{name}”" in str(err.value) and words in str(err.value)
    assert row_count(db) == 0 and stored_files(db) == []


def test_oversized_file_is_refused_before_it_is_read(db, tmp_path, monkeypatch):
    path = write(tmp_path, "long.wav", sine_wav(0.5))
    monkeypatch.setattr(audio, "MAX_BYTES", 1000)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read a huge file"))
    with pytest.raises(AudioFormatError, match="“long.wav” is .* up to 1000 bytes"):
        vs.import_file(db, path)
    monkeypatch.undo()
    assert row_count(db) == 0 and stored_files(db) == []


def test_missing_file_and_folder(db, tmp_path):
    with pytest.raises(StudioError, match="does not exist"):
        vs.import_file(db, tmp_path / "nowhere.wav")
    with pytest.raises(StudioError, match="folder"):
        vs.import_file(db, tmp_path)
    assert row_count(db) == 0


def test_a_row_that_cannot_be_saved_takes_its_file_away(db, monkeypatch):
    def broken(*_a, **_kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(repo, "add", broken)
    with pytest.raises(RuntimeError):
        vs.import_bytes(db, sine_wav(0.2), "a.wav")
    assert stored_files(db) == []


def test_a_file_that_cannot_be_written_leaves_no_temporary_file(db, monkeypatch):
    def full(*_a, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StudioError, match="No space left on device"):
        vs.import_bytes(db, sine_wav(0.2), "a.wav")
    monkeypatch.undo()
    assert row_count(db) == 0 and stored_files(db) == []


# --- files and checksums ---

def test_path_verify_and_bytes(db):
    data = sine_wav(0.3)
    info = vs.import_bytes(db, data, "a.wav")
    assert vs.sample_path(db, info.uid) == info.path
    assert vs.verify(db, info.uid) == info.path
    assert vs.sample_bytes(db, info.uid) == data


def test_a_changed_file_is_noticed(db):
    info = vs.import_bytes(db, sine_wav(0.3), "a.wav", label="Morning take")
    info.path.write_bytes(sine_wav(0.3, amplitude=0.2))
    assert vs.sample_path(db, info.uid) == info.path  # exists: the cheap check passes
    with pytest.raises(vs.SampleFileError, match="Morning take.*checksum"):
        vs.verify(db, info.uid)
    with pytest.raises(vs.SampleFileError):
        vs.sample_bytes(db, info.uid)


def test_a_missing_file_is_noticed(db):
    info = vs.import_bytes(db, sine_wav(0.3), "a.wav", label="Evening take")
    info.path.unlink()
    for check in (vs.sample_path, vs.verify, vs.sample_bytes):
        with pytest.raises(vs.SampleFileError, match="Evening take.*missing"):
            check(db, info.uid)


def test_unknown_uid(db):
    for call in (vs.get, vs.sample_path, vs.verify, vs.usage, vs.delete):
        with pytest.raises(NotFoundError):
            call(db, "vs_nope")


# --- trimming ---

def test_trim_makes_a_new_sample_and_keeps_the_original(db):
    original = vs.import_file(db, AUDIO_DATA / "tone_44k_stereo.ogg",
                              template_uid="vt_builtin_fear", label="Stairs")
    before = original.path.read_bytes()
    trimmed = vs.trim(db, original.uid, 0.1, 0.35)
    assert trimmed.uid != original.uid
    assert (trimmed.format, trimmed.sample_rate, trimmed.channels) == ("wav", 44100, 2)
    assert trimmed.duration == pytest.approx(0.25, abs=0.001)
    assert trimmed.label == "Stairs (0.1–0.35 s)"
    assert (trimmed.template_uid, trimmed.emotion) == ("vt_builtin_fear", "fear")
    assert original.path.read_bytes() == before
    assert vs.verify(db, original.uid) and vs.verify(db, trimmed.uid)
    assert [s.uid for s in vs.list_samples(db)] == [original.uid, trimmed.uid]


def test_a_bad_trim_changes_nothing(db):
    info = vs.import_bytes(db, sine_wav(0.5), "a.wav")
    with pytest.raises(ValidationError):
        vs.trim(db, info.uid, 0.4, 0.2)
    with pytest.raises(ValidationError):
        vs.trim(db, info.uid, 0.9, 1.2)
    assert row_count(db) == 1 and len(stored_files(db)) == 1


def test_a_damaged_file_is_not_trimmed(db):
    info = vs.import_bytes(db, sine_wav(0.5), "a.wav")
    info.path.write_bytes(b"scribbled over")
    with pytest.raises(vs.SampleFileError):
        vs.trim(db, info.uid, 0.1, 0.2)
    assert row_count(db) == 1


# --- usage and deleting ---

def test_delete_an_unused_sample_removes_row_and_file(db):
    keep = vs.import_bytes(db, sine_wav(0.2), "keep.wav")
    gone = vs.import_bytes(db, sine_wav(0.2), "gone.wav")
    assert vs.usage(db, gone.uid) == []
    vs.delete(db, gone.uid)
    assert not gone.path.exists() and keep.path.exists()
    assert [s.uid for s in vs.list_samples(db)] == [keep.uid]


def test_delete_of_a_sample_a_trained_voice_uses_asks_first(db):
    info = vs.import_bytes(db, sine_wav(0.3), "a.wav", label="Bright take")
    other = vs.import_bytes(db, sine_wav(0.3), "b.wav")
    add_voice(db, "Joyful me", [info.uid, other.uid])
    add_voice(db, "Unrelated", [other.uid, info.uid + "0"])  # a longer uid is not this one
    assert vs.usage(db, info.uid) == ["Joyful me"]
    with pytest.raises(vs.SampleInUse) as err:
        vs.delete(db, info.uid)
    message = str(err.value)
    assert "“Bright take”" in message and "trained voice “Joyful me”" in message
    assert "delete anyway?" in message and err.value.voices == ["Joyful me"]
    assert info.path.exists() and len(vs.list_samples(db)) == 2
    vs.delete(db, info.uid, confirmed=True)
    assert not info.path.exists() and [s.uid for s in vs.list_samples(db)] == [other.uid]
    with pytest.raises(vs.SampleInUse, match="“Joyful me” and “Unrelated”"):
        vs.delete(db, other.uid)


def test_delete_of_a_roleplay_line_recording_asks_and_then_unlinks_it(db):
    info = vs.import_bytes(db, sine_wav(0.3), "line.wav", label="Ada: Get out!")
    with db.session() as s:
        play = Roleplay(uid="rp_1", character_id="char_ada1", character_name="Ada Quill")
        s.add(play)
        s.flush()
        s.add(RoleplayLine(roleplay_id=play.id, segment_uid="seg_1", line_index=0,
                           text="Get out!", sample_uid=info.uid))
    with pytest.raises(vs.SampleInUse, match="1 roleplay line of “Ada Quill”") as err:
        vs.delete(db, info.uid)
    assert err.value.lines == [("Ada Quill", "Get out!")]
    vs.delete(db, info.uid, confirmed=True)
    with db.session() as s:
        line = s.query(RoleplayLine).one()
        assert line.sample_uid is None and line.text == "Get out!"
    assert not info.path.exists()


def test_delete_survives_a_file_already_gone(db):
    info = vs.import_bytes(db, sine_wav(0.2), "a.wav")
    info.path.unlink()
    vs.delete(db, info.uid)
    assert vs.list_samples(db) == []

"""The author's own voice samples: import (a file, a recording, a roleplay line), list, play,
trim, check and delete.

Audio lives in ``<data dir>/voice/samples/<uid>.<ext>``; the row holds what the panel shows
(format, duration, a waveform) and a SHA-256, so a file changed or damaged behind the app's back
is noticed before it is sent to a voice provider.  The order of writes is what keeps "nothing
saved is lost": a file is checked fully *before* anything is written; the file is written
atomically (temporary file, fsync, rename) *before* its row, and removed again if the row
cannot be saved; a trim makes a new sample and keeps the original; a delete of a sample that
trained an emotion voice or records a roleplay line must be confirmed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.formats import audio
from studio.store.database import Database
from studio.store.models_voice import VoiceSample
from studio.store.repositories import voice_samples as repo
from studio.store.repositories import voice_templates as templates_repo

UID_PREFIX = "vs_"
MAX_LABEL = 200
MAX_EMOTION = 40
MAX_ORIGINAL_NAME = 500


class SampleInUse(StudioError):
    """Deleting would take a sample from an emotion voice or a roleplay line: ask first."""

    def __init__(self, label: str, voices: list[str], lines: list[tuple[str, str]]):
        self.voices = list(voices)
        self.lines = list(lines)
        parts = []
        if voices:
            names = _and([f"“{v}”" for v in voices])
            parts.append(f"the trained voice{'s' if len(voices) > 1 else ''} {names}")
        if lines:
            who = _and(sorted({f"“{name}”" for name, _text in lines}))
            count = len(lines)
            parts.append(f"{count} roleplay line{'s' if count > 1 else ''} of {who} "
                         "as their recording")
        super().__init__(f"The sample “{label}” is used by {' and '.join(parts)}; delete "
                         "anyway? Voices already trained keep working; a roleplay line loses "
                         "its recording.")


class SampleFileError(StudioError):
    """A sample's audio file is missing or no longer what was imported."""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class SampleInfo:
    uid: str
    label: str
    template_uid: str | None
    emotion: str
    format: str
    duration: float
    sample_rate: int
    channels: int
    bytes: int
    created_at: datetime
    peaks: list[float]
    path: Path
    original_name: str = ""
    sha256: str = ""


def samples_dir(db: Database) -> Path:
    return db.data_dir / "voice" / "samples"


def _info(db: Database, row: VoiceSample) -> SampleInfo:
    try:
        peaks = [float(p) for p in json.loads(row.peaks_json or "[]")]
    except (ValueError, TypeError):
        peaks = []
    created = row.created_at  # SQLite hands it back without its zone: it is UTC
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return SampleInfo(row.uid, row.label, row.template_uid, row.emotion, row.format,
                      row.duration, row.sample_rate, row.channels, row.bytes_size,
                      created, peaks, samples_dir(db) / row.file_name,
                      row.original_name, row.sha256)


def _clean_text(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError("Voice sample", [field], "must be text")
    text = " ".join(value.split())
    if len(text) > limit:
        raise ValidationError("Voice sample", [field], f"is longer than {limit} characters")
    return text


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file beside ``path``, fsync, rename: a crash leaves the whole file or none."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"The sample could not be saved in {path.parent}: "
                          f"{exc.strerror or exc}. Nothing was imported.") from exc


def import_file(db: Database, path: str | os.PathLike[str], *, template_uid: str | None = None,
                emotion: str = "", label: str = "") -> SampleInfo:
    """Import a WAV/FLAC/OGG/MP3 file the author chose; the original file is only read."""
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise StudioError(f"“{path}” is a folder, not an audio file.")
    except FileNotFoundError:
        raise StudioError(f"“{path}” does not exist (was it moved or renamed?).") from None
    except OSError as exc:
        raise StudioError(f"“{path}” cannot be read: {exc.strerror or exc}.") from exc
    audio.check_size(size, path.name)  # before reading a huge file into memory
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudioError(f"“{path}” cannot be read: {exc.strerror or exc}.") from exc
    return import_bytes(db, data, path.name, template_uid=template_uid, emotion=emotion,
                        label=label)


def import_bytes(db: Database, data: bytes, name: str, *, template_uid: str | None = None,
                 emotion: str = "", label: str = "") -> SampleInfo:
    """Store audio that is already in memory (a recording, a trim, a roleplay line).  ``name``
    is what error messages call it and is kept as the original name."""
    name = str(name or "recording.wav")
    label = _clean_text(label, "label", MAX_LABEL) or \
        " ".join(Path(name).stem.split())[:MAX_LABEL] or "Sample"
    emotion = _clean_text(emotion, "emotion", MAX_EMOTION).lower()
    if template_uid is not None:
        with db.session() as s:
            templates_repo.ensure_builtins(s)  # a built-in may be chosen before any list
            template = templates_repo.by_uid(s, template_uid)
            if template is None:
                raise ValidationError("Voice sample", ["template_uid"],
                                      f"names no voice template ({template_uid})")
            emotion = emotion or template.emotion
    info = audio.inspect(bytes(data), name)
    uid = UID_PREFIX + secrets.token_hex(8)
    file_name = f"{uid}.{audio.EXTENSIONS[info.format]}"
    target = samples_dir(db) / file_name
    _write_atomically(target, bytes(data))
    try:
        with db.session() as s:
            row = repo.add(s, uid=uid, template_uid=template_uid, emotion=emotion, label=label,
                           file_name=file_name, original_name=name[:MAX_ORIGINAL_NAME],
                           format=info.format, duration=round(info.duration, 4),
                           sample_rate=info.sample_rate, channels=info.channels,
                           bytes_size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                           peaks_json=json.dumps(info.peaks))
            result = _info(db, row)
    except BaseException:
        target.unlink(missing_ok=True)  # no file without its row
        raise
    return result


def list_samples(db: Database, template_uid: str | None = None,
                 emotion: str | None = None) -> list[SampleInfo]:
    with db.session() as s:
        return [_info(db, row) for row in repo.listing(s, template_uid, emotion)]


def get(db: Database, uid: str) -> SampleInfo:
    with db.session() as s:
        return _info(db, _row(s, uid))


def _row(s, uid: str) -> VoiceSample:
    row = repo.by_uid(s, uid)
    if row is None:
        raise NotFoundError(f"There is no voice sample {uid} (it may have been deleted).")
    return row


def sample_path(db: Database, uid: str) -> Path:
    """The sample's file, checked to exist (cheap); :func:`verify` also checks its content."""
    info = get(db, uid)
    if not info.path.is_file():
        raise SampleFileError(
            f"The audio file of the sample “{info.label}” is missing ({info.path}). It was "
            "moved or deleted outside Story Studio; restore it from a backup, or delete the "
            "sample.")
    return info.path


def _check(info: SampleInfo, data: bytes) -> None:
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise SampleFileError(
            f"The audio file of the sample “{info.label}” has changed since it was imported "
            f"or is damaged ({info.path}): its checksum no longer matches. Restore it from a "
            "backup, or delete the sample and import it again.")


def _read(info: SampleInfo) -> bytes:
    try:
        return info.path.read_bytes()
    except FileNotFoundError:
        raise SampleFileError(
            f"The audio file of the sample “{info.label}” is missing ({info.path}).") from None
    except OSError as exc:
        raise SampleFileError(f"The audio file of the sample “{info.label}” cannot be read: "
                              f"{exc.strerror or exc}.") from exc


def verify(db: Database, uid: str) -> Path:
    """The sample's file, checked to exist *and* to hold exactly what was imported."""
    info = get(db, uid)
    _check(info, _read(info))
    return info.path


def sample_bytes(db: Database, uid: str) -> bytes:
    """The sample's audio, verified against its checksum (for playing, trimming, uploading
    to a voice provider) — read once, not once to check and again to use."""
    info = get(db, uid)
    data = _read(info)
    _check(info, data)
    return data


def _seconds(value: float) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".") or "0"


def trim(db: Database, uid: str, start: float, end: float) -> SampleInfo:
    """A NEW sample (16-bit WAV) holding ``start``–``end`` seconds of ``uid``, with its label,
    template and emotion; the original stays as it was."""
    info = get(db, uid)
    data = sample_bytes(db, uid)
    trimmed = audio.trim_to_wav(data, start, end, info.label)
    suffix = f" ({_seconds(start)}–{_seconds(min(float(end), info.duration))} s)"
    label = info.label[:MAX_LABEL - len(suffix)] + suffix
    name = f"{Path(info.original_name or info.label).stem} trimmed.wav"
    return import_bytes(db, trimmed, name, template_uid=info.template_uid,
                        emotion=info.emotion, label=label)


def usage(db: Database, uid: str) -> list[str]:
    """Names of the emotion voices trained from (or training on) this sample."""
    with db.session() as s:
        _row(s, uid)
        return [v.name for v in repo.voices_using(s, uid)]


def delete(db: Database, uid: str, confirmed: bool = False) -> None:
    """Delete a sample: the row first (so the app never lists a sample without its file), then
    the file.  A sample an emotion voice was trained from, or a roleplay line's recording, is
    deleted only when ``confirmed`` (else :class:`SampleInUse`, whose message asks)."""
    with db.session() as s:
        row = _row(s, uid)
        voices = [v.name for v in repo.voices_using(s, uid)]
        lines = repo.lines_recorded_as(s, uid)
        if (voices or lines) and not confirmed:
            raise SampleInUse(row.label, voices, lines)
        path = samples_dir(db) / row.file_name
        repo.delete(s, row)
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the row is gone; a file left behind (locked on Windows) harms nothing

"""A narration taken out of the studio: its rendered audio as a numbered playlist, or its text
as SSML or a recording script for a studio that records it with real voices.

Part of the narrations API (``studio.services.narrations`` re-exports these); it reads the
plan there, so it imports that module inside its functions (the two import each other).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from studio.domain.errors import StudioError
from studio.domain.voices import script, ssml
from studio.services import voice_renders
from studio.services.files import write_text_atomically
from studio.store.database import Database


class NotRendered(StudioError):
    """An export of audio that has not been rendered yet."""


@dataclass(frozen=True)
class RenderedFile:
    segment_uid: str
    voice_name: str
    text: str
    path: Path
    mime: str
    bytes_size: int
    sha256: str


def rendered_files(db: Database, uid: str,
                   chapter_uid: str | None = None) -> list[RenderedFile]:
    """The rendered paragraphs' files in reading order (unrendered ones are left out), with
    the checksum recorded when each was written."""
    from studio.services import narrations

    rows = narrations.plan(db, uid, chapter_uid)
    keys = [r.render_key for r in rows if r.rendered and r.render_key]
    have = voice_renders.present(db, keys)
    out = []
    for r in rows:
        audio = have.get(r.render_key or "")
        if audio is None:
            continue
        out.append(RenderedFile(r.segment_uid, r.voice_name, r.text, audio.path, audio.mime,
                                audio.path.stat().st_size,
                                voice_renders.checksum(db, r.render_key) or ""))
    return out


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_").lower()
    return slug[:60] or "narration"


def _copy_atomically(source: Path, target: Path) -> None:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"Could not write {target}: {exc.strerror or exc}.") from exc


def export_playlist(db: Database, uid: str, folder: Path,
                    chapter_uid: str | None = None) -> Path:
    """Copy the rendered audio into ``folder`` as ``0001-….mp3``, ``0002-…`` in reading order
    and write an ``.m3u8`` playlist of them; returns the playlist's path.  Refused (nothing
    written) while any paragraph is not rendered yet."""
    from studio.services import narrations

    info = narrations.get(db, uid)
    rows = narrations.plan(db, uid, chapter_uid)
    if not rows:
        raise NotRendered(f"“{info.name}” has no text to export.")
    missing = [r for r in rows if not r.rendered]
    if missing:
        raise NotRendered(f"{len(missing)} of {len(rows)} paragraphs of “{info.name}” are "
                          "not rendered yet; render the narration first, then export it.")
    files = {f.segment_uid: f for f in rendered_files(db, uid, chapter_uid)}
    if len(files) != len(rows):  # a file vanished between the plan and now
        raise NotRendered(f"{len(rows) - len(files)} rendered files of “{info.name}” are "
                          "missing; render the narration again, then export it.")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"Could not create the folder {folder}: "
                          f"{exc.strerror or exc}.") from exc
    lines = ["#EXTM3U", f"#PLAYLIST:{' '.join(info.name.split())}"]
    width = max(4, len(str(len(rows))))
    for number, row in enumerate(rows, start=1):
        item = files[row.segment_uid]
        name = f"{number:0{width}d}-{_slug(row.voice_name)}{item.path.suffix}"
        _copy_atomically(item.path, folder / name)
        title = " ".join(row.text.split())
        title = title if len(title) <= 80 else title[:79] + "…"
        lines += [f"#EXTINF:-1,{row.voice_name} — {title}", name]
    playlist = folder / f"{_slug(info.name)}.m3u8"
    write_text_atomically(playlist, "\n".join(lines) + "\n")
    return playlist


def export_ssml(db: Database, uid: str, chapter_uid: str | None = None) -> str:
    """SSML for studios: one ``<voice>`` per paragraph, named by the character (or
    "Narrator"), with the template's pitch, rate, volume and emphasis as prosody."""
    from studio.services import narrations

    _info, _source, items = narrations.planned(db, uid, chapter_uid)
    return ssml([(x.row.voice_name, " ".join(x.row.text.split()),
                  x.template.params if x.template else None) for x in items])


def export_script(db: Database, uid: str, chapter_uid: str | None = None) -> str:
    """A plain recording script: ``NAME [template]: text`` per paragraph."""
    from studio.services import narrations

    return script([(r.voice_name, r.template_name, " ".join(r.text.split()))
                   for r in narrations.plan(db, uid, chapter_uid)])

"""Writing a file so that a failure (disk full, no permission) leaves the old one as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from studio.domain.errors import StudioError


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, sync it, then rename it over
    ``path``; any failure is a StudioError naming the file, and the old file is untouched."""
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"Could not write {path}: {exc.strerror or exc}.") from exc


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """``write_text_atomically`` for bytes (images, archives): the old file survives a failure."""
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"Could not write {path}: {exc.strerror or exc}.") from exc


def check_writable_folder(folder: Path) -> None:
    """Refuse, naming the folder, a target folder that does not exist or cannot be written —
    before any work is done, so an export fails at once rather than after a long render."""
    folder = Path(folder)
    if not folder.exists():
        raise StudioError(f"The folder {folder} does not exist.")
    if not folder.is_dir():
        raise StudioError(f"{folder} is not a folder.")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".studio-write-check.", suffix=".tmp")
    except OSError as exc:
        raise StudioError(f"The folder {folder} is not writable: "
                          f"{exc.strerror or exc}.") from exc
    os.close(fd)
    Path(probe).unlink(missing_ok=True)

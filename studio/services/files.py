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

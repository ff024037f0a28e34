"""Reading a text file someone else wrote: size limit, encodings, binary junk.

An author's drafts come from every editor there is: UTF-8 with or without a byte-order mark,
Windows-1252 from an old Word "Save as text", sometimes a file that is not text at all (a
renamed .docx, an image).  ``read_text`` decodes what it can with a warning when it had to
guess, and refuses the rest with the importer's own error naming the file and the reason.
A huge file is refused up front by its size: reading 100 MB into the editor would hang the
app, and no single manuscript file is that big.
"""

from __future__ import annotations

from pathlib import Path

from studio.domain.errors import ImportFormatError

MAX_TEXT_BYTES = 50 * 1024 * 1024
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters in the first 8 KB: not a text file."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b in _CONTROL)
    return controls > max(8, len(head) // 100)


def decode_text(data: bytes, name: str,
                error: type[ImportFormatError] = ImportFormatError) -> tuple[str, list[str]]:
    """``data`` as text with ``\\n`` line ends, and warnings (an encoding that was guessed)."""
    if _looks_binary(data):
        raise error(f"{name} is not a text file (it holds binary data).")
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise error(f"{name} is not UTF-8 or Windows-1252 text; save it as UTF-8 and "
                        "import it again.") from None
        warnings.append(f"{name} is not UTF-8; it was read as Windows-1252 (check accented "
                        "letters and quotes).")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def read_text(path: Path, error: type[ImportFormatError] = ImportFormatError,
              limit: int = MAX_TEXT_BYTES) -> tuple[str, list[str]]:
    """The text of ``path`` (see ``decode_text``); refused over ``limit`` bytes, unreadable,
    or binary — with ``error``, naming the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{path.name} is {size / 1024 / 1024:.0f} MB; Story Studio imports text "
                        f"files of up to {limit // 1024 // 1024} MB. Split it into several "
                        "files and import the folder.")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > limit:
        raise error(f"{path.name} is larger than {limit // 1024 // 1024} MB.")
    return decode_text(data, path.name, error)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) through a temporary file renamed over ``path``,
    so a failure leaves the old file as it was; the error names the file.  (The formats layer
    sits below the services, so it keeps its own small copy of this.)"""
    import os
    import tempfile

    from studio.domain.errors import StudioError

    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"Could not write {path}: {exc.strerror or exc}.") from exc

"""PNG chunks read and written by hand: enough to find and place a character card's text.

Character cards hide their JSON in PNG text chunks (``chara``, ``ccv3``).  Reading them needs
no image library — only the chunk layout (length, type, data, CRC-32) — and doing it by hand
lets every fault be named: a file that is not a PNG, one cut off mid-chunk, a damaged chunk
(its CRC disagrees), a compressed text that inflates without end.  Pillow would decode the
pixels too, which a card import never needs.

Writing is the reverse: the image's own chunks, minus old card chunks, plus new ``tEXt``
chunks before ``IEND`` (where SillyTavern puts them).  ``placeholder_png`` draws a plain
portrait for characters that have none, with zlib alone, so exports need no QApplication.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from studio.domain.errors import ImportFormatError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
MAX_CHUNK = 0x7FFFFFFF               # the PNG limit on a chunk's length
MAX_INFLATED = 32 * 1024 * 1024      # a compressed text may not inflate beyond this


class PngError(ImportFormatError):
    """A PNG that cannot be read; the message is the reason (the caller adds the file)."""


@dataclass(frozen=True)
class Chunk:
    type: bytes
    data: bytes
    offset: int  # where the chunk starts in the file (for messages)


def read_chunks(blob: bytes) -> list[Chunk]:
    """Every chunk of a PNG, each CRC checked; the file must start with IHDR and end at IEND."""
    if not blob:
        raise PngError("the file is empty")
    if not blob.startswith(SIGNATURE):
        if SIGNATURE.startswith(blob[:8]):
            raise PngError("the file is cut off inside the PNG signature")
        raise PngError("it is not a PNG image (the file does not start with the PNG signature)")
    chunks: list[Chunk] = []
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(blob):
            raise PngError(f"the file is cut off at byte {len(blob)} "
                           "(it ends before the IEND chunk)")
        length, ctype = struct.unpack(">I4s", blob[pos:pos + 8])
        if length > MAX_CHUNK:
            raise PngError(f"the chunk at byte {pos} claims an impossible length ({length})")
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in ctype):
            raise PngError(f"the chunk at byte {pos} has an invalid type {ctype!r} "
                           "(the file is damaged)")
        end = pos + 8 + length
        if end + 4 > len(blob):
            raise PngError(f"the file is cut off inside the {ctype.decode('ascii')} chunk "
                           f"at byte {pos}")
        data = blob[pos + 8:end]
        (crc,) = struct.unpack(">I", blob[end:end + 4])
        if zlib.crc32(ctype + data) != crc:
            raise PngError(f"the {ctype.decode('ascii')} chunk at byte {pos} is damaged "
                           "(its CRC does not match)")
        if not chunks and ctype != b"IHDR":
            raise PngError("the first chunk is not IHDR (the file is damaged)")
        chunks.append(Chunk(ctype, data, pos))
        pos = end + 4
        if ctype == b"IEND":
            return chunks


def _inflate(data: bytes, where: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_INFLATED)
    except zlib.error as exc:
        raise PngError(f"the compressed text in {where} is damaged ({exc})") from None
    if inflater.unconsumed_tail:
        raise PngError(f"the compressed text in {where} inflates to more than "
                       f"{MAX_INFLATED // (1024 * 1024)} MB")
    if not inflater.eof:
        raise PngError(f"the compressed text in {where} is cut off")
    return out


def text_of(chunk: Chunk) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; None for other chunks."""
    if chunk.type not in TEXT_TYPES:
        return None
    where = f"the {chunk.type.decode('ascii')} chunk at byte {chunk.offset}"
    keyword, sep, rest = chunk.data.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79:
        raise PngError(f"{where} has no valid keyword")
    name = keyword.decode("latin-1")
    if chunk.type == b"tEXt":
        return name, rest.decode("latin-1")
    if chunk.type == b"zTXt":
        if not rest or rest[0] != 0:
            raise PngError(f"{where} uses an unknown compression method")
        return name, _inflate(rest[1:], where).decode("latin-1")
    # iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text
    if len(rest) < 2:
        raise PngError(f"{where} is too short")
    flag, method, rest = rest[0], rest[1], rest[2:]
    _lang, sep1, rest = rest.partition(b"\0")
    _translated, sep2, text = rest.partition(b"\0")
    if not (sep1 and sep2) or flag not in (0, 1):
        raise PngError(f"{where} is malformed")
    if flag == 1:
        if method != 0:
            raise PngError(f"{where} uses an unknown compression method")
        text = _inflate(text, where)
    try:
        return name, text.decode("utf-8")
    except UnicodeDecodeError:
        raise PngError(f"{where} is not valid UTF-8 text") from None


def texts(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """Every (keyword, text) pair, in file order."""
    found = []
    for chunk in chunks:
        pair = text_of(chunk)
        if pair is not None:
            found.append(pair)
    return found


def encode_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(
        ">I", zlib.crc32(ctype + data))


def text_chunk(keyword: str, text: str) -> Chunk:
    return Chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"), -1)


def assemble(chunks: list[Chunk]) -> bytes:
    return SIGNATURE + b"".join(encode_chunk(c.type, c.data) for c in chunks)


def without_texts(chunks: list[Chunk], keywords: set[str]) -> list[Chunk]:
    """``chunks`` minus the text chunks whose keyword (case-insensitive) is in ``keywords``."""
    wanted = {k.casefold() for k in keywords}
    kept = []
    for chunk in chunks:
        if chunk.type in TEXT_TYPES:
            keyword = chunk.data.partition(b"\0")[0].decode("latin-1")
            if keyword.casefold() in wanted:
                continue
        kept.append(chunk)
    return kept


def with_texts(png: bytes, pairs: list[tuple[str, str]]) -> bytes:
    """``png`` with ``pairs`` as tEXt chunks before IEND, replacing chunks of the same keyword."""
    chunks = without_texts(read_chunks(png), {k for k, _ in pairs})
    new = [text_chunk(k, v) for k, v in pairs]
    return assemble(chunks[:-1] + new + chunks[-1:])


def size_of(png: bytes) -> tuple[int, int]:
    """(width, height) from IHDR (the caller has read the chunks already)."""
    chunk = read_chunks(png)[0]
    if len(chunk.data) != 13:
        raise PngError("the IHDR chunk has the wrong length")
    return struct.unpack(">II", chunk.data[:8])


def placeholder_png(seed: str, width: int = 400, height: int = 600) -> bytes:
    """A plain portrait: a vertical two-tone gradient whose colour comes from ``seed``.

    Deterministic (the same name gives the same picture), small (it compresses to a few KB),
    and made with zlib alone so it works in the CLI and in tests without Qt.
    """
    digest = zlib.crc32(seed.encode("utf-8"))
    top = ((digest >> 16) & 0x7F) + 64, ((digest >> 8) & 0x7F) + 64, (digest & 0x7F) + 64
    bottom = tuple(c // 3 for c in top)
    rows = []
    for y in range(height):
        t = y / max(1, height - 1)
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom))
        rows.append(b"\0" + pixel * width)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return assemble([Chunk(b"IHDR", ihdr, 0),
                     Chunk(b"IDAT", zlib.compress(b"".join(rows), 9), 0),
                     Chunk(b"IEND", b"", 0)])


def to_png(image: bytes) -> bytes:
    """``image`` as PNG bytes: PNGs pass through; other formats go through Qt's QImage.

    QImage needs no QApplication to decode and encode, so exports stay usable from the CLI.
    Raises PngError when the bytes are no image Qt can read.
    """
    if image.startswith(SIGNATURE):
        read_chunks(image)
        return image
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    picture = QImage()
    if not picture.loadFromData(image):
        raise PngError("the portrait is not an image Story Studio can read")
    out = QByteArray()
    buffer = QBuffer(out)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    picture.save(buffer, "PNG")
    buffer.close()
    return bytes(out.data())

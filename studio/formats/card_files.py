"""Character card files read: PNG text chunks, CHARX zips and JSON, into a ``Card``.

Kept apart from ``cards`` (which turns a card into bible entries and back) because reading is
where hostile input lands: a non-PNG named .png, a PNG cut off mid-chunk or with a damaged CRC,
base64 or JSON that is broken, a card of an unknown spec, a zip bomb or a zip whose member
paths climb out of it.  Each is refused with ``CardError`` naming the file and the reason;
nothing here touches the bible.  Where a PNG has both ``ccv3`` and ``chara``, ``ccv3`` wins
(the V3 spec); an unreadable ``ccv3`` beside a good ``chara`` falls back with a warning.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from studio.domain.errors import ImportFormatError
from studio.formats import png_text
from studio.formats.lore_entries import text
from studio.formats.strict_json import JsonProblem, load_json

V2, V3 = "chara_card_v2", "chara_card_v3"
MAX_FILE = 64 * 1024 * 1024          # a card file (PNG, JSON or CHARX)
MAX_JSON = 32 * 1024 * 1024          # the card's JSON, inside a PNG or a CHARX
MAX_UNZIPPED = 512 * 1024 * 1024     # everything a CHARX holds, unpacked
MAX_MEMBERS = 10_000
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_DEFAULTS: dict[str, Any] = {
    "name": "", "description": "", "personality": "", "scenario": "", "first_mes": "",
    "mes_example": "", "creator_notes": "", "system_prompt": "",
    "post_history_instructions": "", "alternate_greetings": [], "tags": [], "creator": "",
    "character_version": "", "extensions": {},
}
V3_ONLY = ("assets", "nickname", "creator_notes_multilingual", "source",
           "group_only_greetings", "creation_date", "modification_date")
PACKAGE_URIS = ("embeded://", "embedded://", "__asset:")


class CardError(ImportFormatError):
    """A character card that cannot be read: ``file`` names it, ``reason`` says why."""

    def __init__(self, file: str, reason: str):
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}.")


_Bad = JsonProblem   # a reason a card cannot be read (the file name is added by the caller)


@dataclass
class Card:
    """A parsed card: its spec (``""`` for V1), the ``data`` object, the other top-level
    fields, the portrait image and anything worth a warning."""

    spec: str
    spec_version: Any
    data: dict[str, Any]
    top: dict[str, Any]
    image: bytes | None = None
    warnings: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------

def card_from_object(obj: Any) -> Card:
    """A Card from a parsed JSON value (V1, V2 or V3); raises _Bad."""
    if not isinstance(obj, dict):
        raise _Bad("the card's JSON is not an object")
    spec = obj.get("spec")
    warnings: list[str] = []
    if spec is None:
        if not isinstance(obj.get("name"), str) and not any(k in obj for k in V1_FIELDS):
            raise _Bad("it is not a character card (no “spec” and no V1 fields)")
        data = {k: obj[k] for k in V1_FIELDS if k in obj}
        top = {k: v for k, v in obj.items() if k not in V1_FIELDS}
        card = Card("", None, data, top, warnings=warnings)
    elif spec in (V2, V3):
        data = obj.get("data")
        if not isinstance(data, dict):
            raise _Bad(f"its “data” is {'missing' if data is None else 'not an object'}")
        top = {k: v for k, v in obj.items() if k not in ("spec", "spec_version", "data")}
        card = Card(spec, obj.get("spec_version"), data, top, warnings=warnings)
        try:
            newer = spec == V3 and float(str(obj.get("spec_version", "3.0"))) >= 4
        except ValueError:
            newer = False
        if newer:
            warnings.append(f"The card says it follows V3 spec version "
                            f"{obj.get('spec_version')}; newer fields are kept as they are.")
    else:
        shown = spec if isinstance(spec, str) else json.dumps(spec)
        raise _Bad(f"it is a card of an unknown spec “{shown[:60]}” (Story Studio reads "
                   f"{V2}, {V3} and V1 cards)")
    name = card.data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Bad("the card has no name")
    book = card.data.get("character_book")
    if book is not None:
        if not isinstance(book, dict):
            raise _Bad("its character_book is not an object")
        entries = book.get("entries")
        if not isinstance(entries, list):
            raise _Bad("its character_book has no list of entries")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise _Bad(f"entry {i + 1} of its character_book is not an object")
    return card


def _b64(payload: str, keyword: str) -> bytes:
    compact = "".join(payload.split())
    if not compact:
        raise _Bad(f"the “{keyword}” chunk is empty")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _Bad(f"the “{keyword}” chunk is not valid base64") from None


def card_from_png(blob: bytes) -> Card:
    """The card in a PNG's ``ccv3`` (preferred) or ``chara`` text chunk; raises _Bad."""
    try:
        chunks = png_text.read_chunks(blob)
        pairs = png_text.texts(chunks)
    except png_text.PngError as exc:
        raise _Bad(str(exc)) from None
    found = {}
    for keyword, payload in pairs:
        found.setdefault(keyword.casefold(), (keyword, payload))
    candidates = [found[k] for k in ("ccv3", "chara") if k in found]
    if not candidates:
        raise _Bad("the PNG has no character card in it (no “chara” or “ccv3” text chunk)")
    failure: _Bad | None = None
    for keyword, payload in candidates:
        try:
            card = card_from_object(load_json(_b64(payload, keyword), f"“{keyword}” chunk"))
        except _Bad as exc:
            failure = failure or exc
            continue
        if failure is not None:
            card.warnings.append(f"The “ccv3” chunk could not be read ({failure}); the "
                                 "V2 “chara” chunk was read instead.")
        break
    else:
        assert failure is not None
        raise failure
    card.image = png_text.assemble(png_text.without_texts(chunks, {"chara", "ccv3"}))
    return card


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not (name.startswith(("/", "\\")) or "\\" in name or ".." in path.parts
                or re.match(r"^[A-Za-z]:", name))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise _Bad(f"{info.filename} is larger than {limit // (1024 * 1024)} MB")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise _Bad(f"{info.filename} unpacks to more than {limit // (1024 * 1024)} MB")
    return data


def card_from_charx(source: Path | bytes) -> Card:
    """The card in a CHARX zip (``card.json``) with its main icon as the portrait."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) \
                as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise _Bad(f"the CHARX holds more than {MAX_MEMBERS} files")
            if sum(i.file_size for i in infos) > MAX_UNZIPPED:
                raise _Bad("the CHARX would unpack to more than "
                           f"{MAX_UNZIPPED // (1024 * 1024)} MB")
            for info in infos:
                if not _safe_member(info.filename):
                    raise _Bad(f"the CHARX holds a file with an unsafe path "
                               f"({info.filename[:80]})")
                if info.flag_bits & 0x1:
                    raise _Bad("the CHARX is encrypted")
            members = {i.filename: i for i in infos}
            if "card.json" not in members:
                raise _Bad("the CHARX has no card.json at its root")
            card = card_from_object(load_json(_read_member(archive, members["card.json"],
                                                           MAX_JSON), "card"))
            _charx_icon(card, archive, members)
    except zipfile.BadZipFile as exc:
        raise _Bad(f"it is not a valid CHARX (zip) file ({exc})") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
            ValueError) as exc:
        if isinstance(exc, _Bad):
            raise
        raise _Bad(f"the CHARX cannot be unpacked ({exc})") from None
    return card


def _charx_icon(card: Card, archive: zipfile.ZipFile,
                members: dict[str, zipfile.ZipInfo]) -> None:
    assets = [a for a in card.data.get("assets") or [] if isinstance(a, dict)] \
        if isinstance(card.data.get("assets"), list) else []
    icons = [a for a in assets if a.get("type") == "icon"]
    main = next((a for a in icons if a.get("name") == "main"), icons[0] if icons else None)
    left = []
    for asset in assets:
        uri = text(asset.get("uri"))
        if not uri.startswith(PACKAGE_URIS):
            continue
        path = uri.split("://", 1)[1] if "://" in uri else uri
        if asset is main and path in members:
            card.image = _read_member(archive, members[path], MAX_FILE)
        else:
            left.append(f"{asset.get('type', '?')} “{asset.get('name', path)}”")
    if left:
        card.warnings.append(f"The card's embedded assets {', '.join(left[:5])}"
                             f"{'…' if len(left) > 5 else ''} are not kept: Story Studio "
                             "keeps the main portrait only.")


def read_card_bytes(blob: bytes, name: str) -> Card:
    """A Card from the bytes of a file called ``name``; raises CardError naming it."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".png":
            return card_from_png(blob)
        if suffix == ".charx" or (suffix != ".json" and blob.startswith(b"PK\x03\x04")):
            return card_from_charx(blob)
        if suffix != ".json" and blob.startswith(png_text.SIGNATURE):
            return card_from_png(blob)
        return card_from_object(load_json(blob, "card"))
    except _Bad as exc:
        raise CardError(name, str(exc)) from None


def read_card(path: Path) -> Card:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise CardError(path.name, f"the file is {size // (1024 * 1024)} MB; a character "
                            f"card is at most {MAX_FILE // (1024 * 1024)} MB")
        if path.suffix.lower() == ".charx":
            try:
                return card_from_charx(path)
            except _Bad as exc:
                raise CardError(path.name, str(exc)) from None
        return read_card_bytes(path.read_bytes(), path.name)
    except OSError as exc:
        raise CardError(path.name, f"it cannot be read ({exc.strerror or exc})") from None

"""Character cards (V1, V2, V3) in and out: JSON files, PNG files and CHARX zips.

**Reading.**  A PNG card keeps its JSON base64-encoded in a text chunk: ``ccv3`` (V3) or
``chara`` (V2, V1); where both exist ``ccv3`` wins, as the V3 spec asks.  A CHARX is a zip with
``card.json`` at its root and the assets beside it.  A card becomes one bible character:

- ``name`` → name, ``description`` → description, ``personality`` → traits (split at commas,
  semicolons and line ends; prose is split into sentences), a V3 ``nickname`` → an alias;
- the PNG image (without its card chunks) or the CHARX main icon → the portrait
  (``portrait_data`` bytes on the character, which ``services.format_io`` stores as a file);
- everything else — ``scenario``, ``first_mes``, ``alternate_greetings``, ``mes_example``,
  ``creator_notes``, ``system_prompt``, ``post_history_instructions``, ``tags``, ``creator``,
  ``character_version``, ``extensions``, V3's fields and any unknown field, plus the top-level
  fields beside ``data`` — is kept verbatim in the character's ``extensions.card``, with
  digests of the bible fields as imported;
- ``character_book`` entries → characters, locations or world rules (``lore_entries``), keys
  as aliases, each entry kept whole.

**Writing.**  A bible character → a V3 card (V2 with ``card_spec="v2"``): the kept fields
come back as they were, except the fields the author changed in the bible since the import
(name, description, traits → personality, aliases → nickname), which win.  Its book is the
card's own book (entries still in the bible) plus related bible entries: the characters it has
relationships with and the locations its description or scenario mentions.  A PNG carries
both a V2 ``chara`` chunk (V3-only fields left out) and a V3 ``ccv3`` chunk.

**What cannot survive** (also in the closing note): the files of a CHARX's embedded assets
other than the main icon (their ``assets`` entries are kept, but exports drop entries whose
files they do not carry; in a PNG the main icon becomes ``ccdefault:``, the PNG itself);
V3-only fields in a V2 export; a V3 PNG's ``chara`` backfill chunk (rebuilt from the V3 data
on export); a card's missing required fields come back with the spec's defaults.  A PNG's
other chunks, ``chara-ext-asset_`` ones included, stay in the portrait and so in PNG exports.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

from studio.domain.errors import StudioError
from studio.formats import png_text
from studio.formats.card_files import (
    PACKAGE_URIS, V1_FIELDS, V2, V2_DEFAULTS, V3, V3_ONLY, Card, CardError, read_card,
    read_card_bytes,
)
from studio.formats.lore_builder import Builder, TooBig
from studio.formats.lore_entries import (
    BOOK, CHARACTER, LOCATION, MAX_TEXT, book_entries, books_of, clean_name, collect, digest,
    mentioned, strings, text,
)
from studio.formats.registry import (
    BIBLE, ExportDoc, ExportOptions, Exporter, Importer, ImportPreview, Progress,
    register_exporter, register_importer,
)

__all__ = ["Card", "CardError", "CardExportError", "bible_to_card", "card_png", "card_to_bible",
           "read", "read_card", "read_card_bytes", "sniff", "split_traits"]
STUDIO_EXT = "story_studio"          # data.extensions.story_studio.aliases (our own)


class CardExportError(StudioError):
    """A card that cannot be written as asked (no such character, an unreadable portrait)."""


# --- card → bible ---------------------------------------------------------------------------

def split_traits(personality: str) -> list[str]:
    """Traits from a card's personality: list-like text splits at , ; and line ends; prose
    (long pieces, or sentences) splits into sentences.  Quotes and brackets are trimmed."""
    if not personality.strip():
        return []
    pieces = re.split(r"[,;\n]+", personality)
    if any(len(p.strip()) > 60 for p in pieces) or re.search(r"[.!?]\s+[A-Z]", personality):
        pieces = re.split(r"(?<=[.!?])\s+|\n+", personality)
    traits, seen = [], set()
    for piece in pieces:
        trait = piece.strip().strip("\"'“”‘’[](){}").strip().rstrip(".").strip()
        if trait and trait.casefold() not in seen:
            seen.add(trait.casefold())
            traits.append(trait if len(trait) <= 200 else trait[:199] + "…")
    return traits[:100]


def card_to_bible(card: Card, builder: Builder) -> dict[str, Any]:
    """Add the card's character (and its book's entries) to ``builder``; returns the
    character."""
    data = card.data
    name = data["name"]
    bible_name = clean_name(name)
    description = text(data.get("description"))
    if len(description) > MAX_TEXT:
        builder.warnings.append(f"The description is longer than the bible holds ({MAX_TEXT} "
                                "characters): it shows the beginning; the whole text is "
                                "kept for export.")
    ext = data.get("extensions") if isinstance(data.get("extensions"), dict) else {}
    ours = ext.get(STUDIO_EXT) if isinstance(ext.get(STUDIO_EXT), dict) else {}
    nickname = text(data.get("nickname"))
    labels = ([nickname] if nickname else []) + strings(ours.get("aliases"))
    char = builder.character(bible_name, labels, description=description[:MAX_TEXT],
                             traits=split_traits(text(data.get("personality"))))
    stored_data = {k: copy.deepcopy(v) for k, v in data.items() if k != "character_book"}
    if bible_name == name:
        stored_data.pop("name")                 # the bible holds it exactly
    if isinstance(data.get("description"), str) and len(description) <= MAX_TEXT:
        stored_data.pop("description")
    stored: dict[str, Any] = {
        "spec": card.spec, "data": stored_data,
        "top": {k: copy.deepcopy(v) for k, v in card.top.items()
                if not (k in V1_FIELDS and data.get(k) == v)},
        "top_v1": [k for k in V1_FIELDS if k in card.top and data.get(k) == card.top[k]],
        "derived": {"name": digest(char["name"]), "aliases": digest(char.get("aliases", [])),
                    "description": digest(char.get("description", "")),
                    "traits": digest(char.get("traits", []))},
    }
    if card.spec_version is not None:
        stored["spec_version"] = card.spec_version
    if not card.spec:
        stored["top_v1"] = [k for k in V1_FIELDS if k in data]
    char["extensions"] = {"card": stored}
    book = data.get("character_book")
    if isinstance(book, dict):
        book_id = builder.book("character_book", text(book.get("name")) or bible_name,
                               {k: v for k, v in book.items() if k != "entries"},
                               owner=char["id"])
        stored["book"] = book_id
        for pos, entry in enumerate(book["entries"]):
            builder.entry(book_id, pos, BOOK, entry)
    if card.image:
        char["portrait_data"] = card.image
    return char


def _summary(card: Card, char: dict[str, Any], builder: Builder) -> tuple[str, ...]:
    data = card.data
    spec = {"": "V1", V2: "V2", V3: "V3"}[card.spec]
    lines = [f"Character “{char['name']}” ({spec} card)"]
    greetings = len(strings(data.get("alternate_greetings")))
    lines.append(("a greeting" if text(data.get("first_mes")) else "no greeting")
                 + (f" and {greetings} alternate greeting{'s' * (greetings != 1)}"
                    if greetings else "")
                 + (", example dialogue" if text(data.get("mes_example")) else ""))
    if char.get("traits"):
        lines.append(f"{len(char['traits'])} traits from the personality")
    if builder.counts:
        lines.append(builder.entry_summary())
    image = char.get("portrait_data")
    if image and image.startswith(png_text.SIGNATURE):
        width, height = png_text.size_of(image)
        lines.append(f"a {width}×{height} PNG portrait")
    elif image:
        lines.append("a portrait")
    lines.append("the card's other fields are kept with the character for export")
    return tuple(lines)


def read(path: Path, progress: Progress | None = None, **_options: Any) -> ImportPreview:
    """Read a card file into a BIBLE preview (one character, its book's entries)."""
    path = Path(path)
    if progress:
        progress(0, 2)
    card = read_card(path)
    builder = Builder()
    try:
        char = card_to_bible(card, builder)
    except TooBig as exc:
        raise CardError(path.name, f"its character_book is too big: {exc}") from None
    if progress:
        progress(1, 2)
    preview = ImportPreview(format="card", kind=BIBLE, title=char["name"],
                            summary=_summary(card, char, builder), data=builder.bible(),
                            warnings=tuple(card.warnings + builder.warnings),
                            source=str(path))
    if progress:
        progress(2, 2)
    return preview


def sniff(path: Path) -> bool:
    """Whether ``path`` looks like a card (a PNG, a CHARX, or JSON naming a card spec)."""
    suffix = path.suffix.lower()
    if suffix in (".png", ".charx"):
        return True
    with open(path, "rb") as handle:
        head = handle.read(1024 * 1024)
    return bool(re.search(rb'"spec"\s*:\s*"chara_card|"first_mes"\s*:', head))


# --- bible → card ---------------------------------------------------------------------------

def _character(bible: dict[str, Any], char_id: str | None) -> dict[str, Any]:
    chars = [c for c in bible.get("characters") or [] if isinstance(c, dict)]
    if char_id is None:
        if len(chars) == 1:
            return chars[0]
        raise CardExportError("Choose the character to export as a card "
                              f"(the scene bible has {len(chars)}).")
    for char in chars:
        if char.get("id") == char_id:
            return char
    raise CardExportError(f"The scene bible has no character {char_id}.")


def _book(bible: dict[str, Any], char: dict[str, Any], stored: dict[str, Any],
          v3: bool) -> dict[str, Any] | None:
    book_id = stored.get("book")
    items = collect(bible)
    chosen: list[tuple[tuple, Any, dict | None]] = []
    taken: set[int] = set()
    for item in items:
        for rec in item.records:
            own = book_id is not None and rec.get("book") == book_id
            if own or item.obj is char:
                chosen.append(((0 if own else 1,
                                rec.get("pos", 0)), item, rec))
                taken.add(id(item))
    related_ids = {r.get("target") for r in char.get("relationships") or []
                   if isinstance(r, dict)}
    card_data = (stored.get("data") or {}) if isinstance(stored.get("data"), dict) else {}
    mention_text = " ".join([text(char.get("description")), text(card_data.get("scenario"))])
    for n, item in enumerate(items):
        if id(item) in taken or item.obj is char:
            continue
        if (item.kind == CHARACTER and item.obj.get("id") in related_ids) or (
                item.kind == LOCATION and mentioned(mention_text, item)):
            for rec in item.records or [None]:
                chosen.append(((2, n), item, rec))
    books = books_of(bible)
    if not chosen and book_id not in books:
        return None
    chosen.sort(key=lambda c: c[0])
    fields = copy.deepcopy(books[book_id]["fields"]) if book_id in books else {
        "name": char.get("name", ""), "extensions": {}}
    fields["entries"] = book_entries([(item, rec) for _key, item, rec in chosen], v3)
    return fields


def bible_to_card(bible: dict[str, Any], char_id: str | None = None,
                  spec: str = "v3") -> dict[str, Any]:
    """The card JSON object for a bible character (see the module docstring)."""
    if spec not in ("v2", "v3"):
        raise CardExportError(f"There is no character card spec “{spec}” (v2 or v3).")
    char = _character(bible, char_id)
    ext = char.get("extensions") if isinstance(char.get("extensions"), dict) else {}
    stored = ext.get("card") if isinstance(ext.get("card"), dict) else {}
    stored_data = stored.get("data") if isinstance(stored.get("data"), dict) else {}
    seen = stored.get("derived") if isinstance(stored.get("derived"), dict) else {}
    data = copy.deepcopy(V2_DEFAULTS)
    data.update(copy.deepcopy(stored_data))

    def changed(name: str, value: Any) -> bool:
        return digest(value) != seen.get(name)

    name, desc = text(char.get("name")), text(char.get("description"))
    traits, aliases = strings(char.get("traits")), strings(char.get("aliases"))
    if changed("name", name) or "name" not in stored_data:
        data["name"] = name
    if changed("description", desc) or "description" not in stored_data:
        data["description"] = desc
    if changed("traits", traits):
        data["personality"] = ", ".join(traits)
    if changed("aliases", aliases):
        nickname = text(stored_data.get("nickname"))
        if nickname and nickname not in aliases:
            data.pop("nickname", None)
        extra = [a for a in aliases if a != data.get("nickname")]
        extensions = data["extensions"] if isinstance(data.get("extensions"), dict) else {}
        mine = dict(extensions.get(STUDIO_EXT) or {})
        if extra:
            mine["aliases"] = extra
        else:
            mine.pop("aliases", None)
        if mine:
            extensions[STUDIO_EXT] = mine
        else:
            extensions.pop(STUDIO_EXT, None)
        data["extensions"] = extensions
    book = _book(bible, char, stored, spec == "v3")
    if book is not None:
        data["character_book"] = book
    if spec == "v3":
        data.setdefault("group_only_greetings", [])
        version = stored.get("spec_version") if stored.get("spec") == V3 else "3.0"
    else:
        if stored.get("spec") not in ("", V2):   # a V2 card's own fields stay, whatever named
            for key in V3_ONLY:
                data.pop(key, None)
        version = stored.get("spec_version") if stored.get("spec") == V2 else "2.0"
    top = copy.deepcopy(stored.get("top") or {}) if isinstance(stored.get("top"), dict) else {}
    v1 = stored.get("top_v1") if "top_v1" in stored else (list(V1_FIELDS) if spec == "v2"
                                                          else [])
    for key in v1 if isinstance(v1, list) else []:
        if key in V1_FIELDS and key not in top:
            top[key] = data.get(key, "")
    return {**top, "spec": V3 if spec == "v3" else V2, "spec_version": version, "data": data}


def _without_package_assets(card: dict[str, Any], png: bool) -> dict[str, Any]:
    """Drop ``assets`` entries whose files the export does not carry: a CHARX's
    ``embeded://`` files (in a PNG the main icon becomes ``ccdefault:``, the PNG itself) and,
    in JSON, ``__asset:`` ones (a PNG keeps their ``chara-ext-asset_`` chunks in its image)."""
    assets = card["data"].get("assets")
    if not isinstance(assets, list):
        return card
    kept = []
    for asset in assets:
        uri = text(asset.get("uri")) if isinstance(asset, dict) else ""
        if uri.startswith(PACKAGE_URIS) and not (png and uri.startswith("__asset:")):
            if png and asset.get("type") == "icon" and asset.get("name") == "main":
                kept.append(dict(asset, uri="ccdefault:"))
            continue
        kept.append(asset)
    card["data"]["assets"] = kept
    return card


def _card_json(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, separators=(",", ":"))


def _portrait(doc: ExportDoc, char: dict[str, Any]) -> bytes:
    image = (doc.extras.get("portraits") or {}).get(char.get("id"))
    path = (char.get("assets") or {}).get("portrait") if isinstance(char.get("assets"),
                                                                    dict) else None
    if image is None and path and Path(path).is_file():
        image = Path(path).read_bytes()
    if not image:
        return png_text.placeholder_png(text(char.get("name")) or "character")
    try:
        return png_text.to_png(image)
    except png_text.PngError as exc:
        raise CardExportError(f"The portrait of {char.get('name')} cannot go into a PNG "
                              f"card: {exc}.") from None


def card_png(doc: ExportDoc, options: ExportOptions) -> bytes:
    """The PNG bytes of a character's card: V3 in ``ccv3`` plus its V2 form in ``chara``."""
    bible = dict(doc.content.get("scene_bible") or {})
    char = _character(bible, options.character_id)
    v2 = _without_package_assets(bible_to_card(bible, char.get("id"), "v2"), True)
    pairs = [("chara", base64.b64encode(_card_json(v2).encode("utf-8")).decode("ascii"))]
    if options.card_spec != "v2":
        v3 = _without_package_assets(bible_to_card(bible, char.get("id"), "v3"), True)
        pairs.append(("ccv3", base64.b64encode(_card_json(v3).encode("utf-8")).decode("ascii")))
    return png_text.with_texts(_portrait(doc, char), pairs)


def write_card_png(doc: ExportDoc, out: Path, options: ExportOptions,
                   progress: Progress | None = None) -> Path:
    if progress:
        progress(0, 1)
    Path(out).write_bytes(card_png(doc, options))
    if progress:
        progress(1, 1)
    return Path(out)


def write_card_json(doc: ExportDoc, out: Path, options: ExportOptions,
                    progress: Progress | None = None) -> Path:
    if progress:
        progress(0, 1)
    bible = dict(doc.content.get("scene_bible") or {})
    card = _without_package_assets(bible_to_card(bible, options.character_id,
                                                 "v2" if options.card_spec == "v2" else "v3"),
                                   False)
    Path(out).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n",
                         encoding="utf-8")
    if progress:
        progress(1, 1)
    return Path(out)


register_importer(Importer(id="card", label="Character card (PNG, JSON or CHARX)",
                           extensions=(".png", ".json", ".charx"), read=read, sniff=sniff))
register_exporter(Exporter(id="card_png", label="Character card (PNG)", extension=".png",
                           write=write_card_png, options=("character_id", "card_spec")))
register_exporter(Exporter(id="card_json", label="Character card (JSON)", extension=".json",
                           write=write_card_json, options=("character_id", "card_spec")))

"""Lorebooks in and out: SillyTavern World Info JSON and V3 ``lorebook_v3`` files.

**World Info** (``{"entries": {"<uid>": {...}}, ...}``) is what SillyTavern saves.  Old files
hold ten fields an entry; on import every missing field gets SillyTavern's default
(``lore_entries.WI_DEFAULTS``, from its ``newWorldInfoEntryDefinition``; ``uid`` from the
entry's key, ``displayIndex`` from the uid), exactly as SillyTavern fills them when it opens
the book.  **V3 lorebooks** (``{"spec": "lorebook_v3", "data": {..., "entries": [...]}}``) and
bare character books (``{"entries": [...]}``) hold card-style entries.

Each entry becomes a bible character, location or world rule by the heuristic in
``lore_entries.classify`` (keys as aliases), keeping the whole (default-filled) entry, so
``lorebook`` export gives the same World Info back; the book's own fields (``name``,
``originalData``, a V3 book's ``scan_depth``…) are kept in ``bible.extensions.lorebooks``.

Exports cover the whole bible: entries from lorebooks come back in their book's order with
their uids (a uid two books share is renumbered in the second), then the bible's other
characters, locations and world rules as fresh entries (world rules as constant entries).  A
book's own fields come back when all imported entries in the export come from that one book.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError
from studio.formats.lore_builder import Builder, TooBig
from studio.formats.lore_entries import (
    BOOK, WI, book_entries, books_of, collect, convert, entry_for, fill_wi_defaults, text,
)
from studio.formats.registry import (
    BIBLE, ExportDoc, ExportOptions, Exporter, Importer, ImportPreview, Progress,
    register_exporter, register_importer,
)
from studio.formats.strict_json import JsonProblem, load_json

MAX_FILE = 64 * 1024 * 1024
V3_SPEC = "lorebook_v3"
WORLD_INFO, LOREBOOK_V3, CHARACTER_BOOK = "world_info", "lorebook_v3", "character_book"


class LorebookError(ImportFormatError):
    """A lorebook that cannot be read: ``file`` names it, ``reason`` says why."""

    def __init__(self, file: str, reason: str):
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}.")


# --- reading ---------------------------------------------------------------------------------

def parse_lorebook(obj: Any) -> tuple[str, dict[str, Any], dict[str, Any],
                                      list[tuple[str | None, dict[str, Any]]]]:
    """(book format, book fields, other top-level fields, [(uid key or None, entry)]) of a
    parsed lorebook; raises JsonProblem with the reason."""
    if not isinstance(obj, dict):
        raise JsonProblem("it is not a lorebook (the JSON is not an object)")
    spec = obj.get("spec")
    if spec is not None and spec != V3_SPEC:
        shown = spec if isinstance(spec, str) else json.dumps(spec)
        raise JsonProblem(f"it is not a lorebook (its spec is “{shown[:60]}”; Story Studio "
                          f"reads World Info and {V3_SPEC} files)")
    if spec == V3_SPEC:
        book = obj.get("data")
        if not isinstance(book, dict):
            raise JsonProblem("its “data” is missing or not an object")
        fmt, top = LOREBOOK_V3, {k: v for k, v in obj.items() if k not in ("spec", "data")}
    else:
        book, fmt, top = obj, "", {}
    entries = book.get("entries")
    if isinstance(entries, dict) and not fmt:
        found: list[tuple[str | None, dict[str, Any]]] = []
        for key, entry in entries.items():
            if not isinstance(entry, dict):
                raise JsonProblem(f"its entry “{key[:40]}” is not an object")
            found.append((key, entry))
        fields = {k: v for k, v in book.items() if k != "entries"}
        return WORLD_INFO, fields, top, found
    if not isinstance(entries, list):
        raise JsonProblem("it is not a lorebook (it has no “entries”)")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise JsonProblem(f"its entry {i + 1} is not an object")
    fields = {k: v for k, v in book.items() if k != "entries"}
    return fmt or CHARACTER_BOOK, fields, top, [(None, e) for e in entries]


def read(path: Path, progress: Progress | None = None, **_options: Any) -> ImportPreview:
    """Read a World Info or V3 lorebook file into a BIBLE preview."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise LorebookError(path.name, f"the file is {size // (1024 * 1024)} MB; a "
                                f"lorebook is at most {MAX_FILE // (1024 * 1024)} MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise LorebookError(path.name, f"it cannot be read ({exc.strerror or exc})") from None
    try:
        fmt, fields, top, entries = parse_lorebook(load_json(raw, "lorebook"))
    except JsonProblem as exc:
        raise LorebookError(path.name, str(exc)) from None
    builder = Builder()
    name = text(fields.get("name")) or path.stem
    book_id = builder.book(fmt, name, fields, top=top)
    total = len(entries)
    try:
        for pos, (key, entry) in enumerate(entries):
            if progress and pos % 50 == 0:
                progress(pos, total)
            if fmt == WORLD_INFO:
                uid_key = key if key is not None else str(pos)
                builder.entry(book_id, pos, WI, fill_wi_defaults(entry, uid_key), key)
            else:
                builder.entry(book_id, pos, BOOK, entry)
    except TooBig as exc:
        raise LorebookError(path.name, f"the lorebook is too big: {exc}") from None
    if progress:
        progress(total, total)
    label = {WORLD_INFO: "SillyTavern World Info", LOREBOOK_V3: "V3 lorebook",
             CHARACTER_BOOK: "character book"}[fmt]
    summary = (f"Lorebook “{name}” ({label})", builder.entry_summary(),
               "every entry's keys and settings are kept for export")
    return ImportPreview(format="lorebook", kind=BIBLE, title=name, summary=summary,
                         data=builder.bible(), warnings=tuple(builder.warnings),
                         source=str(path))


def sniff(path: Path) -> bool:
    """A JSON file with lorebook entries (World Info or lorebook_v3), not a character card."""
    with open(path, "rb") as handle:
        head = handle.read(1024 * 1024)
    if re.search(rb'"spec"\s*:\s*"lorebook_v3"', head):
        return True
    return b'"entries"' in head and not re.search(rb'"spec"\s*:\s*"chara_card|"first_mes"',
                                                  head)


# --- writing ---------------------------------------------------------------------------------

def _chosen(bible: dict[str, Any]) -> list[tuple[Any, dict[str, Any] | None]]:
    """Every (item, record or None) to export: the books' entries in their order, then the
    bible's items no lorebook described."""
    order = {book_id: i for i, book_id in enumerate(books_of(bible))}
    chosen: list[tuple[tuple, Any, dict[str, Any] | None]] = []
    seen: set[str] = set()             # the same book imported twice gives each entry once
    for n, item in enumerate(collect(bible)):
        for rec in item.records:
            same = json.dumps([rec.get("format"), rec["entry"]], sort_keys=True)
            if same in seen:
                continue
            seen.add(same)
            pos = rec.get("pos") if isinstance(rec.get("pos"), int) else 0
            chosen.append(((0, order.get(rec.get("book"), len(order)), pos, n), item, rec))
        if not item.records:
            chosen.append(((1, n, 0, 0), item, None))
    chosen.sort(key=lambda c: c[0])
    return [(item, rec) for _key, item, rec in chosen]


def _book_fields(bible: dict[str, Any], chosen: list, fmt: str) -> dict[str, Any] | None:
    """The fields of the one book of format ``fmt`` all exported records come from."""
    ids = {rec.get("book") for _item, rec in chosen if rec is not None}
    books = books_of(bible)
    if not ids:                                   # an empty book still has its fields
        ids = {book_id for book_id, book in books.items() if book.get("format") == fmt}
    if len(ids) == 1:
        book = books.get(next(iter(ids)))
        if book and book.get("format") == fmt and isinstance(book.get("fields"), dict):
            return book
    return None


def bible_to_world_info(bible: dict[str, Any]) -> dict[str, Any]:
    """The bible as a SillyTavern World Info object (see the module docstring)."""
    chosen = _chosen(bible)
    made = [entry_for(item, rec) + (rec,) for item, rec in chosen]
    kept: list[str | None] = []
    used: set[str] = set()
    for entry, fmt, rec in made:   # uids kept (a book entry's id becomes its uid) come first
        key = None
        if rec is not None and fmt == WI:
            key = rec["key"] if isinstance(rec.get("key"), str) else str(entry.get("uid"))
        elif rec is not None and type(entry.get("id")) is int and entry["id"] >= 0:
            key = str(entry["id"])
        kept.append(key if key is not None and key not in used else None)
        if key is not None:
            used.add(key)
    next_uid = 0
    entries: dict[str, Any] = {}
    for (entry, fmt, _rec), keep in zip(made, kept):
        if keep is not None and fmt == WI:
            entries[keep] = entry
            continue
        if keep is not None:
            uid = int(keep)
        else:
            while str(next_uid) in used:
                next_uid += 1
            uid = next_uid
            used.add(str(uid))
        out = convert(entry, fmt, WI, uid, False)
        out["uid"] = uid
        entries[str(uid)] = out
    book = _book_fields(bible, chosen, WORLD_INFO)
    fields = copy.deepcopy(book["fields"]) if book else {}
    return {**fields, "entries": entries}


def bible_to_lorebook_v3(bible: dict[str, Any], name: str = "") -> dict[str, Any]:
    """The bible as a V3 lorebook (``{"spec": "lorebook_v3", "data": {...}}``)."""
    chosen = _chosen(bible)
    entries = book_entries(chosen, True)
    book = _book_fields(bible, chosen, LOREBOOK_V3)
    data = copy.deepcopy(book["fields"]) if book else {"name": name, "extensions": {}}
    data["entries"] = entries
    top = copy.deepcopy(book.get("top") or {}) if book else {}
    return {**top, "spec": V3_SPEC, "data": data}


def _write(out: Path, value: dict[str, Any], progress: Progress | None) -> Path:
    if progress:
        progress(0, 1)
    Path(out).write_text(json.dumps(value, ensure_ascii=False, indent=4) + "\n",
                         encoding="utf-8")
    if progress:
        progress(1, 1)
    return Path(out)


def write_world_info(doc: ExportDoc, out: Path, options: ExportOptions,
                     progress: Progress | None = None) -> Path:
    return _write(out, bible_to_world_info(dict(doc.content.get("scene_bible") or {})),
                  progress)


def write_lorebook_v3(doc: ExportDoc, out: Path, options: ExportOptions,
                      progress: Progress | None = None) -> Path:
    return _write(out, bible_to_lorebook_v3(dict(doc.content.get("scene_bible") or {}),
                                            doc.title), progress)


register_importer(Importer(id="lorebook", label="Lorebook (SillyTavern World Info, V3)",
                           extensions=(".json",), read=read, sniff=sniff))
register_exporter(Exporter(id="lorebook", label="Lorebook (SillyTavern World Info)",
                           extension=".json", write=write_world_info))
register_exporter(Exporter(id="lorebook_v3", label="Lorebook (Character Card V3 lorebook)",
                           extension=".json", write=write_lorebook_v3))

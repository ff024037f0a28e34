"""What the export dialog's preview shows, made by the real exporters on a job thread.

Nothing here touches Qt: each function runs on a ``FormatJob`` thread, exports into a
temporary folder that is gone afterwards, and returns text (and image bytes) for the dialog.
Running the real exporter means the preview cannot drift from what the file will hold.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from studio.formats import registry
from studio.formats.registry import ExportOptions, Exporter
from studio.services import format_io
from studio.store.database import Database

TEXT_EXTENSIONS = {".md", ".markdown", ".txt", ".html", ".htm", ".xhtml", ".twee", ".tw",
                   ".fountain"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
PREVIEW_CHARS = 6000
FIELD_CHARS = 600


def has_text_preview(exporter: Exporter) -> bool:
    """Text formats, and JSON other than the lossless story file (a lorebook is small and
    readable; the whole story with its history is neither)."""
    ext = exporter.extension.lower()
    return (exporter.folder or ext in TEXT_EXTENSIONS
            or (ext == ".json" and exporter.id != format_io.JSON_FORMAT))


def is_card(exporter: Exporter) -> bool:
    return "character_id" in exporter.options


def preview_text(db: Database, story_id: int, format_id: str, options: ExportOptions,
                 progress=None) -> str:
    """The start of what ``format_id`` writes (for a folder, its files one after another)."""
    exp = registry.exporter(format_id)
    with tempfile.TemporaryDirectory(prefix="studio-preview-") as tmp:
        out = Path(tmp) / ("preview" if exp.folder else f"preview{exp.extension}")
        written = format_io.export(db, story_id, format_id, out, options, progress=progress)
        files = sorted(p for p in written.rglob("*") if p.is_file()) if written.is_dir() \
            else [written]
        parts: list[str] = []
        size = 0
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            if written.is_dir():
                text = f"--- {path.relative_to(written)} ---\n{text}"
            parts.append(text)
            size += len(text)
            if size >= PREVIEW_CHARS:
                break
        joined = "\n".join(parts)
        return joined[:PREVIEW_CHARS] + ("\n…" if len(joined) > PREVIEW_CHARS else "")


def _clip(value: Any) -> str:
    text = str(value or "").strip()
    return text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS].rstrip() + "…"


def describe_card(card: dict[str, Any]) -> str:
    """A character card's fields as an author reads them (V1, V2 and V3 shapes)."""
    data = card.get("data") if isinstance(card.get("data"), dict) else card
    lines = [f"{data.get('name') or 'Unnamed'}"]
    spec = " ".join(str(card.get(k)) for k in ("spec", "spec_version") if card.get(k))
    if spec:
        lines.append(f"Card: {spec}")
    if data.get("nickname"):
        lines.append(f"Nickname: {data['nickname']}")
    tags = data.get("tags") if isinstance(data.get("tags"), list) else []
    if tags:
        lines.append("Tags: " + ", ".join(str(t) for t in tags))
    for key, label in (("personality", "Personality"), ("description", "Description"),
                       ("scenario", "Scenario"), ("first_mes", "First message"),
                       ("mes_example", "Example dialogue"), ("creator_notes", "Creator notes")):
        if data.get(key):
            lines += ["", f"{label}:", _clip(data[key])]
    greetings = data.get("alternate_greetings")
    if isinstance(greetings, list) and greetings:
        lines += ["", f"{len(greetings)} other greeting{'s' if len(greetings) != 1 else ''}"]
    book = data.get("character_book")
    entries = book.get("entries") if isinstance(book, dict) else None
    if isinstance(entries, list) and entries:
        names = [str(e.get("name") or e.get("comment") or ", ".join(e.get("keys") or []))
                 for e in entries if isinstance(e, dict)]
        lines += ["", f"Lorebook: {len(entries)} entr{'ies' if len(entries) != 1 else 'y'}"]
        lines += [f"  - {n}" for n in names[:12] if n]
    return "\n".join(lines)


def card_preview(db: Database, story_id: int, format_id: str, options: ExportOptions,
                 progress=None) -> tuple[str, bytes | None]:
    """The card's fields (from a JSON card exporter, the same fields a PNG card embeds) and,
    for an image card, the picture the exporter makes (the portrait, or its placeholder)."""
    exp = registry.exporter(format_id)
    as_json = exp if exp.extension.lower() == ".json" else next(
        (e for e in registry.exporters() if is_card(e) and e.extension.lower() == ".json"),
        None)
    image = None
    text = ""
    with tempfile.TemporaryDirectory(prefix="studio-preview-") as tmp:
        if exp.extension.lower() in IMAGE_EXTENSIONS:
            image = format_io.export(db, story_id, exp.id, Path(tmp) / f"card{exp.extension}",
                                     options, progress=progress).read_bytes()
        if as_json is not None:
            path = format_io.export(db, story_id, as_json.id, Path(tmp) / "card.json",
                                    options, progress=progress)
            card = json.loads(path.read_text(encoding="utf-8"))
            text = describe_card(card) if isinstance(card, dict) else ""
    return text, image

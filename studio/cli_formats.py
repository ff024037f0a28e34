"""``studio formats``, ``studio import`` and ``studio export``: the format registry from the
command line (through ``services.format_io``, as the desktop app's dialogs use it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from studio.domain.errors import StudioError


def list_formats() -> int:
    from studio.formats import registry

    print("Import:")
    for imp in sorted(registry.importers(), key=lambda i: i.id):
        kinds = [*imp.extensions, *(["a folder"] if imp.folders else [])]
        print(f"  {imp.id:<16} {imp.label}  ({', '.join(kinds)})")
    print("Export:")
    for exp in sorted(registry.exporters(), key=lambda e: e.id):
        print(f"  {exp.id:<16} {exp.label}  ({exp.extension or 'a folder'})")
    return 0


def _chapter_ids(db, story_id: int, wanted: list[str]) -> tuple[str, ...]:
    from studio.services import manuscript

    chapters = manuscript.outline(db, story_id).chapters
    ids = []
    for ref in wanted:
        for part in (p for p in ref.split(",") if p.strip()):
            part = part.strip()
            if part.isdigit():
                n = int(part)
                if not 1 <= n <= len(chapters):
                    raise StudioError(f"There is no chapter {n}: the story has "
                                      f"{len(chapters)} chapters.")
                ids.append(chapters[n - 1].uid)
            else:
                ids.append(part)
    return tuple(ids)


def _import(db, args: argparse.Namespace, find_story: Callable[[Any, str], int]) -> int:
    from studio.formats.registry import STORY
    from studio.services import format_io

    options: dict[str, Any] = {}
    if args.chapter_level is not None:
        options["chapter_level"] = args.chapter_level
    if args.scene_level is not None:
        options["scene_level"] = args.scene_level or None
    preview = format_io.preview_import(Path(args.file), args.format_id, **options)
    for line in preview.summary:
        print(line)
    for warning in preview.warnings:
        print(f"warning: {warning}")
    into = None
    if preview.kind != STORY:
        if not args.into:
            raise StudioError(f"{Path(args.file).name} holds {preview.kind} entries, which go "
                              "into a story: add --into STORY.")
        into = find_story(db, args.into)
    outcome = format_io.apply_import(db, preview, into)
    if outcome.created:
        print(f"Imported “{preview.title}” as story {outcome.story_id}")
    else:
        print(f"Imported into story {outcome.story_id}: {outcome.summary[0]}")
    return 0


def _export(db, args: argparse.Namespace, find_story: Callable[[Any, str], int]) -> int:
    from studio.formats.registry import ExportOptions
    from studio.services import format_io

    story_id = find_story(db, args.story)
    extra: dict[str, Any] = {}
    fields: dict[str, Any] = {"synopses": args.synopses, "author": args.author,
                              "standard_manuscript": args.standard_manuscript,
                              "front_matter": not args.no_front_matter,
                              "card_spec": args.card_spec}
    if args.scene_break is not None:
        fields["scene_break"] = args.scene_break
        extra["scene_headings"] = False
    if args.chapters:
        fields["chapters"] = _chapter_ids(db, story_id, args.chapters)
    if args.cover:
        fields["cover"] = Path(args.cover)
    if args.character:
        fields["character_id"] = args.character
    options = ExportOptions(extra=extra, **fields)
    written = format_io.export(db, story_id, args.format_id, Path(args.out), options)
    print(f"Exported to {written}")
    return 0


def run(db, args: argparse.Namespace, find_story: Callable[[Any, str], int]) -> int:
    if args.command == "import":
        return _import(db, args, find_story)
    return _export(db, args, find_story)

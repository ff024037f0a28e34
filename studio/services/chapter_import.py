"""Chapters in and out of the graph: ‹chapter-N› text files and Twee 3 (Twine).

Imports are all or nothing: the file is parsed completely, character names are resolved through
the scene bible (an unknown name is refused with its line/field), the imported chapters are put
after the existing ones (renumbered, fresh ids where needed), and the resulting graph is checked
as a whole (no cycles, no dangling prerequisites) before anything is written.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from studio.domain import bible as bible_rules
from studio.domain import chapters as rules
from studio.domain.errors import ValidationError
from studio.formats import chapter_markers, twee
from studio.services import bible as bible_service
from studio.services import chapter_graph
from studio.services.files import write_text_atomically
from studio.store.database import Database
from studio.store.repositories import stories as stories_repo


def _names(db: Database, story_id: int) -> dict[str, str]:
    """Every name and alias of the bible's characters → id (for resolving imported names)."""
    names: dict[str, str] = {}
    for c in bible_rules.characters(bible_service.effective_bible(db, story_id)):
        for label in [c["name"], *c.get("aliases", [])]:
            names[label] = c["id"]
    return names


def merge_into(existing: dict[str, Any], imported: dict[str, Any]) -> dict[str, Any]:
    """``imported`` appended after ``existing``: numbers shifted, clashing ids renewed."""
    result = copy.deepcopy(existing)
    chapters = copy.deepcopy(imported.get("chapters", []))
    if not result.get("chapters"):
        return {"chapters": chapters}
    shift = max(c["number"] for c in result["chapters"])
    taken = {c["id"] for c in result["chapters"]}
    renamed: dict[str, str] = {}
    for c in chapters:
        if c["id"] in taken:
            new = rules.new_chapter_id(taken | {x["id"] for x in chapters})
            renamed[c["id"]] = new
            taken.add(new)
    for c in chapters:
        c["id"] = renamed.get(c["id"], c["id"])
        c["number"] += shift
        c["prerequisites"] = [renamed.get(p, p) for p in c.get("prerequisites", [])]
        if c.get("alternate_of"):
            c["alternate_of"] = renamed.get(c["alternate_of"], c["alternate_of"])
    result["chapters"].extend(chapters)
    return result


def _import(db: Database, story_id: int, imported: dict[str, Any], what: str) -> dict[str, Any]:
    resolved, unknown = chapter_markers.resolve_characters(imported, _names(db, story_id))
    if unknown:
        path, name = unknown[0]
        parts = [int(p) if p.isdigit() else p for p in path.split("/")]
        raise ValidationError(what, parts, f"no character “{name}” in the scene bible — add "
                              "them to the bible first, or fix the name")
    current = chapter_graph.load(db, story_id).graph
    return chapter_graph.replace_graph(db, story_id, merge_into(current, resolved), "import")


def import_markers(db: Database, story_id: int, path: Path) -> dict[str, Any]:
    return _import(db, story_id, chapter_markers.read_chapter_markers(path),
                   f"Chapters in {Path(path).name}")


def import_twee(db: Database, story_id: int, path: Path) -> dict[str, Any]:
    graph, _title = twee.read_twee(path)
    return _import(db, story_id, graph, f"Twee file {Path(path).name}")


def export_twee(db: Database, story_id: int, path: Path) -> None:
    graph = chapter_graph.load(db, story_id).graph
    with db.session() as s:
        title = stories_repo.get(s, story_id).title
    write_text_atomically(Path(path), twee.export_twee(graph, title))


def export_markers(db: Database, story_id: int, path: Path) -> None:
    graph = chapter_graph.load(db, story_id).graph
    effective = bible_service.effective_bible(db, story_id)
    names = {c["id"]: c["name"] for c in bible_rules.characters(effective)}
    write_text_atomically(Path(path), chapter_markers.write_chapter_markers(graph, names))

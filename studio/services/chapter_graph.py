"""The chapter graph of a story: load, edit node by node, import, lay out.

Every change is checked against the whole graph before anything is written — the schema, then
``domain.chapters.graph_problems`` (unique numbers, known prerequisites, no cycles, characters
known to the scene bible) — so a refused change leaves the stored graph exactly as it was.
A story that never had a graph starts with its manuscript chapters as a linear path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.domain import bible as bible_rules
from studio.domain import chapters as rules
from studio.domain.errors import NotFoundError, ValidationError
from studio.services import bible as bible_service
from studio.services.schemas import graph_schema_problems
from studio.store.database import Database
from studio.store.models import EditHistory
from studio.store.repositories import chapter_graphs as repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo

WHERE = "Chapter graph"


class CycleError(ValidationError):
    """A prerequisite that would close a cycle; ``cycle`` lists the chapter ids in order."""

    def __init__(self, path: list, reason: str, cycle: list[str]):
        super().__init__(WHERE, path, reason)
        self.cycle = cycle


@dataclass
class GraphView:
    """The graph with what the inspector offers from the scene bible."""

    graph: dict[str, Any]
    characters: list[tuple[str, str]]   # (char id, name)
    locations: list[str]
    inactive: list[str]


def _known_characters(db: Database, story_id: int) -> tuple[dict, list[tuple[str, str]]]:
    effective = bible_service.effective_bible(db, story_id)
    chars = [(c["id"], c["name"]) for c in bible_rules.characters(effective)]
    return effective, chars


def check(data: Any, known_characters: set[str] | None) -> None:
    """Raise ValidationError (CycleError for a cycle) naming the first problem."""
    problems = graph_schema_problems(data) or rules.graph_problems(data, known_characters)
    if problems:
        path, reason = problems[0]
        parts = [int(p) if p.isdigit() else p for p in path.split("/") if p]
        if "cycle" in reason:
            ids = [c["id"] for c in data.get("chapters", [])]
            graph = rules.ChapterGraph.from_dict({"chapters": [
                dict(c, prerequisites=[p for p in c.get("prerequisites", []) if p in ids])
                for c in data["chapters"]]})
            raise CycleError(parts, reason, _any_cycle(graph))
        raise ValidationError(WHERE, parts, reason)


def _any_cycle(graph) -> list[str]:
    from graphlib import CycleError as GraphCycle, TopologicalSorter

    try:
        TopologicalSorter({c.id: set(c.prerequisites) for c in graph.chapters}).prepare()
    except GraphCycle as exc:
        return list(exc.args[1])
    return []


def _ever_had_graph(s: Session, story_id: int) -> bool:
    return s.scalar(select(EditHistory.id).where(
        EditHistory.story_id == story_id, EditHistory.entity_type == "chapter_graph")
        .limit(1)) is not None


def _seed_from_manuscript(s: Session, story_id: int) -> None:
    chapters = manuscript_repo.live_chapters(s, story_id)
    if not chapters:
        return
    graph = rules.linear_from_manuscript([(c.uid, c.title or "Untitled chapter")
                                          for c in chapters])
    positions = rules.layered_layout(graph)
    data = graph.as_dict()
    for c in data["chapters"]:
        x, y = positions[c["id"]]
        c["position"] = {"x": x, "y": y}
    repo.write_graph(s, story_id, data)
    history.record(s, story_id, "chapter_graph", story_id, "seed",
                   {"from_manuscript": len(chapters)})


def load(db: Database, story_id: int) -> GraphView:
    effective, chars = _known_characters(db, story_id)
    with db.session() as s:
        stories_repo.get(s, story_id)
        if not repo.has_rows(s, story_id) and not _ever_had_graph(s, story_id):
            _seed_from_manuscript(s, story_id)
        data = repo.graph(s, story_id)
    locations = [loc["name"] for loc in bible_rules.locations(effective)]
    primary = (effective.get("setting") or {}).get("primary_location")
    if primary and primary not in locations:
        locations.insert(0, primary)
    inactive = [c["id"] for c in bible_rules.characters(effective) if not c.get("active", True)]
    return GraphView(data, chars, locations, inactive)


def _change(db: Database, story_id: int, action: str, mutate, detail: dict) -> dict[str, Any]:
    """Load, mutate a copy, check the whole result, write it: all in one unit of work."""
    _, chars = _known_characters(db, story_id)
    known = {cid for cid, _ in chars}
    with db.session() as s:
        stories_repo.get(s, story_id)
        data = repo.graph(s, story_id)
        result = mutate(data)
        new = result if result is not None else data
        check(new, known)
        new = rules.ChapterGraph.from_dict(new).as_dict()  # stored in one canonical form
        repo.write_graph(s, story_id, new)
        history.record(s, story_id, "chapter_graph", story_id, action, detail)
        return new


def _find(data: dict, chapter_id: str) -> dict:
    for c in data["chapters"]:
        if c["id"] == chapter_id:
            return c
    raise NotFoundError("That chapter is no longer in the graph.")


def add_chapter(db: Database, story_id: int, title: str = "",
                position: tuple[float, float] | None = None,
                after: str | None = None) -> dict[str, Any]:
    """A new chapter (numbered after the last); ``after`` makes it require that chapter."""
    created: dict[str, Any] = {}

    def mutate(data):
        graph = rules.ChapterGraph.from_dict(data)
        chapter = {"id": rules.new_chapter_id([c["id"] for c in data["chapters"]]),
                   "number": rules.next_number(graph),
                   "title": (title or "").strip() or "New chapter", "status": "idea",
                   "prerequisites": [after] if after else [], "source": "manual"}
        if position is not None:
            chapter["position"] = {"x": float(position[0]), "y": float(position[1])}
        elif after:
            p = _find(data, after).get("position") or {"x": 0, "y": 0}
            chapter["position"] = {"x": p["x"] + rules.LAYER_DX, "y": p["y"]}
        data["chapters"].append(chapter)
        created.update(chapter)

    _change(db, story_id, "add", mutate, {"title": title})
    return created


def update_chapter(db: Database, story_id: int, chapter: dict[str, Any]) -> dict[str, Any]:
    """Replace one chapter's fields (the inspector's edits)."""
    def mutate(data):
        _find(data, chapter["id"])
        data["chapters"] = [chapter if c["id"] == chapter["id"] else c
                            for c in data["chapters"]]

    return _change(db, story_id, "edit", mutate, {"chapter": chapter["id"]})


def delete_chapter(db: Database, story_id: int, chapter_id: str) -> dict[str, Any]:
    """Remove a chapter and every prerequisite on it; returns the graph before (for undo)."""
    before: dict[str, Any] = {}

    def mutate(data):
        import copy
        before.update(copy.deepcopy(data))
        _find(data, chapter_id)
        data["chapters"] = [c for c in data["chapters"] if c["id"] != chapter_id]
        for c in data["chapters"]:
            if chapter_id in c.get("prerequisites", []):
                c["prerequisites"] = [p for p in c["prerequisites"] if p != chapter_id]
            if c.get("alternate_of") == chapter_id:
                c["alternate_of"] = None

    _change(db, story_id, "delete", mutate, {"chapter": chapter_id})
    return before


def add_prerequisite(db: Database, story_id: int, prerequisite: str,
                     chapter_id: str) -> dict[str, Any]:
    """Make ``chapter_id`` require ``prerequisite``; a cycle is refused, naming it."""
    def mutate(data):
        target = _find(data, chapter_id)
        _find(data, prerequisite)
        if prerequisite == chapter_id:
            raise ValidationError(WHERE, ["chapters"], "a chapter cannot require itself")
        graph = rules.ChapterGraph.from_dict(data)
        cycle = rules.cycle_if_added(graph, prerequisite, chapter_id)
        if cycle:
            names = " → ".join(f"{graph.by_id[c].number} “{graph.by_id[c].title}”"
                               for c in cycle)
            raise CycleError(["chapters"], f"this prerequisite would make a cycle: {names}",
                             cycle)
        if prerequisite not in target.setdefault("prerequisites", []):
            target["prerequisites"].append(prerequisite)

    return _change(db, story_id, "link", mutate,
                   {"prerequisite": prerequisite, "chapter": chapter_id})


def remove_prerequisite(db: Database, story_id: int, prerequisite: str,
                        chapter_id: str) -> dict[str, Any]:
    def mutate(data):
        target = _find(data, chapter_id)
        target["prerequisites"] = [p for p in target.get("prerequisites", [])
                                   if p != prerequisite]

    return _change(db, story_id, "unlink", mutate,
                   {"prerequisite": prerequisite, "chapter": chapter_id})


def move_nodes(db: Database, story_id: int,
               positions: dict[str, tuple[float, float]]) -> dict[str, Any]:
    def mutate(data):
        for c in data["chapters"]:
            if c["id"] in positions:
                x, y = positions[c["id"]]
                c["position"] = {"x": round(float(x), 1), "y": round(float(y), 1)}

    return _change(db, story_id, "move", mutate, {"nodes": len(positions)})


def arrange(db: Database, story_id: int) -> dict[str, Any]:
    """Automatic layered layout of every node."""
    def mutate(data):
        layout = rules.layered_layout(rules.ChapterGraph.from_dict(data))
        for c in data["chapters"]:
            x, y = layout[c["id"]]
            c["position"] = {"x": x, "y": y}

    return _change(db, story_id, "arrange", mutate, {})


def replace_graph(db: Database, story_id: int, data: dict[str, Any],
                  action: str = "replace") -> dict[str, Any]:
    """Store a whole graph (an import, an undo): checked as a whole, written as a whole."""
    return _change(db, story_id, action, lambda _old: data, {"chapters": len(data["chapters"])})


def chapter_versions(db: Database, story_id: int, chapter_id: str | None = None) -> list[dict]:
    with db.session() as s:
        return repo.chapter_versions(s, story_id, chapter_id)

"""The chapter graph: the chapters of an (interactive) story and the rules that bind them.

A chapter graph is a directed acyclic graph.  Each chapter names the chapters that must be
*completed* before it can start (its prerequisites) and the *trigger conditions* the story's
state must meet for it to start (the story is at a place, the player holds an item, a character
is present, a flag has a value).  Its shape on disk is ``resources/schemas/chapter_graph.schema.json``;
the schema checks shape, ``graph_problems`` checks what a schema cannot (unique ids and numbers,
prerequisites that exist, no cycles, characters the scene bible knows).

The model is frozen dataclasses so that the playtest engine (``studio.domain.divergence``) can
hand back changed chapters without ever mutating what the caller holds.  ``as_dict`` writes the
canonical form (every chapter field, so a saved graph reads the same in any tool);
``from_dict`` fills what a hand-written file leaves out with the schema's defaults, so
``Chapter.from_dict(c.as_dict()) == c`` and ``as_dict(from_dict(d)) == d`` for a canonical ``d``.
"""

from __future__ import annotations

import heapq
import secrets
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from graphlib import CycleError, TopologicalSorter
from typing import Any, Iterable, Mapping

CHAPTER_PREFIX = "gch_"
CONDITION_KINDS = ("location", "item", "character", "key")
STATUSES = ("idea", "draft", "revised", "final")
SOURCES = ("manual", "imported", "marketplace")
DEFAULT_THRESHOLD = 0.4
LAYER_DX = 290.0
ROW_DY = 110.0

Problem = tuple[str, str]  # (path like "chapters/3/prerequisites/0", reason)


def normalise(text: str) -> str:
    """How places, items and flag values are compared: case and spacing do not matter."""
    return " ".join(text.split()).casefold()


# --- the model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One trigger condition.  ``alternatives`` are other values that satisfy it too (added
    when the engine relaxes a chapter); a ``critical`` condition is never relaxed."""

    kind: str
    value: str
    key: str = ""
    critical: bool = False
    alternatives: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Condition":
        return cls(kind=d["kind"], value=d["value"], key=d.get("key", ""),
                   critical=bool(d.get("critical", False)),
                   alternatives=tuple(d.get("alternatives") or ()))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": self.value}
        if self.kind == "key" or self.key:  # a flag name means nothing to other kinds
            out["key"] = self.key
        out["critical"] = self.critical
        out["alternatives"] = list(self.alternatives)
        return out

    @property
    def options(self) -> tuple[str, ...]:
        """Every value that satisfies the condition: the value first, then the alternatives."""
        return (self.value, *self.alternatives)

    @cached_property
    def accepted(self) -> frozenset[str]:
        """The options as compared: character ids exactly, everything else normalised.
        Cached on the (frozen) instance because the engine asks for it every turn."""
        if self.kind == "character":
            return frozenset(self.options)
        return frozenset(normalise(v) for v in self.options)


@dataclass(frozen=True)
class Beat:
    """Something that should happen in the chapter; priority 1 = must happen … 5 = nice to have."""

    text: str
    priority: int = 3

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Beat":
        return cls(text=d["text"], priority=int(d.get("priority", 3)))

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "priority": self.priority}


@dataclass(frozen=True)
class Chapter:
    id: str
    number: int
    title: str
    description: str = ""
    summary: str = ""
    status: str = "draft"
    prerequisites: tuple[str, ...] = ()
    triggers: tuple[Condition, ...] = ()
    instructions: str = ""
    beats: tuple[Beat, ...] = ()
    allow_divergence: bool = True
    threshold: float = DEFAULT_THRESHOLD
    source: str = "manual"
    alternate_of: str | None = None
    manuscript_chapter: str | None = None
    position: tuple[float, float] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Chapter":
        pos = d.get("position")
        return cls(
            id=d["id"], number=int(d["number"]), title=d["title"],
            description=d.get("description", ""), summary=d.get("summary", ""),
            status=d.get("status", "draft"),
            prerequisites=tuple(d.get("prerequisites") or ()),
            triggers=tuple(Condition.from_dict(c) for c in d.get("triggers") or ()),
            instructions=d.get("instructions", ""),
            beats=tuple(Beat.from_dict(b) for b in d.get("beats") or ()),
            allow_divergence=bool(d.get("allow_divergence", True)),
            threshold=d.get("threshold", DEFAULT_THRESHOLD),
            source=d.get("source", "manual"),
            alternate_of=d.get("alternate_of"),
            manuscript_chapter=d.get("manuscript_chapter"),
            position=None if pos is None else (pos["x"], pos["y"]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "number": self.number, "title": self.title,
            "description": self.description, "summary": self.summary, "status": self.status,
            "prerequisites": list(self.prerequisites),
            "triggers": [c.as_dict() for c in self.triggers],
            "instructions": self.instructions,
            "beats": [b.as_dict() for b in self.beats],
            "allow_divergence": self.allow_divergence, "threshold": self.threshold,
            "source": self.source, "alternate_of": self.alternate_of,
            "manuscript_chapter": self.manuscript_chapter,
            "position": None if self.position is None
            else {"x": self.position[0], "y": self.position[1]},
        }

    def label(self) -> str:
        """How messages name a chapter: its number and title, e.g. 2 “The Gate”."""
        return f"{self.number} “{self.title}”"


@dataclass(frozen=True)
class ChapterGraph:
    """The chapters in the order they are stored; lookups are computed once and cached."""

    chapters: tuple[Chapter, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ChapterGraph":
        return cls(tuple(Chapter.from_dict(c) for c in d.get("chapters") or ()))

    def as_dict(self) -> dict[str, Any]:
        return {"chapters": [c.as_dict() for c in self.chapters]}

    @cached_property
    def by_id(self) -> dict[str, Chapter]:
        """id → chapter (the first one, if an invalid graph repeats an id).  Do not mutate."""
        out: dict[str, Chapter] = {}
        for ch in self.chapters:
            out.setdefault(ch.id, ch)
        return out

    def get(self, chapter_id: str) -> Chapter | None:
        return self.by_id.get(chapter_id)

    @cached_property
    def _ordered(self) -> tuple[Chapter, ...]:
        return tuple(sorted(self.chapters, key=lambda c: (c.number, c.id)))

    def ordered(self) -> list[Chapter]:
        """The chapters by number (ties, only possible in an invalid graph, by id)."""
        return list(self._ordered)

    @cached_property
    def highest_number(self) -> int:
        """The highest chapter number (0 for an empty graph)."""
        return max((c.number for c in self.chapters), default=0)

    @cached_property
    def alternates(self) -> dict[str, tuple[str, ...]]:
        """chapter id → the ids of the chapters that are alternate paths for it."""
        out: dict[str, list[str]] = {}
        for ch in self._ordered:
            if ch.alternate_of:
                out.setdefault(ch.alternate_of, []).append(ch.id)
        return {k: tuple(v) for k, v in out.items()}

    def with_chapter(self, chapter: Chapter) -> "ChapterGraph":
        """A graph where ``chapter`` replaces the chapter with its id, or is added at the end."""
        if chapter.id in self.by_id:
            return ChapterGraph(tuple(chapter if c.id == chapter.id else c
                                      for c in self.chapters))
        return ChapterGraph(self.chapters + (chapter,))


def new_chapter_id(existing: Iterable[str] = ()) -> str:
    """``gch_`` + 8 lowercase hex digits, unlike every id in ``existing``."""
    taken = set(existing)
    while True:
        candidate = CHAPTER_PREFIX + secrets.token_hex(4)
        if candidate not in taken:
            return candidate


def next_number(graph: ChapterGraph) -> int:
    """The number a new chapter gets: one past the highest (numbers need not be contiguous)."""
    return graph.highest_number + 1


# --- rules ---------------------------------------------------------------------------------

def _title(d: Mapping[str, Any]) -> str:
    return f"{d.get('number', '?')} “{d.get('title', '')}”"


def graph_problems(data: Mapping[str, Any],
                   known_characters: set[str] | None = None) -> list[Problem]:
    """What the schema cannot see in a schema-valid graph dict, as (path, reason) pairs.

    Duplicate ids and numbers, prerequisites and alternates that point nowhere, a chapter that
    requires itself, cycles of prerequisites (each named by the chapters on it, in story
    order), key conditions with no flag name and — when ``known_characters`` is given —
    character conditions on characters the scene bible does not have.
    """
    problems: list[Problem] = []
    chapters = list(data.get("chapters") or [])
    first_index: dict[str, int] = {}
    by_number: dict[int, int] = {}
    for i, ch in enumerate(chapters):
        cid = ch["id"]
        if cid in first_index:
            problems.append((f"chapters/{i}/id", f"the id {cid} is already used by "
                             f"{_title(chapters[first_index[cid]])}"))
        else:
            first_index[cid] = i
        num = ch["number"]
        if num in by_number:
            problems.append((f"chapters/{i}/number", f"chapter number {num} is used by "
                             f"“{chapters[by_number[num]]['title']}” and “{ch['title']}”"))
        else:
            by_number[num] = i

    deps: dict[str, list[str]] = {}
    for i, ch in enumerate(chapters):
        cid = ch["id"]
        own = first_index[cid] == i
        seen: set[str] = set()
        for j, pre in enumerate(ch.get("prerequisites") or ()):
            where = f"chapters/{i}/prerequisites/{j}"
            if pre == cid:
                problems.append((where, "a chapter cannot require itself"))
            elif pre not in first_index:
                problems.append((where, f"no chapter has the id {pre}"))
            elif pre in seen:
                problems.append((where, f"{_title(chapters[first_index[pre]])} "
                                        "is listed twice"))
            elif own:
                deps.setdefault(cid, []).append(pre)
            seen.add(pre)
        for j, cond in enumerate(ch.get("triggers") or ()):
            where = f"chapters/{i}/triggers/{j}"
            if cond["kind"] == "key" and not (cond.get("key") or "").strip():
                problems.append((f"{where}/key",
                                 "a key condition needs the name of the flag it reads"))
            if cond["kind"] == "character" and known_characters is not None:
                values = [("value", cond["value"])] + [
                    (f"alternatives/{k}", a) for k, a in enumerate(cond.get("alternatives") or ())]
                for sub, char_id in values:
                    if char_id not in known_characters:
                        problems.append((f"{where}/{sub}",
                                         f"no character {char_id} in the scene bible"))
        alt = ch.get("alternate_of")
        if alt == cid:
            problems.append((f"chapters/{i}/alternate_of",
                             "a chapter cannot be an alternate of itself"))
        elif alt and alt not in first_index:
            problems.append((f"chapters/{i}/alternate_of", f"no chapter has the id {alt}"))

    # graphlib finds one cycle at a time: report it, cut the link that closes it, look again.
    for _ in range(50):
        try:
            TopologicalSorter(deps).prepare()
            break
        except CycleError as err:
            cycle = list(err.args[1])[:-1]  # story order: each one requires the one before
            low = min(range(len(cycle)), key=lambda k: (chapters[first_index[cycle[k]]]["number"],
                                                         cycle[k]))
            cycle = cycle[low:] + cycle[:low]
            head, closing = cycle[0], cycle[-1]
            i = first_index[head]
            j = list(chapters[i]["prerequisites"]).index(closing)
            names = " → ".join(_title(chapters[first_index[c]]) for c in cycle + [head])
            problems.append((f"chapters/{i}/prerequisites/{j}",
                             f"prerequisites form a cycle: {names}"))
            deps[head] = [p for p in deps[head] if p != closing]
    return problems


def cycle_if_added(graph: ChapterGraph, prerequisite_id: str,
                   chapter_id: str) -> list[str] | None:
    """Would making ``chapter_id`` require ``prerequisite_id`` close a cycle?

    If so, the cycle as chapter ids in story order, starting and ending with ``chapter_id``:
    ``chapter_id`` leads (through prerequisites) to ``prerequisite_id``, which with the new
    link leads back.  A breadth-first walk up from ``prerequisite_id`` only visits its
    ancestors, so the answer is immediate even for large graphs.
    """
    if prerequisite_id == chapter_id:
        return [chapter_id, chapter_id]
    by_id = graph.by_id
    came_from: dict[str, str] = {prerequisite_id: ""}
    queue = deque([prerequisite_id])
    while queue:
        node = queue.popleft()
        ch = by_id.get(node)
        if ch is None:
            continue
        for pre in ch.prerequisites:
            if pre in came_from:
                continue
            came_from[pre] = node
            if pre == chapter_id:
                path = [chapter_id]  # chapter_id → … → prerequisite_id in story order
                while path[-1] != prerequisite_id:
                    path.append(came_from[path[-1]])
                return path + [chapter_id]
            queue.append(pre)
    return None


def topological_order(graph: ChapterGraph) -> list[str]:
    """Chapter ids with every chapter after its prerequisites; among the chapters that are
    free to come next, the lowest number first.  Raises ``graphlib.CycleError`` on a cycle.
    Prerequisites that name no chapter are ignored."""
    by_id = graph.by_id
    deps = {c.id: [p for p in c.prerequisites if p in by_id and p != c.id] for c in by_id.values()}
    sorter = TopologicalSorter(deps)
    sorter.prepare()
    heap = [(by_id[n].number, n) for n in sorter.get_ready()]
    heapq.heapify(heap)
    out: list[str] = []
    while heap:
        _, node = heapq.heappop(heap)
        out.append(node)
        sorter.done(node)
        for n in sorter.get_ready():
            heapq.heappush(heap, (by_id[n].number, n))
    return out


# --- layout --------------------------------------------------------------------------------

def _layers(chapters: list[Chapter], preds: dict[str, list[str]],
            succs: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from the roots.  A cycle (an invalid graph being edited) must not stop the
    editor from drawing it: when nothing is ready, the lowest-numbered waiting chapter is taken
    as if it were, ignoring its unplaced prerequisites."""
    order = {c.id: k for k, c in enumerate(chapters)}
    missing = {c.id: len(preds[c.id]) for c in chapters}
    heap = [order[c.id] for c in chapters if missing[c.id] == 0]
    heapq.heapify(heap)
    layer: dict[str, int] = {}
    waiting = set(order)
    while waiting:
        if not heap:
            heap = [min(order[n] for n in waiting)]
        cid = chapters[heapq.heappop(heap)].id
        if cid in layer:
            continue
        waiting.discard(cid)
        layer[cid] = max((layer[p] + 1 for p in preds[cid] if p in layer), default=0)
        for s in succs[cid]:
            missing[s] -= 1
            if missing[s] == 0 and s not in layer:
                heapq.heappush(heap, order[s])
    return layer


def layered_layout(graph: ChapterGraph, sweeps: int = 4) -> dict[str, tuple[float, float]]:
    """Positions for the graph editor, left to right: a simplified Sugiyama layout.

    x is the layer (the longest chain of prerequisites above a chapter) × 290; within a layer
    the chapters are ordered by the mean height of their neighbours (barycenters, alternating
    sweeps down along prerequisites and back up along dependants, which untangles most
    crossings) and spaced 110 apart, centred on y = 0.  Deterministic: ties keep number order.
    """
    chapters = graph.ordered()
    ids = {c.id for c in chapters}
    preds = {c.id: sorted({p for p in c.prerequisites if p in ids and p != c.id})
             for c in chapters}
    succs: dict[str, list[str]] = {c.id: [] for c in chapters}
    for cid, ps in preds.items():
        for p in ps:
            succs[p].append(cid)
    layer = _layers(chapters, preds, succs)
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for c in chapters:
        rows[layer[c.id]].append(c.id)

    y: dict[str, float] = {}

    def place(row: list[str]) -> None:
        mid = (len(row) - 1) / 2
        for k, cid in enumerate(row):
            y[cid] = (k - mid) * ROW_DY

    for row in rows:
        place(row)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        sequence = rows[1:] if down else rows[-2::-1]
        for row in sequence:
            neighbours = preds if down else succs
            key = {}
            for k, cid in enumerate(row):
                ns = neighbours[cid]
                key[cid] = (sum(y[n] for n in ns) / len(ns) if ns else y[cid], k)
            row.sort(key=key.__getitem__)
            place(row)
    return {cid: (layer[cid] * LAYER_DX, y[cid]) for cid in layer}


# --- building graphs -----------------------------------------------------------------------

def linear_from_manuscript(chapters: list[tuple[str, str]]) -> ChapterGraph:
    """A first graph for an existing manuscript: its chapters (``chap_`` uid, title) in
    reading order become nodes 1..n, each requiring the one before."""
    nodes: list[Chapter] = []
    taken: set[str] = set()
    for n, (uid, title) in enumerate(chapters, 1):
        cid = new_chapter_id(taken)
        taken.add(cid)
        nodes.append(Chapter(id=cid, number=n, title=(title or "").strip() or f"Chapter {n}",
                             prerequisites=(nodes[-1].id,) if nodes else (),
                             manuscript_chapter=uid, source="manual"))
    return ChapterGraph(tuple(nodes))


__all__ = ["Beat", "Chapter", "ChapterGraph", "Condition", "Problem", "CONDITION_KINDS",
           "STATUSES", "SOURCES", "cycle_if_added", "graph_problems", "layered_layout",
           "linear_from_manuscript", "new_chapter_id", "next_number", "normalise",
           "topological_order"]

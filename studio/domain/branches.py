"""What-if branches, the pure part: names, the shapes the UI reads, the chapter-by-chapter
comparison of two stories, and the "merge only these chapters" view of a branch.

A branch is merged with ``studio.domain.pull``'s three-way rules (base = the parent's version
the branch was made from, theirs = the branch, mine = the story it goes into).  Merging only
some chapters ("the half they like") is the same merge with *theirs* restricted: every chapter
not chosen is put back as the base had it, so it counts as unchanged and the target keeps its
own text there.  ``restrict_outline`` builds that restricted outline.

Outlines are the shape ``services.publishing.local_outline`` returns.  Pure Python: no Qt, SQL,
network or files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from studio.domain.errors import StudioError

MAIN_NAME = "Main"
MAX_NAME = 200
MAX_DESCRIPTION = 5000

Outline = list[dict[str, Any]]


class BranchError(StudioError):
    """A branch operation that cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class BranchInfo:
    story_id: int
    trunk_id: int
    parent_id: int
    name: str
    description: str
    base_version: int
    branch_chapter: str | None
    branch_chapter_title: str | None
    created_at: datetime
    merged_at: datetime | None


@dataclass(frozen=True)
class FamilyMember:
    story_id: int
    name: str  # "Main" for the family's main story
    is_main: bool
    info: BranchInfo | None


@dataclass(frozen=True)
class SceneDiff:
    scene_uid: str
    title: str
    state: str  # "same" | "changed" | "only_a" | "only_b"
    text_a: str
    text_b: str


@dataclass(frozen=True)
class ChapterDiff:
    chapter_uid: str
    title_a: str | None
    title_b: str | None
    state: str  # "same" | "changed" | "only_a" | "only_b"
    words_a: int
    words_b: int
    scenes: list[SceneDiff]


def check_name(name: Any, taken: Iterable[str]) -> str:
    """The branch name as stored (trimmed), or BranchError saying what is wrong with it.
    Names are compared without case: "Dark ending" and "dark ending" would confuse."""
    if not isinstance(name, str) or not name.strip():
        raise BranchError("A branch needs a name.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise BranchError(f"A branch name has at most {MAX_NAME} characters.")
    if name.casefold() == MAIN_NAME.casefold():
        raise BranchError(f"“{MAIN_NAME}” is the main story's name; choose another name for "
                          "the branch.")
    if any(name.casefold() == other.casefold() for other in taken):
        raise BranchError(f"A branch named “{name}” exists already; choose another name.")
    return name


def check_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise BranchError("A branch's description must be text.")
    if len(description) > MAX_DESCRIPTION:
        raise BranchError(f"A branch's description has at most {MAX_DESCRIPTION} characters.")
    return description.strip()


# --- compare ---------------------------------------------------------------------------------

def compare_outlines(a: Outline, b: Outline,
                     text_of: Callable[[str, dict[str, Any]], str]) -> list[ChapterDiff]:
    """Chapter by chapter in ``a``'s order, then the chapters only ``b`` has; within a chapter
    scene by scene in ``a``'s order, then the scenes only ``b`` has there.  A scene moved to
    another chapter shows as only_a in one and only_b in the other.

    Scenes here are ``{"id", "title", "words", "digest"}``; ``text_of(side, scene)`` reads the
    prose (side "a" or "b") and is called once per scene at most — not at all for the b side
    of a scene whose ``digest`` equals a's (same content, same text)."""
    b_chapters = {ch["id"]: ch for ch in b}
    out: list[ChapterDiff] = []
    for ch in a:
        other = b_chapters.get(ch["id"])
        out.append(_chapter_diff(ch, other, text_of))
    a_ids = {ch["id"] for ch in a}
    out += [_chapter_diff(None, ch, text_of) for ch in b if ch["id"] not in a_ids]
    return out


def _chapter_diff(a: dict | None, b: dict | None,
                  text_of: Callable[[str, dict[str, Any]], str]) -> ChapterDiff:
    a_scenes = a["scenes"] if a else []
    b_scenes = b["scenes"] if b else []
    b_by_id = {sc["id"]: sc for sc in b_scenes}
    diffs: list[SceneDiff] = []
    for sc in a_scenes:
        other = b_by_id.get(sc["id"])
        text_a = text_of("a", sc)
        if other is None:
            diffs.append(SceneDiff(sc["id"], sc["title"], "only_a", text_a, ""))
            continue
        same_content = bool(sc.get("digest")) and sc.get("digest") == other.get("digest")
        text_b = text_a if same_content else text_of("b", other)
        same = text_a == text_b and sc["title"] == other["title"]
        diffs.append(SceneDiff(sc["id"], other["title"] if not same else sc["title"],
                               "same" if same else "changed", text_a, text_b))
    a_ids = {sc["id"] for sc in a_scenes}
    diffs += [SceneDiff(sc["id"], sc["title"], "only_b", "", text_of("b", sc))
              for sc in b_scenes if sc["id"] not in a_ids]
    if a is None or b is None:
        state = "only_b" if a is None else "only_a"
    elif a["title"] == b["title"] and [s["id"] for s in a_scenes] == \
            [s["id"] for s in b_scenes] and all(d.state == "same" for d in diffs):
        state = "same"
    else:
        state = "changed"
    return ChapterDiff(a["id"] if a else b["id"], a["title"] if a else None,
                       b["title"] if b else None, state,
                       sum(sc.get("words", 0) for sc in a_scenes),
                       sum(sc.get("words", 0) for sc in b_scenes), diffs)


# --- merging some chapters -------------------------------------------------------------------

def restrict_outline(base: Outline, theirs: Outline, chosen: Iterable[str]) -> Outline:
    """``theirs`` with every chapter not in ``chosen`` put back as ``base`` had it.

    - a chosen chapter is taken as theirs has it (deleted if theirs deleted it);
    - a chapter not chosen is base's form, or absent if base did not have it (new in theirs);
    - a scene or segment theirs moved *into* a chosen chapter belongs to it (it is taken out
      of the base form of the chapter it came from, so nothing appears twice);
    - a scene theirs moved *out of* a chosen chapter into one not chosen stays in the chosen
      chapter as base had it (the move belongs to the chapter not chosen; nothing is lost) —
      or, when theirs deleted the chosen chapter, goes with base's text to where theirs put it.
    """
    chosen = set(chosen)
    base_by_id = {ch["id"]: ch for ch in base}
    theirs_ids = {ch["id"] for ch in theirs}
    taken = [ch for ch in theirs if ch["id"] in chosen]
    claimed_scenes = {sc["id"] for ch in taken for sc in ch["scenes"]}
    claimed_segments = {seg.id for ch in taken for sc in ch["scenes"] for seg in sc["segments"]}
    theirs_scene_chapter = {sc["id"]: ch["id"] for ch in theirs for sc in ch["scenes"]}

    def as_base(scene: dict) -> dict:
        return {"id": scene["id"], "attrs": scene["attrs"],
                "segments": [seg for seg in scene["segments"] if seg.id not in claimed_segments]}

    def moved_out(chapter_id: str) -> list[tuple[int, dict]]:
        """Base scenes of chosen ``chapter_id`` that theirs moved into a chapter not chosen."""
        old = base_by_id.get(chapter_id)
        return [(i, sc) for i, sc in enumerate(old["scenes"] if old else [])
                if theirs_scene_chapter.get(sc["id"], chapter_id) != chapter_id
                and theirs_scene_chapter[sc["id"]] not in chosen]

    # Scenes leaving a chosen chapter that theirs deleted: they go where theirs put them.
    homeless: dict[str, list[dict]] = {}
    for chapter_id in chosen:
        if chapter_id in base_by_id and chapter_id not in theirs_ids:
            for _i, sc in moved_out(chapter_id):
                homeless.setdefault(theirs_scene_chapter[sc["id"]], []).append(as_base(sc))

    def base_form(chapter: dict) -> dict:
        scenes = [as_base(sc) for sc in chapter["scenes"] if sc["id"] not in claimed_scenes]
        return {"id": chapter["id"], "attrs": chapter["attrs"],
                "scenes": scenes + homeless.get(chapter["id"], [])}

    def chosen_form(chapter: dict) -> dict:
        scenes = list(chapter["scenes"])
        old = base_by_id.get(chapter["id"])
        for i, sc in moved_out(chapter["id"]):
            _insert_after(scenes, [s["id"] for s in old["scenes"][:i]], as_base(sc))
        return {"id": chapter["id"], "attrs": chapter["attrs"], "scenes": scenes}

    out: list[dict] = []
    for ch in theirs:
        if ch["id"] in chosen:
            out.append(chosen_form(ch))
        elif ch["id"] in base_by_id:
            out.append(base_form(base_by_id[ch["id"]]))
        elif homeless.get(ch["id"]):  # new in theirs, not chosen, but holds base scenes
            out.append({"id": ch["id"], "attrs": ch["attrs"], "scenes": homeless[ch["id"]]})
    for i, ch in enumerate(base):
        if ch["id"] in theirs_ids or ch["id"] in chosen:
            continue  # in theirs (placed above), or deleted by theirs in a chosen chapter
        _insert_after(out, [c["id"] for c in base[:i]], base_form(ch))
    return out


def _insert_after(items: list[dict], predecessors: list[str], item: dict) -> None:
    """Insert ``item`` after the last of ``predecessors`` present in ``items`` (else first)."""
    where = {it["id"]: i for i, it in enumerate(items)}
    for pred in reversed(predecessors):
        if pred in where:
            items.insert(where[pred] + 1, item)
            return
    items.insert(0, item)

"""Merging a branch into another member of its family: three-way, like a pull.

base   = the last version the two stories had in common (``merge_base``): for a branch going
         back into its parent, the version it was made from (``story_branches.base_version``),
theirs = the branch as it is now — restricted to the chosen chapters: a chapter not chosen is
         put back as the base had it, so it counts as unchanged (``domain.branches``),
mine   = the story merged into, as it is now.

Merging again later uses the same base, so paragraphs merged already are equal on both sides
and merge quietly; a conflict resolved as "mine" comes back until the branch's text goes.

The rules are ``studio.domain.pull``'s (segment by segment, conflicts where both sides changed
the same paragraph in ways that do not merge; modules, bible and chapter graph key by key), and
the writing is ``services.pulling``'s: ``apply_merge`` saves a version of the target first
("Before merging branch '<name>'": restoring it undoes the merge), rewrites only the scenes
whose text changes, and refuses — writing nothing — when the target changed since the plan.
The branch is kept (an author can keep both); its ``merged_at`` says when it was last merged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from sqlalchemy.orm import Session

from studio.domain.branches import MAIN_NAME, BranchError, restrict_outline
from studio.domain.errors import NotFoundError
from studio.domain.manuscript import Segment
from studio.domain.merge import ABSENT
from studio.domain.modules import MODULE_KEYS, normalise_output
from studio.domain.pull import (
    ManuscriptMerge, PartMerge, SegmentConflict, build_manuscript, build_part, plan_manuscript,
    plan_part,
)
from studio.domain.story_content import PARTS, normalise_graph
from studio.services import publishing, pulling
from studio.services.pulling import PartConflict
from studio.store.database import Database
from studio.store.models import utcnow
from studio.store.repositories import branches as repo
from studio.store.repositories import history
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo


@dataclass(frozen=True)
class BranchMergePlan:
    branch_id: int
    into_id: int
    chapters: tuple[str, ...] | None  # None: every chapter
    applied: tuple[str, ...]  # segment ids taken from the branch or merged cleanly
    kept_mine: tuple[str, ...]  # segment ids only the target changed
    conflicts: tuple[SegmentConflict, ...]
    part_conflicts: tuple[PartConflict, ...]
    fingerprint: str = field(repr=False)  # of the target as planned (a stale plan is refused)
    parts_applied: tuple[str, ...] = ()  # "<part>/<key>" taken from the branch or merged
    branch_name: str = ""
    base_version: int = 0  # the merge base: this version of base_story_id
    base_story_id: int = 0
    include_parts: bool = True
    manuscript: ManuscriptMerge = field(repr=False, compare=False, default=None)
    parts: dict[str, PartMerge] = field(repr=False, compare=False, default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.conflicts and not self.part_conflicts

    @property
    def conflict_keys(self) -> list[str]:
        return [c.segment_id for c in self.conflicts] + [c.key for c in self.part_conflicts]


def _snapshot_parts(snap: dict[str, Any]) -> dict[str, Any]:
    """A version snapshot's modules, own scene bible and chapter graph in the shape
    ``pulling.local_parts`` reads a live story in."""
    modules = snap.get("modules") or {}
    return {"modules": {key: {"input": (modules.get(key) or {}).get("input", ""),
                              "output": normalise_output(key,
                                                         (modules.get(key) or {}).get("output")
                                                         or {})}
                        for key in MODULE_KEYS},
            "scene_bible": (snap.get("bible") or {}).get("data") or {},
            "chapter_graph": (snap.get("chapter_graph") or {}).get("graph")
            or {"chapters": []}}


# --- reading the three sides (a few queries each, every blob once) ---------------------------

class _Blobs:
    """Scene blobs read once per merge: the base and the branch's untouched scenes share
    them, so a 1M-word merge parses each of its thousand blobs once, fetched in bulk."""

    def __init__(self, s: Session):
        self.s = s
        self.segments: dict[str, list[Segment]] = {}

    def load(self, digests: Iterable[str]) -> None:
        missing = [d for d in dict.fromkeys(digests) if d and d not in self.segments]
        texts = repo.blob_texts(self.s, missing) if missing else {}
        for digest in missing:
            if digest not in texts:
                raise NotFoundError(f"The stored text {digest[:12]}… is missing from the "
                                    "database.")
            self.segments[digest] = [Segment(d["id"], d["text"], d.get("gap", 0))
                                     for d in json.loads(texts[digest])]


def _live_outline(s: Session, story_id: int, blobs: _Blobs) -> list[dict[str, Any]]:
    """``publishing.local_outline`` of the story, read in four queries."""
    stories_repo.get(s, story_id)
    rows = repo.outline_rows(s, story_id)
    meta, own = rows["metadata"], rows["segments"]
    blobs.load(shared for sid, *_rest, shared in rows["scenes"] if shared and sid not in own)
    by_chapter: dict[int, list[dict[str, Any]]] = {}
    for sid, chapter_id, uid, title, synopsis, status, shared in rows["scenes"]:
        if sid in own:
            segments = [Segment(u, t, g) for u, t, g in own[sid]]
        else:
            segments = list(blobs.segments[shared]) if shared else []
        by_chapter.setdefault(chapter_id, []).append({"id": uid, "attrs": {
            "title": title, "synopsis": synopsis, "status": status, "word_target": None,
            "metadata": meta.get(("scene", sid), {})}, "segments": segments})
    return [{"id": ch.uid, "attrs": {
        "title": ch.title, "synopsis": ch.synopsis, "status": ch.status,
        "word_target": ch.word_target, "metadata": meta.get(("chapter", ch.id), {})},
        "scenes": by_chapter.get(ch.id, [])} for ch in rows["chapters"]]


def _snapshot_outline(manuscript: dict[str, Any], blobs: _Blobs) -> list[dict[str, Any]]:
    """``publishing.snapshot_outline``, with the blobs read in bulk."""
    chapters = manuscript.get("chapters", [])
    blobs.load(sc["content"] for ch in chapters for sc in ch.get("scenes", []))
    return [{"id": ch["id"], "attrs": {
        "title": ch.get("title", ""), "synopsis": ch.get("synopsis", ""),
        "status": ch.get("status", "draft"), "word_target": ch.get("word_target"),
        "metadata": ch.get("metadata") or {}},
        "scenes": [{"id": sc["id"], "attrs": {
            "title": sc.get("title", ""), "synopsis": sc.get("synopsis", ""),
            "status": sc.get("status", "draft"), "word_target": None,
            "metadata": sc.get("metadata") or {}},
            "segments": list(blobs.segments[sc["content"]])} for sc in ch.get("scenes", [])]}
        for ch in chapters]


def _state(s: Session, story_id: int, blobs: _Blobs) -> tuple[list, dict, str]:
    """(outline, parts, fingerprint) of a live story, as ``pulling``'s stale check takes."""
    outline = _live_outline(s, story_id, blobs)
    parts = pulling.local_parts(s, story_id)
    return outline, parts, pulling.fingerprint(outline, parts)


def _source(s: Session, source_id: int, into_id: int) -> tuple[Any, str]:
    """The source's branch row (None for the main story) and its name, checked against the
    target: both live, same family, not the same story."""
    stories_repo.get(s, source_id)
    stories_repo.get(s, into_id)
    if into_id == source_id:
        raise BranchError("A story cannot be merged into itself.")
    if repo.trunk_of(s, into_id) != repo.trunk_of(s, source_id):
        raise BranchError("A branch merges only into a story of its own family.")
    row = repo.get(s, source_id)
    return row, (row.name if row is not None else MAIN_NAME)


def _ancestry(s: Session, story_id: int) -> dict[int, int]:
    """Story id → the version of it that ``story_id`` descends from, nearest first."""
    out: dict[int, int] = {}
    row = repo.get(s, story_id)
    while row is not None and row.parent_id not in out and row.parent_id != story_id:
        out[row.parent_id] = row.base_version
        row = repo.get(s, row.parent_id)
    return out


def merge_base(s: Session, source_id: int, into_id: int) -> tuple[int, int]:
    """(story id, version number) of the last state the two stories had in common: the
    version the branch was made from when it goes back into its parent; for a branch of a
    branch going into the main story, the main story's version its line started from; for
    two siblings, the older of their branch points."""
    source, into = _ancestry(s, source_id), _ancestry(s, into_id)
    if into_id in source:
        return into_id, source[into_id]
    if source_id in into:
        return source_id, into[source_id]
    for story, version in source.items():
        if story in into:
            return story, min(version, into[story])
    raise BranchError("These two stories have no version in common to merge from.")


def _base(s: Session, story_id: int, number: int) -> dict[str, Any]:
    try:
        return versions_repo.snapshot(s, story_id, number)
    except NotFoundError:
        from studio.store.models import Story

        title = getattr(s.get(Story, story_id), "title", "")
        raise BranchError(f"Version {number} of “{title}”, where the two stories part, is "
                          "gone, so there is no merge base.") from None


def plan_merge(db: Database, branch_id: int, into_id: int,
               chapters: Iterable[str] | None = None, *,
               include_parts: bool = True) -> BranchMergePlan:
    """What merging the branch into ``into_id`` would do (nothing is written).  ``chapters``
    limits the merge to those chapters of the branch (None: all); ``include_parts`` False
    leaves the modules, bible and chapter graph out (only the prose merges).  Hand the plan
    and the author's choices to ``apply_merge``.

    Any two members of a family merge (the base is their last common version,
    ``merge_base``): a branch into its parent, a branch of a branch into the main story, or
    the main story into a branch to bring it up to date."""
    chosen = None if chapters is None else tuple(dict.fromkeys(chapters))
    with db.session() as s:
        _row, name = _source(s, branch_id, into_id)
        base_story, base_number = merge_base(s, branch_id, into_id)
        snap = _base(s, base_story, base_number)
        blobs = _Blobs(s)
        base_outline = _snapshot_outline(snap.get("manuscript") or {}, blobs)
        base_parts = _snapshot_parts(snap)
        theirs_outline, theirs_parts, _ = _state(s, branch_id, blobs)
        mine_outline, mine_parts, fingerprint = _state(s, into_id, blobs)
    if chosen is not None:
        # A chapter only the target has is fine to name (the merge leaves it as it is).
        known = {ch["id"] for side in (theirs_outline, base_outline, mine_outline)
                 for ch in side}
        unknown = [c for c in chosen if not isinstance(c, str) or c not in known]
        if unknown:
            raise BranchError(f"{len(unknown)} of the chosen chapters are in neither story "
                              f"(the branch “{name}” nor the one it merges into); compare "
                              "again.")
        theirs_outline = restrict_outline(base_outline, theirs_outline, chosen)
    if not include_parts:
        theirs_parts = base_parts
    merge = plan_manuscript(base_outline, theirs_outline, mine_outline)
    parts = {p: plan_part(base_parts[p], theirs_parts[p], mine_parts[p]) for p in PARTS}
    part_conflicts, parts_applied = [], []
    for p, plan in parts.items():
        parts_applied += [f"{p}/{k}" for k in plan.result.taken_theirs + plan.result.auto_merged]
        part_conflicts += [PartConflict(f"{p}/{c.key}", p, _none(c.base), _none(c.theirs),
                                        _none(c.mine))
                           for c in plan.result.conflicts.values()]
    seg = merge.segments
    return BranchMergePlan(
        branch_id, into_id, chosen, tuple(seg.taken_theirs + seg.auto_merged),
        tuple(seg.kept_mine), tuple(merge.conflicts()), tuple(part_conflicts), fingerprint,
        tuple(parts_applied), name, base_number, base_story, include_parts, merge, parts)


def _none(value: Any) -> Any:
    return None if value is ABSENT else value


def apply_merge(db: Database, plan: BranchMergePlan,
                resolutions: Mapping[str, str] | None = None) -> int:
    """Apply a plan with the author's choice for every conflicting paragraph (segment id →
    "theirs" = the branch's text, "mine" = the target's, "both"); a conflicting
    modules/bible/graph key (``"<part>/<key>"``) takes "theirs" or "mine" and keeps mine when
    not named.  Returns the number of the version of the target saved first.

    Refused with BranchError — nothing written — when a conflict has no choice, when the
    target changed since the plan, or when the merged modules/bible/graph would not be valid.
    """
    if not isinstance(plan, BranchMergePlan) or plan.manuscript is None:
        raise BranchError("This is not a merge plan; plan the merge again.")
    resolved, part_values = pulling.resolve_all(plan, resolutions or {}, BranchError,
                                                "merging", "merge")
    merged_outline = build_manuscript(plan.manuscript, resolved)
    merged_parts = {p: build_part(plan.parts[p], part_values[p]) for p in PARTS}
    merged_parts["chapter_graph"] = normalise_graph(merged_parts["chapter_graph"]) \
        if merged_parts["chapter_graph"].get("chapters") else {"chapters": []}
    with db.session() as s:
        row, name = _source(s, plan.branch_id, plan.into_id)
        target = stories_repo.get(s, plan.into_id)
        if merge_base(s, plan.branch_id, plan.into_id) != \
                (plan.base_story_id, plan.base_version) or \
                _state(s, plan.into_id, _Blobs(s))[2] != plan.fingerprint:
            raise BranchError(f"“{target.title}” changed since this merge was planned; "
                              "nothing was changed. Plan the merge again.")
        pulling.check_parts(s, plan.into_id, merged_parts)
        what = f"branch '{name}'" if row is not None else f"'{name}'"
        number = publishing.save_version_in(s, plan.into_id, f"Before merging {what}")
        written = pulling.write_outline(s, plan.into_id, merged_outline)
        pulling.write_parts(s, plan.into_id, merged_parts, number,
                            bible_note=f"merged {what}: ", action="merge_branch")
        stories_repo.touch(target)
        detail = {"branch": plan.branch_id, "name": name,
                  "chapters": list(plan.chapters) if plan.chapters is not None else None,
                  "saved_version": number, "applied": len(plan.applied),
                  "resolved": len(resolutions or {}), **written}
        history.record(s, plan.into_id, "story", plan.into_id, "merge_branch", detail)
        history.record(s, plan.branch_id, "story", plan.branch_id, "merged",
                       {"into": plan.into_id, "title": target.title,
                        "chapters": detail["chapters"], "saved_version": number})
        if row is not None:
            row.merged_at = utcnow()
        return number

"""Pulling a newer version of a fork's source into the fork: a three-way merge of whole
stories (base = the version the fork was made from or last pulled, theirs = the newer
version, mine = the fork as it is now).

The prose is merged segment by segment with ``studio.domain.merge`` (same rules as the
marketplace's server-side sync): changed only by them → theirs; only by me → mine; by both →
a clean text merge when the edits do not touch, else a conflict for the author.  Around it,
the structure:

- chapters and scenes (title, synopsis, status, metadata, the chapter a scene is in) merge
  field by field; where both sides changed the same field differently, mine is kept (a title
  is the author's choice, and neither side's prose depends on it);
- a chapter or scene deleted by one side goes, unless the merge still puts a segment in it
  (a segment the other side changed: no text is ever dropped silently);
- a segment stays in the scene it is in in my version (a new one of theirs goes where they
  put it: ids only move between scenes in another client's edits, and keeping them in place
  keeps every version of the fork restorable scene by scene), in the source's order, with
  segments only I have after their predecessor in my version, and a "both" alternate right
  after its twin (``merge.merge_order``);
- the modules, scene bible and chapter graph merge key by key (``merge_parts``), lists of
  objects with ids (characters, plot threads, graph chapters) item by item.

An outline here is the shape ``services.publishing.local_outline`` returns::

    [{"id", "attrs": {"title", "synopsis", "status", "word_target", "metadata"},
      "scenes": [{"id", "attrs": {...}, "segments": [Segment, …]}]}]

Pure Python: no Qt, SQL, network or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from studio.domain.manuscript import Segment
from studio.domain.merge import (
    ABSENT, Conflict, MergeResult, Resolved, merge_maps, merge_order, merge_text, resolve,
)

Outline = list[dict[str, Any]]


# --- indexing an outline ---------------------------------------------------------------------

@dataclass
class Index:
    chapter_order: list[str] = field(default_factory=list)
    chapters: dict[str, dict] = field(default_factory=dict)  # attrs
    scene_order: dict[str, list[str]] = field(default_factory=dict)  # chapter → scenes
    scenes: dict[str, dict] = field(default_factory=dict)  # attrs + "chapter"
    seg_order: list[str] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)
    gap: dict[str, int] = field(default_factory=dict)
    seg_scene: dict[str, str] = field(default_factory=dict)

    def where(self, seg_id: str) -> tuple[str, str] | None:
        """(chapter title, scene title) of a segment, None if this side has no such one."""
        scene = self.seg_scene.get(seg_id)
        if scene is None:
            return None
        chapter = self.scenes[scene]["chapter"]
        return self.chapters[chapter].get("title", ""), self.scenes[scene].get("title", "")


def index(outline: Outline) -> Index:
    ix = Index()
    for chapter in outline:
        ix.chapter_order.append(chapter["id"])
        ix.chapters[chapter["id"]] = dict(chapter["attrs"])
        order = ix.scene_order.setdefault(chapter["id"], [])
        for scene in chapter["scenes"]:
            order.append(scene["id"])
            ix.scenes[scene["id"]] = {**scene["attrs"], "chapter": chapter["id"]}
            for seg in scene["segments"]:
                ix.seg_order.append(seg.id)
                ix.text[seg.id] = seg.text
                ix.gap[seg.id] = seg.gap
                ix.seg_scene[seg.id] = scene["id"]
    return ix


def _three_way(b: Any, t: Any, m: Any) -> Any:
    """theirs if only they changed it, mine if only I did; mine if both did differently."""
    if t == m or m == b:
        return t
    return m


def _merge_attrs(b: Any, t: Any, m: Any) -> Any:
    """A container's attributes: field by field (mine where both changed a field); one side
    deleted it and the other changed it → kept (its survival is decided by its content)."""
    if t == m or m == b:
        return t
    if t == b:
        return m
    if t is ABSENT:
        return m
    if m is ABSENT:
        return t
    out = {}
    base = b if b is not ABSENT else {}
    for key in dict.fromkeys([*t, *m]):
        bv, tv, mv = base.get(key, ABSENT), t.get(key, ABSENT), m.get(key, ABSENT)
        if key == "metadata" and all(isinstance(v, dict) for v in (tv, mv)):
            bd = bv if isinstance(bv, dict) else {}
            merged = {}
            for k in dict.fromkeys([*tv, *mv]):
                value = _three_way(bd.get(k, ABSENT), tv.get(k, ABSENT), mv.get(k, ABSENT))
                if value is not ABSENT:
                    merged[k] = value
            out[key] = merged
        else:
            value = _three_way(bv, tv, mv)
            if value is not ABSENT:
                out[key] = value
    return out


# --- the manuscript --------------------------------------------------------------------------

@dataclass(frozen=True)
class SegmentConflict:
    """A segment both sides changed (or one changed and the other deleted) that did not
    merge cleanly; a side without the segment has None."""

    segment_id: str
    base_text: str | None
    theirs_text: str | None
    mine_text: str | None
    chapter_title: str
    scene_title: str

    # the names the conflict dialog reads
    @property
    def base(self) -> str | None:
        return self.base_text

    @property
    def theirs(self) -> str | None:
        return self.theirs_text

    @property
    def mine(self) -> str | None:
        return self.mine_text

    @property
    def where(self) -> str:
        return " › ".join(t for t in (self.chapter_title, self.scene_title) if t)


def _opt(value: Any) -> Any:
    return None if value is ABSENT else value


@dataclass
class ManuscriptMerge:
    base: Index
    theirs: Index
    mine: Index
    segments: MergeResult

    def conflicts(self) -> list[SegmentConflict]:
        out = []
        for key, c in self.segments.conflicts.items():
            chapter, scene = (self.mine.where(key) or self.theirs.where(key)
                              or self.base.where(key) or ("", ""))
            out.append(SegmentConflict(key, _opt(c.base), _opt(c.theirs), _opt(c.mine),
                                       chapter, scene))
        return out


def plan_manuscript(base: Outline, theirs: Outline, mine: Outline) -> ManuscriptMerge:
    b, t, m = index(base), index(theirs), index(mine)
    return ManuscriptMerge(b, t, m, merge_maps(b.text, t.text, m.text, merge_text))


def resolve_segments(merge: ManuscriptMerge, resolutions: Mapping[str, Any],
                     new_id: Callable[[str, set[str]], str]) -> Resolved:
    """``merge.resolve`` for the manuscript (ResolutionError if a conflict has no choice)."""
    return resolve(merge.segments, resolutions, new_id)


def build_manuscript(merge: ManuscriptMerge, resolved: Resolved) -> Outline:
    """The merged outline (see the module docstring for the rules)."""
    b, t, m = merge.base, merge.theirs, merge.mine
    values = resolved.values
    twin_of = dict(resolved.placed_after)

    # Where each segment goes.
    seg_scene: dict[str, str] = {}
    for seg_id in values:
        if seg_id in twin_of:
            continue
        # A segment stays in the scene it is in here: ids move between scenes only in
        # another client's edits, and a version restore rewrites scenes one at a time.
        seg_scene[seg_id] = m.seg_scene.get(seg_id) or t.seg_scene.get(seg_id) \
            or b.seg_scene[seg_id]
    for extra, twin in twin_of.items():
        seg_scene[extra] = seg_scene.get(twin) or m.seg_scene.get(twin) or t.seg_scene[twin]

    def gap_of(seg_id: str) -> int:
        if seg_id in twin_of:
            return m.gap.get(twin_of[seg_id], 1)
        bg, tg, mg = (x.gap.get(seg_id) for x in (b, t, m))
        chosen = tg if (tg == mg or mg == bg) else mg
        return next(g for g in (chosen, tg, mg, bg, 1) if g is not None)

    # Which scenes and chapters stay, with which fields.
    def survives(key: str, kind: str) -> tuple[bool, Any]:
        maps = [getattr(x, kind) for x in (b, t, m)]
        bv, tv, mv = (mp.get(key, ABSENT) for mp in maps)
        merged = _merge_attrs(bv, tv, mv)
        deleted_by_a_side = bv is not ABSENT and (tv is ABSENT or mv is ABSENT)
        return merged is not ABSENT and not deleted_by_a_side, merged

    def fallback(key: str, kind: str) -> dict:
        for side in (m, t, b):
            found = getattr(side, kind).get(key)
            if found is not None:
                return found
        raise KeyError(key)

    scene_attrs: dict[str, dict] = {}
    for key in dict.fromkeys([*t.scenes, *m.scenes, *b.scenes]):
        alive, attrs = survives(key, "scenes")
        if alive:
            scene_attrs[key] = attrs
    for scene in set(seg_scene.values()):
        if scene not in scene_attrs:
            alive, attrs = survives(scene, "scenes")
            scene_attrs[scene] = attrs if attrs is not ABSENT else fallback(scene, "scenes")
    chapter_attrs: dict[str, dict] = {}
    for key in dict.fromkeys([*t.chapters, *m.chapters, *b.chapters]):
        alive, attrs = survives(key, "chapters")
        if alive:
            chapter_attrs[key] = attrs
    for scene, attrs in scene_attrs.items():
        chapter = attrs["chapter"]
        if chapter not in chapter_attrs:
            _alive, found = survives(chapter, "chapters")
            chapter_attrs[chapter] = found if found is not ABSENT else fallback(chapter,
                                                                               "chapters")

    # Orders: the source's, with what only I have after its predecessor in my version.
    seg_order = merge_order(t.seg_order, m.seg_order, values.keys(), twin_of)
    by_scene: dict[str, list[Segment]] = {}
    for seg_id in seg_order:
        by_scene.setdefault(seg_scene[seg_id], []).append(
            Segment(seg_id, values[seg_id], gap_of(seg_id)))
    chapters_order = merge_order(t.chapter_order, m.chapter_order, chapter_attrs.keys())
    out: Outline = []
    for chapter in chapters_order:
        keep = [s for s, a in scene_attrs.items() if a["chapter"] == chapter]
        scenes = merge_order(t.scene_order.get(chapter, []), m.scene_order.get(chapter, []),
                             keep)
        attrs = {k: v for k, v in chapter_attrs[chapter].items()}
        out.append({"id": chapter, "attrs": attrs, "scenes": [
            {"id": s, "attrs": {k: v for k, v in scene_attrs[s].items() if k != "chapter"},
             "segments": by_scene.get(s, [])} for s in scenes]})
    return out


# --- modules, scene bible, chapter graph -----------------------------------------------------

_LIST = ("<list of items with ids>",)  # marks a list exploded into "key/id" entries


def merge_json(base: Any, theirs: Any, mine: Any) -> Any:
    """A clean merge of two edits of a JSON value, or None: texts with ``merge_text``,
    objects key by key (recursively); anything else only if one side left it alone."""
    if all(isinstance(v, str) for v in (base, theirs, mine)):
        return merge_text(base, theirs, mine)
    if all(isinstance(v, dict) for v in (base, theirs, mine)):
        result = merge_maps(base, theirs, mine, merge_json)
        return dict(result.merged) if result.clean else None
    return None


def _id_list(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    ids = [item.get("id") if isinstance(item, dict) else None for item in value]
    return all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)


@dataclass
class PartMerge:
    result: MergeResult
    lists: set[str]
    theirs_orders: dict[str, list[str]]
    mine_orders: dict[str, list[str]]
    theirs_keys: list[str]
    mine_keys: list[str]


def _explode(part: Mapping[str, Any], lists: set[str]) -> tuple[dict, dict[str, list[str]]]:
    flat: dict[str, Any] = {}
    orders: dict[str, list[str]] = {}
    for key, value in part.items():
        if key in lists:
            flat[key] = _LIST
            orders[key] = [item["id"] for item in value]
            for item in value:
                flat[f"{key}/{item['id']}"] = item
        else:
            flat[key] = value
    return flat, orders


def plan_part(base: Mapping[str, Any], theirs: Mapping[str, Any],
              mine: Mapping[str, Any]) -> PartMerge:
    sides = (base, theirs, mine)
    keys = dict.fromkeys(k for side in sides for k in side)
    lists = {k for k in keys if all(_id_list(side[k]) for side in sides if k in side)}
    (fb, _), (ft, ot), (fm, om) = (_explode(side, lists) for side in sides)
    return PartMerge(merge_maps(fb, ft, fm, merge_json), lists, ot, om, list(theirs),
                     list(mine))


def build_part(plan: PartMerge, values: Mapping[str, Any]) -> dict[str, Any]:
    tops = [k for k in values if "/" not in k or k.split("/", 1)[0] not in plan.lists]
    items: dict[str, list[str]] = {}
    for k in values:
        head, _, rest = k.partition("/")
        if rest and head in plan.lists:
            items.setdefault(head, []).append(rest)
            if head not in tops:
                tops.append(head)
    out: dict[str, Any] = {}
    for key in merge_order(plan.theirs_keys, plan.mine_keys, tops):
        if key in plan.lists:
            order = merge_order(plan.theirs_orders.get(key, []), plan.mine_orders.get(key, []),
                                items.get(key, []))
            out[key] = [values[f"{key}/{i}"] for i in order]
        else:
            out[key] = values[key]
    return out


def part_conflicts(part: str, plan: PartMerge) -> list[Conflict]:
    """The part's conflicts, keyed ``"<part>/<key>"`` (e.g. ``scene_bible/characters/char_x``)."""
    return [Conflict(f"{part}/{c.key}", c.base, c.theirs, c.mine)
            for c in plan.result.conflicts.values()]

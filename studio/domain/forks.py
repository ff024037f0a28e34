"""Forks of a reference story: how a fork is stored and how its manuscript is laid out.

A manuscript here is plain JSON-ready data::

    {"chapters": [{"id": …, "title": …, "scenes": [
        {"id": …, "title": …, "segments": [{"id": "seg_…", <field>: value}, …]}]}]}

where ``<field>`` is ``"text"`` for readable content or ``"hash"`` for a stored manifest; every
function takes the field name, so the same rules serve both.

A fork is stored the cheapest way that describes it (copy-on-write):

- ``reference`` — identical to the source version it points at: nothing stored but the pointer;
- ``delta`` — the same segments in the same places, some texts changed: only those overrides;
- ``full`` — more than ``FULL_THRESHOLD`` of the segments changed, or the structure differs
  (a segment added, removed or moved): the fork keeps its own manifest.

Pure Python: no Qt, SQL, network or files.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from studio.domain.merge import merge_order

FULL_THRESHOLD = 0.6


class Strategy(str, enum.Enum):
    REFERENCE = "reference"
    DELTA = "delta"
    FULL = "full"


@dataclass
class ForkState:
    strategy: Strategy
    overrides: dict[str, Any] = field(default_factory=dict)  # delta only: segment id → value
    manuscript: dict | None = None  # full only
    modified: int = 0
    total: int = 0


@dataclass
class Changes:
    """What changed between two manuscripts, segment by segment (ids in the new order)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    moved: bool = False  # same ids, other order or other scenes

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.modified or self.moved)


def iter_segments(manuscript: Mapping) -> Iterator[tuple[int, int, dict]]:
    for ci, chapter in enumerate(manuscript.get("chapters", [])):
        for si, scene in enumerate(chapter.get("scenes", [])):
            for segment in scene.get("segments", []):
                yield ci, si, segment


def flatten(manuscript: Mapping, value_field: str) -> list[tuple[str, Any]]:
    return [(seg["id"], seg[value_field]) for _, _, seg in iter_segments(manuscript)]


def segment_map(manuscript: Mapping, value_field: str) -> dict[str, Any]:
    return dict(flatten(manuscript, value_field))


def skeleton(manuscript: Mapping) -> list[tuple[str, str, str]]:
    """(chapter id, scene id, segment id) in reading order: the structure without values."""
    out = []
    for chapter in manuscript.get("chapters", []):
        for scene in chapter.get("scenes", []):
            for seg in scene.get("segments", []):
                out.append((chapter.get("id"), scene.get("id"), seg["id"]))
    return out


def duplicate_ids(manuscript: Mapping) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for _, _, seg in iter_segments(manuscript):
        if seg["id"] in seen:
            dups.append(seg["id"])
        seen.add(seg["id"])
    return dups


def changes_between(old: Mapping, new: Mapping, value_field: str) -> Changes:
    old_map, new_map = segment_map(old, value_field), segment_map(new, value_field)
    result = Changes()
    for seg_id, value in new_map.items():
        if seg_id not in old_map:
            result.added.append(seg_id)
        elif old_map[seg_id] != value:
            result.modified.append(seg_id)
    result.removed = [s for s in old_map if s not in new_map]
    if not result.added and not result.removed:
        result.moved = skeleton(old) != skeleton(new)
    return result


def copy_structure(manuscript: Mapping) -> dict:
    """A copy whose manuscript, chapter, scene and segment dicts are new (so they may be
    changed); other values (titles, metadata) are shared and must not be mutated."""
    out = dict(manuscript)
    out["chapters"] = [
        {**chapter, "scenes": [{**scene, "segments": [dict(seg) for seg in
                                                       scene.get("segments", [])]}
                               for scene in chapter.get("scenes", [])]}
        for chapter in manuscript.get("chapters", [])]
    return out


def map_values(manuscript: Mapping, value_field: str, new_field: str,
               convert) -> dict:
    """A copy of the manuscript with every segment's value converted (e.g. hash → text)."""
    out = copy_structure(manuscript)
    for _, _, seg in iter_segments(out):
        value = seg.pop(value_field)
        seg[new_field] = convert(value)
    return out


def apply_overrides(manuscript: Mapping, overrides: Mapping[str, Any], value_field: str) -> dict:
    out = copy_structure(manuscript)
    for _, _, seg in iter_segments(out):
        if seg["id"] in overrides:
            seg[value_field] = overrides[seg["id"]]
    return out


def fork_state(source: Mapping, merged: Mapping, value_field: str,
               threshold: float = FULL_THRESHOLD) -> ForkState:
    """The cheapest storage of a fork whose merged manuscript is ``merged``."""
    total = sum(1 for _ in iter_segments(source))
    if skeleton(source) != skeleton(merged) or _containers(source) != _containers(merged):
        mine = segment_map(merged, value_field)
        theirs = segment_map(source, value_field)
        modified = sum(1 for k, v in mine.items() if theirs.get(k) != v)
        return ForkState(Strategy.FULL, manuscript=copy_structure(merged),
                         modified=modified, total=total)
    theirs = segment_map(source, value_field)
    overrides = {k: v for k, v in flatten(merged, value_field) if theirs.get(k) != v}
    if not overrides:
        return ForkState(Strategy.REFERENCE, total=total)
    if total and len(overrides) / total > threshold:
        return ForkState(Strategy.FULL, manuscript=copy_structure(merged),
                         modified=len(overrides), total=total)
    return ForkState(Strategy.DELTA, overrides=overrides, modified=len(overrides), total=total)


def _containers(manuscript: Mapping) -> list:
    """Chapter and scene attributes other than their segments (titles, ids, metadata)."""
    out = []
    for chapter in manuscript.get("chapters", []):
        out.append({k: v for k, v in chapter.items() if k != "scenes"})
        for scene in chapter.get("scenes", []):
            out.append({k: v for k, v in scene.items() if k != "segments"})
    return out


def layout(theirs: Mapping, mine: Mapping, values: Mapping[str, Any], value_field: str,
           placed_after: Mapping[str, str] | None = None) -> dict:
    """The merged manuscript: the source's chapters and scenes, holding the merged segments.

    Segments the source has stay where the source puts them; a segment only the fork has goes
    after its predecessor in the fork (in that predecessor's scene), or — with none — into its
    own scene if the source still has it, else the source's first scene, else a copy of the
    fork's scene.  No value in ``values`` is ever left out.
    """
    theirs_flat = [s for s, _ in flatten(theirs, value_field)]
    mine_flat = [s for s, _ in flatten(mine, value_field)]
    order = merge_order(theirs_flat, mine_flat, values.keys(), placed_after)
    out = {k: v for k, v in theirs.items() if k != "chapters"}
    out["chapters"] = []
    scene_of: dict[str, dict] = {}
    scenes_by_id: dict[str, dict] = {}
    for chapter in theirs.get("chapters", []):
        new_chapter = {k: copy.deepcopy(v) for k, v in chapter.items() if k != "scenes"}
        new_chapter["scenes"] = []
        out["chapters"].append(new_chapter)
        for scene in chapter.get("scenes", []):
            new_scene = {k: copy.deepcopy(v) for k, v in scene.items() if k != "segments"}
            new_scene["segments"] = []
            new_chapter["scenes"].append(new_scene)
            scenes_by_id.setdefault(new_scene.get("id"), new_scene)
            for seg in scene.get("segments", []):
                scene_of[seg["id"]] = new_scene
    mine_scene: dict[str, tuple[dict, dict]] = {}
    for chapter in mine.get("chapters", []):
        for scene in chapter.get("scenes", []):
            for seg in scene.get("segments", []):
                mine_scene[seg["id"]] = (chapter, scene)
    previous: dict | None = None
    for seg_id in order:
        target = scene_of.get(seg_id)
        if target is None:
            target = previous or _home_scene(seg_id, out, scenes_by_id, mine_scene)
        target["segments"].append({"id": seg_id, value_field: values[seg_id]})
        previous = target
    return out


def _home_scene(seg_id: str, out: dict, scenes_by_id: dict, mine_scene: dict) -> dict:
    chapter, scene = mine_scene.get(seg_id, ({}, {}))
    if scene.get("id") in scenes_by_id:
        return scenes_by_id[scene.get("id")]
    for new_chapter in out["chapters"]:
        if new_chapter["scenes"]:
            return new_chapter["scenes"][0]
    new_chapter = {k: copy.deepcopy(v) for k, v in chapter.items() if k != "scenes"}
    new_chapter.setdefault("id", "chap_fork")
    new_scene = {k: copy.deepcopy(v) for k, v in scene.items() if k != "segments"}
    new_scene.setdefault("id", "scene_fork")
    new_scene["segments"] = []
    new_chapter["scenes"] = [new_scene]
    out["chapters"].append(new_chapter)
    scenes_by_id[new_scene["id"]] = new_scene
    return new_scene

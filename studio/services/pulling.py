"""Pulling a newer version of a fork's source, and what the publish dialog needs to know.

``plan_pull`` merges three stories — the cached version the fork was made from (or last
pulled: the link's ``source_version_id``), the newer cached version, and the fork as it is now
— with the rules of ``studio.domain.pull``, and reports what applies on its own and what the
author must choose.  ``apply_pull`` then, in one transaction: saves a version of the story
("Before pulling v3": restoring it undoes the pull), writes the merged story, and moves the
link's base to the pulled version.  Scenes the author never touched whose source changed just
point at the new version's blob (no rows written); a refused pull changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy.orm import Session

from studio.domain import bible as bible_rules
from studio.domain.errors import StudioError
from studio.domain.manuscript import SEGMENT_PREFIX, content_hash, new_id
from studio.domain.merge import ABSENT, RESOLUTIONS, ResolutionError, resolve
from studio.domain.modules import MODULE_KEYS, normalise_output
from studio.domain.pull import (
    ManuscriptMerge, PartMerge, SegmentConflict, build_manuscript, build_part, plan_manuscript,
    plan_part, resolve_segments,
)
from studio.domain.story_content import (
    PARTS, normalise_bible, normalise_graph, normalise_modules, words_of,
)
from studio.services import forking, publishing, reference_cache
from studio.store.database import Database
from studio.store.models import utcnow
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import chapter_graphs as graphs_repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo


class PullError(StudioError):
    """A pull that cannot be planned or applied as asked (the message says why)."""


@dataclass(frozen=True)
class PullStatus:
    """Where a story stands against its source (``source_story_id`` None: not a fork)."""

    story_id: int
    server_url: str | None
    source_story_id: str | None
    source_title: str
    base: int  # the version number merged last (the fork's base)
    latest: int  # the newest version number known locally (from the cached story)
    update_available: bool
    base_version_id: int | None
    latest_cached_id: int | None  # reference_versions id of ``latest`` when it is cached


@dataclass(frozen=True)
class PublishStatus:
    """What the publish dialog shows: published as what, forked from what."""

    story_id: int
    server_url: str | None
    remote_story_id: str | None
    remote_version: int | None
    source_title: str | None  # set for a fork of a marketplace story
    waiting: int  # publishes of it queued in the outbox, not landed yet

    @property
    def next_version(self) -> int:
        return (self.remote_version or 0) + self.waiting + 1


@dataclass(frozen=True)
class PartConflict:
    """A key of the modules, scene bible or chapter graph both sides changed differently
    (``key`` is what ``apply_pull``'s resolutions name, e.g. ``scene_bible/setting``)."""

    key: str
    part: str
    base: Any
    theirs: Any
    mine: Any


@dataclass(frozen=True)
class PullPlan:
    story_id: int
    base_version_id: int
    target_version_id: int
    base_number: int
    target_number: int
    applied: tuple[str, ...]  # segments taken from the source or merged cleanly
    kept_mine: tuple[str, ...]  # segments only the author changed
    auto_merged: tuple[str, ...]  # segments both changed, merged cleanly (also in applied)
    conflicts: tuple[SegmentConflict, ...]
    part_conflicts: tuple[PartConflict, ...]
    parts_applied: tuple[str, ...]  # "<part>/<key>" taken from the source or merged
    added: int  # segments the source added since the base
    removed: int  # segments the source removed since the base
    fingerprint: str = field(repr=False)  # of the story as planned (a stale plan is refused)
    manuscript: ManuscriptMerge = field(repr=False, compare=False, default=None)
    parts: dict[str, PartMerge] = field(repr=False, compare=False, default_factory=dict)

    @property
    def applied_count(self) -> int:
        return len(self.applied) + len(self.parts_applied)

    @property
    def clean(self) -> bool:
        return not self.conflicts and not self.part_conflicts

    @property
    def conflict_keys(self) -> list[str]:
        return [c.segment_id for c in self.conflicts] + [c.key for c in self.part_conflicts]


# --- status --------------------------------------------------------------------------------

def update_status(db: Database, story_id: int) -> PullStatus:
    with db.session() as s:
        stories_repo.get(s, story_id)
        base = forking.base_version(s, story_id)
        if base is None:
            link = repo.link(s, story_id)
            return PullStatus(story_id, link.server_url if link else None, None, "", 0, 0,
                              False, None, None)
        ref = repo.reference_story_by_id(s, base.reference_story_id)
        latest = max(ref.latest_version, base.number)
        cached = repo.reference_version(s, ref.id, latest)
        return PullStatus(story_id, ref.server_url, ref.public_id, ref.title, base.number,
                          latest, latest > base.number, base.id,
                          cached.id if cached is not None else None)


def publish_status(db: Database, story_id: int) -> PublishStatus:
    with db.session() as s:
        stories_repo.get(s, story_id)
        link = repo.link(s, story_id)
        waiting = repo.waiting_entries(s, story_id, ("publish", "publish_remix"))
        if link is None:
            return PublishStatus(story_id, None, None, None, None, waiting)
        source_title = None
        base = forking.base_version(s, story_id)
        if base is not None:
            source_title = repo.reference_story_by_id(s, base.reference_story_id).title or \
                "(untitled)"
        return PublishStatus(story_id, link.server_url, link.remote_story_id,
                             link.remote_version, source_title, waiting)


# --- the three sides -----------------------------------------------------------------------

def _all_modules(raw: Any) -> dict[str, Any]:
    """The five modules of a content part; a module it lacks is empty (as a new fork's)."""
    found = normalise_modules(raw)
    return {key: found.get(key) or {"input": "", "output": normalise_output(key, None)}
            for key in MODULE_KEYS}


def _reference_parts(row) -> dict[str, Any]:
    raw = reference_cache.parts_of(row)
    try:
        graph = normalise_graph(raw["chapter_graph"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PullError(f"The chapter graph of v{row.number} of the source cannot be read "
                        f"({exc}); nothing was changed.") from None
    return {"modules": _all_modules(raw["modules"]),
            "scene_bible": normalise_bible(raw["scene_bible"]), "chapter_graph": graph}


def _local_parts(s: Session, story_id: int) -> dict[str, Any]:
    return {"modules": publishing.local_modules(s, story_id),
            "scene_bible": publishing.own_bible(s, story_id),
            "chapter_graph": publishing.local_graph(s, story_id)}


def _fingerprint(outline: list, parts: dict) -> str:
    data = [[ch["id"], ch["attrs"], [[sc["id"], sc["attrs"], [seg.as_dict() for seg in
                                                               sc["segments"]]]
                                     for sc in ch["scenes"]]] for ch in outline]
    text = json.dumps([data, parts], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _mine(s: Session, story_id: int) -> tuple[list, dict, str]:
    outline = publishing.local_outline(s, story_id)
    parts = _local_parts(s, story_id)
    return outline, parts, _fingerprint(outline, parts)


def _link_and_versions(s: Session, story_id: int, target_id: int):
    stories_repo.get(s, story_id)
    base = forking.base_version(s, story_id)
    if base is None:
        raise PullError("This story is not a fork of a marketplace story: there is nothing "
                        "to pull.")
    link = repo.link(s, story_id)
    target = repo.reference_version_by_id(s, target_id)
    if target.reference_story_id != base.reference_story_id:
        raise PullError("That version belongs to another marketplace story than the one this "
                        "story was forked from.")
    if target.number <= base.number:
        raise PullError(f"This story already has v{base.number} of its source; "
                        f"v{target.number} is not newer.")
    return link, base, target


# --- planning --------------------------------------------------------------------------------

def plan_pull(db: Database, story_id: int, target_reference_version_id: int) -> PullPlan:
    """What pulling the cached version ``target_reference_version_id`` would do (nothing is
    written).  Hand the plan and the author's choices to ``apply_pull``."""
    with db.session() as s:
        _link, base, target = _link_and_versions(s, story_id, target_reference_version_id)
        mine_outline, mine_parts, fingerprint = _mine(s, story_id)
        merge = plan_manuscript(reference_cache.version_outline(s, base),
                                reference_cache.version_outline(s, target), mine_outline)
        base_parts, theirs_parts = _reference_parts(base), _reference_parts(target)
    parts = {p: plan_part(base_parts[p], theirs_parts[p], mine_parts[p]) for p in PARTS}
    seg = merge.segments
    part_conflicts, parts_applied = [], []
    for p, plan in parts.items():
        parts_applied += [f"{p}/{k}" for k in plan.result.taken_theirs + plan.result.auto_merged]
        part_conflicts += [PartConflict(f"{p}/{c.key}", p, _none(c.base), _none(c.theirs),
                                        _none(c.mine))
                           for c in plan.result.conflicts.values()]
    b_ids, t_ids = merge.base.text.keys(), merge.theirs.text.keys()
    return PullPlan(
        story_id, base.id, target.id, base.number, target.number,
        tuple(seg.taken_theirs + seg.auto_merged), tuple(seg.kept_mine),
        tuple(seg.auto_merged), tuple(merge.conflicts()), tuple(part_conflicts),
        tuple(parts_applied), sum(1 for k in t_ids if k not in b_ids),
        sum(1 for k in b_ids if k not in t_ids), fingerprint, merge, parts)


def _none(value: Any) -> Any:
    return None if value is ABSENT else value


# --- applying --------------------------------------------------------------------------------

def _split(plan: PullPlan, resolutions: Mapping[str, str]) -> tuple[dict, dict]:
    segs: dict[str, str] = {}
    parts: dict[str, dict[str, str]] = {p: {} for p in PARTS}
    for key, choice in (resolutions or {}).items():
        head, _, rest = key.partition("/")
        if head in PARTS and rest:
            parts[head][rest] = choice
        else:
            segs[key] = choice
    return segs, parts


def _resolve_all(plan: PullPlan, resolutions: Mapping[str, str], error: type = PullError,
                 doing: str = "pulling", what: str = "pull"):
    """The merged segment values and part values of ``plan`` under the author's choices (a
    branch merge reuses it: ``error``, ``doing`` and ``what`` word its refusals)."""
    segs, part_choices = _split(plan, resolutions)
    unresolved: list[str] = []
    unknown: list[str] = []
    invalid = [k for k, v in (resolutions or {}).items()
               if not isinstance(v, str) or v not in RESOLUTIONS]
    invalid += [f"{p}/{k}" for p, choices in part_choices.items()
                for k, v in choices.items() if v == "both"]
    if invalid:
        raise error("Choose “theirs”, “mine” or “both” for each conflicting segment "
                    "(“theirs” or “mine” for modules, scene bible and chapter graph); "
                    "not valid for: " + ", ".join(sorted(invalid)[:20]))
    taken: set[str] = set(plan.manuscript.theirs.text) | set(plan.manuscript.mine.text)

    def new_key(_key: str, used: set[str]) -> str:
        while True:
            candidate = new_id(SEGMENT_PREFIX)
            if candidate not in taken and candidate not in used:
                taken.add(candidate)
                return candidate

    resolved = None
    try:
        resolved = resolve_segments(plan.manuscript, segs, new_key)
    except ResolutionError as exc:
        unresolved += exc.unresolved
        unknown += exc.unknown
    part_values = {}
    for p, part_plan in plan.parts.items():
        # A modules/bible/graph key without a choice keeps the author's value (the source's
        # stays readable in the cached version); only the prose must be decided.
        choices = {k: "mine" for k in part_plan.result.conflicts} | part_choices[p]
        try:
            part_values[p] = resolve(part_plan.result, choices, lambda k, _t: k).values
        except ResolutionError as exc:
            unresolved += [f"{p}/{k}" for k in exc.unresolved]
            unknown += [f"{p}/{k}" for k in exc.unknown]
    if unresolved:
        raise error(f"{len(unresolved)} conflict(s) still need a choice (theirs, mine or "
                    f"both) before {doing}; nothing was changed: "
                    + ", ".join(unresolved[:20]))
    if unknown:
        raise error(f"These choices do not match a conflict of this {what} (plan it again?): "
                    + ", ".join(unknown[:20]))
    return resolved, part_values


def _check_parts(s: Session, story_id: int, parts: dict[str, Any]) -> None:
    from studio.services.chapter_graph import check
    from studio.services.schemas import validate_bible, validate_module_output

    for key, module in parts["modules"].items():
        validate_module_output(key, module["output"])
    series = bibles_repo.series_of(s, story_id)
    inherited = bibles_repo.latest_data(s, "series", series.id)[1] if series else None
    if parts["scene_bible"] or inherited:
        validate_bible(parts["scene_bible"], inherited)
    if parts["chapter_graph"].get("chapters"):
        effective = bible_rules.merge_series(inherited, parts["scene_bible"])
        check(parts["chapter_graph"], {c["id"] for c in bible_rules.characters(effective)})


def apply_pull(db: Database, story_id: int, plan: PullPlan,
               resolutions: Mapping[str, str] | None = None) -> int:
    """Apply a plan with the author's choice for every conflicting segment (segment id →
    "theirs", "mine" or "both"); a conflicting modules/bible/graph key (``"<part>/<key>"``)
    takes "theirs" or "mine", and keeps mine when not named.  Returns the number of the
    version saved first ("Before pulling vN"): restoring it brings the story back as it was,
    merge base included (so the pull can be made again).

    Refused — nothing written — when a segment conflict has no choice, when the story or its
    base changed since the plan, or when the merged modules/bible/graph would not be valid."""
    if plan.story_id != story_id:
        raise PullError("This pull was planned for another story.")
    resolved, part_values = _resolve_all(plan, resolutions or {})
    merged_outline = build_manuscript(plan.manuscript, resolved)
    merged_parts = {p: build_part(plan.parts[p], part_values[p]) for p in PARTS}
    merged_parts["chapter_graph"] = normalise_graph(merged_parts["chapter_graph"]) \
        if merged_parts["chapter_graph"].get("chapters") else {"chapters": []}
    with db.session() as s:
        _link, base, target = _link_and_versions(s, story_id, plan.target_version_id)
        if base.id != plan.base_version_id or _mine(s, story_id)[2] != plan.fingerprint:
            raise PullError("The story changed since this pull was planned; nothing was "
                            "changed. Plan the pull again.")
        _check_parts(s, story_id, merged_parts)
        number = publishing.save_version_in(s, story_id, f"Before pulling v{target.number}")
        written = _write_outline(s, story_id, merged_outline)
        _write_parts(s, story_id, merged_parts, target.number)
        forking.set_base(s, story_id, target)
        stories_repo.touch(stories_repo.get(s, story_id))
        history.record(s, story_id, "story", story_id, "pull",
                       {"from": base.number, "to": target.number, "saved_version": number,
                        "applied": len(plan.applied), "resolved": len(resolutions or {}),
                        **written})
        return number


def _write_outline(s: Session, story_id: int, merged: list[dict]) -> dict[str, int]:
    """Make the live manuscript equal to ``merged`` with as few writes as possible."""
    chapters = repo.chapters_by_uid(s, story_id)
    scenes = repo.scenes_by_uid(s, story_id)
    uid_of_scene = {row.id: uid for uid, row in scenes.items()}
    target = {seg.id: sc["id"] for ch in merged for sc in ch["scenes"] for seg in sc["segments"]}
    # A segment row held by another scene than the one it goes to (moved, or in a deleted
    # scene) goes first: segment ids are unique per story.
    moving = [(uid, scene_id) for uid, scene_id in repo.segment_places(s, story_id)
              if uid in target and uid_of_scene.get(scene_id) != target[uid]]
    repo.delete_segment_rows(s, story_id, [uid for uid, _ in moving])
    touched = {uid_of_scene[scene_id] for _, scene_id in moving}
    s.flush()
    now = utcnow()
    wanted_chapters = {ch["id"] for ch in merged}
    wanted_scenes = {sc["id"] for ch in merged for sc in ch["scenes"]}
    for uid, row in chapters.items():
        if uid not in wanted_chapters and row.deleted_at is None:
            row.deleted_at = now
    for uid, row in scenes.items():
        if uid not in wanted_scenes and row.deleted_at is None:
            row.deleted_at = now
    stats = {"rewritten": 0, "repointed": 0, "unchanged": 0}
    for ch_pos, ch in enumerate(merged):
        attrs = ch["attrs"]
        row = chapters.get(ch["id"])
        if row is None:
            row = repo.add_chapter(s, story_id, ch["id"], ch_pos, attrs.get("title", ""))
            s.flush()
        _set_fields(row, attrs, ("title", "synopsis", "status", "word_target"))
        row.position, row.deleted_at = ch_pos, None
        _set_metadata(s, story_id, "chapter", row.id, attrs.get("metadata") or {})
        for sc_pos, sc in enumerate(ch["scenes"]):
            attrs = sc["attrs"]
            srow = scenes.get(sc["id"])
            if srow is None:
                srow = repo.add_scene(s, story_id, row.id, sc["id"], sc_pos,
                                      attrs.get("title", ""), content_hash="")
                s.flush()
            _set_fields(srow, attrs, ("title", "synopsis", "status"))
            srow.chapter_id, srow.position, srow.deleted_at = row.id, sc_pos, None
            _set_metadata(s, story_id, "scene", srow.id, attrs.get("metadata") or {})
            segments = sc["segments"]
            digest = content_hash(segments)
            if digest == srow.content_hash and sc["id"] not in touched:
                stats["unchanged"] += 1
                continue
            words = words_of(segments)
            if not repo.has_segment_rows(s, srow.id) and repo.blob_exists(s, digest):
                repo.share_scene(srow, digest, words)  # untouched scene: the new blob
                stats["repointed"] += 1
            else:
                manuscript_repo.write_segments(s, srow, segments)
                srow.content_hash, srow.words = digest, words
                manuscript_repo.touch_scene(srow)
                stats["rewritten"] += 1
    s.flush()
    for uid in touched - wanted_scenes:  # deleted scenes that gave a segment away
        srow = scenes[uid]
        segments = manuscript_repo.segments_of(s, srow.id)
        srow.content_hash, srow.words = content_hash(segments), words_of(segments)
    return stats


def _set_fields(row, attrs: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = attrs.get(name, "draft" if name == "status" else
                          None if name == "word_target" else "")
        if getattr(row, name) != value:
            setattr(row, name, value)


def _set_metadata(s: Session, story_id: int, owner: str, owner_id: int,
                  values: dict[str, Any]) -> None:
    if stories_repo.get_metadata(s, owner, owner_id) != values:
        stories_repo.replace_metadata(s, story_id, owner, owner_id, values)


def _write_parts(s: Session, story_id: int, parts: dict[str, Any], number: int,
                 bible_note: str | None = None, action: str = "pull") -> None:
    for key, module in parts["modules"].items():
        row = stories_repo.module_row(s, story_id, key)
        output = json.dumps(normalise_output(key, module["output"]), ensure_ascii=False)
        if row.input_text != module["input"] or json.loads(row.output_json) != \
                json.loads(output):
            row.input_text, row.output_json, row.updated_at = module["input"], output, utcnow()
    latest, own = bibles_repo.latest_data(s, "story", story_id)
    if parts["scene_bible"] != own:
        bibles_repo.add_version(s, "story", story_id, latest + 1, parts["scene_bible"], None,
                                (bible_note or f"pulled v{number}: ")
                                + bible_rules.summarise_change(own, parts["scene_bible"]))
    if parts["chapter_graph"] != publishing.local_graph(s, story_id):
        graphs_repo.write_graph(s, story_id, parts["chapter_graph"])
        history.record(s, story_id, "chapter_graph", story_id, action,
                       {"chapters": len(parts["chapter_graph"]["chapters"])})


# The branch merge (``services.branch_merge``) is the same three-way merge between two local
# stories; it uses these steps as they are.
local_parts = _local_parts
mine_state = _mine
fingerprint = _fingerprint
resolve_all = _resolve_all
check_parts = _check_parts
write_outline = _write_outline
write_parts = _write_parts

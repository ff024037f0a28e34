"""Story content on the server: segment texts stored once, versions as manifests, forks.

A manifest is the manuscript with every segment's text replaced by the sha256 of that text
(``{"id": "seg_…", "hash": …}``); the texts live once each in ``segment_texts``.  Publishing
stores the texts that are new and writes an immutable version holding the manifest.

A fork's content is computed on read (lazy materialisation): the source version's manifest,
with the fork's overrides (delta) or the fork's own manifest (full).  Edits and syncs produce a
new merged manifest, and ``save_fork`` stores it the cheapest way ``studio.domain.forks``
allows.  Sync merges with ``studio.domain.merge`` on hashes (equal hash = equal text) and loads
texts only where both sides changed a segment.

A delta fork's own texts are not content-addressed: an author's edits are almost never shared
with anyone, and ~400-byte paragraphs are below PostgreSQL's compression threshold, so a row
per edit cost its text plus ~430 bytes of keys, headers and indexes (17 % of full copies for
10 % of segments edited).  They live instead as one zlib-compressed JSON map
``{segment id: text}`` in the fork's own row (``forks.overrides``): ~6 % for the same edits.
Texts enter ``segment_texts`` only when a fork is materialised (full) or published as a remix.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.domain.forks import (
    Changes, ForkState, apply_overrides, changes_between, duplicate_ids, fork_state, layout,
    map_values, segment_map,
)
from studio.domain.merge import (
    ABSENT, Custom, MergeResult, ResolutionError, merge_maps, merge_text, resolve,
)
from studio.marketplace.db import Database
from studio.marketplace.errors import ApiError
from studio.marketplace.models import (
    Fork, SegmentText, Story, StoryVersion, User, utcnow,
)

PARTS = ("modules", "scene_bible", "chapter_graph")
CHUNK = 900


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def store_texts(db: Database, session: Session, texts: dict[str, str]) -> int:
    """Insert the texts not stored yet; returns how many were new."""
    hashes = list(texts)
    known: set[str] = set()
    for chunk in _chunks(hashes):
        known.update(session.scalars(select(SegmentText.hash)
                                     .where(SegmentText.hash.in_(chunk))))
    missing = [h for h in hashes if h not in known]
    statement = db.insert(SegmentText.__table__).on_conflict_do_nothing(index_elements=["hash"])
    for chunk in _chunks(missing, 5000):  # executemany: batched, compiled once
        session.execute(statement, [{"hash": h, "text": texts[h], "length": len(texts[h])}
                                    for h in chunk])
    return len(missing)


def load_texts(session: Session, hashes: Iterable[str],
               known: dict[str, str] | None = None) -> dict[str, str]:
    """The texts of ``hashes``: from ``known`` (a fork's own texts) where there, else stored."""
    known = known or {}
    out = {h: known[h] for h in hashes if isinstance(h, str) and h in known}
    wanted = sorted({h for h in hashes if isinstance(h, str) and h not in out})
    for chunk in _chunks(wanted):
        out.update(session.execute(select(SegmentText.hash, SegmentText.text)
                                   .where(SegmentText.hash.in_(chunk))).all())
    return out


def normalise_manuscript(manuscript: dict) -> dict:
    """Give chapters and scenes ids where they have none; refuse duplicate segment ids."""
    out: dict[str, Any] = {"chapters": []}
    for ci, chapter in enumerate(manuscript.get("chapters", []), 1):
        new_chapter = {"id": chapter.get("id") or f"chap_{ci}", "title": chapter.get("title", "")}
        if chapter.get("meta") is not None:
            new_chapter["meta"] = chapter["meta"]
        new_chapter["scenes"] = []
        for si, scene in enumerate(chapter.get("scenes", []), 1):
            new_scene = {"id": scene.get("id") or f"scene_{ci}_{si}",
                         "title": scene.get("title", "")}
            if scene.get("meta") is not None:
                new_scene["meta"] = scene["meta"]
            new_scene["segments"] = [{"id": s["id"], "text": s["text"]}
                                     for s in scene.get("segments", [])]
            new_chapter["scenes"].append(new_scene)
        out["chapters"].append(new_chapter)
    dups = duplicate_ids(out)
    if dups:
        raise ApiError(422, "Segment ids must be unique within a story; repeated: "
                       + ", ".join(sorted(set(dups))[:20]), "duplicate_segment_ids")
    return out


def build_manifest(db: Database, session: Session, manuscript: dict) -> dict:
    texts: dict[str, str] = {}

    def remember(text: str) -> str:
        digest = text_hash(text)
        texts[digest] = text
        return digest

    manifest = map_values(normalise_manuscript(manuscript), "text", "hash", remember)
    store_texts(db, session, texts)
    return manifest


def with_texts(session: Session, manifest: dict, known: dict[str, str] | None = None) -> dict:
    texts = load_texts(session, segment_map(manifest, "hash").values(), known)
    return map_values(manifest, "hash", "text", texts.__getitem__)


def segment_count(manifest: dict) -> int:
    return len(segment_map(manifest, "hash"))


def add_version(session: Session, story: Story, author: User, manifest: dict,
                parts: dict[str, Any], changelog: str) -> StoryVersion:
    """A new immutable version numbered after the story's latest."""
    number = story.latest_version + 1
    version = StoryVersion(story_id=story.id, number=number, changelog=changelog,
                           author_id=author.id, segment_count=segment_count(manifest),
                           manifest=manifest, **{p: parts.get(p) or {} for p in PARTS})
    session.add(version)
    story.latest_version = number
    story.updated_at = utcnow()
    session.flush()
    return version


def version_content(session: Session, version: StoryVersion) -> dict:
    return {"modules": version.modules, "manuscript": with_texts(session, version.manifest),
            "scene_bible": version.scene_bible, "chapter_graph": version.chapter_graph}


# --- forks -------------------------------------------------------------------------------

def source_version(session: Session, fork: Fork) -> StoryVersion:
    version = session.get(StoryVersion, fork.source_version_id)
    if version is None:  # cannot happen while the source is visible to the fork's owner
        raise ApiError(409, "The source version of this fork is no longer available.",
                       "source_missing")
    return version


def pack_overrides(texts: dict[str, str]) -> bytes | None:
    """A delta fork's ``{segment id: text}`` as stored in ``forks.overrides``."""
    if not texts:
        return None
    raw = json.dumps(texts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return zlib.compress(raw.encode("utf-8"), 9)


def own_texts(fork: Fork) -> dict[str, str]:
    """The fork's overriding texts by segment id (empty unless the fork is a delta)."""
    if fork.strategy != "delta" or not fork.overrides:
        return {}
    return json.loads(zlib.decompress(fork.overrides).decode("utf-8"))


def own_texts_by_hash(fork: Fork) -> dict[str, str]:
    return {text_hash(t): t for t in own_texts(fork).values()}


def _overrides(fork: Fork) -> dict[str, str]:
    return {k: text_hash(t) for k, t in own_texts(fork).items()}


def fork_manifest(session: Session, fork: Fork, source: StoryVersion) -> dict:
    if fork.strategy == "full":
        return fork.manifest
    if fork.strategy == "reference":
        return source.manifest
    return apply_overrides(source.manifest, _overrides(fork), "hash")


def store_own_texts(db: Database, session: Session, fork: Fork) -> None:
    """Put the fork's own texts where a version's manifest can find them (remix publish)."""
    store_texts(db, session, own_texts_by_hash(fork))


def fork_parts(fork: Fork, source: StoryVersion) -> dict[str, Any]:
    return {p: getattr(fork, p) if getattr(fork, p) is not None else getattr(source, p)
            for p in PARTS}


def fork_content(session: Session, fork: Fork) -> dict:
    source = source_version(session, fork)
    return {**fork_parts(fork, source),
            "manuscript": with_texts(session, fork_manifest(session, fork, source),
                                     own_texts_by_hash(fork))}


def save_fork(db: Database, session: Session, fork: Fork, source: StoryVersion, merged: dict,
              threshold: float, texts: dict[str, str]) -> ForkState:
    """Store ``merged`` the cheapest way; ``texts`` (by hash) holds every text of it that may
    not be in ``segment_texts`` yet (new edits, merged texts, the fork's own texts)."""
    state = fork_state(source.manifest, merged, "hash", threshold)
    if state.strategy.value == "delta":
        found = load_texts(session, state.overrides.values(), texts)
        fork.overrides = pack_overrides({k: found[h] for k, h in state.overrides.items()})
    else:
        if state.strategy.value == "full":  # its manifest's texts must all be stored
            used = set(segment_map(state.manuscript, "hash").values())
            store_texts(db, session, {h: t for h, t in texts.items() if h in used})
        fork.overrides = None
    fork.strategy = state.strategy.value
    fork.manifest = state.manuscript
    fork.updated_at = utcnow()
    session.flush()
    return state


def edit_segments(db: Database, session: Session, fork: Fork, edits: dict[str, str],
                  threshold: float) -> ForkState:
    source = source_version(session, fork)
    merged = fork_manifest(session, fork, source)
    known = segment_map(merged, "hash")
    unknown = [k for k in edits if k not in known]
    if unknown:
        raise ApiError(422, "A fork edits the texts of the segments it has; unknown segment "
                       "ids: " + ", ".join(unknown[:20]), "unknown_segments")
    texts = {**own_texts_by_hash(fork), **{text_hash(t): t for t in edits.values()}}
    new = apply_overrides(merged, {k: text_hash(t) for k, t in edits.items()}, "hash")
    return save_fork(db, session, fork, source, new, threshold, texts)


# --- sync --------------------------------------------------------------------------------

@dataclass
class SyncPlan:
    base: StoryVersion
    theirs: StoryVersion
    mine: dict
    segments: MergeResult
    parts: dict[str, MergeResult | None]
    changes: Changes
    pending: dict[str, str] = field(default_factory=dict)  # merged texts not stored yet
    own: dict[str, str] = field(default_factory=dict)  # the fork's own texts, by hash


def plan_sync(session: Session, fork: Fork, target: StoryVersion) -> SyncPlan:
    base = source_version(session, fork)
    mine = fork_manifest(session, fork, base)
    b, t, m = (segment_map(x, "hash") for x in (base.manifest, target.manifest, mine))
    both_changed = [k for k in set(b) & set(t) & set(m)
                    if b[k] != t[k] and b[k] != m[k] and t[k] != m[k]]
    own = own_texts_by_hash(fork)
    texts = load_texts(session, [x[k] for k in both_changed for x in (b, t, m)], own)
    pending: dict[str, str] = {}

    def merge_hashes(hb: str, ht: str, hm: str) -> str | None:
        merged = merge_text(texts[hb], texts[ht], texts[hm])
        if merged is None:
            return None
        digest = text_hash(merged)
        pending[digest] = merged
        return digest

    parts = {p: (None if getattr(fork, p) is None else
                 merge_maps(getattr(base, p), getattr(target, p), getattr(fork, p)))
             for p in PARTS}
    return SyncPlan(base, target, mine, merge_maps(b, t, m, merge_hashes), parts,
                    changes_between(base.manifest, target.manifest, "hash"), pending, own)


def preview(session: Session, plan: SyncPlan) -> dict:
    t = segment_map(plan.theirs.manifest, "hash")
    c = plan.changes
    conflicts = plan.segments.conflicts.values()
    texts = load_texts(session, [t[k] for k in c.added + c.modified]
                       + [h for x in conflicts for h in (x.base, x.theirs, x.mine)], plan.own)
    texts.update(plan.pending)
    parts_changed = {}
    for p in PARTS:
        old, new = getattr(plan.base, p), getattr(plan.theirs, p)
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        removed = [k for k in old if k not in new]
        if changed or removed:
            parts_changed[p] = {"changed": changed, "removed": removed}
    merge_conflicts = [{"id": x.key, "kind": "segment", "base": texts.get(x.base),
                        "theirs": texts.get(x.theirs), "mine": texts.get(x.mine)}
                       for x in conflicts]
    for p, result in plan.parts.items():
        for x in (result.conflicts.values() if result else []):
            merge_conflicts.append({"id": f"{p}/{x.key}", "kind": "part",
                                    **{side: None if getattr(x, side) is ABSENT
                                       else getattr(x, side)
                                       for side in ("base", "theirs", "mine")}})
    return {
        "changes": {
            "added": [{"id": k, "text": texts[t[k]]} for k in c.added],
            "modified": [{"id": k, "text": texts[t[k]]} for k in c.modified],
            "removed": c.removed,
            "moved": c.moved,
            "parts": parts_changed,
        },
        "merge": {
            "taken_theirs": plan.segments.taken_theirs,
            "kept_mine": plan.segments.kept_mine,
            "auto_merged": [{"id": k, "text": texts[plan.segments.merged[k]]}
                            for k in plan.segments.auto_merged],
            "conflicts": merge_conflicts,
        },
    }


def _extra_id(taken: set[str], salt: str):
    def new_key(key: str, _taken: set[str]) -> str:
        n = 0
        while True:
            digest = hashlib.sha256(f"{key}|{salt}|{n}".encode()).hexdigest()[:16]
            candidate = f"seg_{digest}"
            if candidate not in taken and candidate not in _taken:
                return candidate
            n += 1
    return new_key


def apply_sync(db: Database, session: Session, fork: Fork, plan: SyncPlan,
               resolutions: dict[str, Any], threshold: float) -> ForkState:
    seg_choices: dict[str, Any] = {}
    part_choices: dict[str, dict[str, Any]] = {p: {} for p in PARTS}
    wrong_kind: list[str] = []
    for key, choice in resolutions.items():
        part, _, part_key = key.partition("/")
        if part in PARTS and part_key:
            if hasattr(choice, "text"):
                wrong_kind.append(key)
            part_choices[part][part_key] = (Custom(choice.value) if hasattr(choice, "value")
                                            else choice)
        else:
            if hasattr(choice, "value"):
                wrong_kind.append(key)
            elif hasattr(choice, "text"):
                digest = text_hash(choice.text)
                plan.pending[digest] = choice.text
                choice = Custom(digest)
            seg_choices[key] = choice
    if wrong_kind:
        raise ApiError(422, 'Custom resolutions are {"text": …} for segments and {"value": …} '
                       "for modules/scene_bible/chapter_graph keys; wrong for: "
                       + ", ".join(wrong_kind[:20]), "invalid_resolution")
    unresolved: list[str] = []
    unknown: list[str] = []
    taken = set(segment_map(plan.theirs.manifest, "hash")) | set(segment_map(plan.mine, "hash"))
    try:
        resolved = resolve(plan.segments, seg_choices,
                           _extra_id(taken, f"{fork.public_id}|{plan.theirs.id}"))
    except ResolutionError as exc:
        unresolved += exc.unresolved
        unknown += exc.unknown + exc.invalid
    part_values: dict[str, Any] = {}
    for p, result in plan.parts.items():
        if result is None:
            unknown += [f"{p}/{k}" for k in part_choices[p]]
            continue
        try:
            done = resolve(result, part_choices[p], lambda k, _t: f"{k} (fork)")
            part_values[p] = done.values
        except ResolutionError as exc:
            unresolved += [f"{p}/{k}" for k in exc.unresolved]
            unknown += [f"{p}/{k}" for k in exc.unknown + exc.invalid]
    if unknown:
        raise ApiError(422, "These resolutions do not match a conflict of this sync (or are "
                       "not theirs/mine/both/custom): " + ", ".join(unknown[:20]),
                       "unknown_resolutions", unknown=unknown)
    if unresolved:
        raise ApiError(409, "Resolve every conflict before syncing (theirs, mine, both or a "
                       "custom text): " + ", ".join(unresolved[:20]), "unresolved_conflicts",
                       unresolved=unresolved)
    merged = layout(plan.theirs.manifest, plan.mine, resolved.values, "hash",
                    resolved.placed_after)
    fork.source_version_id = plan.theirs.id
    fork.synced_version = plan.theirs.number
    for p, values in part_values.items():
        setattr(fork, p, None if values == getattr(plan.theirs, p) else values)
    session.flush()
    return save_fork(db, session, fork, plan.theirs, merged, threshold,
                     {**plan.own, **plan.pending})

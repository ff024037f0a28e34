"""The local halves of the outbox's operations: ``prepare`` builds a request spec from the
database, ``complete`` records the server's answer.  The network half (``send``) is in
``studio.sync.operations``; ``studio.sync.outbox`` runs the three in order.

- ``prepare_<kind>(db, entry_id) -> dict`` — the spec.  A publish freezes what it sends on
  its first attempt (it saves a version of the story, labelled "Published …", and records its
  number in the entry), so a retry after a lost answer sends the very same request and the
  server's idempotency replay recognises it; the author may keep writing meanwhile.
  What is *not* frozen is the remote id: it comes from the story's link when the entry is
  sent, so two publishes queued offline for a new story become its versions 1 and 2.
- ``complete_<kind>(db, entry_id, result) -> None`` — idempotent (an answer may be recorded
  twice if the app stopped in between).

``HANDLERS`` maps each kind to ``(prepare, complete)``.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from studio.domain.errors import StudioError
from studio.domain.forks import segment_map
from studio.domain.story_content import PARTS, normalise_bible, normalise_graph, \
    normalise_modules
from studio.services import forking, publishing, reference_cache, voice_templates
from studio.store.database import Database
from studio.store.models import utcnow
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo

Prepare = Callable[[Database, int], dict]

#: The payload key of the version a publish is based on (frozen with its snapshot).
BASE_KEY = "base_version"
Complete = Callable[[Database, int, dict], None]


class OperationError(StudioError):
    """An outbox entry that cannot be sent as it stands (the message says why)."""


def _story_id(entry, payload: dict) -> int:
    story_id = payload.get("story_id") if isinstance(payload.get("story_id"), int) \
        else entry.story_id
    if story_id is None:
        raise OperationError(f"“{entry.label}”: its story no longer exists.")
    return story_id


def _frozen_snapshot(s, entry, payload: dict, story_id: int, label: str) -> tuple[dict, dict]:
    """The version snapshot the entry publishes: saved on its first attempt, then reused."""
    number = payload.get("version")
    if not isinstance(number, int):
        number = publishing.save_version_in(s, story_id, label)
        payload = repo.freeze_payload(entry, {"version": number})
    return versions_repo.snapshot(s, story_id, number), payload


def _remote_version(result: dict) -> int | None:
    version = result.get("remote_version", result.get("version"))
    if isinstance(version, dict):
        version = version.get("number")
    return version if isinstance(version, int) else None


def _remote_story(result: dict) -> str | None:
    story = result.get("remote_story_id")
    if story is None and isinstance(result.get("story"), dict):
        story = result["story"].get("id")
    return story if isinstance(story, str) else None


# --- publish ------------------------------------------------------------------------------

def prepare_publish(db: Database, entry_id: int) -> dict:
    """The spec of a publish.  A story already published goes up as its next version *based
    on* the version this studio last published or merged (``StoryLink.remote_version``),
    frozen with the snapshot on the first attempt: when an editor or an accepted proposal
    published meanwhile, the server refuses it (409 ``version_moved``) instead of silently
    publishing over their version; the entry then waits for the author, who updates from the
    collaborators (``services.collaboration_owner``) and sends it again.  Two publishes queued
    one after the other still become N+1 and N+2: the second is frozen only when it is first
    sent, after the first landed and moved the link on."""
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        payload = repo.outbox_payload(entry)
        story_id = _story_id(entry, payload)
        stories_repo.get(s, story_id)
        link = repo.link(s, story_id)
        remote = link.remote_story_id if link is not None and \
            link.server_url == entry.server_url else None
        first_attempt = not isinstance(payload.get("version"), int)
        snap, payload = _frozen_snapshot(s, entry, payload, story_id,
                                         f"Published to the marketplace: "
                                         f"{payload.get('changelog') or 'new version'}")
        if first_attempt:
            base = link.remote_version if remote is not None else None
            payload = repo.freeze_payload(entry, {BASE_KEY: base})
        spec = {"remote_story_id": remote, "meta": payload.get("meta") or {},
                "content": publishing.content_from_snapshot(s, story_id, snap,
                                                            payload.get("include")),
                "changelog": payload.get("changelog") or ""}
        if remote is not None:
            spec["update_meta"] = True
            # An entry frozen before publishes carried a base has no BASE_KEY: it is sent
            # as it was first sent (a retry must be the same request to be deduplicated).
            if isinstance(payload.get(BASE_KEY), int):
                spec["base_version"] = payload[BASE_KEY]
        return spec


def complete_publish(db: Database, entry_id: int, result: dict) -> None:
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        story_id = _story_id(entry, repo.outbox_payload(entry))
        remote, number = _remote_story(result), _remote_version(result)
        if remote is None:
            raise OperationError("The marketplace's answer to a publish names no story.")
        link = repo.ensure_link(s, story_id, entry.server_url)
        link.server_url = entry.server_url
        if link.remote_story_id != remote or (link.remote_version or 0) < (number or 0):
            link.remote_story_id = remote
            link.remote_version = number
        repo.touch_link(link)


def rebase_refused_publishes(s, story_id: int, server_url: str, merged: int) -> list[int]:
    """After the author merged version ``merged`` of the story's marketplace copy into it
    (``services.collaboration_owner``): its refused publishes (``failed`` entries frozen on
    an older version, or on none) forget the snapshot and base they froze, so sending one
    again (Retry in the outbox) publishes the merged story on top of ``merged``; returns their
    ids.  The old snapshot stays as a local version (nothing is lost).  Reusing the entry's
    idempotency key is safe: the server keeps no record of a request it refused, so the same
    key with the new body is a new request."""
    from studio.store.repositories import outbox as outbox_repo

    rebased = []
    for entry in outbox_repo.entries(s, (outbox_repo.FAILED,), server_url):
        if entry.kind != "publish" or entry.story_id != story_id:
            continue
        payload = repo.outbox_payload(entry)
        base = payload.get(BASE_KEY)
        if isinstance(base, int) and base >= merged:
            continue  # already based on the merged version (or later)
        # Based on an older version — or on none (frozen before the story had one, or before
        # publishes carried a base): sent as frozen, it would publish over their versions.
        payload.pop("version", None)
        payload.pop(BASE_KEY, None)
        entry.payload_json = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        entry.last_error = (f"Your story now includes version {merged} from your "
                            "collaborators: retry this to publish it as the next version.")
        entry.updated_at = utcnow()
        rebased.append(entry.id)
    return rebased


# --- publish a fork as a remix --------------------------------------------------------------

def remix_changes(s, story_id: int, snap: dict, source_version_id: int,
                  include: Any) -> tuple[dict[str, str], dict | None, dict]:
    """What the fork (as ``snap``) changed against its source version: segment texts by id,
    the changed parts (None if none), and the structure the server's fork API cannot carry
    (segments added or removed locally, order changes)."""
    parts_wanted = publishing.check_include(include)
    version = repo.reference_version_by_id(s, source_version_id)
    base = reference_cache.version_content(s, version)
    mine = publishing.content_from_snapshot(s, story_id, snap, parts_wanted)
    segments: dict[str, str] = {}
    structure = {"added": [], "removed": [], "moved": False}
    if "manuscript" in parts_wanted:
        b = segment_map(base["manuscript"], "text")
        m = segment_map(mine["manuscript"], "text")
        segments = {k: t for k, t in m.items() if k in b and b[k] != t}
        structure["added"] = [k for k in m if k not in b]
        structure["removed"] = [k for k in b if k not in m]
        common_b = [k for k in b if k in m]
        common_m = [k for k in m if k in b]
        structure["moved"] = common_b != common_m
    normalise = {"modules": normalise_modules, "scene_bible": normalise_bible,
                 "chapter_graph": normalise_graph}
    parts = {}
    for part in PARTS:
        if part in parts_wanted and normalise[part](mine[part]) != \
                normalise[part](base[part]):
            parts[part] = mine[part]
    return segments, (parts or None), structure


def prepare_publish_remix(db: Database, entry_id: int) -> dict:
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        payload = repo.outbox_payload(entry)
        story_id = _story_id(entry, payload)
        base = forking.base_version(s, story_id)
        if base is None:
            raise OperationError(f"“{entry.label}”: the story is no longer a fork of a "
                                 "marketplace story.")
        link = repo.link(s, story_id)
        if not isinstance(payload.get("source_version_id"), int):
            payload = repo.freeze_payload(entry, {"source_version_id": base.id})
        snap, payload = _frozen_snapshot(s, entry, payload, story_id,
                                         "Published as a remix: "
                                         f"{payload.get('changelog') or 'remix'}")
        version = repo.reference_version_by_id(s, payload["source_version_id"])
        ref = repo.reference_story_by_id(s, version.reference_story_id)
        segments, parts, structure = remix_changes(s, story_id, snap, version.id,
                                                   payload.get("include"))
        return {"source_story_id": ref.public_id, "source_version": version.number,
                "remote_fork_id": link.remote_fork_id, "segments": segments, "parts": parts,
                "meta": payload.get("meta") or {}, "changelog": payload.get("changelog") or "",
                "structure": structure}


def complete_publish_remix(db: Database, entry_id: int, result: dict) -> None:
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        story_id = _story_id(entry, repo.outbox_payload(entry))
        link = repo.ensure_link(s, story_id, entry.server_url)
        fork_id = result.get("fork_id") or (result.get("fork") or {}).get("id")
        if isinstance(fork_id, str):
            link.remote_fork_id = fork_id
        remote, number = _remote_story(result), _remote_version(result)
        if remote is not None:
            link.remote_story_id = remote
            link.remote_version = max(number or 0, link.remote_version or 0) or None
        repo.touch_link(link)


# --- the small operations ------------------------------------------------------------------

def _payload(db: Database, entry_id: int) -> dict:
    with db.session() as s:
        return repo.outbox_payload(repo.outbox_entry(s, entry_id))


def prepare_payload(db: Database, entry_id: int) -> dict:
    """like / unlike / report / register_fork: the stored payload is the spec."""
    return _payload(db, entry_id)


def complete_like(db: Database, entry_id: int, result: dict) -> None:
    """Keep the cached story's like count and "liked by me" as the server last said."""
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        public_id = repo.outbox_payload(entry).get("story_id")
        row = repo.reference_story(s, entry.server_url, public_id) \
            if isinstance(public_id, str) else None
        if row is None or not isinstance(result, dict):
            return
        import json

        detail = json.loads(row.detail_json)
        if isinstance(result.get("liked"), bool):
            detail["liked_by_me"] = result["liked"]
        if isinstance(result.get("likes"), int):
            stats = detail.get("stats") if isinstance(detail.get("stats"), dict) else {}
            detail["stats"] = {**stats, "likes": result["likes"]}
        repo.upsert_reference_story(s, entry.server_url, public_id, detail=detail)


def complete_nothing(db: Database, entry_id: int, result: dict) -> None:
    """report: nothing to record locally."""


def complete_register_fork(db: Database, entry_id: int, result: dict) -> None:
    """Remember the server fork that a later remix publish goes through."""
    fork_id = result.get("fork_id") or (result.get("fork") or {}).get("id") \
        if isinstance(result, dict) else None
    if not isinstance(fork_id, str):
        return
    with db.session() as s:
        entry = repo.outbox_entry(s, entry_id)
        if entry.story_id is None:  # the local fork was deleted meanwhile
            return
        link = repo.ensure_link(s, entry.story_id, entry.server_url)
        link.remote_fork_id = fork_id
        repo.touch_link(link)


HANDLERS: dict[str, tuple[Prepare, Complete]] = {
    "publish": (prepare_publish, complete_publish),
    "publish_remix": (prepare_publish_remix, complete_publish_remix),
    "like": (prepare_payload, complete_like),
    "unlike": (prepare_payload, complete_like),
    "report": (prepare_payload, complete_nothing),
    "register_fork": (prepare_payload, complete_register_fork),
    voice_templates.OUTBOX_KIND: (voice_templates.prepare_publish,
                                  voice_templates.complete_publish),
}

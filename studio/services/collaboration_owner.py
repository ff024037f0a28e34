"""Updating the story I published from my collaborators: the owner's side of optimistic
publishing.

My published story lives here as an ordinary local story linked to its marketplace copy
(``StoryLink.remote_story_id``); ``StoryLink.remote_version`` is the last version this studio
published or merged.  When an editor published, or an accepted proposal made, a newer version
meanwhile, my next publish is refused (409 ``version_moved``, the outbox entry waits: see
``services.marketplace_ops.prepare_publish``), and this module brings their versions in:

base   = my last version (``remote_version``), as the marketplace has it (fetched once and
         cached like any pull target, ``collaboration.fetch_version``),
theirs = the marketplace's latest version,
mine   = my story as it is now (with whatever I wrote since, and what the refused publish
         froze: that snapshot is an earlier state of this same story).

The rules and the writing are a pull's (``services.pulling``'s public steps, as
``services.branch_merge`` reuses them): ``apply_owner_update`` saves a version first ("Before
updating from collaborators (vN)": restoring it undoes the update), writes the merged story,
records it in the history, moves ``remote_version`` to the latest — so the next publish is based
on it — and re-arms the publishes the marketplace refused so retrying one sends the merged
story.  Conflicts take the same choices as a pull ("theirs", "mine", "both") and show in the
same conflict view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from studio.domain.errors import StudioError
from studio.domain.modules import MODULE_KEYS, normalise_output
from studio.domain.pull import build_manuscript, build_part, plan_manuscript, plan_part
from studio.domain.story_content import (
    PARTS, normalise_bible, normalise_graph, normalise_modules,
)
from studio.services import marketplace_ops, publishing, pulling, reference_cache
from studio.services.collaboration import fetch_version
from studio.services.collaboration_common import (
    CollaborationError, RunDb, call, default_run_db, int_of, same_server, text_of,
)
from studio.services.pulling import PartConflict, PullPlan
from studio.store.database import Database
from studio.store.repositories import history
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo

ACTION = "updated_from_collaborators"


class OwnerUpdateError(CollaborationError):
    """An update from collaborators that cannot be planned or applied (the message says
    why); ``code`` "up_to_date" when there is nothing to bring in."""


@dataclass(frozen=True)
class OwnerUpdateStatus:
    """Where my published story stands against its marketplace copy."""

    story_id: int
    remote_story_id: str
    mine: int  # the version this studio last published or merged
    latest: int  # the marketplace's latest version
    owner: str  # who owns it on the marketplace
    waiting: int  # publishes of the story queued in the outbox, not sent yet

    @property
    def update_available(self) -> bool:
        return self.latest > self.mine


@dataclass(frozen=True)
class NewVersion:
    """A version published on the marketplace since mine: who, and what they said."""

    number: int
    author: str
    changelog: str


@dataclass(frozen=True)
class OwnerUpdatePlan:
    """What updating would do; hand it with the author's choices to ``apply_owner_update``.
    ``pull`` is the three-way plan (base = v``mine``, theirs = v``latest``, mine = the live
    story); its conflicts read through (``plan.conflicts``, ``plan.applied_count``…)."""

    story_id: int
    server_url: str
    remote_story_id: str
    mine: int
    latest: int
    versions: tuple[NewVersion, ...]  # mine+1 … latest
    pull: PullPlan = field(repr=False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "pull":
            raise AttributeError(name)
        return getattr(self.pull, name)

    @property
    def authors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.author for v in self.versions if v.author))

    def describe(self) -> str:
        """"v2 by carol", "v2–v4 by carol and dan": what the update brings, in words."""
        since = f"v{self.latest}" if self.latest == self.mine + 1 else \
            f"v{self.mine + 1}–v{self.latest}"
        who = self.authors
        names = " and ".join(who) if len(who) <= 2 else f"{', '.join(who[:-1])} and {who[-1]}"
        return f"{since} by {names}" if who else since


@dataclass(frozen=True)
class OwnerUpdateResult:
    """What updating did: ``saved_version`` is the local version saved first, ``latest`` the
    marketplace version the story now includes (the next publish is based on it),
    ``rebased`` the refused publishes re-armed to send the merged story, ``message`` all of
    it in a sentence or two."""

    saved_version: int
    latest: int
    rebased: tuple[int, ...]
    message: str


# --- status ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Link:
    story_id: int
    title: str
    server_url: str
    remote_story_id: str
    mine: int
    waiting: int


def _my_link(db: Database, story_id: int, server_url: str) -> _Link:
    """The open story's link to its marketplace copy on ``server_url``, refused in words when
    it is not a story published from here."""
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        link = repo.link(s, story_id)
        if link is None or not link.remote_story_id:
            raise OwnerUpdateError(f"“{story.title}” is not published on the marketplace, so "
                                   "it has no collaborators' versions to update from.")
        if not same_server(link.server_url, server_url):
            raise OwnerUpdateError(f"“{story.title}” is published on {link.server_url}; sign "
                                   f"in there to update it (you are using {server_url}).")
        if not link.remote_version:
            raise OwnerUpdateError(f"“{story.title}” has no published version yet: wait until "
                                   "its first publish has left the outbox.")
        waiting = repo.waiting_entries(s, story_id, ("publish",))
        return _Link(story_id, story.title or "Untitled", link.server_url,
                     link.remote_story_id, link.remote_version, waiting)


async def owner_update_status(db: Database, client, story_id: int, *,
                              run_db: RunDb | None = None) -> OwnerUpdateStatus:
    """Whether the marketplace has versions of my published story that this studio has not
    published or merged (one small request)."""
    run_db = run_db or default_run_db
    link = await run_db(_my_link, db, story_id, client.base_url)
    detail = await call(client, client.story(link.remote_story_id))
    return OwnerUpdateStatus(story_id, link.remote_story_id, link.mine,
                             int_of(detail.get("latest_version")),
                             text_of(detail.get("owner")), link.waiting)


# --- planning ------------------------------------------------------------------------------------

def _all_modules(raw: Any) -> dict[str, Any]:
    found = normalise_modules(raw)
    return {key: found.get(key) or {"input": "", "output": normalise_output(key, None)}
            for key in MODULE_KEYS}


def _version_parts(row) -> dict[str, Any]:
    """A cached version's modules, bible and graph in the shape ``pulling.local_parts`` reads
    the live story in (as a pull reads its source)."""
    raw = reference_cache.parts_of(row)
    try:
        graph = normalise_graph(raw["chapter_graph"])
    except (KeyError, TypeError, ValueError) as exc:
        raise OwnerUpdateError(f"The chapter graph of v{row.number} on the marketplace cannot "
                               f"be read ({exc}); nothing was changed.") from None
    return {"modules": _all_modules(raw["modules"]),
            "scene_bible": normalise_bible(raw["scene_bible"]), "chapter_graph": graph}


def _plan(db: Database, story_id: int, base_id: int, target_id: int) -> PullPlan:
    """The three-way plan of base → target against the live story (nothing written)."""
    with db.session() as s:
        base = repo.reference_version_by_id(s, base_id)
        target = repo.reference_version_by_id(s, target_id)
        mine_outline, mine_parts, fingerprint = pulling.mine_state(s, story_id)
        merge = plan_manuscript(reference_cache.version_outline(s, base),
                                reference_cache.version_outline(s, target), mine_outline)
        base_parts, theirs_parts = _version_parts(base), _version_parts(target)
        base_number, target_number = base.number, target.number
    parts = {p: plan_part(base_parts[p], theirs_parts[p], mine_parts[p]) for p in PARTS}
    part_conflicts, parts_applied = [], []
    for p, plan in parts.items():
        parts_applied += [f"{p}/{k}" for k in plan.result.taken_theirs + plan.result.auto_merged]
        part_conflicts += [PartConflict(f"{p}/{c.key}", p, _none(c.base), _none(c.theirs),
                                        _none(c.mine))
                           for c in plan.result.conflicts.values()]
    seg = merge.segments
    b_ids, t_ids = merge.base.text.keys(), merge.theirs.text.keys()
    return PullPlan(
        story_id, base_id, target_id, base_number, target_number,
        tuple(seg.taken_theirs + seg.auto_merged), tuple(seg.kept_mine), tuple(seg.auto_merged),
        tuple(merge.conflicts()), tuple(part_conflicts), tuple(parts_applied),
        sum(1 for k in t_ids if k not in b_ids), sum(1 for k in b_ids if k not in t_ids),
        fingerprint, merge, parts)


def _none(value: Any) -> Any:
    from studio.domain.merge import ABSENT

    return None if value is ABSENT else value


def _new_versions(items: Any, mine: int, latest: int) -> tuple[NewVersion, ...]:
    out = []
    for item in items or []:
        if isinstance(item, dict) and mine < int_of(item.get("number")) <= latest:
            out.append(NewVersion(int_of(item.get("number")), text_of(item.get("author")),
                                  text_of(item.get("changelog"))))
    return tuple(sorted(out, key=lambda v: v.number))


async def plan_owner_update(db: Database, client, story_id: int, *, progress=None,
                            run_db: RunDb | None = None) -> OwnerUpdatePlan:
    """What bringing the collaborators' versions into my published story would do (nothing is
    written here; the two versions are fetched and cached once).  Refused with
    ``OwnerUpdateError`` when the story is not published from here, when a publish of it still
    waits in the outbox (it would be sent on the old base), or when there is nothing new
    (``code`` "up_to_date")."""
    run_db = run_db or default_run_db
    link = await run_db(_my_link, db, story_id, client.base_url)
    if link.waiting:
        raise OwnerUpdateError(f"A publish of “{link.title}” is still waiting in the outbox. "
                               "Let it be sent (or cancel it) before updating from "
                               "collaborators; nothing was changed.")
    detail = await call(client, client.story(link.remote_story_id))
    latest = int_of(detail.get("latest_version"))
    if latest <= link.mine:
        raise OwnerUpdateError(f"“{link.title}” is up to date: v{link.mine} is the latest "
                               "version on the marketplace.", code="up_to_date")
    listed = await call(client, client.versions(link.remote_story_id))
    base_id = await fetch_version(db, client, link.remote_story_id, link.mine,
                                  run_db=run_db)
    target_id = await fetch_version(db, client, link.remote_story_id, latest,
                                    progress=progress, run_db=run_db)
    try:
        pull = await run_db(_plan, db, story_id, base_id, target_id)
    except StudioError as exc:
        if isinstance(exc, CollaborationError):
            raise
        raise OwnerUpdateError(f"The update from collaborators could not be planned: {exc}"
                               ) from exc
    return OwnerUpdatePlan(story_id, link.server_url, link.remote_story_id, link.mine, latest,
                           _new_versions(listed.get("items"), link.mine, latest), pull)


# --- applying ------------------------------------------------------------------------------------

def _message(plan: OwnerUpdatePlan, saved: int, rebased: list[int]) -> str:
    text = (f"Updated from collaborators: {plan.describe()} is now in your story. Your story "
            f"was saved first as version {saved}, “Before updating from collaborators "
            f"(v{plan.latest})” — restore it in Versions to undo this.")
    if rebased:
        text += (" The publish the marketplace refused now carries the merged story: send it "
                 f"again to make it v{plan.latest + 1}.")
    else:
        text += f" Publish again to make your changes v{plan.latest + 1}."
    return text


def apply_owner_update(db: Database, plan: OwnerUpdatePlan,
                       resolutions: Mapping[str, str] | None = None) -> OwnerUpdateResult:
    """Apply a plan with the author's choice for every conflict (segment id → "theirs",
    "mine" or "both"; ``"<part>/<key>"`` → "theirs" or "mine", mine when not named), in one
    unit of work: the version "Before updating from collaborators (vN)" first, the merged
    story, the history entry, ``remote_version`` = N, the refused publishes re-armed.

    Refused — nothing written — when a conflict has no choice, when the story or its link
    changed since the plan, when a publish waits in the outbox, or when the merged
    modules/bible/graph would not be valid."""
    if not isinstance(plan, OwnerUpdatePlan):
        raise OwnerUpdateError("This is not a plan of an update from collaborators; plan it "
                               "again.")
    resolved, part_values = pulling.resolve_all(plan.pull, resolutions or {}, OwnerUpdateError,
                                                "updating", "update")
    merged_outline = build_manuscript(plan.pull.manuscript, resolved)
    merged_parts = {p: build_part(plan.pull.parts[p], part_values[p]) for p in PARTS}
    merged_parts["chapter_graph"] = normalise_graph(merged_parts["chapter_graph"]) \
        if merged_parts["chapter_graph"].get("chapters") else {"chapters": []}
    with db.session() as s:
        story = stories_repo.get(s, plan.story_id)
        link = repo.link(s, plan.story_id)
        if link is None or link.remote_story_id != plan.remote_story_id or \
                link.remote_version != plan.mine or \
                pulling.mine_state(s, plan.story_id)[2] != plan.pull.fingerprint:
            raise OwnerUpdateError(f"“{story.title}” changed since this update was planned; "
                                   "nothing was changed. Update from collaborators again.")
        if repo.waiting_entries(s, plan.story_id, ("publish",)):
            raise OwnerUpdateError(f"A publish of “{story.title}” is waiting in the outbox; "
                                   "let it be sent (or cancel it) first. Nothing was changed.")
        pulling.check_parts(s, plan.story_id, merged_parts)
        saved = publishing.save_version_in(
            s, plan.story_id, f"Before updating from collaborators (v{plan.latest})")
        written = pulling.write_outline(s, plan.story_id, merged_outline)
        pulling.write_parts(s, plan.story_id, merged_parts, plan.latest,
                            bible_note=f"updated from collaborators (v{plan.latest}): ",
                            action=ACTION)
        link.remote_version = plan.latest
        repo.touch_link(link)
        stories_repo.touch(story)
        rebased = marketplace_ops.rebase_refused_publishes(s, plan.story_id, link.server_url,
                                                           plan.latest)
        history.record(s, plan.story_id, "story", plan.story_id, ACTION,
                       {"story": plan.remote_story_id, "from": plan.mine, "to": plan.latest,
                        "authors": list(plan.authors), "saved_version": saved,
                        "applied": len(plan.pull.applied),
                        "resolved": len(resolutions or {}), "rebased_publishes": rebased,
                        **written})
    return OwnerUpdateResult(saved, plan.latest, tuple(rebased),
                             _message(plan, saved, rebased))


__all__ = [
    "NewVersion", "OwnerUpdateError", "OwnerUpdatePlan", "OwnerUpdateResult",
    "OwnerUpdateStatus", "apply_owner_update", "owner_update_status", "plan_owner_update",
]

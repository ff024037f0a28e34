"""Proposals: a contributor's changed paragraphs, offered to a published story's owner.

A proposal is made from a local fork (``services.forking``): every paragraph (segment) whose
text differs from the version the fork was made from (its base) is proposed, by segment id.
Paragraphs the fork added or removed cannot be proposed in this version of proposals (the
server takes replacements of existing segments only): ``proposal_changes`` lists them as a
warning and they stay in the fork.

Accepting is the server's (the new version credits the proposal's author); the accepted texts
are then written into the owner's local story in one unit of work — a version "Before
accepting proposal …" first (restoring it undoes the acceptance locally), the texts by segment
id (word counts, search index and history follow), the link's published version moved on.  A
paragraph the owner changed locally since (not published yet) is never overwritten: it keeps
the owner's text and ``AcceptResult.kept_local`` names it.

Part of ``studio.services.collaboration``'s API (import from there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from studio.domain.errors import StudioError
from studio.domain.manuscript import Segment
from studio.services import forking, manuscript, publishing, reference_cache
from studio.services.collaboration_common import (
    CollaborationError, RunDb, call, default_run_db, fork_base, fork_source, int_of, key,
    parse_time, same_server, text_of,
)
from studio.store.database import Database
from studio.store.repositories import history
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo

STATUSES = ("open", "accepted", "declined", "withdrawn", "all")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000


# --- what the UI shows -------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposedChange:
    """A paragraph of a local fork that differs from the fork's base version."""

    segment_id: str
    chapter_title: str
    scene_title: str
    base: str
    proposed: str


class ProposedChanges(list):
    """``proposal_changes``' answer: a list of ``ProposedChange`` in reading order, plus what
    the proposal is against (``base_version`` of ``remote_story_id`` on ``server_url``) and the
    paragraphs that cannot be proposed (``added``, ``removed``: segment ids; ``warning`` says
    so in a sentence, None when there are none)."""

    def __init__(self, changes: Iterable[ProposedChange], *, story_title: str,
                 source_title: str, server_url: str, remote_story_id: str, base_version: int,
                 added: Iterable[str] = (), removed: Iterable[str] = ()):
        super().__init__(changes)
        self.story_title = story_title
        self.source_title = source_title
        self.server_url = server_url
        self.remote_story_id = remote_story_id
        self.base_version = base_version
        self.added = list(added)
        self.removed = list(removed)

    @property
    def warning(self) -> str | None:
        if not self.added and not self.removed:
            return None
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} paragraph(s) you added")
        if self.removed:
            parts.append(f"{len(self.removed)} paragraph(s) you removed")
        return (" and ".join(parts) + " cannot be proposed: a proposal replaces the text of "
                "existing paragraphs only. They stay in your copy; ask the owner to make them "
                "an editor's change.")


@dataclass(frozen=True)
class ProposalSummary:
    id: str
    story_id: str
    title: str
    description: str
    author: str
    base_version: int
    status: str  # open | accepted | partially_accepted | declined | withdrawn
    created_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    result_version: int | None
    segment_count: int
    accepted_segments: tuple[str, ...] = ()
    has_scene_bible: bool = False  # the proposal also replaces the scene bible


@dataclass(frozen=True)
class ProposalChange:
    """One proposed paragraph: its text at the proposal's base, as proposed, and as the story's
    latest version has it (``current`` None: the paragraph is gone; ``moved_on``: it changed
    since the base, so accepting it would be refused until the proposal is updated)."""

    segment_id: str
    chapter_title: str
    scene_title: str
    base: str
    proposed: str
    current: str | None
    moved_on: bool


@dataclass(frozen=True)
class ProposalDetail:
    """A proposal with its changes; the summary's fields read through (``detail.title``)."""

    summary: ProposalSummary
    changes: tuple[ProposalChange, ...]
    scene_bible: dict | None = None
    latest_version: int | None = None  # the story's latest version when it was loaded

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "summary":
            raise AttributeError(name)
        return getattr(self.summary, name)


@dataclass(frozen=True)
class AcceptResult:
    """What accepting did: ``version`` is the new version's number on the marketplace,
    ``accepted`` the segment ids it took.  Locally: ``written`` the paragraphs replaced in the
    story, ``kept_local`` those kept because they were changed here since (not published),
    ``missing`` those not in the local story any more, ``saved_version`` the local version
    saved first (None: nothing was written).  ``message`` says it all in a sentence or two."""

    version: int
    accepted: list[str]
    local_story_id: int | None = None
    written: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    saved_version: int | None = None
    message: str = ""


def summary_of(item: dict) -> ProposalSummary:
    result = item.get("result_version")
    return ProposalSummary(
        text_of(item.get("id")), text_of(item.get("story_id")), text_of(item.get("title")),
        text_of(item.get("description")), text_of(item.get("author")),
        int_of(item.get("base_version")), text_of(item.get("status")),
        parse_time(item.get("created_at")), parse_time(item.get("decided_at")),
        item.get("decided_by") if isinstance(item.get("decided_by"), str) else None,
        result if isinstance(result, int) else None, int_of(item.get("segment_count")),
        tuple(x for x in item.get("accepted_segments") or [] if isinstance(x, str)),
        bool(item.get("has_scene_bible")))


# --- the local side of proposing ---------------------------------------------------------------

def _texts(outline: list[dict]) -> dict[str, tuple[str, str, str]]:
    """segment id → (text, chapter title, scene title), in reading order."""
    return {seg.id: (seg.text, ch["attrs"].get("title", ""), sc["attrs"].get("title", ""))
            for ch in outline for sc in ch["scenes"] for seg in sc["segments"]}


def proposal_changes(db: Database, story_id: int) -> ProposedChanges:
    """Every paragraph of a local fork whose text differs from the fork's base version, in
    reading order, compared by segment id (no network).  Refused for a story that is not a
    fork of a marketplace story."""
    with db.session() as s:
        story, base, ref = fork_base(s, story_id)
        theirs = _texts(reference_cache.version_outline(s, base))
        mine = _texts(publishing.local_outline(s, story_id))
    changes = [ProposedChange(seg_id, chapter, scene, theirs[seg_id][0], text)
               for seg_id, (text, chapter, scene) in mine.items()
               if seg_id in theirs and theirs[seg_id][0] != text]
    return ProposedChanges(changes, story_title=story.title,
                           source_title=ref.title or ref.public_id, server_url=ref.server_url,
                           remote_story_id=ref.public_id, base_version=base.number,
                           added=[k for k in mine if k not in theirs],
                           removed=[k for k in theirs if k not in mine])


def _changes_for(db: Database, story_id: int, server_url: str) -> ProposedChanges:
    with db.session() as s:
        fork_source(s, story_id, server_url)  # a fork, and of a story on this server
    return proposal_changes(db, story_id)


def _record_proposed(db: Database, story_id: int, summary: ProposalSummary,
                     segments: list[str]) -> None:
    with db.session() as s:
        history.record(s, story_id, "story", story_id, "propose",
                       {"proposal": summary.id, "story": summary.story_id,
                        "title": summary.title, "base_version": summary.base_version,
                        "segments": segments})


async def submit_proposal(db: Database, client, story_id: int, title: str,
                          description: str = "", *, run_db: RunDb | None = None
                          ) -> ProposalSummary:
    """Propose the fork's changed paragraphs to the story's owner (contributor or better).
    Refused when nothing changed; added or removed paragraphs are not sent (see
    ``proposal_changes``)."""
    run_db = run_db or default_run_db
    title = title.strip() if isinstance(title, str) else ""
    if not title or len(title) > MAX_TITLE:
        raise CollaborationError(f"Give the proposal a title (at most {MAX_TITLE} characters) "
                                 "that says what it changes.")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise CollaborationError("The description must be text of at most "
                                 f"{MAX_DESCRIPTION} characters.")
    changes = await run_db(_changes_for, db, story_id, client.base_url)
    if not changes:
        extra = f" ({changes.warning})" if changes.warning else ""
        raise CollaborationError(f"Nothing to propose: no paragraph of “{changes.story_title}” "
                                 f"differs from v{changes.base_version} of "
                                 f"“{changes.source_title}”.{extra}")
    body = {"title": title, "description": description.strip(),
            "base_version": changes.base_version,
            "segments": {c.segment_id: c.proposed for c in changes}, "scene_bible": None}
    data = await call(client, client.propose(changes.remote_story_id, body, key("propose")))
    summary = summary_of(data)
    await run_db(_record_proposed, db, story_id, summary, [c.segment_id for c in changes])
    return summary


# --- reviewing ---------------------------------------------------------------------------------

async def list_proposals(client, remote_story_id: str, status: str = "open"
                         ) -> list[ProposalSummary]:
    """The story's proposals (owner and editors see all, a contributor their own)."""
    if status not in STATUSES:
        raise CollaborationError(f"“{status}” is not a list of proposals: choose "
                                 + ", ".join(STATUSES) + ".")
    data = await call(client, client.proposals(remote_story_id, status=status))
    return [summary_of(i) for i in data.get("items") or [] if isinstance(i, dict)]


def _change_of(item: dict) -> ProposalChange:
    current = item.get("current")
    return ProposalChange(text_of(item.get("segment_id")), text_of(item.get("chapter_title")),
                          text_of(item.get("scene_title")), text_of(item.get("base")),
                          text_of(item.get("proposed")),
                          current if isinstance(current, str) else None,
                          bool(item.get("moved_on")))


async def load_proposal(client, proposal_id: str) -> ProposalDetail:
    data = await call(client, client.proposal(proposal_id))
    bible = data.get("scene_bible")
    return ProposalDetail(summary_of(data),
                          tuple(_change_of(c) for c in data.get("changes") or []
                                if isinstance(c, dict)),
                          bible if isinstance(bible, dict) else None,
                          data.get("latest_version") if isinstance(data.get("latest_version"),
                                                                   int) else None)


async def decline_proposal(client, proposal_id: str) -> None:
    await call(client, client.decline_proposal(proposal_id, key("decline-proposal")))


async def withdraw_proposal(client, proposal_id: str) -> None:
    await call(client, client.withdraw_proposal(proposal_id, key("withdraw")))


# --- accepting ---------------------------------------------------------------------------------

PUBLISHED, FORK = "published", "fork"


def _local_target(db: Database, story_id: int, server_url: str, remote_id: str
                  ) -> tuple[str, int]:
    """Whether the local story is the published original of ``remote_id`` (its texts follow
    the acceptance) or a fork of it (an editor's copy: it pulls the new version later), and
    the last version published from it (0 for a fork)."""
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        link = repo.link(s, story_id)
        if link is not None and link.remote_story_id == remote_id \
                and same_server(link.server_url, server_url):
            return PUBLISHED, link.remote_version or 0
        base = forking.base_version(s, story_id)
        if base is not None:
            ref = repo.reference_story_by_id(s, base.reference_story_id)
            if ref.public_id == remote_id and same_server(ref.server_url, server_url):
                return FORK, 0
        raise CollaborationError(f"“{story.title}” is not a copy of the story this proposal "
                                 "was made for; open the story you published (or your copy "
                                 "of it) and accept from there. Nothing was accepted.")


def _write_accepted(db: Database, story_id: int, detail: ProposalDetail, accepted: list[str],
                    number: int) -> tuple[list[str], list[str], list[str], int | None]:
    """Write the accepted texts into the owner's story (one unit of work); returns (written,
    kept_local, missing, saved version)."""
    chosen = {c.segment_id: c for c in detail.changes if c.segment_id in set(accepted)}
    title, author = detail.summary.title, detail.summary.author
    with db.session() as s:
        story = stories_repo.get(s, story_id)
        rows = repo.scenes_by_uid(s, story_id)
        plans: list[tuple[Any, list[Segment]]] = []
        written: list[str] = []
        kept: list[str] = []
        found: set[str] = set()
        for ch in publishing.local_outline(s, story_id):
            for sc in ch["scenes"]:
                new, touched = [], False
                for seg in sc["segments"]:
                    change = chosen.get(seg.id)
                    if change is not None:
                        found.add(seg.id)
                        if seg.text == change.proposed:
                            pass  # already so here
                        elif seg.text in (change.base, change.current):
                            seg = Segment(seg.id, change.proposed, seg.gap)
                            written.append(seg.id)
                            touched = True
                        else:
                            kept.append(seg.id)  # the owner changed it here since
                    new.append(seg)
                if touched:
                    plans.append((rows[sc["id"]], new))
        missing = [k for k in accepted if k in chosen and k not in found]
        saved = None
        if plans:
            saved = publishing.save_version_in(
                s, story_id, f"Before accepting proposal '{title}' by {author}")
            for row, segments in plans:
                # the scene's history entry keeps the replaced texts ("restore this")
                manuscript.store_segments(s, story_id, row, segments,
                                          note={"proposal": detail.summary.id,
                                                "proposal_author": author})
            stories_repo.touch(story)
        link = repo.link(s, story_id)
        # Only when the accepted version sits right on what this studio last published: if
        # collaborators published in between, their versions are not here yet, and moving on
        # would let the next publish silently undo them (it is refused instead, and Update
        # from Collaborators merges them in).
        if (link.remote_version or 0) == number - 1:
            link.remote_version = number
        repo.touch_link(link)
        history.record(s, story_id, "story", story_id, "accept_proposal",
                       {"proposal": detail.summary.id, "title": title, "author": author,
                        "segments": written, "kept_local": kept, "missing": missing,
                        "version": number, "saved_version": saved},
                       actor=author[:200] or None)
        return written, kept, missing, saved


def _accept_message(number: int, author: str, accepted: list[str], written: list[str],
                    kept: list[str], missing: list[str], saved: int | None, mode: str,
                    mine: int = 0, latest: int | None = None) -> str:
    text = (f"Version {number} is published with {len(accepted)} change(s) by {author}, "
            "who is credited.")
    if mode == FORK:
        return text + f" Pull v{number} into your copy to have them here."
    if written:
        text += (f" {len(written)} paragraph(s) were replaced in your story (restore version "
                 f"{saved} to undo that here).")
    if kept:
        text += (f" {len(kept)} paragraph(s) you changed here since were kept as you have "
                 "them: compare them with the proposal and publish what you want.")
    if missing:
        text += f" {len(missing)} paragraph(s) are no longer in your story."
    if mode == PUBLISHED and latest and mine and latest > mine:
        since = f"v{latest}" if latest == mine + 1 else f"v{mine + 1}–v{latest}"
        text += (f" Note: {since} came from collaborators after your last publish (v{mine}); "
                 "your story here does not have their changes yet: use Update from "
                 "Collaborators before you publish again (a publish without them is refused, "
                 "not lost).")
    return text


async def accept_proposal(db: Database, client, local_story_id: int | None, proposal_id: str,
                          segment_ids: list[str] | None, changelog: str = "", *,
                          run_db: RunDb | None = None) -> AcceptResult:
    """Accept all (``segment_ids`` None) or some of a proposal's changes as the story's next
    version (owner or editor); the texts then land in the owner's local story.

    ``local_story_id``: the story published from this computer (its texts follow), a fork of
    it (an editor's: nothing written, pull later), or None (server only).  A chosen change whose
    paragraph moved on since the proposal's base is refused by the server: the
    ``CollaborationError`` names those segments in ``conflicts``; nothing was accepted."""
    run_db = run_db or default_run_db
    if segment_ids is not None:
        segment_ids = list(dict.fromkeys(segment_ids))
        if not segment_ids:
            raise CollaborationError("Choose at least one change to accept, or decline the "
                                     "proposal.")
    if not isinstance(changelog, str) or len(changelog) > publishing.MAX_CHANGELOG:
        raise CollaborationError("The changelog must be text of at most "
                                 f"{publishing.MAX_CHANGELOG} characters.")
    detail = await load_proposal(client, proposal_id)
    if detail.status not in ("open", ""):
        state = detail.status.replace("_", " ")
        raise CollaborationError(f"The proposal “{detail.title}” is {state} already; refresh "
                                 "the list of proposals.", code="proposal_closed")
    known = {c.segment_id for c in detail.changes}
    unknown = [k for k in segment_ids or [] if k not in known]
    if unknown:
        raise CollaborationError("These paragraphs are not part of the proposal: "
                                 + ", ".join(unknown[:10]) + ". Nothing was accepted.")
    mode, mine = "", 0
    if local_story_id is not None:
        mode, mine = await run_db(_local_target, db, local_story_id, client.base_url,
                                  detail.story_id)
    answer = await call(client, client.accept_proposal(
        proposal_id, segment_ids, key("accept-proposal"), changelog=changelog.strip() or None))
    version = answer.get("version")
    number = int_of(version.get("number") if isinstance(version, dict) else version)
    proposal = answer.get("proposal") if isinstance(answer.get("proposal"), dict) else {}
    accepted = [k for k in proposal.get("accepted_segments") or [] if isinstance(k, str)] \
        or list(segment_ids or [c.segment_id for c in detail.changes])
    written: list[str] = []
    kept: list[str] = []
    missing: list[str] = []
    saved = None
    if mode == PUBLISHED:
        try:
            written, kept, missing, saved = await run_db(_write_accepted, db, local_story_id,
                                                         detail, accepted, number)
        except StudioError as exc:
            raise CollaborationError(f"Version {number} with the accepted changes is "
                                     "published on the marketplace, but your local story "
                                     f"could not be updated: {exc}") from exc
    return AcceptResult(number, accepted, local_story_id, written, kept, missing, saved,
                        _accept_message(number, detail.author, accepted, written, kept,
                                        missing, saved, mode, mine, detail.latest_version))

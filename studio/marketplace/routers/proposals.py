"""Proposals: a contributor's changed segment texts, which the story's owner or an editor
accepts (all, some) as the story's next version crediting the contributor, or declines.

A proposal is made against ``base_version`` and keeps only the segments whose text it changes.
Accepting rebases it: the new version is the *latest* version with the chosen segments
replaced, so whatever was published meanwhile stays.  A chosen segment that changed on the
story since the base (or is gone) is a conflict (409 ``proposal_conflict`` naming them): the
decider accepts the others, or the author updates the proposal.  A segment whose latest text
already is the proposed one is not a conflict.  The same holds for the proposal's scene bible
(the pseudo-id ``scene_bible`` in ``conflicts``).

Who sees what: the author, the owner and the editors see a proposal (others get 404); only
the owner and editors decide; only the author withdraws.  Storage: making a proposal needs
room in the proposer's storage (``quotas.check_storage_room``); accepting one charges the
accepter for the new version, like publishing it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy import select

from studio.domain.forks import apply_overrides, iter_segments, segment_map
from studio.marketplace import content, idempotency, jobs, quotas
from studio.marketplace.deps import Ctx, get_user_ctx
from studio.marketplace.errors import ApiError, not_found
from studio.marketplace.models import Story, StoryVersion, User, utcnow
from studio.marketplace.models_collab import Proposal
from studio.marketplace.models_ops import is_deleted
from studio.marketplace.routers.collaborators import refuse_outsider
from studio.marketplace.routers.common import (
    StoryId, load_story, load_version, new_public_id, story_role,
)
from studio.marketplace.routers.stories import version_names, version_out
from studio.marketplace.schemas_collab import PROPOSAL_ID_RE, AcceptProposal, Propose
from studio.marketplace.security import visible_story_clause
from studio.marketplace.security_community import check_not_hidden

router = APIRouter(prefix="/v1", tags=["proposals"])
ProposalId = Annotated[str, Path(pattern=PROPOSAL_ID_RE, description="a proposal id, pr_…")]

PROPOSERS = ("owner", "editor", "contributor")
DECIDERS = ("owner", "editor")
STATUS_FILTERS = {"open": ("open",), "accepted": ("accepted", "partially_accepted"),
                  "declined": ("declined",), "withdrawn": ("withdrawn",)}
CONTRIBUTOR_ONLY = ("Only the story's contributors, editors and owner can propose changes; "
                    "ask the owner for the contributor role.")
DECIDER_ONLY = "Only the story's owner and its editors can accept or decline proposals."


def _names(ctx: Ctx, proposals: list[Proposal]) -> dict[int, str]:
    ids = {p.author_id for p in proposals} | {p.decided_by for p in proposals if p.decided_by}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.username)
                                    .where(User.id.in_(ids))).all())


def proposal_out(p: Proposal, story: Story, names: dict[int, str]) -> dict:
    return {"id": p.public_id, "story_id": story.public_id, "title": p.title,
            "description": p.description, "author": names.get(p.author_id),
            "base_version": p.base_version, "status": p.status, "created_at": p.created_at,
            "decided_at": p.decided_at, "decided_by": names.get(p.decided_by),
            "result_version": p.result_version, "segment_count": len(p.segments or {}),
            "accepted_segments": list(p.accepted_segments or []),
            "has_scene_bible": p.scene_bible is not None}


def _one_out(ctx: Ctx, p: Proposal, story: Story) -> dict:
    return proposal_out(p, story, _names(ctx, [p]))


def _story(ctx: Ctx, story_id: str) -> tuple[Story, str | None]:
    story = load_story(ctx, story_id)
    role = story_role(ctx, story)
    if role != "owner":
        check_not_hidden(ctx.user, story, "story", story_id)
    return story, role


def _proposal(ctx: Ctx, proposal_id: str) -> tuple[Proposal, Story, str | None]:
    """A proposal the caller may see (its author, the story's owner or an editor), else 404."""
    p = ctx.session.scalar(select(Proposal).where(Proposal.public_id == proposal_id))
    story = None if p is None else ctx.session.scalar(select(Story).where(
        Story.id == p.story_id, visible_story_clause(ctx.user_id)))
    role = None if story is None else story_role(ctx, story)
    if story is None or is_deleted(story) or not (p.author_id == ctx.user_id
                                                  or role in DECIDERS):
        raise not_found("proposal", proposal_id)
    if role != "owner":
        check_not_hidden(ctx.user, story, "proposal", proposal_id)
    return p, story, role


def _lock(ctx: Ctx, story: Story | None, p: Proposal) -> None:
    """Decisions on one story queue on its row (as publishes do: PostgreSQL; SQLite writes
    queue anyway) and the proposal is re-read locked.  ``story`` None: the proposal only
    (a withdrawing author may not lock the story's row)."""
    if ctx.db.is_postgres:
        if story is not None:
            ctx.session.refresh(story, with_for_update=True)
        ctx.session.refresh(p, with_for_update=True)


def _check_open(p: Proposal) -> None:
    if p.status != "open":
        raise ApiError(409, f"This proposal was {p.status.replace('_', ' ')} already; only "
                       "open proposals can be decided or withdrawn.", "proposal_closed",
                       proposal_status=p.status)


def _decide(ctx: Ctx, p: Proposal, status: str) -> None:
    p.status = status
    p.decided_by = ctx.user_id
    p.decided_at = utcnow()


# --- making and listing -----------------------------------------------------------------------

@router.post("/stories/{story_id}/proposals", status_code=201,
             summary="Propose changed segment texts (contributors, editors, owner)")
def propose(body: Propose, story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story, role = _story(ctx, story_id)
        if role not in PROPOSERS:
            raise ApiError(403, CONTRIBUTOR_ONLY, "contributor_only")
        quotas.check_storage_room(ctx)
        base = load_version(ctx, story, body.base_version)
        hashes = segment_map(base.manifest, "hash")
        unknown = [k for k in body.segments if k not in hashes]
        if unknown:
            raise ApiError(422, f"These segments are not in version {base.number}: "
                           + ", ".join(unknown[:20]) + ". A proposal changes the texts of "
                           "existing segments (new segments are not supported yet).",
                           "unknown_segments", unknown=unknown)
        changed = {k: t for k, t in body.segments.items() if content.text_hash(t) != hashes[k]}
        bible = body.scene_bible if body.scene_bible != base.scene_bible else None
        if not changed and bible is None:
            raise ApiError(422, f"Nothing changed: every proposed text is the text of version "
                           f"{base.number}.", "nothing_changed")
        p = Proposal(public_id=new_public_id("pr_"), story_id=story.id, author_id=ctx.user_id,
                     title=body.title, description=body.description,
                     base_version=base.number, segments=changed, scene_bible=bible,
                     status="open", accepted_segments=[], created_at=utcnow())
        ctx.session.add(p)
        ctx.session.flush()
        return _one_out(ctx, p, story)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/stories/{story_id}/proposals",
            summary="A story's proposals (owner and editors: all; contributors: their own)")
def list_proposals(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx),
                   status: Literal["open", "accepted", "declined", "withdrawn", "all"]
                   = "open") -> dict:
    story, role = _story(ctx, story_id)
    if role not in PROPOSERS:
        refuse_outsider(story, role, CONTRIBUTOR_ONLY, "contributor_only")
    query = select(Proposal).where(Proposal.story_id == story.id)
    if role not in DECIDERS:
        query = query.where(Proposal.author_id == ctx.user_id)
    if status != "all":
        query = query.where(Proposal.status.in_(STATUS_FILTERS[status]))
    found = list(ctx.session.scalars(query.order_by(Proposal.created_at.desc(),
                                                    Proposal.id.desc())))
    names = _names(ctx, found)
    return {"story_id": story.public_id, "status": status,
            "items": [proposal_out(p, story, names) for p in found]}


def _titles(manifests: list[dict]) -> dict[str, tuple[str, str]]:
    """(chapter title, scene title) of every segment, the first manifest winning."""
    out: dict[str, tuple[str, str]] = {}
    for manifest in reversed(manifests):
        for chapter in manifest.get("chapters", []):
            for scene in chapter.get("scenes", []):
                for seg in scene.get("segments", []):
                    out[seg["id"]] = (chapter.get("title", ""), scene.get("title", ""))
    return out


@router.get("/proposals/{proposal_id}",
            summary="A proposal with its changes: base, proposed and current texts")
def get_proposal(proposal_id: ProposalId, ctx: Ctx = Depends(get_user_ctx)) -> dict:
    p, story, _role = _proposal(ctx, proposal_id)
    base = load_version(ctx, story, p.base_version)
    latest = load_version(ctx, story, story.latest_version)
    b, cur = segment_map(base.manifest, "hash"), segment_map(latest.manifest, "hash")
    texts = content.load_texts(ctx.session, [b.get(k) for k in p.segments]
                               + [cur.get(k) for k in p.segments])
    titles = _titles([latest.manifest, base.manifest])
    changes = []
    for seg_id, proposed in p.segments.items():
        chapter_title, scene_title = titles.get(seg_id, ("", ""))
        now = texts.get(cur[seg_id]) if seg_id in cur else None
        then = texts.get(b.get(seg_id))
        changes.append({"segment_id": seg_id, "chapter_title": chapter_title,
                        "scene_title": scene_title, "base": then, "proposed": proposed,
                        "current": now, "moved_on": now != then})
    order = {seg["id"]: i for i, (_, _, seg) in enumerate(iter_segments(base.manifest))}
    changes.sort(key=lambda c: order.get(c["segment_id"], len(order)))
    return {**_one_out(ctx, p, story), "changes": changes, "scene_bible": p.scene_bible,
            "latest_version": story.latest_version}


# --- deciding ---------------------------------------------------------------------------------

def _conflict_message(conflicts: list[str], p: Proposal, author: str | None) -> str:
    ids = ", ".join(conflicts[:20]) + (f" (and {len(conflicts) - 20} more)"
                                       if len(conflicts) > 20 else "")
    what = f"Segment {ids} changed" if len(conflicts) == 1 else f"Segments {ids} changed"
    return (f"{what} since the proposal was made (version {p.base_version}); accept the "
            f"others, or ask {author or 'its author'} to update the proposal.")


def _add_credited_version(ctx: Ctx, story: Story, manifest: dict, parts: dict,
                          changelog: str, credits: list[int]) -> StoryVersion:
    """``content.add_version`` with ``credits``: versions are append-only (the app role may
    not update them on PostgreSQL), so the credits are written with the row."""
    number = story.latest_version + 1
    version = StoryVersion(story_id=story.id, number=number, changelog=changelog,
                           author_id=ctx.user_id, segment_count=content.segment_count(manifest),
                           manifest=manifest, credits=credits,
                           **{x: parts.get(x) or {} for x in content.PARTS})
    ctx.session.add(version)
    story.latest_version = number
    story.updated_at = utcnow()
    ctx.session.flush()
    return version


@router.post("/proposals/{proposal_id}/accept", status_code=201,
             summary="Accept a proposal (all or some segments) as the next version")
def accept(body: AcceptProposal, proposal_id: ProposalId,
           ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        p, story, role = _proposal(ctx, proposal_id)
        if role not in DECIDERS:
            raise ApiError(403, DECIDER_ONLY, "editor_only")
        _lock(ctx, story, p)
        _check_open(p)
        chosen = list(p.segments) if body.segments is None else list(dict.fromkeys(
            body.segments))
        unknown = [k for k in chosen if k not in p.segments]
        if unknown:
            raise ApiError(422, "These segments are not part of the proposal: "
                           + ", ".join(unknown[:20]), "unknown_segments", unknown=unknown)
        if body.scene_bible and p.scene_bible is None:
            raise ApiError(422, "This proposal does not change the scene bible.",
                           "no_scene_bible")
        if not chosen and not body.scene_bible:
            raise ApiError(422, "Choose at least one segment (or the scene bible) to accept; "
                           "to accept none, decline the proposal.", "nothing_chosen")
        base = load_version(ctx, story, p.base_version)
        latest = load_version(ctx, story, story.latest_version)
        b, cur = segment_map(base.manifest, "hash"), segment_map(latest.manifest, "hash")
        proposed = {k: content.text_hash(p.segments[k]) for k in chosen}
        conflicts = [k for k in chosen if k not in cur
                     or cur[k] not in (b.get(k), proposed[k])]
        if body.scene_bible and latest.scene_bible not in (base.scene_bible, p.scene_bible):
            conflicts.append("scene_bible")
        names = _names(ctx, [p])
        if conflicts:
            raise ApiError(409, _conflict_message(conflicts, p, names.get(p.author_id)),
                           "proposal_conflict", conflicts=conflicts,
                           latest_version=story.latest_version)
        texts = {proposed[k]: p.segments[k] for k in chosen}
        new_bytes = quotas.new_text_bytes(ctx, {"chapters": [{"scenes": [{"segments": [
            {"text": t} for t in texts.values()]}]}]})
        content.store_texts(ctx.db, ctx.session, texts)
        manifest = apply_overrides(latest.manifest, proposed, "hash")
        parts = {x: getattr(latest, x) for x in content.PARTS}
        if body.scene_bible:
            parts["scene_bible"] = p.scene_bible
        changelog = body.changelog or (f"Accepted proposal '{p.title}' by "
                                       f"{names.get(p.author_id)}")
        version = _add_credited_version(ctx, story, manifest, parts, changelog, [p.author_id])
        jobs.enqueue_analysis(ctx.db, ctx.session, story, version.number)
        quotas.charge(ctx, new_bytes + quotas.story_version_bytes(manifest, parts))
        everything = set(chosen) == set(p.segments) and (p.scene_bible is None
                                                         or body.scene_bible)
        _decide(ctx, p, "accepted" if everything else "partially_accepted")
        p.accepted_segments = chosen
        p.result_version = version.number
        ctx.session.flush()
        return {"proposal": _one_out(ctx, p, story),
                "version": version_out(version, version_names(ctx, [version]))}

    return idempotency.run(ctx, body, action, status_code=201)


@router.post("/proposals/{proposal_id}/decline", summary="Decline a proposal")
def decline(proposal_id: ProposalId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        p, story, role = _proposal(ctx, proposal_id)
        if role not in DECIDERS:
            raise ApiError(403, DECIDER_ONLY, "editor_only")
        _lock(ctx, story, p)
        _check_open(p)
        _decide(ctx, p, "declined")
        ctx.session.flush()
        return _one_out(ctx, p, story)

    return idempotency.run(ctx, None, action)


@router.post("/proposals/{proposal_id}/withdraw", summary="Withdraw my proposal")
def withdraw(proposal_id: ProposalId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        p, story, _role = _proposal(ctx, proposal_id)
        if p.author_id != ctx.user_id:
            raise ApiError(403, "Only the proposal's author can withdraw it; decline it "
                           "instead.", "author_only")
        _lock(ctx, None, p)
        _check_open(p)
        _decide(ctx, p, "withdrawn")
        ctx.session.flush()
        return _one_out(ctx, p, story)

    return idempotency.run(ctx, None, action)

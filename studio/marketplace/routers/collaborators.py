"""Collaborators of a published story: invitations, roles, removal; my invitations and the
stories I collaborate on.

Roles (``models_collab``): the owner (never a row), editor, contributor, viewer.  Only the
owner invites, changes roles and removes others; a member may leave; an invitee accepts or
declines.  A declined invitation or a removed member is a deleted row, so access ends with the
next request.  On PostgreSQL the policies of ``security_collab`` enforce the same rules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy import select

from studio.marketplace import idempotency
from studio.marketplace.deps import Ctx, get_user_ctx
from studio.marketplace.errors import ApiError, not_found
from studio.marketplace.models import Story, User, utcnow
from studio.marketplace.models_collab import StoryCollaborator
from studio.marketplace.models_ops import is_deleted
from studio.marketplace.routers.common import StoryId, load_story, stories_out, story_role
from studio.marketplace.schemas_collab import ChangeCollabRole, Invite
from studio.marketplace.security_community import check_not_hidden

router = APIRouter(prefix="/v1", tags=["collaborators"])
# A path's username is looked up as typed (lower-cased): an unknown one is a 404 unknown_user.
UsernameRef = Annotated[str, Path(min_length=1, max_length=100)]

OWNER_ONLY_ROLES = "Only the story's owner can change roles."
MEMBERS = ("owner", "editor", "contributor", "viewer")


def _names(ctx: Ctx, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.username)
                                    .where(User.id.in_(ids))).all())


def collaborator_out(row: StoryCollaborator, names: dict[int, str]) -> dict:
    return {"username": names.get(row.user_id), "role": row.role, "status": row.status,
            "invited_by": names.get(row.invited_by), "created_at": row.created_at,
            "responded_at": row.responded_at}


def _one_out(ctx: Ctx, row: StoryCollaborator) -> dict:
    return collaborator_out(row, _names(ctx, {row.user_id, row.invited_by}))


def refuse_outsider(story: Story, role: str | None, message: str, code: str) -> None:
    """Refuse a caller without the needed role: an outsider does not learn that an unlisted
    (or private: stored as unlisted) story has collaborators (404); anyone else is told why
    (403 ``code``)."""
    if role in (None, "invited") and story.visibility == "unlisted":
        raise not_found("story", story.public_id)
    raise ApiError(403, message, code)


def _story(ctx: Ctx, story_id: str) -> tuple[Story, str | None]:
    # invitees reach a private story here too (to leave it); strangers get 404
    story = load_story(ctx, story_id, invited=True)
    role = story_role(ctx, story)
    if role != "owner":
        check_not_hidden(ctx.user, story, "story", story_id)
    return story, role


def _owner_story(ctx: Ctx, story_id: str, message: str) -> Story:
    story, role = _story(ctx, story_id)
    if role != "owner":
        raise ApiError(403, message, "owner_only")
    return story


def _user(ctx: Ctx, username: str) -> User:
    user = ctx.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ApiError(404, f"No user named {username!r} on this server.", "unknown_user")
    return user


def _row(ctx: Ctx, story: Story, user: User) -> StoryCollaborator:
    row = ctx.session.get(StoryCollaborator, (story.id, user.id), populate_existing=True)
    if row is None:
        raise ApiError(404, f"{user.username} is not a collaborator of this story.",
                       "not_collaborator")
    return row


def _not_the_owner(story: Story, user: User, what: str) -> None:
    if user.id == story.owner_id:
        raise ApiError(422, f"{user.username} owns this story: an owner cannot be {what}.",
                       "owner_is_member")


@router.get("/stories/{story_id}/collaborators",
            summary="The story's collaborators and invitations (owner and members)")
def list_collaborators(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> dict:
    story, role = _story(ctx, story_id)
    if role not in MEMBERS:
        refuse_outsider(story, role, "Only the story's owner and its collaborators can see "
                        "who collaborates on it.", "forbidden")
    rows = list(ctx.session.scalars(select(StoryCollaborator).where(
        StoryCollaborator.story_id == story.id).order_by(StoryCollaborator.created_at,
                                                          StoryCollaborator.user_id)))
    names = _names(ctx, {r.user_id for r in rows} | {r.invited_by for r in rows})
    return {"story_id": story.public_id, "items": [collaborator_out(r, names) for r in rows]}


@router.post("/stories/{story_id}/collaborators", status_code=201,
             summary="Invite a user by username, with a role (owner only)")
def invite(body: Invite, story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = _owner_story(ctx, story_id, "Only the story's owner can invite collaborators.")
        user = _user(ctx, body.username)
        if user.id == story.owner_id:
            raise ApiError(422, "You own this story already: invite someone else.",
                           "owner_is_member")
        existing = ctx.session.get(StoryCollaborator, (story.id, user.id))
        if existing is not None:
            state = "a member" if existing.status == "accepted" else "invited"
            raise ApiError(409, f"{user.username} is already {state} ({existing.role}); "
                           "change their role instead.", "already_collaborator")
        row = StoryCollaborator(story_id=story.id, user_id=user.id, role=body.role,
                                status="invited", invited_by=ctx.user_id,
                                created_at=utcnow(), responded_at=None)
        ctx.session.add(row)
        ctx.session.flush()
        return _one_out(ctx, row)

    return idempotency.run(ctx, body, action, status_code=201)


@router.patch("/stories/{story_id}/collaborators/{username}",
              summary="Change a collaborator's role (owner only)")
def change_role(body: ChangeCollabRole, story_id: StoryId, username: UsernameRef,
                ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = _owner_story(ctx, story_id, OWNER_ONLY_ROLES)
        user = _user(ctx, username)
        _not_the_owner(story, user, "demoted")
        row = _row(ctx, story, user)
        row.role = body.role
        ctx.session.flush()
        return _one_out(ctx, row)

    return idempotency.run(ctx, body, action)


@router.delete("/stories/{story_id}/collaborators/{username}",
               summary="Remove a collaborator (owner), or leave (the collaborator)")
def remove(story_id: StoryId, username: UsernameRef,
           ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story, role = _story(ctx, story_id)
        user = _user(ctx, username)
        if role != "owner" and user.id != ctx.user_id:
            raise ApiError(403, "Only the story's owner can remove other collaborators; you "
                           "can leave yourself.", "owner_only")
        _not_the_owner(story, user, "removed")
        ctx.session.delete(_row(ctx, story, user))
        ctx.session.flush()
        return {"removed": user.username}

    return idempotency.run(ctx, None, action)


# --- my side --------------------------------------------------------------------------------

def _my_rows(ctx: Ctx, status: str) -> list[tuple[StoryCollaborator, Story]]:
    rows = ctx.session.execute(
        select(StoryCollaborator, Story).join(Story, Story.id == StoryCollaborator.story_id)
        .where(StoryCollaborator.user_id == ctx.user_id, StoryCollaborator.status == status)
        .order_by(StoryCollaborator.created_at.desc(), Story.id)).all()
    return [(row, story) for row, story in rows
            if not is_deleted(story) and (not story.hidden or story.owner_id == ctx.user_id)]


@router.get("/invitations", summary="My pending invitations")
def my_invitations(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    rows = _my_rows(ctx, "invited")
    summaries = stories_out(ctx, [story for _, story in rows])
    names = _names(ctx, {row.invited_by for row, _ in rows})
    return {"items": [{"story": summary, "role": row.role,
                       "invited_by": names.get(row.invited_by), "created_at": row.created_at}
                      for (row, _), summary in zip(rows, summaries)]}


@router.get("/collaborations", summary="The stories I am a collaborator of, with my role")
def my_collaborations(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    rows = _my_rows(ctx, "accepted")
    summaries = stories_out(ctx, [story for _, story in rows])
    return {"items": [{"story": summary, "role": row.role}
                      for (row, _), summary in zip(rows, summaries)]}


def _invitation(ctx: Ctx, story_id: str) -> tuple[Story, StoryCollaborator]:
    story = load_story(ctx, story_id, invited=True)  # a private story's invitee too
    row = ctx.session.get(StoryCollaborator, (story.id, ctx.user_id), populate_existing=True)
    if row is None:
        raise ApiError(404, f"You have no invitation to the story {story_id!r}.",
                       "no_invitation")
    return story, row


@router.post("/invitations/{story_id}/accept", summary="Accept an invitation")
def accept_invitation(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story, row = _invitation(ctx, story_id)
        if row.status != "accepted":  # accepting twice changes nothing
            row.status = "accepted"
            row.responded_at = utcnow()
            ctx.session.flush()
        return {"story_id": story.public_id, "role": row.role, "status": row.status}

    return idempotency.run(ctx, None, action)


@router.post("/invitations/{story_id}/decline", summary="Decline an invitation")
def decline_invitation(story_id: StoryId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story, row = _invitation(ctx, story_id)
        if row.status == "accepted":
            raise ApiError(409, "You accepted this invitation already; leave the story "
                           "instead (remove yourself from its collaborators).",
                           "already_collaborator")
        ctx.session.delete(row)
        ctx.session.flush()
        return {"story_id": story.public_id, "declined": True}

    return idempotency.run(ctx, None, action)
